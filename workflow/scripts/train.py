"""Train the seeds of one (dataset, variant[, fold]): thin adapter to attnlab.packs.

The rule's outputs are four files per seed (model, history, metrics, predictions), seed
by seed in the order of `params.seeds`.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from attnlab import runtime, splits
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    runtime.configure(threads=snakemake.threads, device=snakemake.params.device)
    from attnlab import packs, precision, train

    architecture = dict(snakemake.params.architecture)
    policy, why = precision.resolve(
        snakemake.params.precision, architecture, snakemake.params.device
    )
    log.info("precision %s (%s)", policy, why)
    manifest = pd.read_parquet(snakemake.input.manifest)
    fold = snakemake.wildcards.get("fold")
    fold = None if fold is None else int(fold)
    seeds = [int(seed) for seed in snakemake.params.seeds]
    jobs = [
        train.Job(
            dataset=snakemake.wildcards.dataset,
            variant=snakemake.wildcards.variant,
            architecture=dict(architecture),
            preprocessing=dict(snakemake.params.preprocessing),
            seed=seed,
            recipe=dict(snakemake.params.recipe),
            precision=policy,
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
        for seed in seeds
    ]
    files = [Path(path) for path in snakemake.output]
    width = len(train.Outputs.__annotations__)
    outputs = [train.Outputs(*files[i : i + width]) for i in range(0, len(files), width)]
    test_items = np.flatnonzero(manifest[splits.split_column(fold)] == "test")
    for metrics in packs.run_seeds(jobs, outputs, test_items):
        log.info(
            "%s/%s/seed%d: test accuracy %.4f in %.1f s",
            metrics["dataset"],
            metrics["variant"],
            metrics["seed"],
            metrics["test_accuracy"],
            metrics["train_seconds"],
        )
