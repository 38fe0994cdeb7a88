"""Per-fold and per-speaker tables of a group_kfold dataset: thin adapter to attnlab.folds.

Expects from the rule:
  input.metrics, input.predictions  every pooled run (in the order of params.runs)
  params.runs                       dataset, variant and seed of each run
  params.group                      the manifest column the folds keep together (its name)
  output.folds_csv, output.folds_md, output.speakers_csv, output.speakers_md
"""

from attnlab import folds, run_files, tables
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    out, group = snakemake.output, snakemake.params.group
    runs = run_files.load_runs(snakemake.input.metrics, snakemake.input.predictions)
    predictions = run_files.load_predictions(snakemake.input.predictions, snakemake.params.runs)
    by_fold = folds.fold_table(runs)
    tables.write_table(by_fold, out.folds_csv, out.folds_md, folds.format_fold_table(by_fold))
    by_speaker = folds.speaker_table(predictions, group)
    tables.write_table(
        by_speaker,
        out.speakers_csv,
        out.speakers_md,
        folds.format_speaker_table(by_speaker, group),
    )
    log.info("%d variants over %d folds", len(by_fold), by_fold["n_folds"].max())
