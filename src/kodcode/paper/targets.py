"""What the paper rules write: one entry per figure, shared by rules/paper.smk and the README."""

from __future__ import annotations

from dataclasses import dataclass

OUT_DIR = "results/paper"
EXTS = ("png", "pdf", "tsv", "json")


@dataclass(frozen=True)
class Item:
    item: str  # the paper's figure or table
    rule: str
    stem: str  # file name without extension, under OUT_DIR

    def path(self, ext: str, out_dir: str = OUT_DIR) -> str:
        return f"{out_dir}/{self.stem}.{ext}"


ITEMS = (
    Item("Fig. 2", "paper_fig2_pass_at_k", "fig2_pass_at_k"),
    Item("Fig. 3", "paper_fig3_lengths", "fig3_lengths"),
    Item("Fig. 4", "paper_fig4_tsne", "fig4_tsne"),
    Item("Fig. 5", "paper_fig5_difficulty", "fig5_difficulty"),
    Item("Fig. 7", "paper_fig7_dataflow", "fig7_dataflow"),
    Item("Fig. 16", "paper_fig16_subsets", "fig16_subsets"),
)
# Fig. 6 needs the decontamination reports: only with decontam.benchmarks set
CONTAMINATION = Item("Fig. 6", "paper_fig6_contamination", "fig6_contamination")


def items(contamination: bool) -> tuple[Item, ...]:
    """The figures a run makes, in the paper's order."""
    if not contamination:
        return ITEMS
    return tuple(sorted(ITEMS + (CONTAMINATION,), key=lambda it: int(it.item.split()[-1])))


def item(rule: str) -> Item:
    for i in items(True):
        if i.rule == rule:
            return i
    raise KeyError(f"paper: no figure rule named {rule!r}")


COMPARE_STEM = "compare"  # rule paper_compare: this run beside a published release (paper.published)


def compare_targets(out_dir: str = OUT_DIR) -> list[str]:
    return [f"{out_dir}/{COMPARE_STEM}.{ext}" for ext in EXTS]


def compare_outputs(out_dir: str = OUT_DIR) -> dict:
    """Rule paper_compare's named outputs, png/pdf/tsv marked for the report like the figures'."""
    from snakemake.io import report

    out = {ext: report(f"{out_dir}/{COMPARE_STEM}.{ext}", caption="../report/paper_compare.rst", category="Paper",
                       subcategory="Comparison with the published release") for ext in ("png", "pdf", "tsv")}
    out["json"] = f"{out_dir}/{COMPARE_STEM}.json"
    return out


def paper_targets(out_dir: str = OUT_DIR, compare: bool = False, contamination: bool = False) -> list[str]:
    """Every file the paper rules write (for ``rule all``); ``compare``: with ``paper.published``
    set; ``contamination``: with decontamination on (Fig. 6)."""
    files = [it.path(ext, out_dir) for it in items(contamination) for ext in EXTS] + [f"{out_dir}/README.md"]
    return files + (compare_targets(out_dir) if compare else [])


def caption(it: Item) -> str:
    """The report caption of a figure, relative to rules/: fig2_pass_at_k -> report/paper_fig2.rst."""
    return f"../report/paper_{it.stem.split('_')[0]}.rst"


def paper_outputs(rule: str) -> dict:
    """A figure rule's named outputs: png/pdf/tsv marked for ``snakemake --report`` (category
    Paper, one subcategory per figure) and the json summary."""
    from snakemake.io import report

    it = item(rule)
    out = {ext: report(it.path(ext), caption=caption(it), category="Paper", subcategory=it.item)
           for ext in ("png", "pdf", "tsv")}
    out["json"] = it.path("json")
    return out
