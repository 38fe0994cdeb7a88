"""Train one (dataset, variant, seed): thin adapter from the snakemake object to attnlab.train."""

from pathlib import Path

import numpy as np
import pandas as pd

from attnlab import runtime
from attnlab.logs import job_log

sm = snakemake  # noqa: F821
with job_log(sm.log[0]) as log:
    runtime.configure(threads=sm.threads, device=sm.params.device)
    from attnlab import train

    manifest = pd.read_parquet(sm.input.manifest)
    job = train.Job(
        dataset=sm.wildcards.dataset,
        variant=sm.wildcards.variant,
        family=sm.params.family,
        seed=int(sm.wildcards.seed),
        recipe=dict(sm.params.recipe),
        precision=sm.params.precision,
        device=sm.params.device,
        threads=sm.threads,
        code_hash=sm.params.code_hash,
        inputs={name: str(path) for name, path in sm.input.items() if name != "manifest"},
    )
    outputs = train.Outputs(*(Path(sm.output[name]) for name in train.Outputs.__annotations__))
    metrics = train.run(job, outputs, np.flatnonzero(manifest["split"] == "test"))
    log.info("%s: test accuracy %.4f in %.1f s", job.label(), metrics["test_accuracy"],
             metrics["train_seconds"])
