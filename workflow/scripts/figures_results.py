"""Confusion matrices and accuracy-vs-time figure: thin adapter to attnlab.figures.

Expects from the rule:
  input.metrics        list of results/{dataset}/{variant}/seed{seed}/metrics.json
                       (predictions.parquet is read from the same folders)
  input.predictions    (optional) the matching predictions.parquet files, so the DAG knows
  params.baselines     (optional) dict dataset -> baseline variant (marked in the scatter)
  params.classes       (optional) class names for the confusion matrix axes
  params.title         (optional) title prefix, e.g. the dataset name
  output.confusion     (optional) PNG: confusion matrix per variant, pooled over seeds
  output.cost_benefit  (optional) PNG: test accuracy vs training time, per dataset
  log[0]               the job's log
"""

from pathlib import Path

from attnlab import figures, tables
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    run_dirs = [Path(path).parent for path in snakemake.input.metrics]
    runs = tables.load_runs(run_dirs)
    title = getattr(snakemake.params, "title", "") or ", ".join(runs["dataset"].unique())
    if hasattr(snakemake.output, "confusion"):
        predictions = tables.load_predictions(run_dirs)
        classes = getattr(snakemake.params, "classes", None)
        fig = figures.confusion_figure(predictions, classes, f"{title}: confusion matrices")
        log.info("writing %s", figures.save_figure(fig, snakemake.output.confusion))
    if hasattr(snakemake.output, "cost_benefit"):
        fig = figures.cost_benefit_figure(runs, getattr(snakemake.params, "baselines", None))
        log.info("writing %s", figures.save_figure(fig, snakemake.output.cost_benefit))
