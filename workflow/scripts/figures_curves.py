"""Accuracy and loss curves per epoch: thin adapter from the snakemake object to attnlab.figures.

Expects from the rule:
  input.history   list of results/{dataset}/{variant}/seed{seed}/history.csv (one dataset,
                  any variants; one panel per variant, mean and ±1 sd band over seeds)
  params.title    (optional) figure title prefix, e.g. the dataset name
  output.accuracy PNG: train and validation accuracy per epoch
  output.loss     (optional) PNG: train and validation loss per epoch
  log[0]          the job's log
"""

from pathlib import Path

from attnlab import figures, tables
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    histories = tables.load_histories([Path(path).parent for path in snakemake.input.history])
    title = getattr(snakemake.params, "title", "") or ", ".join(histories["dataset"].unique())
    for metric in ("accuracy", "loss"):
        if hasattr(snakemake.output, metric):
            fig = figures.curves_figure(histories, metric, f"{title}: {metric} per epoch")
            log.info("writing %s", figures.save_figure(fig, getattr(snakemake.output, metric)))
