"""Turn a recordings dataset (audio_folder, or FSDD's preset of it) into spectrogram PNGs
in class folders, and the table of which recording each image comes from."""

from pathlib import Path

from attnlab import audio
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    params = snakemake.params
    settings = params.audio
    entries = audio.list_recordings(
        snakemake.input[0], params.classes, settings["layout"], settings["pattern"]
    )
    chosen = audio.select_per_class(entries, params.classes, settings["per_class"], params.seed)
    table = audio.write_spectrograms(
        chosen,
        Path(snakemake.output.images),
        tuple(params.size),
        params.channels,
        params.spectrogram,
        settings["sample_rate"],
        settings["mono_mixdown"],
    )
    table.to_csv(snakemake.output.recordings, index=False)
    log.info("%d of %d recordings -> %s", len(table), len(entries), snakemake.output.images)
