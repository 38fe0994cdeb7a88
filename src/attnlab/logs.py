"""Route a job's Python logging, stdout and stderr into its Snakemake log file."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path


@contextlib.contextmanager
def job_log(path: str | Path | None):
    """Send logging (INFO+), print() and tracebacks of the block to `path`."""
    if path is None:
        yield logging.getLogger("attnlab")
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", buffering=1) as stream:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
                try:
                    yield logging.getLogger("attnlab")
                except BaseException:
                    logging.getLogger("attnlab").exception("job failed")
                    raise
        finally:
            root.removeHandler(handler)
