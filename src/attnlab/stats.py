"""Statistics of the study: the primitives every table and verdict uses.

Accuracy differences are in percentage points, time differences in % of the
baseline's time. `attnlab.comparisons` pairs variants with their baseline from these;
docs/statistics.md describes every test in full.

- a paired t-test over units (`paired_test`, with its t-based 95% CI of the mean
  difference), plus a Wilcoxon signed-rank test when n >= `WILCOXON_MIN_N`
  (with fewer pairs its exact two-sided p can never fall below 0.05); with
  n < 2 no test is possible and the test is reported as "n/a";
- Welch's t-interval (`welch_test`, `welch`) for two sets of runs that are not paired;
- prediction intervals for one more run (`prediction_interval`);
- Holm correction (`holm`) and the matching interval levels (`holm_levels`).

Zero or tiny spread, one rule (`spread`): every interval, test and posterior
(paired t, Welch, prediction intervals, the Bayesian comparison of
`attnlab.ranking`) uses sd = max(sample sd over seeds, floor). For accuracies
the floor is the binomial sd of the test items (`item_noise`): sqrt(p(1-p)/m)
for one accuracy on m items, sqrt(p_a(1-p_a)/m_a + p_b(1-p_b)/m_b) for a
difference of two (counted as independent items), with p smoothed to
(p m + 1) / (m + 2). Where m is unknown (or for training time, which has no such
floor) runs without spread leave the sd undefined: the interval and p are NaN,
never zero-width and never P = 1.

The study's claims and their verdicts live in `attnlab.verdicts`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from attnlab import units

ALPHA = 0.05
CONFIDENCE = 0.95
WILCOXON_MIN_N = 6


# ------------------------------------------------------ spread and its floor
def item_noise(*arms: tuple[float, float | None]) -> float:
    """Binomial sd (as a fraction) of an accuracy, or of a difference of accuracies.

    Each arm is (accuracy, m test items): one arm gives sqrt(p(1-p)/m), two give the
    sd of their difference counted as independent items, sqrt(sum of p(1-p)/m). p is
    smoothed to (p m + 1) / (m + 2) so that 0% or 100% still carries item noise.
    NaN when any m is unknown.
    """
    variance = 0.0
    for accuracy, m in arms:
        if m is None or not m > 0 or math.isnan(accuracy):
            return math.nan
        p = (accuracy * m + 1) / (m + 2)
        variance += p * (1 - p) / m
    return math.sqrt(variance)


def units_floor(of: units.Units, *variants: str) -> float:
    """`item_noise` in points of one variant's mean over `of`'s units, or of the
    difference of two, from the test items behind each unit (NaN where unknown)."""
    return 100 * item_noise(*[(of.values[v].mean() / 100, of.items.get(v)) for v in variants])


@dataclass(frozen=True)
class Spread:
    """Per-unit values summarised for a t-statistic: mean, the sd to use, n.

    `sd` is NaN where it is undefined; `floored` says the floor replaced the sample sd.
    `rho` is the correlation between units that share training data (grouped folds,
    `attnlab.units`): the standard error is then Nadeau and Bengio's corrected
    sd sqrt(1/n + rho/(1-rho)); 0 for independent units.
    """

    mean: float
    sd: float
    n: int
    floored: bool = False
    rho: float = 0.0

    @property
    def df(self) -> int:
        return self.n - 1

    @property
    def se(self) -> float:
        return self.sd * math.sqrt(self._shared_share) if self.n else math.nan

    @property
    def _shared_share(self) -> float:
        return 1 / self.n + self.rho / (1 - self.rho)


def spread(values: Sequence[float], floor_sd: float = math.nan, rho: float = 0.0) -> Spread:
    """The one rule for zero or tiny spread: sd = max(sample sd, `floor_sd`).

    Every interval, test and posterior takes its sd from here. The sd is NaN with
    fewer than two values, and with no spread when there is no floor (NaN). `rho`:
    see `Spread`.
    """
    x = np.asarray(values, dtype=float)
    n = int(x.size)
    mean = float(x.mean()) if n else math.nan
    if n < 2:
        return Spread(mean, math.nan, n, rho=rho)
    no_spread = np.allclose(x, x[0], rtol=1e-9, atol=1e-12)
    sample = 0.0 if no_spread else float(x.std(ddof=1))
    if floor_sd > sample:  # False for a NaN floor
        return Spread(mean, float(floor_sd), n, floored=True, rho=rho)
    return Spread(mean, sample if sample > 0 else math.nan, n, rho=rho)


def _t_band(s: Spread, scale: float, confidence: float) -> tuple[float, float]:
    if math.isnan(s.sd):
        return math.nan, math.nan
    low, high = stats.t.interval(confidence, s.df, loc=s.mean, scale=scale)
    return float(low), float(high)


def t_interval(s: Spread, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """CI of the mean: mean +- t(n-1) sd / sqrt(n)."""
    return _t_band(s, s.se, confidence)


def prediction_interval(s: Spread, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Where the value of one more run falls: mean +- t(n-1) sd sqrt(1 + 1/n).

    With correlated units (`Spread.rho`) the mean's share 1/n is Nadeau and Bengio's.
    """
    share = s._shared_share if s.n else 1.0
    return _t_band(s, s.sd * math.sqrt(1 + share), confidence)


