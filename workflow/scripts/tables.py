"""Tables across datasets and results/summary.md: thin adapter from the snakemake object.

Expects from the rule:
  input.metrics      every run's results/{dataset}/{variant}/seed{seed}/metrics.json
                     (predictions.parquet is read from the same folders)
  input.predictions  (optional) the matching predictions.parquet files, so the DAG knows
  params.baselines   dict dataset -> baseline variant (from config datasets.*.baseline)
  output.cross_domain_csv, output.cross_domain_md   best attention variant vs baseline per domain
  output.verdicts_csv, output.verdicts_md           the study's claims tested
  output.summary                                    results/summary.md
  output.params_csv, output.params_md               (optional) attnlab.models.param_table()
                                                    (imports TensorFlow, on CPU, `threads`)
  log[0]                                            the job's log
"""

from pathlib import Path

from attnlab import stats, tables
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    run_dirs = [Path(path).parent for path in snakemake.input.metrics]
    runs = tables.load_runs(run_dirs)
    predictions = tables.load_predictions(run_dirs)
    baselines = {
        d: b for d, b in dict(snakemake.params.baselines).items() if d in set(runs["dataset"])
    }
    log.info("%d runs; baselines %s", len(runs), baselines)

    cross = tables.cross_domain_table(runs, baselines)
    tables.write_table(
        cross,
        snakemake.output.cross_domain_csv,
        snakemake.output.cross_domain_md,
        tables.format_cross_domain(cross),
    )
    verdicts = stats.verdicts(runs, predictions)
    tables.write_table(
        verdicts,
        snakemake.output.verdicts_csv,
        snakemake.output.verdicts_md,
        tables.format_verdicts(verdicts),
    )
    study = {d: tables.study_table(runs, d, b) for d, b in baselines.items()}
    text = tables.summary_markdown(study, cross, verdicts, tables.seeds_line(runs))
    Path(snakemake.output.summary).write_text(text)

    if hasattr(snakemake.output, "params_csv"):
        from attnlab import runtime

        runtime.configure(threads=snakemake.threads, device="cpu")
        from attnlab.models import param_table

        tables.write_table(param_table(), snakemake.output.params_csv, snakemake.output.params_md)
    log.info("verdicts: %s", verdicts["verdict"].value_counts().to_dict())
