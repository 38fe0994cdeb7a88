"""Confusion matrices and accuracy-vs-time figure: thin adapter to attnlab.figures.

Expects from the rule:
  input.metrics, input.predictions   every run's metrics.json and predictions.parquet of one
                                     dataset, both in the order of params.runs
  params.runs                        dataset, variant and seed of each run
  params.baselines                   dict dataset -> baseline variant (marked in the scatter)
  params.classes                     class names for the confusion matrix axes
  params.title                       title prefix, e.g. the dataset name
  output.confusion                   PNG: confusion matrix per variant, pooled over seeds
  output.cost_benefit                PNG: test accuracy vs training time
  log[0]                             the job's log
"""

from attnlab import figures, run_files
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    runs = run_files.load_runs(snakemake.input.metrics, snakemake.input.predictions)
    predictions = run_files.load_predictions(snakemake.input.predictions, snakemake.params.runs)
    title = f"{snakemake.params.title}: confusion matrices"
    fig = figures.confusion_figure(predictions, snakemake.params.classes, title)
    log.info("writing %s", figures.save_figure(fig, snakemake.output.confusion))
    fig = figures.cost_benefit_figure(runs, snakemake.params.baselines)
    log.info("writing %s", figures.save_figure(fig, snakemake.output.cost_benefit))
