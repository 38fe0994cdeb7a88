"""Tables of one dataset: thin adapter from the snakemake object to attnlab.tables / attnlab.stats.

Expects from the rule:
  input.metrics, input.predictions   every run's metrics.json and predictions.parquet (one
                                     dataset), both in the order of params.runs
  params.runs                        dataset, variant and seed of each run
  params.baseline                    the dataset's baseline variant
  output.study_csv, output.study_md      the study's table, ours next to the study's
  output.compare_csv, output.compare_md  every variant vs the baseline, paired over seeds
  output.mcnemar_csv                     exact McNemar per variant and seed
  output.verdicts_csv, output.verdicts_md  the study's claims about this dataset's family,
                                           tested on this dataset alone
  log[0]                                 the job's log
"""

from attnlab import comparisons, run_files, tables, verdicts
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    runs = run_files.load_runs(snakemake.input.metrics, snakemake.input.predictions)
    predictions = run_files.load_predictions(snakemake.input.predictions, snakemake.params.runs)
    dataset = snakemake.wildcards.dataset
    baseline = snakemake.params.baseline
    log.info("%s: %d runs, baseline %s", dataset, len(runs), baseline)

    study = tables.study_table(runs, dataset, baseline)
    tables.write_table(
        study,
        snakemake.output.study_csv,
        snakemake.output.study_md,
        tables.format_study_table(study),
    )
    comparison = comparisons.compare(runs, baseline, predictions)
    tables.write_table(
        comparison,
        snakemake.output.compare_csv,
        snakemake.output.compare_md,
        tables.format_compare(comparison),
    )
    tables.write_table(
        comparisons.mcnemar_table(predictions, baseline), snakemake.output.mcnemar_csv
    )
    verdict_table = verdicts.dataset_verdicts(runs, predictions)
    tables.write_table(
        verdict_table,
        snakemake.output.verdicts_csv,
        snakemake.output.verdicts_md,
        tables.format_verdicts(verdict_table),
    )
    log.info("wrote the tables of %s", dataset)
