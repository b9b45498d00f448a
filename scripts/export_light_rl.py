from kodcode.exports.common import ExportError
from kodcode.exports.light_rl import export_light_rl
from kodcode.snake import log_to, one_line_exit
from kodcode.store import exit_on_store_error

with log_to(snakemake.log[0]), one_line_exit(ExportError), exit_on_store_error():
    export_light_rl(
        v1_files=list(snakemake.input.v1),
        out_train=snakemake.output.train,
        out_test=snakemake.output.test,
        out_summary=snakemake.output.summary,
        params=snakemake.params.cfg,
        store_root=snakemake.config["store"],
        # executor.workers is the rule's threads (Snakemake may give fewer than asked)
        workers=snakemake.threads,
    )
