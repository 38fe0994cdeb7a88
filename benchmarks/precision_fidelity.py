"""Does a faster precision keep the accuracy? Two sets of trained runs, paired by seed.

Two work folders that trained the same dataset, variants and seeds at two settings (say
float32 and mixed_bfloat16): per variant, the accuracy of B minus A is paired by seed and
judged with attnlab's own Bayesian comparison (`ranking.bayes_pair`: region of practical
equivalence 0.5 points, the sd floored at the test items' binomial noise, decision at
0.95). Both folders' `metrics.json` name their precision and commit; both are printed.

    .venv/bin/python benchmarks/precision_fidelity.py A/ B/ --dataset reduced_mnist \\
        --variants base se --seeds 4 5 6 7 8 [--csv out.csv]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from attnlab import ranking, stats
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
        rows.append(row)
    return pd.DataFrame(rows)


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
