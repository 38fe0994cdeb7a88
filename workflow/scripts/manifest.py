"""Validate every image of a class-folder dataset and write its manifest with splits."""

import pandas as pd

from attnlab import cache
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    params = snakemake.params
    # Audio datasets: speakers and indices come from the table of their recordings.
    recordings = snakemake.input.get("recordings")
    manifest = cache.build_manifest(
        snakemake.input.images,
        params.classes,
        tuple(params.size),
        params.channels,
        params.split,
        params.seed,
        params.resize,
        params.convert_channels,
        pd.read_csv(recordings, dtype={"speaker": str}) if recordings else None,
    )
    manifest.to_parquet(snakemake.output[0], index=False)
    part = "fold" if "fold" in manifest else "split"
    log.info("manifest: %s", manifest.groupby(part).size().to_dict())
