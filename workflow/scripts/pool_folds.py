"""One run over all recordings from the fold runs of a (dataset, variant, seed).

Expects from the rule:
  input.metrics, input.predictions  every fold run's metrics.json and predictions.parquet
  input.manifest                    the dataset's manifest (each item's group)
  params.group                      the manifest column the folds keep together
  output.metrics, output.predictions  the pooled run
"""

import json

import pandas as pd

from attnlab import folds
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    group = snakemake.params.group
    metrics = [json.loads(open(path).read()) for path in snakemake.input.metrics]
    predictions = [pd.read_parquet(path) for path in snakemake.input.predictions]
    groups = pd.read_parquet(snakemake.input.manifest, columns=[group])[group].to_numpy()
    pooled, pooled_predictions = folds.pool_runs(metrics, predictions, groups, group)
    pooled_predictions.to_parquet(snakemake.output.predictions, index=False)
    with open(snakemake.output.metrics, "w") as handle:
        handle.write(json.dumps(pooled, indent=2) + "\n")
    log.info(
        "%d folds pooled: accuracy %.4f over %d recordings of %d %ss",
        len(metrics),
        pooled["test_accuracy"],
        pooled["test_items"],
        len(pooled["groups"]),
        group,
    )
