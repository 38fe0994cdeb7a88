"""Train one (dataset, variant, seed[, fold]): thin adapter to attnlab.train."""

from pathlib import Path

import numpy as np
import pandas as pd

from attnlab import runtime, splits
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    runtime.configure(threads=snakemake.threads, device=snakemake.params.device)
    from attnlab import train

    manifest = pd.read_parquet(snakemake.input.manifest)
    fold = snakemake.wildcards.get("fold")
    fold = None if fold is None else int(fold)
    job = train.Job(
        dataset=snakemake.wildcards.dataset,
        variant=snakemake.wildcards.variant,
        architecture=dict(snakemake.params.architecture),
        preprocessing=dict(snakemake.params.preprocessing),
        seed=int(snakemake.wildcards.seed),
        recipe=dict(snakemake.params.recipe),
        precision=snakemake.params.precision,
        device=snakemake.params.device,
        threads=snakemake.threads,
        code_hash=snakemake.params.code_hash,
        fold=fold,
        data_seed=snakemake.params.data_seed,
        inputs={
            name: str(path)
            for name, path in snakemake.input.items()
            if name != "manifest" and not name.endswith("_sha256")
        },
    )
    outputs = train.Outputs(
        *(Path(snakemake.output[name]) for name in train.Outputs.__annotations__)
    )
    test_items = np.flatnonzero(manifest[splits.split_column(fold)] == "test")
    metrics = train.run(job, outputs, test_items)
    log.info(
        "%s: test accuracy %.4f in %.1f s",
        job.label(),
        metrics["test_accuracy"],
        metrics["train_seconds"],
    )
