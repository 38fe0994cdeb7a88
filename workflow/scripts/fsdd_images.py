"""Turn FSDD recordings into spectrogram PNGs in class folders."""

from pathlib import Path

from attnlab import images, raw
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    params = snakemake.params
    recordings = raw.check_recordings(snakemake.input[0], expected_count=None)
    chosen = images.select_recordings(recordings, params.per_class, params.seed)
    count = images.write_spectrograms(
        chosen,
        Path(snakemake.output[0]),
        tuple(params.size),
        params.channels,
        params.spectrogram,
    )
    log.info("wrote %d spectrograms to %s", count, snakemake.output[0])
