"""Turn an audio class-folder dataset into spectrogram PNGs in class folders."""

from pathlib import Path

from attnlab import audio
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    params = snakemake.params
    entries = audio.list_recordings(
        snakemake.input[0], params.classes, params.layout, params.pattern
    )
    table = audio.write_spectrograms(
        entries,
        Path(snakemake.output.images),
        tuple(params.size),
        params.channels,
        params.spectrogram,
        params.sample_rate,
        params.mono_mixdown,
    )
    table.to_csv(snakemake.output.recordings, index=False)
    log.info("wrote %d spectrograms to %s", len(table), snakemake.output.images)
