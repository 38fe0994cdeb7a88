"""Tables across datasets and results/summary.md: thin adapter from the snakemake object.

Expects from the rule:
  input.metrics, input.predictions   every run's metrics.json and predictions.parquet, both
                                     in the order of params.runs
  params.runs                        dataset, variant and seed of each run
  params.baselines                   dict dataset -> baseline variant
  params.sweeps                      dict sweep -> {"dataset", "settings"} (their conclusions)
  params.data_seed                   config data_seed (the split every seed shares)
  params.compared                    dict grouped dataset -> the random-split dataset beside it
  input.decisions                    with config sequential: each dataset's last decision round
  output.cross_domain_csv, output.cross_domain_md   best attention variant vs baseline per domain
  output.verdicts_csv, output.verdicts_md           the study's claims tested
  output.summary                                    results/summary.md
  log[0]                                            the job's log
"""

import json
from pathlib import Path

from attnlab import collapse, provenance, run_files, sequential, summary, tables, verdicts
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    runs = run_files.load_runs(snakemake.input.metrics, snakemake.input.predictions)
    predictions = run_files.load_predictions(snakemake.input.predictions, snakemake.params.runs)
    baselines = dict(snakemake.params.baselines)
    log.info("%d runs; baselines %s", len(runs), baselines)

    cross = tables.cross_domain_table(runs, baselines)
    tables.write_table(
        cross,
        snakemake.output.cross_domain_csv,
        snakemake.output.cross_domain_md,
        tables.format_cross_domain(cross),
    )
    verdict_table = verdicts.verdicts(runs, predictions)
    tables.write_table(
        verdict_table,
        snakemake.output.verdicts_csv,
        snakemake.output.verdicts_md,
        tables.format_verdicts(verdict_table),
    )
    study = {d: tables.study_table(runs, d, b) for d, b in baselines.items()}
    overview = summary.overview_markdown(runs, baselines, dict(snakemake.params.sweeps))
    origins = provenance.summary_lines(runs.get("provenance", [None] * len(runs)))
    decided = {}
    for path in snakemake.input.decisions:
        state = json.loads(Path(path).read_text())
        decided[state["dataset"]] = sequential.decisions_table(state)
    scope = summary.scope_line(runs, snakemake.params.data_seed)
    sections = [
        summary.unseen_groups_markdown(runs, predictions, dict(snakemake.params.compared)),
        collapse.collapse_markdown(runs, baselines),
    ]
    text = summary.summary_markdown(
        study,
        cross,
        verdict_table,
        summary.seeds_line(runs),
        overview,
        origins,
        decided,
        scope,
        sections,
    )
    Path(snakemake.output.summary).write_text(text)
    log.info("verdicts: %s", verdict_table["verdict"].value_counts().to_dict())
