"""Statistics across many variants of one dataset: ranks, Friedman, Nemenyi, Bayes.

With ten or more variants the question is no longer "is X different from the
baseline" but "how do they rank, and which differences matter in practice".

- `accuracy_matrix`: seeds x variants test accuracies (a block design: one block per
  seed, every variant trained with it).
- `friedman`: Friedman's test over that matrix (scipy), the mean ranks (1 = best),
  and Demsar's (2006) critical difference CD = q_alpha sqrt(k (k + 1) / (6 N)), with
  q_alpha the studentized range quantile / sqrt(2) (scipy).
- `nemenyi`: Nemenyi's post-hoc p-values for every pair (scikit-posthocs).
- `bayes_vs_baseline`: per variant, the Bayesian t-test posterior of the accuracy
  difference to the baseline (Benavoli et al. 2017, `baycomp`'s Student posterior)
  with a region of practical equivalence (ROPE) of `ROPE_PTS` points: P(worse),
  P(equivalent), P(better). Seeds are independent runs on one fixed split, so the
  posterior uses no cross-validation correlation (rho = 0): mean of the differences,
  variance s^2 / n, n - 1 degrees of freedom, with s from `attnlab.stats.spread`:
  the sample sd floored at the item noise of the difference (`stats.item_noise`, from
  the test items `accuracy_matrix` records in `matrix.attrs["test_items"]`). Without
  spread and without known test items there is no posterior (NaN, "n/a"), never
  P = 1 from zero variance.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from baycomp.single import Posterior
from scipy import stats

from attnlab import stats as attn_stats
from attnlab import units

ALPHA = 0.05
ROPE_PTS = 0.5
DECISION = 0.95


def accuracy_matrix(runs: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Test accuracy in points, one row per unit, one column per variant.

    The units are `attnlab.units`': the seeds every variant ran or, with grouped folds,
    the groups (speakers), each averaged over those seeds. `attrs` carries
    `test_items` (per variant, the items behind one value, for the spread floor of
    `bayes_vs_baseline`), `rho` (the units' correlation), `unit` (e.g.
    "6 speakers x 2 seeds") and `n_seeds` (the seeds every variant ran).
    """
    of = units.accuracy_units(runs, dataset)
    matrix = of.values.dropna(axis=0, how="any")
    matrix.attrs |= {
        "test_items": of.items,
        "rho": of.rho,
        "unit": of.label(),
        "n_seeds": of.n_seeds,
    }
    return matrix


def critical_difference(k: int, n: int, alpha: float = ALPHA) -> float:
    """Demsar's CD of mean ranks for k variants over n blocks (two-tailed Nemenyi)."""
    q_alpha = stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return float(q_alpha * math.sqrt(k * (k + 1) / (6 * n)))


def mean_ranks(matrix: pd.DataFrame) -> pd.Series:
    """Mean rank per variant over the rows (1 = highest accuracy; ties share ranks)."""
    return matrix.rank(axis=1, ascending=False).mean().sort_values()


def friedman(matrix: pd.DataFrame) -> dict:
    """Friedman's chi-square over units x variants, with mean ranks and Demsar's CD.

    Needs at least 3 variants and 2 units; otherwise statistic and p are NaN and
    `test` says why.
    """
    n, k = matrix.shape
    out = {"n_units": n, "n_variants": k, "ranks": mean_ranks(matrix)}
    if k < 3 or n < 2:
        reason = f"n/a (Friedman needs >= 3 variants and >= 2 units; {k} variants, {n} units)"
        return out | {"statistic": math.nan, "p": math.nan, "cd": math.nan, "test": reason}
    result = stats.friedmanchisquare(*(matrix[c].to_numpy() for c in matrix.columns))
    return out | {
        "statistic": float(result.statistic),
        "p": float(result.pvalue),
        "cd": critical_difference(k, n),
        "test": f"Friedman over {n} seeds x {k} variants; Nemenyi post-hoc",
    }


def nemenyi(matrix: pd.DataFrame) -> pd.DataFrame:
    """Nemenyi post-hoc p-values (variants x variants); NaN where Friedman is n/a."""
    n, k = matrix.shape
    if k < 3 or n < 2:
        return pd.DataFrame(np.nan, index=matrix.columns, columns=matrix.columns)
    import scikit_posthocs as sp

    table = sp.posthoc_nemenyi_friedman(matrix.to_numpy())
    table.index = table.columns = matrix.columns
    return table


