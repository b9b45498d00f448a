from pathlib import Path
import logging

from kodcode.snake import log_to, one_line_exit
from kodcode.paper.compare import make_compare, release_files
from kodcode.paper.files import PaperInputError
from kodcode.paper.tokens import bundled_token_counter
from kodcode.sources.cache import read_manifest
from kodcode.sources.errors import SourceError

with log_to(snakemake.log[0]), one_line_exit(PaperInputError, SourceError):
    p = snakemake.params
    revision = None
    if "manifest" in snakemake.input.keys():  # fetched into the download cache (rule fetch_source)
        manifest = read_manifest(snakemake.input.manifest)
        published = release_files(Path(snakemake.input.manifest).parent / manifest.get("data", "data") / "snapshot")
        revision = manifest.get("resolved_revision")
    else:
        published = list(snakemake.input.published)
    summary = make_compare(
        run_files=list(snakemake.input.release),
        published_files=published,
        counter=bundled_token_counter(),
        stem=snakemake.output.json.removesuffix(".json"),
        demo=bool(p.demo),
        run_label=p.labels["run"],
        published_label=p.labels["published"],
        published_revision=revision,
    )
    log = logging.getLogger("kodcode.paper")
    log.info("run: %s", summary["run"])
    log.info("published: %s", summary["published"])
