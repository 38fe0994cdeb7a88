"""Write one split's float32 NHWC images in [0, 1] and its labels as NPY arrays."""

import pandas as pd

from attnlab import cache
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    manifest = pd.read_parquet(snakemake.input[0])
    split = snakemake.wildcards.split
    out = snakemake.output
    params = snakemake.params
    fold = snakemake.wildcards.get("fold")  # group_kfold datasets: the fold's own arrays
    count = cache.write_split(
        manifest,
        split,
        params.channels,
        out.x,
        out.y,
        tuple(params.size),
        params.resize,
        params.convert_channels,
        fold=None if fold is None else int(fold),
    )
    log.info("%s: %d images -> %s", split, count, out.x)