def t_p_value(s: Spread) -> float:
    """Two-sided p of the one-sample t-test of mean 0 (NaN where the sd is undefined)."""
    if math.isnan(s.sd):
        return math.nan
    return float(2 * stats.t.sf(abs(s.mean) / s.se, s.df))


# ---------------------------------------------------------------- primitives
def mean_ci(
    values: Sequence[float], confidence: float = CONFIDENCE, floor_sd: float = math.nan
) -> tuple[float, float]:
    """t-based CI of the mean (sd from `spread`); NaNs where the sd is undefined."""
    return t_interval(spread(values, floor_sd), confidence)


def points_ci(points: Sequence[float], floor_sd: float = math.nan) -> tuple[float, float]:
    """`mean_ci` of accuracies in points, clipped to [0, 100]."""
    low, high = np.clip(mean_ci(points, floor_sd=floor_sd), 0.0, 100.0)
    return float(low), float(high)


def accuracy_ci(
    accuracies: Sequence[float], n_items: int | None = None
) -> tuple[float, float, str]:
    """95% CI of the mean test accuracy and how it was computed.

    Two or more seeds: t-interval across seeds, clipped to [0, 1], its sd floored at the
    item noise of `n_items` (`spread`). One seed with `n_items` known: Wilson interval
    over that run's test items, which measures item noise only, not seed-to-seed
    variation (the label says so).
    """
    acc = np.asarray(accuracies, dtype=float)
    if acc.size >= 2:
        s = spread(acc, item_noise((float(acc.mean()), n_items)))
        if math.isnan(s.sd):
            return math.nan, math.nan, f"n/a ({acc.size} seeds, no spread, test items unknown)"
        low, high = np.clip(t_interval(s), 0.0, 1.0)
        floored = f", sd floored at the item noise of {n_items} items" if s.floored else ""
        return float(low), float(high), f"t over {acc.size} seeds{floored}"
    if acc.size == 1 and n_items:
        count = round(float(acc[0]) * n_items)
        low, high = proportion_confint(count, n_items, alpha=1 - CONFIDENCE, method="wilson")
        return float(low), float(high), f"Wilson over {n_items} items (1 seed: items only)"
    return math.nan, math.nan, "n/a"


