"""What a run already measured: survival shares from the results' .stats.json sidecars, and
token averages and bytes per record from the content store."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..subsets import SUBSETS

GEN_STAGES = ("questions", "tags", "solutions", "style", "sft", "oj_tags", "online_judge")


@dataclass
class Share:
    """kept of total, added up over shards; a share only when total > 0."""

    kept: int = 0
    total: int = 0

    def add(self, kept: Any, total: Any) -> None:
        self.kept += int(kept or 0)
        self.total += int(total or 0)

    @property
    def value(self) -> float | None:
        return self.kept / self.total if self.total else None


@dataclass
class SubsetResults:
    """One subset's sidecars: seed count, survival shares and what each stage sent."""

    seeds: int | None = None
    shares: dict[str, Share] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)  # generate sidecars: requests per stage
    bytes: int = 0  # results/<subset> on disk

    def share(self, name: str) -> Share:
        return self.shares.setdefault(name, Share())

    def rate(self, name: str) -> float | None:
        s = self.shares.get(name)
        return s.value if s else None


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a damaged or vanishing sidecar is as good as none: defaults apply
    return data if isinstance(data, dict) else {}


def _each(folder: Path, pattern: str) -> Iterable[dict[str, Any]]:
    for p in sorted(folder.glob(pattern)):
        yield _load(p)


def _files_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def read_subset(folder: Path) -> SubsetResults:
    """Every sidecar of results/<subset> the plan uses (absent ones leave the share unmeasured)."""
    r = SubsetResults()
    seeds = _load(folder / "seeds.stats.json")
    if "kept" in seeds:
        r.seeds = int(seeds["kept"])
    ext = _load(folder / "questions" / "extracted.stats.json")
    if "tagged" in ext:  # Filter: kept of the seeds asked about
        r.share("filter_keep").add(ext.get("extracted"), ext.get("questions"))
    elif ext:
        r.share("extract").add(ext.get("extracted"), ext.get("responses"))
    dd = _load(folder / "questions" / "deduped.stats.json")
    if dd:
        r.share("dedup_keep").add(dd.get("kept"), dd.get("input"))
    for d in _each(folder / "solutions", "verified_*.stats.json"):
        r.share("verified").add(d.get("verified"), d.get("questions"))
    for d in _each(folder / "style", "triplets_*.stats.json"):
        r.share("complete").add(d.get("complete"), d.get("instruct"))
    for d in _each(folder / "online_judge", "requests_*.stats.json"):
        r.share("oj_eligible").add(d.get("eligible"), d.get("questions"))
    for stage in ("solutions", "sft", "online_judge"):
        for d in _each(folder / stage, "attempts_*.stats.json"):
            r.share(f"parsed_{stage}").add(d.get("parsed"), d.get("responses"))
        for d in _each(folder / stage, "verdicts_*.stats.json"):
            r.share(f"timeout_{stage}").add((d.get("verdicts") or {}).get("timeout"), d.get("attempts"))
    for stage in GEN_STAGES:
        sent = [d.get("requests", 0) for d in _each(folder / stage, "responses_*.stats.json")]
        if sent:
            r.sent[stage] = int(sum(sent))
    r.bytes = _files_bytes(folder)
    return r


def read_results(results: Path, subsets: Iterable[str]) -> dict[str, SubsetResults]:
    """The subsets of ``subsets`` that have a results folder."""
    return {s: read_subset(results / s) for s in subsets if (results / s).is_dir()}


# ------------------------------------------------------------------------------------ store


@dataclass
class TokenSum:
    records: int = 0
    prompt: float = 0.0
    completion: float = 0.0
    from_usage: bool = True  # False once any record needed characters/4

    def add(self, prompt: float, completion: float, usage: bool) -> None:
        self.records += 1
        self.prompt += prompt
        self.completion += completion
        self.from_usage = self.from_usage and usage

    @property
    def source(self) -> str:
        return "store usage" if self.from_usage else "store chars/4"


@dataclass
class StoreSample:
    """Token sums per (subset, stage, model) and per (stage, model) of the records read, and the
    store's size on disk."""

    root: str
    responses: int = 0  # records in the store
    sampled: int = 0
    response_bytes: int = 0
    sampled_tokens: float = 0.0
    verdicts: int = 0
    verdict_bytes: int = 0
    by_subset: dict[tuple[str, str, str], TokenSum] = field(default_factory=dict)
    by_stage: dict[tuple[str, str], TokenSum] = field(default_factory=dict)


def subset_of(item_id: str) -> str | None:
    """``Code_Contests_00000003_I`` -> ``Code_Contests``: the longest subset name it starts with."""
    names = [s for s in SUBSETS if item_id.startswith(s + "_")]
    return max(names, key=len) if names else None


def _chars(request: dict[str, Any]) -> int:
    msgs = request.get("messages") or []
    return len(request.get("prompt") or "") + sum(len(m.get("content") or "") for m in msgs if isinstance(m, dict))


def record_tokens(rec: dict[str, Any]) -> tuple[float, float, bool]:
    """(prompt, completion, from usage): the provider's usage when the record has it, else
    characters/4 (replayed and authored answers carry no usage)."""
    resp = rec.get("response") or {}
    usage = resp.get("usage") or {}
    pt, ct = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if isinstance(pt, int) and isinstance(ct, int) and pt > 0:
        return float(pt), float(ct), True
    return _chars(rec.get("request") or {}) / 4, len(resp.get("text") or "") / 4, False


def sample_store(root: Path, limit: int) -> StoreSample:
    """Read up to ``limit`` response records. Keys are content hashes and ``items`` walks them in
    key order, so the first ``limit`` are an unbiased sample at any store size."""
    from ..store import ContentStore

    out = StoreSample(str(root))
    rdir, vdir = root / "responses", root / "verdicts"
    if vdir.is_dir():
        out.verdicts = len(ContentStore(str(root), "verdicts"))
        out.verdict_bytes = _files_bytes(vdir)
    if not rdir.is_dir():
        return out
    store = ContentStore(str(root), "responses")
    out.responses = len(store)
    out.response_bytes = _files_bytes(rdir)
    for _, rec in store.items():
        if out.sampled >= limit:
            break
        out.sampled += 1
        pt, ct, usage = record_tokens(rec)
        out.sampled_tokens += pt + ct
        model = str((rec.get("request") or {}).get("model") or "-")
        stage = str(rec.get("stage") or "-")
        subset = subset_of(str(rec.get("item_id") or "")) or "-"
        out.by_subset.setdefault((subset, stage, model), TokenSum()).add(pt, ct, usage)
        out.by_stage.setdefault((stage, model), TokenSum()).add(pt, ct, usage)
    return out
