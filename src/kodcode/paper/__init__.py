"""The paper's figures and tables (arXiv 2503.02951) recomputed from a run of this workflow.

One module per figure; each has pure functions from a run's files (or a KodCode-V1-layout
parquet folder) to rows, a plot, and a ``make_*`` entry point that writes PNG + PDF + TSV +
a JSON summary (the numbers plotted, with the paper's value beside this run's):

- ``passk``       Fig. 2   pass@1 / pass@5 / pass@10 per subset
- ``lengths``     Fig. 3   question / solution lengths in tokens, unit tests per question
- ``tsne``        Fig. 4   t-SNE of question embeddings per subset (and optional baselines)
- ``difficulty``  Fig. 5   easy / medium / hard / fail per subset
- ``dataflow``    Fig. 7   seeds -> questions -> dedup -> unit tests -> release, per subset
- ``subsets``     Fig. 16  rows per subset and share of the release
- ``readme``      results/paper/README.md: paper value against this run's value per item

``paper_values`` holds the numbers the paper publishes; ``plotting``, ``files`` and ``targets`` are shared.
"""