def paired_test(
    x: Sequence[float],
    y: Sequence[float],
    floor_sd: float = math.nan,
    rho: float = 0.0,
    unit: str | None = None,
) -> dict:
    """Paired comparison of x and y (one pair per unit, e.g. seed): mean difference x - y.

    Paired t-test with its 95% CI, its sd from `spread` (floored at `floor_sd`, the
    item noise of the difference, where given; `rho` corrects for units that share
    training data, `Spread`); Wilcoxon signed-rank when n >= WILCOXON_MIN_N and the
    units are independent. With n < 2, or identical differences in every pair and no
    floor (t undefined), the CI and p are NaN and `test` says why. `unit` names the
    units in `test`, e.g. "6 speakers x 2 seeds" (default "n=<pairs>").
    """
    d = np.asarray(x, dtype=float) - np.asarray(y, dtype=float)
    s = spread(d, floor_sd, rho)
    n = s.n
    out = {"n": n, "estimate": s.mean, "sd": s.sd, "floored": s.floored, "rho": rho}
    out |= {"ci_low": math.nan, "ci_high": math.nan, "p": math.nan, "p_wilcoxon": math.nan}
    if n < 2:
        return out | {"test": f"n/a (n={n})"}
    if math.isnan(s.sd):
        return out | {"test": f"paired t undefined (n={n}, identical differences)"}
    low, high = t_interval(s)
    out |= {"ci_low": low, "ci_high": high, "p": t_p_value(s)}
    notes = [unit or f"n={n}"]
    notes += ["Nadeau-Bengio corrected"] * (rho > 0) + ["sd floored at item noise"] * s.floored
    test = f"paired t ({', '.join(notes)})"
    if n >= WILCOXON_MIN_N and rho == 0 and np.any(d != 0):
        out["p_wilcoxon"] = float(stats.wilcoxon(x, y).pvalue)
        return out | {"test": f"{test}; Wilcoxon signed-rank"}
    return out | {"test": test}


def welch_test(
    a: Sequence[float],
    b: Sequence[float],
    floor_a: float = math.nan,
    floor_b: float = math.nan,
) -> dict:
    """Welch's t of mean(a) - mean(b) for unpaired runs, each arm's sd from `spread`."""
    return welch(spread(a, floor_a), spread(b, floor_b))


def welch(sa: Spread, sb: Spread) -> dict:
    """Welch's t of sa.mean - sb.mean from two arms' spreads (each with its own units).

    Welch-Satterthwaite degrees of freedom from the (floored, `rho`-corrected) variances
    of the means; an arm with no spread and no floor leaves the interval and p NaN
    rather than too narrow.
    """
    out = {"estimate": sa.mean - sb.mean, "ci_low": math.nan, "ci_high": math.nan}
    out |= {"p": math.nan, "df": math.nan}
    if math.isnan(sa.sd) or math.isnan(sb.sd):
        return out
    va, vb = sa.se**2, sb.se**2
    df = (va + vb) ** 2 / (va**2 / sa.df + vb**2 / sb.df)
    se = math.sqrt(va + vb)
    low, high = stats.t.interval(CONFIDENCE, df, loc=out["estimate"], scale=se)
    p = 2 * stats.t.sf(abs(out["estimate"]) / se, df)
    return out | {"ci_low": float(low), "ci_high": float(high), "p": float(p), "df": float(df)}


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values; NaNs stay NaN and are not counted."""
    p = np.asarray(pvalues, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        adjusted[ok] = multipletests(p[ok], alpha=ALPHA, method="holm")[1]
    return adjusted


def holm_levels(pvalues: Sequence[float], alpha: float = ALPHA) -> np.ndarray:
    """Confidence level of each test's interval at its Holm step.

    The test with the r-th smallest p of k (NaNs not counted; ties share the lower
    rank, the wider interval) gets 1 - alpha / (k - r + 1): Bonferroni's level for
    the smallest p, the unadjusted 1 - alpha for the largest. NaN p: 1 - alpha.
    """
    p = np.asarray(pvalues, dtype=float)
    levels = np.full(p.shape, 1 - alpha)
    ok = ~np.isnan(p)
    ranks = stats.rankdata(p[ok], method="min")
    levels[ok] = 1 - alpha / (ok.sum() - ranks + 1)
    return levels


def format_p(p: float) -> str:
    """A p-value as text: "<0.001", three decimals, or ">0.999"; "n/a" for NaN.

    Adjusted p-values (Holm) are capped at 1; ">0.999" says "no evidence" without
    printing a P = 1.000 a reader could take for identical runs.
    """
    if math.isnan(p):
        return "n/a"
    if p < 0.001:
        return "<0.001"
    return ">0.999" if p > 0.999 else f"{p:.3f}"


def p_clause(p: float) -> str:
    """For prose: "p < 0.001", "p = 0.031", "p > 0.999" or "p n/a"."""
    text = format_p(p)
    if text == "n/a":
        return "p n/a"
    return f"p {text[0]} {text[1:]}" if text[0] in "<>" else f"p = {text}"