def rank_table(matrix: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """One row per variant, best mean rank first: rank, accuracy, Nemenyi p vs baseline."""
    result = friedman(matrix)
    posthoc = nemenyi(matrix)
    ranks = result["ranks"]
    return pd.DataFrame(
        {
            "variant": ranks.index,
            "mean_rank": ranks.to_numpy(),
            "accuracy_mean_pts": matrix[ranks.index].mean().to_numpy(),
            "n_units": result["n_units"],
            "unit": matrix.attrs.get("unit", f"{len(matrix)} seeds"),
            "nemenyi_p_vs_baseline": [posthoc.loc[v, baseline] for v in ranks.index],
            "friedman_statistic": result["statistic"],
            "friedman_p": result["p"],
            "critical_difference": result["cd"],
            "test": result["test"],
        }
    )


def bayes_pair(x, y, rope: float = ROPE_PTS, floor_sd: float = math.nan, rho: float = 0.0):
    """P(x - y < -rope), P(|x - y| <= rope), P(x - y > rope) from paired scores (points).

    The sd of the differences is `attn_stats.spread`'s: floored at `floor_sd`, NaN
    (no posterior) with no spread and no floor. `rho` > 0 (units sharing training
    data) makes it baycomp's correlated t-test: variance sd^2 (1/n + rho/(1-rho)).
    """
    d = np.asarray(x, dtype=float) - np.asarray(y, dtype=float)
    s = attn_stats.spread(d, floor_sd, rho)
    out = {"n_units": s.n, "diff_pts": s.mean, "sd_floored": s.floored}
    if math.isnan(s.sd):
        return out | dict.fromkeys(["p_worse", "p_equivalent", "p_better"], math.nan)
    posterior = Posterior(s.mean, s.se**2, s.df, rope)
    worse, equivalent, better = posterior.probs()
    return out | {
        "p_worse": float(worse),
        "p_equivalent": float(equivalent),
        "p_better": float(better),
    }


def decide(row: dict, threshold: float = DECISION) -> str:
    """better / equivalent / worse when that posterior probability >= threshold."""
    for key, word in (("p_better", "better"), ("p_equivalent", "equivalent"), ("p_worse", "worse")):
        if row[key] >= threshold:
            return word
    if not math.isnan(row["p_better"]):
        return "undecided"
    return "n/a (n = 1)" if row["n_units"] < 2 else "n/a (no spread, test items unknown)"


def difference_floor(matrix: pd.DataFrame, variant: str, baseline: str) -> float:
    """Item noise (points) of variant - baseline from `matrix.attrs["test_items"]`."""
    items = matrix.attrs.get("test_items", {})
    arms = [(matrix[v].mean() / 100, items.get(v)) for v in (variant, baseline)]
    return 100 * attn_stats.item_noise(*arms)


def bayes_vs_baseline(matrix: pd.DataFrame, baseline: str, rope: float = ROPE_PTS) -> pd.DataFrame:
    """Every variant vs the baseline: the posterior probabilities and a decision."""
    rows = []
    for variant in (v for v in matrix.columns if v != baseline):
        row = {"variant": variant, "baseline": baseline, "rope_pts": rope}
        floor = difference_floor(matrix, variant, baseline)
        rho = matrix.attrs.get("rho", 0.0)
        row |= bayes_pair(matrix[variant], matrix[baseline], rope, floor, rho)
        row["unit"] = matrix.attrs.get("unit", f"{len(matrix)} seeds")
        rows.append(row | {"decision": decide(row)})
    columns = ["variant", "baseline", "rope_pts", "n_units", "unit", "diff_pts", "sd_floored"]
    columns += ["p_worse", "p_equivalent", "p_better", "decision"]
    return pd.DataFrame(rows, columns=columns)


def format_rank_table(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rank": table["mean_rank"].map("{:.2f}".format),
            "variant": table["variant"],
            "accuracy (%)": table["accuracy_mean_pts"].map("{:.2f}".format),
            "n": table["unit"],
            "Nemenyi p vs baseline": table["nemenyi_p_vs_baseline"].map(attn_stats.format_p),
        }
    )


def format_bayes(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "variant": table["variant"],
            "vs": table["baseline"],
            "n": table["unit"],
            "Δ accuracy (points)": table["diff_pts"].map("{:+.2f}".format),
            f"P(worse by > {ROPE_PTS})": table["p_worse"].map(_prob),
            "P(equivalent)": table["p_equivalent"].map(_prob),
            f"P(better by > {ROPE_PTS})": table["p_better"].map(_prob),
            "decision (P >= 0.95)": table["decision"],
        }
    )


def friedman_line(table: pd.DataFrame) -> str:
    """One sentence: Friedman's result and the CD, or why there is none."""
    first = table.iloc[0]
    if math.isnan(first["friedman_p"]):
        return first["test"] + "."
    return (
        f"Friedman chi2 = {first['friedman_statistic']:.2f}, "
        f"{attn_stats.p_clause(first['friedman_p'])} "
        f"over {first['unit']} x {len(table)} variants; Nemenyi critical difference "
        f"of mean ranks CD = {first['critical_difference']:.2f} (alpha {ALPHA})."
    )


def _prob(p: float) -> str:
    return "n/a" if pd.isna(p) else f"{p:.2f}"
