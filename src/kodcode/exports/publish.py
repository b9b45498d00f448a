"""``kodcode publish``: upload a release folder to a Hugging Face dataset repo.

What is uploaded is read from the release's dataset card (``README.md``): every parquet file
its YAML header's ``configs:`` lists (KodCode-V1 as config ``v1``, KodCode-V1-SFT-R1 as
``sft_r1``, one split per subset), the card itself, ``provenance.json`` and ``dataflow.tsv``.
With ``--exports`` the training-ready exports (rules/exports.smk) go too, under ``exports/``:
the uploaded card gets the configs ``light_rl`` and ``verl`` (splits train and test; the local
card is not changed), and the LLaMA-Factory and TRL files go as plain files (a repo's configs
share one file format, parquet here).

Refusals, before anything is sent: a card without ``license:`` in its YAML header, a file the
card lists that is missing, no token in ``HF_TOKEN`` (or ``HUGGING_FACE_HUB_TOKEN``). The token is
never printed or logged; an error message that would contain it shows ``***``. ``--dry-run``
prints each file with its size and the configs, sends nothing and needs no token.

Exit status: 0 uploaded (or dry run printed), 2 something to fix here (the message says
what), 3 the hub refused or could not be reached.

Uploads use ``huggingface_hub`` (``create_repo``, then one ``create_commit``); ``--endpoint``
(or ``HF_ENDPOINT``) points it at another hub, e.g. the local stand-in of
``kodcode.testing.fake_hub`` in the tests.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

TOKEN_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
DEFAULT_ENDPOINT = "https://huggingface.co"
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
EXIT_INPUT, EXIT_HUB = 2, 3

# export folder -> (config name, {split: file}) and the other files it uploads. A dataset repo
# is read with one builder for all its configs (the hub and `datasets` pick it from the files:
# parquet here), so the JSON SFT files travel as plain files, for LLaMA-Factory and TRL to use.
EXPORT_CONFIGS: dict[str, tuple[str | None, dict[str, str], tuple[str, ...]]] = {
    "light-rl": ("light_rl", {"train": "train.parquet", "test": "test.parquet"}, ("summary.json",)),
    "verl": ("verl", {"train": "train.parquet", "test": "test.parquet"}, ("kodcode_reward.py",)),
    "llamafactory": (None, {}, ("kodcode_sft_r1.json", "dataset_info.json", "summary.json")),
    "trl": (None, {}, ("train.jsonl", "summary.json")),
}


class PublishError(Exception):
    """One line for the user and the exit status."""

    def __init__(self, message: str, status: int = EXIT_INPUT):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class UploadFile:
    path_in_repo: str
    local: Path | None  # None: ``content`` is uploaded (the card with the exports' configs added)
    size: int
    content: bytes | None = None


@dataclass
class Plan:
    files: list[UploadFile]
    configs: list[tuple[str, list[tuple[str, str]]]]  # config name -> [(split, path in repo)]
    license: str
    skipped: list[str] = field(default_factory=list)  # parquet files the card does not list
    commit_message: str = "Upload KodCode release"

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


# ---------------------------------------------------------------- the card


def split_card(text: str, card: str = "README.md") -> tuple[dict[str, Any], str]:
    """The card's YAML header as a dict and the text after it."""
    import yaml

    m = re.match(r"---[ \t]*\n(.*?\n)---[ \t]*(?:\n|$)", text, re.S)
    if not m:
        raise PublishError(f"{card}: no YAML header (a '---' block at the top); rebuild the card "
                           "(snakemake results/release/README.md)")
    try:
        front = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise PublishError(f"{card}: the YAML header does not parse ({str(exc).splitlines()[0]}); fix or rebuild it")
    if not isinstance(front, dict):
        raise PublishError(f"{card}: the YAML header is not a mapping; fix or rebuild it")
    return front, text[m.end():]


def join_card(front: dict[str, Any], body: str) -> str:
    import yaml

    return "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n" + body


def card_configs(front: dict[str, Any], card: str) -> list[tuple[str, list[tuple[str, str]]]]:
    out = []
    for i, c in enumerate(front.get("configs") or []):
        if not isinstance(c, dict) or not c.get("config_name"):
            raise PublishError(f"{card}: configs[{i}] has no config_name; fix or rebuild the card")
        files = c.get("data_files") or []
        if isinstance(files, str):
            files = [{"split": "train", "path": files}]
        pairs = []
        for d in files:
            if not isinstance(d, dict) or not isinstance(d.get("path"), str):
                raise PublishError(f"{card}: config {c['config_name']}: data_files entries need split and path")
            pairs.append((str(d.get("split", "train")), d["path"]))
        out.append((str(c["config_name"]), pairs))
    if not out:
        raise PublishError(f"{card}: the YAML header lists no configs; rebuild the card "
                           "(snakemake results/release/README.md)")
    return out


