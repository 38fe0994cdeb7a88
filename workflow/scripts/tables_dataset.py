"""Tables of one dataset: thin adapter from the snakemake object to attnlab.tables / attnlab.stats.

Expects from the rule:
  input.metrics      list of results/{dataset}/{variant}/seed{seed}/metrics.json, all of
                     one dataset (predictions.parquet is read from the same folders)
  input.predictions  (optional) the matching predictions.parquet files, so the DAG knows
  params.baseline    the dataset's baseline variant (config datasets.<dataset>.baseline)
  output.study_csv, output.study_md      the study's table, ours next to the study's
  output.compare_csv, output.compare_md  every variant vs the baseline, paired over seeds
  output.mcnemar_csv                     exact McNemar per variant and seed
  log[0]                                 the job's log
"""

from pathlib import Path

from attnlab import stats, tables
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    run_dirs = [Path(path).parent for path in snakemake.input.metrics]
    runs = tables.load_runs(run_dirs)
    predictions = tables.load_predictions(run_dirs)
    (dataset,) = runs["dataset"].unique()
    baseline = snakemake.params.baseline
    log.info("%s: %d runs, baseline %s", dataset, len(runs), baseline)

    study = tables.study_table(runs, dataset, baseline)
    tables.write_table(
        study,
        snakemake.output.study_csv,
        snakemake.output.study_md,
        tables.format_study_table(study),
    )
    comparison = stats.compare(runs, baseline, predictions)
    tables.write_table(
        comparison,
        snakemake.output.compare_csv,
        snakemake.output.compare_md,
        tables.format_compare(comparison),
    )
    tables.write_table(stats.mcnemar_table(predictions, baseline), snakemake.output.mcnemar_csv)
    log.info("wrote the tables of %s", dataset)
