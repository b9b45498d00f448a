# Fig. 4: one baseline instruction set, sampled (kodcode.paper.baselines)
from kodcode.paper.baselines import write_baseline
from kodcode.paper.files import PaperInputError
from kodcode.snake import log_to, one_line_exit
from kodcode.sources.errors import SourceError

with log_to(snakemake.log[0]), one_line_exit(PaperInputError, SourceError):
    write_baseline(spec=snakemake.params.spec, manifest=snakemake.params.manifest,
                   out_questions=snakemake.output.questions, out_stats=snakemake.output.stats)
