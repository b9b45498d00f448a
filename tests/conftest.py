from __future__ import annotations

import json
import os
from pathlib import Path

# One thread per torch/OpenMP pool: the suite already runs one xdist worker per core, and
# spinning OpenMP threads on a busy core slow every test beside them several times over.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "fixtures"
UPSTREAM = SHARED / "upstream_demo"


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def upstream():
    """Loader for the real upstream KodCode outputs in ../shared/fixtures (skip when absent)."""
    if not UPSTREAM.is_dir():
        pytest.skip("../shared/fixtures/upstream_demo is absent (a fresh clone has no ../shared)")

    def load(pattern: str) -> list[dict]:
        files = sorted(UPSTREAM.glob(pattern))
        assert files, f"no fixture matches {pattern}"
        return [r for f in files for r in _jsonl(f)]

    return load


@pytest.fixture(scope="session")
def authored():
    """The authored demo responses, keyed stage/item/sample."""
    from kodcode.llm.authored import load_authored

    return load_authored(ROOT / "demo" / "responses")


def pytest_collection_modifyitems(session, config, items):
    """The demo-run sequence first: it is the longest chain, so under pytest-xdist one worker
    starts on it at once while the others share the rest."""
    items.sort(key=lambda item: item.get_closest_marker("integration") is None)
