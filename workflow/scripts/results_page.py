"""docs/results.md from a finished run: thin adapter to attnlab.results_page.

Expects from the rule:
  input.summary       results/summary.md
  input.metrics       every run's metrics.json (their provenance: one commit, clean)
  params.configfiles  the config files of this run, in order
  params.config       the merged config
  params.code_hash    this commit's training code hash (equal to every run's if the page is
                      made at a later commit than the runs)
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
    metrics = [json.loads(Path(p).read_text()) for p in snakemake.input.metrics]
    records = [m.get("provenance") for m in metrics]
    tables_line = results_page.tables_commit_line(
        results_page.one_commit(records),
        results_page.page_git_state(Path(results_page.__file__).resolve().parent),
        [m.get("code_hash") for m in metrics],
        snakemake.params.code_hash,
    )
    files = list(snakemake.params.configfiles)
    command = "snakemake --cores N " + " ".join(["--configfile", *files]) * bool(files)
    text = results_page.results_markdown(
        Path(snakemake.input.summary).read_text(),
        records,
        files,
        dict(snakemake.params.config),
        f"{command} -- docs/results.md",
        tables_line,
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
