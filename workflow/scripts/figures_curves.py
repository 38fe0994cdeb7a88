"""Accuracy and loss curves per epoch: thin adapter from the snakemake object to attnlab.figures.

Expects from the rule:
  input.history   every training job's history.csv of one dataset (each fold's on a grouped
                  dataset), in the order of params.runs (one panel per variant, mean and
                  ±1 sd band over seeds and folds)
  params.runs     dataset, variant and seed (and fold) of each job
  params.title    figure title prefix, e.g. the dataset name
  output.accuracy PNG: train and validation accuracy per epoch
  output.loss     PNG: train and validation loss per epoch
  log[0]          the job's log
"""

from attnlab import figures, run_files
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    histories = run_files.load_histories(snakemake.input.history, snakemake.params.runs)
    for metric in ("accuracy", "loss"):
        title = f"{snakemake.params.title}: {metric} per epoch"
        fig = figures.curves_figure(histories, metric, title)
        log.info("writing %s", figures.save_figure(fig, snakemake.output[metric]))
