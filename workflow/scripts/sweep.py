"""One sweep's table, conclusion and plot: thin adapter to attnlab.sweeps and attnlab.figures.

Expects from the rule:
  input.metrics, input.predictions  every run of the sweep's settings (the same runs, in
                                    the same order)
  params.sweep                      {"dataset": ..., "settings": [{"variant", "values"}]}
  output.csv, output.md             one row per setting: swept values, accuracy mean and
                                    95% t-interval over seeds, time; the md ends with the
                                    sweep's conclusion
  output.figure                     PNG: accuracy against each swept value
  log[0]                            the job's log
"""

from pathlib import Path

from attnlab import figures, run_files, sweeps, tables
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    name, sweep = snakemake.wildcards.sweep, snakemake.params.sweep
    runs = run_files.load_runs(snakemake.input.metrics, snakemake.input.predictions)
    table = sweeps.sweep_table(runs, sweep["dataset"], sweep["settings"])
    conclusion = sweeps.conclusion(name, runs, sweep["dataset"], table)
    tables.write_table(table, snakemake.output.csv, snakemake.output.md)
    with Path(snakemake.output.md).open("a") as handle:
        handle.write(f"\n{conclusion}\n")
    log.info("%s", conclusion)
    keys = sweeps.swept_keys(table)
    title = f"{sweep['dataset']}: sweep {name}"
    fig = figures.sweep_figure(table, keys, sweeps.series_by_key, title)
    log.info("writing %s", figures.save_figure(fig, snakemake.output.figure))
