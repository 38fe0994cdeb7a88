"""Draw Reduced MNIST (stratified, seeded) and write it as PNG class folders."""

from pathlib import Path

from attnlab import images
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:  # noqa: F821
    params = snakemake.params  # noqa: F821
    counts = images.write_reduced_mnist(
        Path(snakemake.input[0]).parent,  # noqa: F821
        snakemake.output[0],  # noqa: F821
        params.train_per_class,
        params.test_per_class,
        params.seed,
    )
    log.info("wrote %s images to %s", counts, snakemake.output[0])  # noqa: F821
