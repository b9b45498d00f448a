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


def item(rule: str) -> Item:
    for i in ITEMS:
        if i.rule == rule:
            return i
    raise KeyError(f"paper: no figure rule named {rule!r}")


def paper_targets(out_dir: str = OUT_DIR) -> list[str]:
    """Every file the paper rules write (for ``rule all``)."""
    return [it.path(ext, out_dir) for it in ITEMS for ext in EXTS] + [f"{out_dir}/README.md"]


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
