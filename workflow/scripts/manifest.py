"""Validate every image of a class-folder dataset and write its manifest with splits."""

import pandas as pd

from attnlab import cache
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    params = snakemake.params
    manifest = cache.build_manifest(
        snakemake.input.images,
        params.classes,
        tuple(params.size),
        params.channels,
        params.split,
        params.seed,
        params.resize,
        params.convert_channels,
    )
    if "recordings" in snakemake.input.keys():  # audio: speakers come from the recordings
        manifest = cache.attach_recordings(manifest, pd.read_csv(snakemake.input.recordings))
    manifest.to_parquet(snakemake.output[0], index=False)
    log.info("manifest: %s", manifest.groupby("split").size().to_dict())
