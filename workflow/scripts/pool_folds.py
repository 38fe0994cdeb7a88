"""One run over all recordings from the fold runs of a (dataset, variant, seed)."""

import json

import pandas as pd

from attnlab import folds
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    metrics = [json.loads(open(path).read()) for path in snakemake.input.metrics]
    predictions = [pd.read_parquet(path) for path in snakemake.input.predictions]
    pooled, pooled_predictions = folds.pool_runs(metrics, predictions)
    pooled_predictions.to_parquet(snakemake.output.predictions, index=False)
    with open(snakemake.output.metrics, "w") as handle:
        handle.write(json.dumps(pooled, indent=2) + "\n")
    log.info(
        "%d folds pooled: accuracy %.4f over %d recordings",
        len(metrics),
        pooled["test_accuracy"],
        pooled["test_items"],
    )