# ---------------------------------------------------------------- the plan


def _file(release_dir: Path, rel: str, what: str) -> UploadFile:
    p = release_dir / rel
    if "*" in rel or "?" in rel:
        raise PublishError(f"{what}: {rel} is a pattern; the card must name each file")
    if not p.is_file():
        raise PublishError(f"{p}: missing ({what}); rebuild the release (snakemake results/release/README.md)")
    return UploadFile(rel, p, p.stat().st_size)


def build_plan(release_dir: str | Path, exports_dir: str | Path | None = None) -> Plan:
    """What an upload of ``release_dir`` (and the exports in ``exports_dir``) sends."""
    release_dir = Path(release_dir)
    card_path = release_dir / "README.md"
    if not card_path.is_file():
        raise PublishError(f"{card_path}: missing; build the release first (snakemake results/release/README.md) "
                           "or pass --release-dir")
    text = card_path.read_text(encoding="utf-8")
    front, body = split_card(text, str(card_path))
    lic = front.get("license")
    if not lic or not isinstance(lic, (str, list)):
        raise PublishError(f"{card_path}: no `license:` in the card's YAML header; add one (e.g. license: cc-by-nc-4.0"
                           ", the upstream KodCode licence) before publishing")
    lic = lic if isinstance(lic, str) else ", ".join(map(str, lic))
    configs = card_configs(front, str(card_path))
    files: list[UploadFile] = []
    for name, pairs in configs:
        files += [_file(release_dir, path, f"config {name}, split {split}") for split, path in pairs]
    for extra in ("provenance.json", "dataflow.tsv"):
        files.append(_file(release_dir, extra, "the release's " + extra))
    listed = {f.path_in_repo for f in files}
    skipped = sorted(p.relative_to(release_dir).as_posix() for p in release_dir.rglob("*.parquet")
                     if p.relative_to(release_dir).as_posix() not in listed)
    if exports_dir is not None:
        exports_dir = Path(exports_dir)
        if not exports_dir.is_dir():
            raise PublishError(f"{exports_dir}: no exports folder; build them (exports.enabled: true, then snakemake) "
                               "or leave out --exports")
        added = []
        for folder, (name, splits, others) in EXPORT_CONFIGS.items():
            if not (exports_dir / folder).is_dir():
                raise PublishError(f"{exports_dir / folder}: missing; build the exports (snakemake with "
                                   "exports.enabled: true) or leave out --exports")
            for rel in [*splits.values(), *others]:
                p = exports_dir / folder / rel
                if not p.is_file():
                    raise PublishError(f"{p}: missing; rebuild the exports (snakemake --forcerun export_{folder.replace('-', '_')})")
                files.append(UploadFile(f"exports/{folder}/{rel}", p, p.stat().st_size))
            if name:
                added.append((name, [(s, f"exports/{folder}/{rel}") for s, rel in splits.items()]))
        configs = configs + added
        front = {**front, "configs": [*(front.get("configs") or []),
                                      *({"config_name": n, "data_files": [{"split": s, "path": p} for s, p in pairs]}
                                        for n, pairs in added)]}
        card = join_card(front, body).encode("utf-8")
        files.insert(0, UploadFile("README.md", None, len(card), card))
    else:
        files.insert(0, UploadFile("README.md", card_path, card_path.stat().st_size))
    message = "Upload KodCode release"
    try:
        prov = json.loads((release_dir / "provenance.json").read_text(encoding="utf-8"))
        if prov.get("config_hash"):
            message += f" (config {prov['config_hash']})"
    except (OSError, ValueError, AttributeError):
        pass
    return Plan(files=files, configs=configs, license=lic, skipped=skipped, commit_message=message)


def describe(plan: Plan, repo_id: str, revision: str, private: bool) -> str:
    """The dry run's text: each file with its size, then the configs."""
    width = max(len(f"{f.size:,}") for f in plan.files)
    lines = [f"dataset repo {repo_id} (revision {revision}, {'private' if private else 'public'}), "
             f"license {plan.license}",
             f"{len(plan.files)} files, {plan.total_bytes:,} bytes:"]
    lines += [f"  {f.size:>{width},}  {f.path_in_repo}" + ("  (card with the exports' configs added)"
                                                          if f.content is not None else "") for f in plan.files]
    lines.append(f"{len(plan.configs)} configs (config: split -> file):")
    for name, pairs in plan.configs:
        lines.append(f"  {name}:")
        split_width = max(len(s) for s, _ in pairs)
        lines += [f"    {s:<{split_width}}  {p}" for s, p in pairs]
    if plan.skipped:
        lines.append("not uploaded (parquet files the card does not list): " + ", ".join(plan.skipped))
    return "\n".join(lines)


