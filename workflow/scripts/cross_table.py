"""Transfer table of one cross-dataset pair: thin adapter to attnlab.tables.

Expects from the rule:
  input.metrics, input.predictions  every run of the train dataset (home test accuracy)
  input.scores                      every run's score on the other dataset (cross_evaluate)
  output.csv, output.md             per variant: home vs other accuracy, paired drop, CIs
  log[0]                            the job's log
"""

import json

import pandas as pd

from attnlab import run_files, tables
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    runs = run_files.load_runs(snakemake.input.metrics, snakemake.input.predictions)
    scores = pd.DataFrame([json.loads(open(path).read()) for path in snakemake.input.scores])
    table = tables.transfer_table(runs, scores)
    tables.write_table(
        table, snakemake.output.csv, snakemake.output.md, tables.format_transfer(table)
    )
    log.info("transfer table of %d variants", len(table))
