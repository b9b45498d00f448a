import json

from kodcode.seeds import load_seeds
from kodcode.subsets import spec


def test_bad_seeds_are_counted_not_hidden(tmp_path):
    f = tmp_path / "s.jsonl"
    f.write_text("\n".join([
        json.dumps({"id": "b", "question": "Second"}),
        json.dumps({"id": "a", "question": "First"}),
        "{not json",
        json.dumps({"question": "no id"}),
        json.dumps({"id": "c", "question": "  "}),
        json.dumps({"id": "a", "question": "dup"}),
        json.dumps(["a list"]),
    ]))
    seeds, report = load_seeds(f, spec("Leetcode"))
    assert [s["id"] for s in seeds] == ["a", "b"]
    assert report.to_dict() == {"read": 7, "kept": 2, "dropped": {
        "duplicate id": 1, "empty question": 1, "missing id": 1, "malformed line (not JSON)": 1,
        "malformed line (not a JSON object)": 1},
        "malformed": [f"{f} line 3: not JSON", f"{f} line 7: not a JSON object"]}


def test_upstream_snippet_seed_format_loads():
    from conftest import SHARED
    import pytest

    path = SHARED / "upstream_seeds" / "algorithm-python.json"
    if not path.exists():
        pytest.skip("../shared/fixtures is absent")
    seeds, report = load_seeds(path, spec("Algorithm"))
    assert report.read == 1118 and len(seeds) == report.kept >= 1100
    assert all(isinstance(s["codes"], str) and s["codes"].strip() for s in seeds)


def test_validate_rows_adds_to_a_report_already_counting_reads():
    from kodcode.seeds import SeedReport, validate_rows

    report = SeedReport(read=5)
    report.dropped["excluded (__init__.py)"] = 2
    seeds, report = validate_rows([{"id": 2, "question": "b"}, {"id": 1, "question": "a"}, {"id": 3, "question": ""}],
                                  spec("Leetcode"), report, count_read=False)
    assert [s["id"] for s in seeds] == ["1", "2"]
    assert report.to_dict() == {"read": 5, "kept": 2, "dropped": {"empty question": 1, "excluded (__init__.py)": 2}}
