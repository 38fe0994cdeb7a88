"""Random split vs unseen speakers, per variant: thin adapter to attnlab.folds.

Expects from the rule:
  input.random_metrics, input.random_predictions   every run of the random-split dataset
  input.metrics, input.predictions                 every pooled run of the grouped dataset
  params.random                                    the random-split dataset's name
  output.csv, output.md
"""

from attnlab import folds, run_files, tables
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    inputs = snakemake.input
    random_runs = run_files.load_runs(inputs.random_metrics, inputs.random_predictions)
    grouped_runs = run_files.load_runs(inputs.metrics, inputs.predictions)
    table = folds.split_gap_table(random_runs, grouped_runs)
    formatted = folds.format_split_gap(table, snakemake.params.random, snakemake.wildcards.dataset)
    tables.write_table(table, snakemake.output.csv, snakemake.output.md, formatted)
    log.info("random split vs grouped folds for %d variants", len(table))
