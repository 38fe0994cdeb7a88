"""Ranking of one dataset's variants: thin adapter to attnlab.ranking and attnlab.figures.

Expects from the rule:
  input.metrics, input.predictions  every run's metrics.json and predictions.parquet of one
                                    dataset (the same runs, in the same order)
  params.baseline                   the dataset's baseline variant
  params.title                      figure title prefix, e.g. the dataset name
  output.ranks_csv, output.ranks_md mean ranks, Friedman, Demsar's CD, Nemenyi p vs baseline
  output.posthoc_csv                Nemenyi p-values of every pair
  output.bayes_csv, output.bayes_md Bayesian comparison with the baseline (ROPE 0.5 points)
  output.power_csv, output.power_md the seeds each comparison needs, from the spread so far
  output.diagram                    PNG: critical-difference diagram
  log[0]                            the job's log
"""

from attnlab import figures, power, ranking, run_files, tables
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    runs = run_files.load_runs(snakemake.input.metrics, snakemake.input.predictions)
    dataset, baseline = snakemake.wildcards.dataset, snakemake.params.baseline
    matrix = ranking.accuracy_matrix(runs, dataset)
    ranks = ranking.rank_table(matrix, baseline)
    tables.write_table(
        ranks,
        snakemake.output.ranks_csv,
        snakemake.output.ranks_md,
        ranking.format_rank_table(ranks),
    )
    posthoc = ranking.nemenyi(matrix)
    posthoc.rename_axis("variant").reset_index().to_csv(snakemake.output.posthoc_csv, index=False)
    bayes = ranking.bayes_vs_baseline(matrix, baseline)
    tables.write_table(
        bayes, snakemake.output.bayes_csv, snakemake.output.bayes_md, ranking.format_bayes(bayes)
    )
    needed = power.power_table(runs, dataset, baseline)
    tables.write_table(
        needed, snakemake.output.power_csv, snakemake.output.power_md, power.format_power(needed)
    )
    line = ranking.friedman_line(ranks)
    log.info("%s: %s", dataset, line)
    title = f"{snakemake.params.title}: mean ranks over {matrix.attrs['unit']} (1 = best)"
    if ranks["critical_difference"].notna().all():
        cd = float(ranks["critical_difference"].iloc[0])
        ranked = ranks.set_index("variant")["mean_rank"]
        fig = figures.critical_difference_figure(ranked, posthoc, cd, f"{title}\n{line}")
    else:
        fig = figures.message_figure(line, title)
    log.info("writing %s", figures.save_figure(fig, snakemake.output.diagram))
