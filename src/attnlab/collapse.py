"""Runs that collapsed: models left at chance, counted per variant.

A run has collapsed when its test accuracy is at most twice chance (0.2 with ten classes):
a model that learned the task sits far above that, one that did not sits near 1 / classes.
A collapse is a property of the training, not noise around a mean, so a variant's mean
and sd hide it; the count with its interval says how often it happens. The study's digit
self-attention is the case in point (docs/self_attention.md measures why).

The unit is the run as the tables count it: one per seed (for grouped folds, the pooled
run of a seed). Rates have 95% Wilson intervals; each variant is set against its
baseline's runs with Fisher's exact test.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from scipy.stats import fisher_exact
from statsmodels.stats.proportion import proportion_confint

from attnlab import stats
from attnlab.tables import to_markdown

CHANCE_MULTIPLE = 2


def threshold(n_classes: int) -> float:
    """The test accuracy at or below which a run over `n_classes` classes has collapsed."""
    return CHANCE_MULTIPLE / n_classes


def collapsed(runs: pd.DataFrame) -> pd.Series:
    """Per run: whether it collapsed (its classes from the recorded preprocessing)."""
    limits = runs["preprocessing"].map(lambda p: threshold(len(p["classes"])))
    return runs["test_accuracy"] <= limits


def _count(runs: pd.DataFrame) -> tuple[int, int]:
    return int(collapsed(runs).sum()), len(runs)


def collapse_table(runs: pd.DataFrame, baselines: Mapping[str, str]) -> pd.DataFrame:
    """Per dataset and variant with at least one collapsed run: the count, its rate with a
    Wilson interval, the seeds, the others' accuracy range and Fisher's p vs baseline."""

    rows = []
    for dataset, baseline in baselines.items():
        of = runs[runs["dataset"] == dataset]
        base_k, base_n = _count(of[of["variant"] == baseline])
        for variant, group in of.groupby("variant", sort=False):
            down = collapsed(group)
            if not down.any():
                continue
            k, n = int(down.sum()), len(group)
            low, high = proportion_confint(k, n, alpha=1 - stats.CONFIDENCE, method="wilson")
            others = group.loc[~down, "test_accuracy"]
            table = [[k, n - k], [base_k, base_n - base_k]]
            rows.append(
                {
                    "dataset": dataset,
                    "variant": variant,
                    "collapsed": k,
                    "runs": n,
                    "rate_ci_low": low,
                    "rate_ci_high": high,
                    "seeds": ", ".join(str(s) for s in sorted(group.loc[down, "seed"])),
                    "others_min": others.min() if len(others) else float("nan"),
                    "others_max": others.max() if len(others) else float("nan"),
                    "baseline": baseline,
                    "baseline_collapsed": base_k,
                    "baseline_runs": base_n,
                    "fisher_p": fisher_exact(table)[1] if variant != baseline else float("nan"),
                }
            )
    return pd.DataFrame(rows)


def format_collapse_table(table: pd.DataFrame) -> pd.DataFrame:
    rows = list(table.itertuples())
    return pd.DataFrame(
        {
            "dataset": table["dataset"],
            "variant": table["variant"],
            "collapsed (runs)": [f"{r.collapsed} of {r.runs}" for r in rows],
            "rate [95% Wilson]": [
                f"{r.collapsed / r.runs:.2f} [{r.rate_ci_low:.2f}, {r.rate_ci_high:.2f}]"
                for r in rows
            ],
            "seeds collapsed": table["seeds"],
            "the others' accuracy": [
                "none" if pd.isna(r.others_min) else f"{r.others_min:.4f}-{r.others_max:.4f}"
                for r in rows
            ],
            "baseline collapsed": [
                f"{r.baseline}: {r.baseline_collapsed} of {r.baseline_runs}" for r in rows
            ],
            "Fisher p vs baseline": [stats.format_p(r.fisher_p) for r in rows],
        }
    )


def collapse_markdown(runs: pd.DataFrame, baselines: Mapping[str, str]) -> str:
    """The summary's section: the table, or a sentence saying no run collapsed."""
    limit = f"test accuracy <= {CHANCE_MULTIPLE} x chance"
    parts = [f"## Runs that collapsed ({limit})", ""]
    table = collapse_table(runs, baselines)
    if table.empty:
        return "\n".join(parts + [f"No run collapsed ({len(runs)} runs).", ""])
    parts += [
        "Unit: the run (one per seed; a grouped dataset's pooled run). A collapsed run stays"
        " in every mean, interval and test on this page; this counts how often it happens."
        " Rate with a 95% Wilson interval; Fisher's exact test against the baseline's runs."
        " docs/self_attention.md measures why the study's self-attention block collapses.",
        "",
    ]
    parts += [to_markdown(format_collapse_table(table))]
    return "\n".join(parts)
