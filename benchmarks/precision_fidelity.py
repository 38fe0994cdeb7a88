"""Does a faster precision keep the accuracy? Two sets of trained runs, paired by seed.

Two work folders that trained the same dataset, variants and seeds at two settings (say
float32 and mixed_bfloat16): per variant, the accuracy of B minus A is paired by seed and
judged with attnlab's own Bayesian comparison (`ranking.bayes_pair`: region of practical
equivalence 0.5 points, the sd floored at the test items' binomial noise, decision at
0.95). Both folders' `metrics.json` name their precision and commit; both are printed.
A variant that sometimes collapses to chance (the study's digit self-attention) is
bimodal, so its accuracy difference is rarely decided; the table also counts each side's
collapsed runs (test accuracy <= 0.2, as `collapse.py`) with Fisher's exact test on them,
and the mean seconds of `fit` per run (the two folders may have run under other loads).

The sd of the differences is floored at the test items' binomial noise as if the two
runs had been tested on independent items (attnlab's rule for every comparison). Both
settings are tested on the same items, so a second decision (`*_paired`) floors it at the
noise of a paired difference instead: per seed, from the items on which exactly one of
the two runs is right (McNemar's discordant pairs b, c of n items: var = (b + c -
(b - c)^2 / n) / n^2).

    .venv/bin/python benchmarks/precision_fidelity.py A/ B/ --dataset reduced_mnist \\
        --variants base se --seeds 4 5 6 7 8 [--csv out.csv]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact

from attnlab import collapse, ranking, stats
from attnlab.comparisons import mcnemar_exact
from attnlab.plan_paths import PlanPaths


def read_runs(folder: Path, dataset: str, variant: str, seeds) -> list[dict]:
    runs = [{"dataset": dataset, "variant": variant, "seed": seed} for seed in seeds]
    return [
        json.loads((folder / PlanPaths.training_file(run, "metrics.json")).read_text())
        for run in runs
    ]


def compare(a: Path, b: Path, dataset: str, variants, seeds) -> pd.DataFrame:
    rows = []
    for variant in variants:
        runs_a, runs_b = (read_runs(f, dataset, variant, seeds) for f in (a, b))
        x = [100 * r["test_accuracy"] for r in runs_b]
        y = [100 * r["test_accuracy"] for r in runs_a]
        arms = [
            (sum(v) / len(v) / 100, runs[0]["test_items"]) for v, runs in ((x, runs_b), (y, runs_a))
        ]
        row = {
            "dataset": dataset,
            "variant": variant,
            "a": f"{runs_a[0]['precision']} @ {runs_a[0]['provenance']['commit'][:7]}",
            "b": f"{runs_b[0]['precision']} @ {runs_b[0]['provenance']['commit'][:7]}",
            "a_mean_pts": sum(y) / len(y),
            "b_mean_pts": sum(x) / len(x),
        }
        row |= ranking.bayes_pair(x, y, floor_sd=100 * stats.item_noise(*arms))
        row["decision"] = ranking.decide(row)
        floor = paired_floor_pts(a, b, dataset, variant, seeds)
        paired = ranking.bayes_pair(x, y, floor_sd=floor)
        row |= {"paired_floor_pts": floor, "p_equivalent_paired": paired["p_equivalent"]}
        row["decision_paired"] = ranking.decide(paired)
        row |= collapses(runs_a, runs_b)
        row["a_fit_s"], row["b_fit_s"] = (mean_fit_seconds(r) for r in (runs_a, runs_b))
        rows.append(row)
    return pd.DataFrame(rows)


def correct(folder: Path, run: dict) -> pd.Series:
    predictions = pd.read_parquet(folder / PlanPaths.training_file(run, "predictions.parquet"))
    return (predictions["pred"] == predictions["label"]).set_axis(predictions["item"])


def paired_floor_pts(a: Path, b: Path, dataset: str, variant: str, seeds) -> float:
    """sd (points) of one seed's paired difference from its discordant test items."""
    variances = []
    for seed in seeds:
        run = {"dataset": dataset, "variant": variant, "seed": seed}
        both = pd.concat([correct(b, run), correct(a, run)], axis=1, join="inner")
        counts = mcnemar_exact(both[0], both[1])
        b_only, a_only, n = counts["variant_only"], counts["baseline_only"], len(both)
        variances.append((b_only + a_only - (b_only - a_only) ** 2 / n) / n**2)
    return 100 * float(np.sqrt(np.mean(variances)))


def collapses(runs_a, runs_b) -> dict:
    """Collapsed runs on each side (`attnlab.collapse`) and Fisher's exact p on the two counts."""
    counts = [int(collapse.collapsed(pd.DataFrame(runs)).sum()) for runs in (runs_a, runs_b)]
    table = [[c, len(runs) - c] for c, runs in zip(counts, (runs_a, runs_b), strict=True)]
    return {
        "a_collapsed": counts[0],
        "b_collapsed": counts[1],
        "collapse_fisher_p": fisher_exact(table).pvalue if any(counts) else float("nan"),
    }


def mean_fit_seconds(runs) -> float:
    return sum(r["train_seconds"] for r in runs) / len(runs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="work folder of the reference setting")
    parser.add_argument("b", type=Path, help="work folder of the faster setting")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--variants", nargs="+", required=True)
    parser.add_argument("--seeds", nargs="+", type=int, required=True)
    parser.add_argument("--csv", help="also write the table here")
    args = parser.parse_args(argv)
    table = compare(args.a, args.b, args.dataset, args.variants, args.seeds)
    table.round(3).to_csv(sys.stdout, index=False)
    if args.csv:
        table.round(3).to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
