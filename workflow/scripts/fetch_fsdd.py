"""Fetch the FSDD v1.0.10 archive, extract recordings/*.wav safely and check every file."""

from pathlib import Path

from attnlab import raw
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    out_dir = Path(snakemake.output[0])
    tarball = raw.fetch_fsdd(out_dir.parent / raw.FSDD_TARBALL, snakemake.config.get("mirror"))
    raw.extract_recordings(tarball, out_dir)
    tarball.unlink()
    recordings = raw.check_recordings(out_dir)
    log.info("%d recordings extracted and checked in %s", len(recordings), out_dir)
