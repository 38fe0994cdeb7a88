"""Noise-augmented training cache: + N(0, sigma), clipped to [0, 1], seeded."""

from attnlab import cache
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    params = snakemake.params
    x = cache.load_array(snakemake.input.x)
    cache.save_array(snakemake.output.x, cache.add_noise(x, params.sigma, params.seed))
    log.info("noisy training cache (sigma %s) -> %s", params.sigma, snakemake.output.x)
