"""Training-ready exports of a release (rules/exports.smk) and publishing it to the hub.

=====================  ==========================================================================
module                 what
=====================  ==========================================================================
``common``             reading release parquet files, a row's test kind, one-line ``ExportError``
``light_rl``           the Light-RL selection: seeded sample, import exclusions, reference re-run,
                       held-out test split
``verl``               verl RL rows (``data_source, prompt, ability, reward_model, extra_info``)
``reward``             verl's custom reward function: runs the tests through ``kodcode.executor``
``sft_filter``         the paper's SFT filtering (too long, too short, class where a function was
                       asked)
``sharegpt``           LLaMA-Factory ``sharegpt`` JSON + ``dataset_info.json``; TRL ``messages``
``publish``            ``kodcode publish``: upload plan, dry run, upload with ``huggingface_hub``
=====================  ==========================================================================

Everything except ``reward`` (which verl loads by file path) and ``publish`` (the command) is
pure: rows in, rows out; the rule scripts (``scripts/export_*.py``) read and write the files.
"""
