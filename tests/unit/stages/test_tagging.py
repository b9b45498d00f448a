"""rules/tagging.smk (kodcode.stages.tagging): the Filter subset's seed questions tagged and kept
by the filter section's rule. Real inputs: the demo's Filter source copy (demo/sources/magpie)
and its authored tag answers (demo/responses), with the demo config's filter rule. The tag
parsing and the keep rule themselves are kodcode.tags' (tests/unit/test_tagging.py)."""

from __future__ import annotations

import copy

from kodcode.jsonl import read_json, read_jsonl
from kodcode.llm.request import Request
from kodcode.sources.build import build_seeds
from kodcode.sources.spec import seed_plan
from kodcode.stages.tagging import select_tagged, tag_requests
from kodcode.tags import TAG_TASKS, KeepRule, TagDrop, parse_tag_answer
from kodcode.templates import load_template

from .records import ROOT, response_row, write_rows


def test_the_demo_filter_keeps_the_questions_its_rule_accepts(tmp_path, demo_config, authored):
    cfg = copy.deepcopy(demo_config)
    cfg["cache_dir"] = str(tmp_path / "cache")
    for part in cfg["sources"]["Filter"]["datasets"]:
        part["path"] = str(ROOT / part["path"])
    seeds = str(tmp_path / "seeds.jsonl")
    build_seeds(plan=seed_plan(cfg, "Filter"), out_seeds=seeds, out_stats=str(tmp_path / "seeds.stats.json"),
                max_prompt_chars=cfg["llm"]["max_prompt_chars"])
    outs = [str(tmp_path / f"requests_{i:03d}.jsonl") for i in range(2)]
    tag_requests(subset="Filter", seeds_file=seeds, out_paths=outs, out_stats=str(tmp_path / "requests.stats.json"),
                 params={"model": cfg["models"]["tagger"], "seed": cfg["seed"], "chat_format": cfg["filter"]["chat_format"],
                         "n_prompts": None, "max_prompt_chars": cfg["llm"]["max_prompt_chars"],
                         "templates": {t: load_template(s.template) for t, s in TAG_TASKS.items()}})
    requests = [r for out in outs for r in read_jsonl(out)]
    n_seeds = len(read_jsonl(seeds))
    assert len(requests) == 2 * n_seeds  # a quality and a category request per seed question
    assert all(Request.from_dict(r["request"]).model == cfg["models"]["tagger"]["model"] for r in requests)

    answers = [response_row("tags", r["request"]["item_id"], 0, authored[f"tags/{r['request']['item_id']}/0"],
                            meta=r["meta"]) for r in requests]
    filter_cfg = {k: cfg["filter"][k] for k in ("keep_quality", "keep_categories")}
    select_tagged(subset="Filter", seeds_file=seeds, response_paths=[write_rows(tmp_path / "responses.jsonl", answers)],
                  out_questions=str(tmp_path / "extracted.jsonl"), out_stats=str(tmp_path / "extracted.stats.json"),
                  params={"filter": filter_cfg, "tagger": cfg["models"]["tagger"]["model"]})
    kept = read_jsonl(tmp_path / "extracted.jsonl")

    # the expectation, answer by answer: both tags parse and the configured rule keeps them
    rule, tags, unparseable = KeepRule.from_config(filter_cfg), {}, set()
    for a in answers:
        try:
            tags.setdefault(a["meta"]["row_id"], {}).update(parse_tag_answer(a["meta"]["task"], a["text"], "stop", None))
        except TagDrop:
            unparseable.add(a["meta"]["row_id"])
    expected = [row for row in sorted(tags) if row not in unparseable and rule.drop_reason(tags[row]) is None]
    assert [q["question_id"] for q in kept] == [f"Filter_{row:08d}_I" for row in expected]
    assert 0 < len(kept) < n_seeds  # the demo's answers keep some questions and drop others
    seed_rows = read_jsonl(seeds)
    for q in kept:
        row = q["metadata"]["row_id"]
        assert q["question"] == seed_rows[row]["question"].strip()
        assert q["metadata"]["tags"] == {**tags[row], "tagger": cfg["models"]["tagger"]["model"]}
    stats = read_json(tmp_path / "extracted.stats.json")
    tagged = n_seeds - len(unparseable)
    assert unparseable and (stats["questions"], stats["tagged"], stats["extracted"]) == (n_seeds, tagged, len(kept))
    assert sum(stats["unparseable"].values()) == len(unparseable)  # the demo plants a garbled answer
    assert sum(stats["rule_drops"].values()) == tagged - len(kept)