# ---------------------------------------------------------------- upload


def token_from_env(env: dict[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    for var in TOKEN_VARS:
        if env.get(var, "").strip():
            return env[var].strip()
    return None


def masked(text: str, token: str | None) -> str:
    return text.replace(token, "***") if token else text


def upload(plan: Plan, repo_id: str, token: str, endpoint: str, revision: str = "main",
           private: bool = False) -> str:
    """Create the dataset repo if needed and commit every file of the plan in one commit;
    returns the commit URL. Hub errors become a ``PublishError`` (status 3) with the token
    masked."""
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi(endpoint=endpoint.rstrip("/"), token=token)
    ops = [CommitOperationAdd(path_in_repo=f.path_in_repo,
                              path_or_fileobj=f.content if f.content is not None else str(f.local)) for f in plan.files]
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        if revision != "main":
            api.create_branch(repo_id, branch=revision, repo_type="dataset", exist_ok=True)
        info = api.create_commit(repo_id, operations=ops, commit_message=plan.commit_message, repo_type="dataset",
                                 revision=revision)
    except Exception as exc:  # noqa: BLE001 - every hub or network failure is one line for the user
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise PublishError(masked(f"the hub at {endpoint} refused the upload: {first}", token), EXIT_HUB) from None
    return str(info.commit_url)


# ---------------------------------------------------------------- command


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "publish", help="upload the release (and exports) to a Hugging Face dataset repo",
        description="Upload the release folder to a Hugging Face dataset repo: the parquet files of every config "
                    "and split the card lists, the card, provenance.json and dataflow.tsv. Needs a token in HF_TOKEN "
                    "(or HUGGING_FACE_HUB_TOKEN) and a license in the card; --dry-run needs neither network nor token.",
        epilog="exit status: 0 done (or dry run printed), 2 something to fix here, 3 the hub refused or was unreachable")
    p.add_argument("--repo-id", required=True, help="ORG/NAME of the dataset repo (created if it does not exist)")
    p.add_argument("--release-dir", default="results/release", help="the release folder (default results/release)")
    p.add_argument("--exports", action="store_true",
                   help="also upload the training-ready exports under exports/, with a config each")
    p.add_argument("--exports-dir", default=None, help="the exports folder (default: 'exports' beside the release "
                                                       "folder, i.e. results/exports)")
    p.add_argument("--dry-run", action="store_true", help="print what would be uploaded; send nothing")
    p.add_argument("--private", action="store_true", help="create the repo private (an existing repo keeps its visibility)")
    p.add_argument("--revision", default="main", help="branch to commit to (created from main if missing; default main)")
    p.add_argument("--endpoint", default=None, help=f"hub URL (default $HF_ENDPOINT or {DEFAULT_ENDPOINT})")
    p.set_defaults(func=cmd_publish)


def run(repo_id: str, release_dir: str, exports: bool, exports_dir: str | None, dry_run: bool, private: bool,
        revision: str, endpoint: str | None, out: Any = None, env: dict[str, str] | None = None) -> int:
    out = out or sys.stdout
    if not REPO_ID.match(repo_id):
        raise PublishError(f"--repo-id {repo_id!r}: expected ORG/NAME (letters, digits, '-', '_', '.')")
    edir = (exports_dir or str(Path(release_dir).parent / "exports")) if exports else None
    plan = build_plan(release_dir, edir)
    if dry_run:
        print("dry run: nothing is uploaded", file=out)
        print(describe(plan, repo_id, revision, private), file=out)
        return 0
    token = token_from_env(env)
    if not token:
        raise PublishError("no Hugging Face token: set HF_TOKEN (or HUGGING_FACE_HUB_TOKEN) to a token with write "
                           "access to " + repo_id.split("/")[0] + " (or use --dry-run)")
    env_ = os.environ if env is None else env
    url = upload(plan, repo_id, token, endpoint or env_.get("HF_ENDPOINT") or DEFAULT_ENDPOINT, revision, private)
    print(f"uploaded {len(plan.files)} files ({plan.total_bytes:,} bytes) to {repo_id}: {url}", file=out)
    return 0


def cmd_publish(args: Any) -> int:
    try:
        return run(args.repo_id, args.release_dir, args.exports, args.exports_dir, args.dry_run, args.private,
                   args.revision, args.endpoint)
    except PublishError as exc:
        print(f"kodcode publish: {masked(str(exc), token_from_env())}", file=sys.stderr)
        return exc.status


__all__: Sequence[str] = ["Plan", "UploadFile", "PublishError", "build_plan", "describe", "upload", "run",
                          "register", "token_from_env"]
