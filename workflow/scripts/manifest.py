"""Validate every image of a class-folder dataset and write its manifest with splits."""

from attnlab import cache
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:  # noqa: F821
    params = snakemake.params  # noqa: F821
    manifest = cache.build_manifest(
        snakemake.input[0],  # noqa: F821
        params.classes,
        tuple(params.size),
        params.channels,
        params.split,
        params.seed,
    )
    manifest.to_parquet(snakemake.output[0], index=False)  # noqa: F821
    log.info("manifest: %s", manifest.groupby("split").size().to_dict())
