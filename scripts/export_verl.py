from kodcode.exports.common import ExportError
from kodcode.exports.verl import export_verl
from kodcode.snake import log_to, one_line_exit

with log_to(snakemake.log[0]), one_line_exit(ExportError):
    export_verl(
        train_file=snakemake.input.train,
        test_file=snakemake.input.test,
        out_train=snakemake.output.train,
        out_test=snakemake.output.test,
        out_reward=snakemake.output.reward,
        params=dict(snakemake.params.cfg),
    )
