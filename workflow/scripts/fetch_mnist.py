"""Fetch one MNIST IDX file (mirror or upstream), decompress it and verify its SHA-256."""

from attnlab import raw
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    name = snakemake.wildcards.name
    path = raw.fetch_mnist(name, snakemake.output[0], snakemake.config.get("mirror"))
    log.info("%s verified (sha256 %s)", path, raw.MNIST_FILES[name][0])
