from kodcode.exports.common import ExportError
from kodcode.exports.sharegpt import export_trl
from kodcode.snake import log_to, one_line_exit

with log_to(snakemake.log[0]), one_line_exit(ExportError):
    export_trl(
        sft_files=list(snakemake.input.sft),
        out_data=snakemake.output.data,
        out_summary=snakemake.output.summary,
        params=dict(snakemake.params.cfg),
    )
