"""Draw Reduced MNIST (stratified, seeded) and write it as PNG class folders."""

from pathlib import Path

from attnlab import images
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    params = snakemake.params
    counts = images.write_reduced_mnist(
        Path(snakemake.input[0]).parent,
        snakemake.output[0],
        params.train_per_class,
        params.test_per_class,
        params.seed,
    )
    log.info("wrote %s images to %s", counts, snakemake.output[0])
