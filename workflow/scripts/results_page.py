"""docs/results.md from a finished run: thin adapter to attnlab.results_page.

Expects from the rule:
  input.summary       results/summary.md
  input.metrics       every run's metrics.json (their provenance: one commit, clean)
  params.configfiles  the config files of this run, in order
  params.config       the merged config
  input.figures       the figures the summary links (results/figures/...)
  output.page         docs/results.md
  output.figures      their copies under docs/results/, in the same order
  log[0]              the job's log
"""

import json
import shutil
from pathlib import Path

from attnlab import results_page
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    records = [json.loads(Path(p).read_text()).get("provenance") for p in snakemake.input.metrics]
    files = list(snakemake.params.configfiles)
    command = "snakemake --cores N " + " ".join(["--configfile", *files]) * bool(files)
    text = results_page.results_markdown(
        Path(snakemake.input.summary).read_text(),
        records,
        files,
        dict(snakemake.params.config),
        f"{command} -- docs/results.md",
    )
    Path(snakemake.output.page).write_text(text)
    for source, copy in zip(snakemake.input.figures, snakemake.output.figures, strict=True):
        shutil.copyfile(source, copy)
    log.info(
        "%d runs at commit %s -> %s",
        len(records),
        results_page.one_commit(records),
        snakemake.output.page,
    )
