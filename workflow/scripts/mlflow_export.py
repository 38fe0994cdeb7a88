"""Every run of the config into a fresh local MLflow store: thin adapter to
attnlab.tracking.

Expects from the rule:
  input.metrics, input.history, input.predictions, input.models
                   each training job's files, all four lists in the same job order
  output.store     the store folder (mlflow.db, artifacts/, runs.csv: run -> MLflow run id)
  log[0]           the job's log
"""

from pathlib import Path

from attnlab import tracking
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    names = ("metrics", "history", "predictions", "models")
    lists = [snakemake.input[name] for name in names]
    runs = [
        dict(zip(("metrics", "history", "predictions", "model"), map(Path, files), strict=True))
        for files in zip(*lists, strict=True)
    ]
    table = tracking.export(snakemake.output.store, runs)
    table.to_csv(Path(snakemake.output.store) / "runs.csv", index=False)
    log.info("%d runs in %s", len(table), tracking.tracking_uri(snakemake.output.store))
