"""Noise-augmented training cache: + N(0, sigma), clipped to [0, 1], seeded."""

import numpy as np

from attnlab import cache
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    params = snakemake.params
    x = cache.load_array(snakemake.input[0])
    np.save(snakemake.output[0], cache.add_noise(x, params.sigma, params.seed), allow_pickle=False)
    log.info("noisy training cache (sigma %s) -> %s", params.sigma, snakemake.output[0])
