"""Inputs the stage tests share: the demo config as the config check fills it in (what every
rule passes its stage), the demo run recorded in tests/data/paper_run, and the upstream
KodCode outputs in ../shared/fixtures (the ``upstream`` fixture of tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kodcode.config import check, load_schema

from .records import ROOT


@pytest.fixture(scope="session")
def demo_config() -> dict[str, Any]:
    """config/config.yaml with every default filled in, as the rules see it."""
    raw = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    checked = check(raw, {}, load_schema(ROOT))
    assert not checked.problems, checked.problems
    return checked.config
