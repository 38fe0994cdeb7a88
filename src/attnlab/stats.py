"""Statistics of the study: which differences between variants are real?

Inputs are tidy frames (see `attnlab.tables`): `runs` has one row per trained
model (columns dataset, family, variant, seed, test_accuracy, train_seconds and,
from `load_runs`, n_test, device, gpu_name, provenance), `predictions` one row per
(run, test item) (dataset, variant, seed, item, label, pred). Accuracy
differences are in percentage points, time differences in % of the baseline's
time, both paired by seed. docs/statistics.md describes every test in full.

Tests (scipy / statsmodels):

- exact McNemar per seed on per-item correctness (variant vs baseline on the
  same test items): it tests one pair of trained models, not the method;
- across seeds, a paired t-test (with its t-based 95% CI of the mean
  difference), plus a Wilcoxon signed-rank test when n >= `WILCOXON_MIN_N`
  (with fewer pairs its exact two-sided p can never fall below 0.05); with
  n < 2 no test is possible and the test is reported as "n/a";
- Welch's t-interval (`welch_test`) for two sets of runs that are not paired;
- Holm correction across the comparisons of one dataset (one family per
  metric: accuracy, training time).

Zero or tiny spread, one rule (`spread`): every interval, test and posterior
(paired t, Welch, prediction intervals, the Bayesian comparison of
`attnlab.ranking`) uses sd = max(sample sd over seeds, floor). For accuracies
the floor is the binomial sd of the test items (`item_noise`): sqrt(p(1-p)/m)
for one accuracy on m items, sqrt(p_a(1-p_a)/m_a + p_b(1-p_b)/m_b) for a
difference of two (counted as independent items), with p smoothed to
(p m + 1) / (m + 2). Where m is unknown (or for training time, which has no such
floor) runs without spread leave the sd undefined: the interval and p are NaN,
never zero-width and never P = 1.

Decision rule of `verdicts` (alpha = 0.05). A claim is made of parts, each a
paired comparison "a vs b" with a claimed direction (">0", "<0"), a claimed
value (e.g. +1.95 points, the study's single run) or "little" (gain below
`LITTLE_GAIN_PTS`). Every part's intervals are at its Holm step
(`holm_levels`): the part whose raw p is the r-th smallest of the k tests of
its family gets confidence 1 - alpha / (k - r + 1). With n = the seeds both
variants ran, a part is

- inconclusive whenever n < `MIN_VERDICT_SEEDS` (3): "n < 3";
- supported: Holm-adjusted paired-t p < 0.05, the whole CI of the mean on the
  claimed side of 0 and, for a claimed value, that value inside the prediction
  interval for one run, mean +- t(n-1) sd sqrt(1 + 1/n) (the study's number is
  one run with its own seed noise); "little": the whole CI below
  `LITTLE_GAIN_PTS`, no test needed;
- contradicted: the CI of the mean entirely on the other side of 0 (0
  included), or a claimed value outside the one-run prediction interval
  ("little": the whole CI at or above `LITTLE_GAIN_PTS`);
- not comparable: a time part whose study number was measured on another kind
  of device than ours (`registry.Family.study_machine`: the digits study on its
  CPU, the spectrogram study on a GPU; ours from the runs' `device`). Time is always
  judged as a ratio (% of b's time, per seed), never in seconds, and only
  against a study ratio taken on the same kind of device; the reason names both
  machines. A part that is not comparable is left out of its Holm family;
- inconclusive otherwise.

A claim is contradicted when any part is; inconclusive when n < 3 or any part
is inconclusive; not comparable when the parts that can be judged are all
supported but some part is not comparable; supported when every part is; "not
run" when its dataset or variants are missing. Time parts also say whether the
extra time is arithmetic: the forward-FLOP overhead of a over b
(`attnlab.cost`, recorded per run) explains at least half of the measured time
overhead ("mostly arithmetic") or not ("mostly implementation overhead").

The p-value column shows the weakest link: the largest Holm-adjusted p of the
parts the reason names (every part when supported or not comparable, else the
parts that are not supported; "little" and not comparable parts carry no
test); with one seed, the largest Holm-adjusted McNemar p of that run. Verdict
p-values are Holm-adjusted across the comparisons the verdicts make on one
dataset (per metric), so they can differ from `compare`'s, whose family is
"every variant vs the baseline" and whose intervals stay at 95%.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from attnlab import registry

ALPHA = 0.05
CONFIDENCE = 0.95
WILCOXON_MIN_N = 6
MIN_VERDICT_SEEDS = 3
# "Little gain": below half a point, about the study's own standard error of
# one accuracy on 1000 test images (0.44 points at 98%).
LITTLE_GAIN_PTS = 0.5
VERDICTS = ("supported", "contradicted", "inconclusive", "not comparable", "not run")
VERDICT_COLUMNS = ["claim_id", "claim", "dataset", "n_seeds", "estimate", "interval"]
VERDICT_COLUMNS += ["p_value", "test", "verdict", "reason"]
RULE_SUMMARY = (
    "Rule (docs/statistics.md): no verdict below 3 seeds; intervals at each part's Holm step; "
    "supported = Holm-adjusted paired-t p < 0.05, the CI of the mean on the claimed side of 0 "
    "and a claimed value inside the prediction interval for one run; contradicted = the CI on "
    "the other side of 0 or the claimed value outside that prediction interval; time ratios "
    "measured by the study on another kind of device are not comparable; otherwise "
    "inconclusive."
)


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


def n_test_items(runs: pd.DataFrame, suffix: str = "") -> float | None:
    """Test items per run of `runs` (the fewest where they differ); None when unknown."""
    for column in ("n_test" + suffix, "test_items" + suffix):
        if column in runs and runs[column].notna().any():
            return float(runs[column].min())
    return None


@dataclass(frozen=True)
class Spread:
    """Per-seed values summarised for a t-statistic: mean, the sd to use, n.

    `sd` is NaN where it is undefined; `floored` says the floor replaced the sample sd.
    """

    mean: float
    sd: float
    n: int
    floored: bool = False

    @property
    def df(self) -> int:
        return self.n - 1

    @property
    def se(self) -> float:
        return self.sd / math.sqrt(self.n) if self.n else math.nan


def spread(values: Sequence[float], floor_sd: float = math.nan) -> Spread:
    """The one rule for zero or tiny spread: sd = max(sample sd, `floor_sd`).

    Every interval, test and posterior takes its sd from here. The sd is NaN with
    fewer than two values, and with no spread when there is no floor (NaN).
    """
    x = np.asarray(values, dtype=float)
    n = int(x.size)
    mean = float(x.mean()) if n else math.nan
    if n < 2:
        return Spread(mean, math.nan, n)
    no_spread = np.allclose(x, x[0], rtol=1e-9, atol=1e-12)
    sample = 0.0 if no_spread else float(x.std(ddof=1))
    if floor_sd > sample:  # False for a NaN floor
        return Spread(mean, float(floor_sd), n, floored=True)
    return Spread(mean, sample if sample > 0 else math.nan, n)


def _t_band(s: Spread, scale: float, confidence: float) -> tuple[float, float]:
    if math.isnan(s.sd):
        return math.nan, math.nan
    low, high = stats.t.interval(confidence, s.df, loc=s.mean, scale=scale)
    return float(low), float(high)


def t_interval(s: Spread, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """CI of the mean: mean +- t(n-1) sd / sqrt(n)."""
    return _t_band(s, s.se, confidence)


def prediction_interval(s: Spread, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Where the value of one more run falls: mean +- t(n-1) sd sqrt(1 + 1/n)."""
    return _t_band(s, s.sd * math.sqrt(1 + 1 / max(s.n, 1)), confidence)


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


def mcnemar_exact(correct: Sequence[bool], baseline_correct: Sequence[bool]) -> dict:
    """Exact McNemar test of two classifiers on the same items.

    Returns the discordant counts (`variant_only`: items only the variant got
    right, `baseline_only`: only the baseline), the number of items and p.
    """
    a = np.asarray(correct, dtype=bool)
    b = np.asarray(baseline_correct, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"McNemar needs the same items: {a.shape} vs {b.shape}")
    table = [[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]]
    result = mcnemar(np.asarray(table), exact=True)
    return {
        "variant_only": int(table[0][1]),
        "baseline_only": int(table[1][0]),
        "n_items": int(a.size),
        "p": float(result.pvalue),
    }


def paired_test(x: Sequence[float], y: Sequence[float], floor_sd: float = math.nan) -> dict:
    """Paired comparison of x and y (one pair per seed): mean difference x - y.

    Paired t-test with its 95% CI, its sd from `spread` (floored at `floor_sd`, the
    item noise of the difference, where given); Wilcoxon signed-rank when
    n >= WILCOXON_MIN_N. With n < 2, or identical differences in every pair and no
    floor (t undefined), the CI and p are NaN and `test` says why.
    """
    d = np.asarray(x, dtype=float) - np.asarray(y, dtype=float)
    s = spread(d, floor_sd)
    n = s.n
    out = {"n": n, "estimate": s.mean, "sd": s.sd, "floored": s.floored}
    out |= {"ci_low": math.nan, "ci_high": math.nan, "p": math.nan, "p_wilcoxon": math.nan}
    if n < 2:
        return out | {"test": f"n/a (n={n})"}
    if math.isnan(s.sd):
        return out | {"test": f"paired t undefined (n={n}, identical differences)"}
    low, high = t_interval(s)
    out |= {"ci_low": low, "ci_high": high, "p": t_p_value(s)}
    test = f"paired t (n={n}, sd floored at item noise)" if s.floored else f"paired t (n={n})"
    if n >= WILCOXON_MIN_N and np.any(d != 0):
        out["p_wilcoxon"] = float(stats.wilcoxon(x, y).pvalue)
        return out | {"test": f"{test}; Wilcoxon signed-rank"}
    return out | {"test": test}


def welch_test(
    a: Sequence[float],
    b: Sequence[float],
    floor_a: float = math.nan,
    floor_b: float = math.nan,
) -> dict:
    """Welch's t of mean(a) - mean(b) for unpaired runs, each arm's sd from `spread`.

    Welch-Satterthwaite degrees of freedom from the (floored) variances; an arm with
    no spread and no floor leaves the interval and p NaN rather than too narrow.
    """
    sa, sb = spread(a, floor_a), spread(b, floor_b)
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


# ------------------------------------------------------------- paired frames
def paired_runs(runs: pd.DataFrame, dataset: str, a: str, b: str) -> pd.DataFrame:
    """Runs of variants a and b of `dataset` joined on seed (suffixes _a, _b)."""
    of = runs[runs["dataset"] == dataset]
    return pd.merge(
        of[of["variant"] == a], of[of["variant"] == b], on="seed", suffixes=("_a", "_b")
    ).sort_values("seed")


def compare_pair(runs: pd.DataFrame, dataset: str, a: str, b: str, metric: str) -> dict:
    """Paired test of a vs b: `accuracy` in points, `time` in % of b's time.

    Accuracy's sd is floored at the item noise of the difference (`item_noise`, from
    the runs' test items where known); time has no floor.
    """
    pairs = paired_runs(runs, dataset, a, b)
    if metric == "accuracy":
        arms = [(pairs[f"test_accuracy_{s}"].mean(), n_test_items(pairs, f"_{s}")) for s in "ab"]
        floor = 100 * item_noise(*arms)
        return paired_test(100 * pairs["test_accuracy_a"], 100 * pairs["test_accuracy_b"], floor)
    if metric == "time":
        overhead = 100 * (pairs["train_seconds_a"] / pairs["train_seconds_b"] - 1)
        return paired_test(overhead, np.zeros(len(overhead)))
    raise ValueError(f"unknown metric {metric!r}: accuracy or time")


def correctness(predictions: pd.DataFrame, dataset: str, variant: str) -> pd.DataFrame:
    """Per-item correctness of a variant's runs: index item, one column per seed."""
    of = predictions[(predictions["dataset"] == dataset) & (predictions["variant"] == variant)]
    return of.assign(correct=of["pred"] == of["label"]).pivot(
        index="item", columns="seed", values="correct"
    )


def mcnemar_runs(predictions: pd.DataFrame, dataset: str, a: str, b: str) -> pd.DataFrame:
    """Exact McNemar of a vs b for every seed both were run with."""
    ca, cb = correctness(predictions, dataset, a), correctness(predictions, dataset, b)
    rows = []
    for seed in sorted(set(ca.columns) & set(cb.columns)):
        both = pd.concat([ca[seed], cb[seed]], axis=1, join="inner")
        rows.append({"seed": seed, **mcnemar_exact(both.iloc[:, 0], both.iloc[:, 1])})
    return pd.DataFrame(rows, columns=["seed", "variant_only", "baseline_only", "n_items", "p"])


def _baselines(runs: pd.DataFrame, baseline: str | Mapping[str, str]) -> dict[str, str]:
    datasets = runs["dataset"].unique()
    if isinstance(baseline, str):
        return dict.fromkeys(datasets, baseline)
    return {d: baseline[d] for d in datasets if d in baseline}


# ------------------------------------------------------------------ compare
def mcnemar_table(predictions: pd.DataFrame, baseline: str | Mapping[str, str]) -> pd.DataFrame:
    """Exact McNemar per (dataset, variant, seed) vs the baseline.

    `p_holm` is Holm-adjusted across the variants of a dataset, per seed.
    """
    frames = []
    for dataset, base in _baselines(predictions, baseline).items():
        variants = predictions.loc[predictions["dataset"] == dataset, "variant"].unique()
        for variant in (v for v in variants if v != base):
            table = mcnemar_runs(predictions, dataset, variant, base)
            frames.append(table.assign(dataset=dataset, variant=variant, baseline=base))
    columns = ["dataset", "variant", "baseline", "seed", "variant_only", "baseline_only"]
    if not frames:
        return pd.DataFrame(columns=[*columns, "n_items", "p", "p_holm"])
    table = pd.concat(frames, ignore_index=True)
    table["p_holm"] = table.groupby(["dataset", "seed"])["p"].transform(holm)
    return table[[*columns, "n_items", "p", "p_holm"]]


def _compare_row(runs: pd.DataFrame, dataset: str, variant: str, base: str) -> dict:
    acc = compare_pair(runs, dataset, variant, base, "accuracy")
    time = compare_pair(runs, dataset, variant, base, "time")
    pairs = paired_runs(runs, dataset, variant, base)
    return {
        "dataset": dataset,
        "variant": variant,
        "baseline": base,
        "n_seeds": acc["n"],
        "accuracy": pairs["test_accuracy_a"].mean(),
        "baseline_accuracy": pairs["test_accuracy_b"].mean(),
        "diff_pts": acc["estimate"],
        "diff_ci_low": acc["ci_low"],
        "diff_ci_high": acc["ci_high"],
        "test": acc["test"],
        "p": acc["p"],
        "p_wilcoxon": acc["p_wilcoxon"],
        "time_diff_s": (pairs["train_seconds_a"] - pairs["train_seconds_b"]).mean(),
        "time_pct": time["estimate"],
        "time_pct_ci_low": time["ci_low"],
        "time_pct_ci_high": time["ci_high"],
        "p_time": time["p"],
    }


def _mcnemar_summary(table: pd.DataFrame) -> pd.DataFrame:
    grouped = table.groupby(["dataset", "variant"])
    return pd.DataFrame(
        {
            "mcnemar_p_median": grouped["p"].median(),
            "mcnemar_sig_seeds": grouped["p_holm"].apply(lambda p: int((p < ALPHA).sum())),
        }
    ).reset_index()


def compare(
    runs: pd.DataFrame,
    baseline: str | Mapping[str, str],
    predictions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per (dataset, variant) vs its baseline, paired by seed.

    Args:
        runs: tidy runs (`attnlab.tables.load_runs`).
        baseline: the baseline variant, or a mapping dataset -> baseline.
        predictions: per-item predictions (`attnlab.tables.load_predictions`);
            adds the per-seed exact McNemar summary (median p, and the number
            of seeds with Holm-adjusted p < 0.05).

    Accuracy differences are in points (`diff_pts`, with the paired t 95% CI,
    `p`, Holm-adjusted `p_holm`, `p_wilcoxon` when n permits); time in % of the
    baseline's (`time_pct`, its CI, `p_time`, `p_time_holm`).
    """
    rows = [
        _compare_row(runs, dataset, variant, base)
        for dataset, base in _baselines(runs, baseline).items()
        for variant in runs.loc[runs["dataset"] == dataset, "variant"].unique()
        if variant != base
    ]
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    by_dataset = table.groupby("dataset")
    table.insert(table.columns.get_loc("p") + 1, "p_holm", by_dataset["p"].transform(holm))
    table["p_time_holm"] = by_dataset["p_time"].transform(holm)
    if predictions is None:
        return table.assign(mcnemar_p_median=math.nan, mcnemar_sig_seeds=pd.NA)
    return table.merge(
        _mcnemar_summary(mcnemar_table(predictions, baseline)),
        on=["dataset", "variant"],
        how="left",
    )


# ------------------------------------------------------------------ verdicts
@dataclass(frozen=True)
class Part:
    """One comparison of a claim: a vs b on `metric`, with the claimed outcome.

    `claim` is ">0" / "<0" (direction), "little" (gain below LITTLE_GAIN_PTS)
    or a number (the claimed difference, points or % time).
    """

    a: str
    b: str
    metric: str = "accuracy"
    claim: str | float = ">0"


@dataclass(frozen=True)
class Claim:
    id: str
    text: str
    family: str
    parts: tuple[Part, ...]


def _study_gain(family: str, variant: str, key: str) -> float:
    return getattr(registry.builtin(family, variant).study, key)


_DIGITS = tuple(registry.study_variants("digits"))
_CBAM_GAIN = _study_gain("spectrogram", "cbam", "gain_pts")
_HYBRID_GAIN = _study_gain("spectrogram", "hybrid", "gain_pts")
_HYBRID_TIME = _study_gain("spectrogram", "hybrid", "time_pct")
CLAIMS = (
    Claim(
        "se_best",
        "SE is the best of the study's five digit models",
        "digits",
        tuple(Part("se", v) for v in _DIGITS if v != "se"),
    ),
    Claim(
        "spatial_hurts",
        "Spatial attention hurts on digits",
        "digits",
        (Part("spatial", "base", claim="<0"),),
    ),
    Claim(
        "self_attention_cost",
        "Self-attention costs the most training time for little gain (digits)",
        "digits",
        (
            *(Part("self_attention", v, "time") for v in _DIGITS if v != "self_attention"),
            Part("self_attention", "base", claim="little"),
        ),
    ),
    Claim(
        "cbam_gain",
        f"CBAM gains {_CBAM_GAIN:+.2f} points over lenet on speech",
        "spectrogram",
        (Part("cbam", "lenet", claim=_CBAM_GAIN),),
    ),
    Claim(
        "hybrid_gain",
        f"Hybrid gains {_HYBRID_GAIN:+.2f} points at {_HYBRID_TIME:+.0f}% training time on speech",
        "spectrogram",
        (
            Part("hybrid", "lenet", claim=_HYBRID_GAIN),
            Part("hybrid", "lenet", "time", claim=_HYBRID_TIME),
        ),
    ),
    Claim(
        "cbam_vs_lenet_bn",
        "Ablation: CBAM beats lenet_bn on speech (its gain is attention, not BatchNorm)",
        "spectrogram",
        (Part("cbam", "lenet_bn"),),
    ),
)


def _value(metric: str, value: float) -> str:
    return f"{value:+.2f} pts" if metric == "accuracy" else f"{value:+.1f}% time"


def _claims_value(part: Part) -> bool:
    return not isinstance(part.claim, str)


def _interval(part: Part, r: dict) -> str:
    """The part's CI of the mean at its level and, for a claimed value, the one-run PI."""
    if math.isnan(r["ci_low"]):
        return "n/a"
    bounds = [_value(part.metric, r[k]) for k in ("ci_low", "ci_high", "pi_low", "pi_high")]
    text = f"{r['confidence']:.1%} CI [{bounds[0]}, {bounds[1]}]"
    return text + (f", one-run PI [{bounds[2]}, {bounds[3]}]" if _claims_value(part) else "")


def _judge(part: Part, r: dict) -> str:
    """supported / contradicted / inconclusive for one part (see module doc)."""
    low, high = r["ci_low"], r["ci_high"]
    if r["n"] < MIN_VERDICT_SEEDS or math.isnan(low):
        return "inconclusive"
    if part.claim == "little":
        if high < LITTLE_GAIN_PTS:
            return "supported"
        return "contradicted" if low >= LITTLE_GAIN_PTS else "inconclusive"
    if _claims_value(part):
        sign, outside = math.copysign(1, part.claim), not r["pi_low"] <= part.claim <= r["pi_high"]
    else:
        sign, outside = (1 if part.claim == ">0" else -1), False
    if outside or max(sign * low, sign * high) <= 0:
        return "contradicted"
    if r["p_holm"] < ALPHA and min(sign * low, sign * high) > 0:
        return "supported"
    return "inconclusive"


def _combine(statuses: set[str]) -> str:
    for verdict in ("contradicted", "inconclusive", "not comparable"):
        if verdict in statuses:
            return verdict
    return "supported"


def flop_overhead(runs: pd.DataFrame, dataset: str, a: str, b: str) -> float:
    """Extra forward FLOPs of a over b, in % of b's (NaN where unknown)."""
    of = runs[runs["dataset"] == dataset]
    flops = of.groupby("variant")["forward_flops"].mean()
    if a not in flops or b not in flops:
        return math.nan
    return float(100 * (flops[a] / flops[b] - 1))


def cost_reading(time_pct: float, flop_pct: float) -> str:
    """Whether extra time is arithmetic: FLOPs explain at least half of it, or not."""
    if math.isnan(time_pct) or math.isnan(flop_pct):
        return ""
    if time_pct <= 0:
        return f"FLOPs {flop_pct:+.1f}%; no extra time"
    share = flop_pct / time_pct
    kind = "mostly arithmetic" if share >= 0.5 else "mostly implementation overhead"
    return f"FLOPs {flop_pct:+.1f}% explain {max(share, 0):.0%} of it: {kind}"


def _claimed(part: Part) -> str:
    if part.claim == "little":
        return f"whole CI below {_value(part.metric, LITTLE_GAIN_PTS)}"
    return _value(part.metric, part.claim) if _claims_value(part) else part.claim


def _describe(part: Part, r: dict, status: str) -> str:
    """One part as text: a vs b, estimate, intervals, Holm p, machines, the claim, status."""
    text = f"{part.a} vs {part.b}: {_value(part.metric, r['estimate'])}"
    if part.metric == "time" and r.get("cost_reading"):
        text += f" ({r['cost_reading']})"
    if status == "not comparable":
        return f"{text} (claimed {_claimed(part)}; {r['machines']}): not comparable"
    if not math.isnan(r["ci_low"]):
        text += f" {_interval(part, r)}"
    elif r["n"] >= 2:
        text += f" ({r['test']})"
    if r["floored"]:
        text += ", sd floored at item noise"
    if part.claim != "little" and not math.isnan(r["p_holm"]):
        text += f", Holm p={r['p_holm']:.3g}"
    if part.metric == "time":
        text += f", time ratios ({r['machines']})"
    return f"{text} (claimed {_claimed(part)}): {status}"


def _mcnemar_p(predictions, dataset, part) -> float:
    if predictions is None or part.metric != "accuracy":
        return math.nan
    table = mcnemar_runs(predictions, dataset, part.a, part.b)
    return float(table["p"].iloc[0]) if len(table) == 1 else math.nan


def _missing(runs: pd.DataFrame, dataset: str, claim: Claim) -> list[str]:
    present = set(runs.loc[runs["dataset"] == dataset, "variant"])
    needed = dict.fromkeys(v for part in claim.parts for v in (part.a, part.b))
    return [v for v in needed if v not in present]


def _our_machine(of: pd.DataFrame) -> tuple[set[str], str]:
    """The kinds of device our runs used and their names (from `metrics.json`)."""
    devices = set(of["device"].dropna()) if "device" in of else set()
    names = set(of["gpu_name"].dropna()) if "gpu_name" in of else set()
    provenance = of["provenance"] if "provenance" in of else []
    names |= {p["cpu"] for p in provenance if isinstance(p, dict) and p.get("cpu")}
    text = "/".join(sorted(devices)) or "device not recorded"
    return devices, text + (f" ({', '.join(sorted(names))})" if names else "")


def time_comparability(runs: pd.DataFrame, dataset: str, family: str) -> dict:
    """Whether our time ratios compare with the study's: the same kind of device.

    `comparable` is True when every run of `dataset` used the kind of device the
    study timed `family` on (`registry.Family.study_machine`); `machines` names both.
    """
    record = registry.FAMILIES.get(family)
    kind, study = record.study_machine if record else registry.Family.study_machine
    devices, ours = _our_machine(runs[runs["dataset"] == dataset])
    machines = f"ours timed on {ours}, the study's on {study}"
    return {"comparable": devices == {kind}, "machines": machines}


def _with_intervals(r: dict, confidence: float) -> dict:
    """The part's CI of the mean and one-run prediction interval at `confidence`."""
    s = Spread(r["estimate"], r["sd"], r["n"])
    ci_low, ci_high = t_interval(s, confidence)
    pi_low, pi_high = prediction_interval(s, confidence)
    intervals = {"ci_low": ci_low, "ci_high": ci_high, "pi_low": pi_low, "pi_high": pi_high}
    return r | intervals | {"confidence": confidence}


def _part_tests(runs, predictions, dataset, family, keys) -> dict:
    """Unadjusted tests of the parts `keys` (a, b, metric), with time comparability."""
    results = {k: compare_pair(runs, dataset, *k) for k in keys}
    timing = time_comparability(runs, dataset, family)
    for (a, b, metric), r in results.items():
        r |= {"comparable": True, "p_holm": math.nan, "mcnemar_p_holm": math.nan}
        if metric == "time":
            r |= timing
            r["cost_reading"] = cost_reading(r["estimate"], flop_overhead(runs, dataset, a, b))
        one_run = r["n"] == 1
        r["mcnemar_p"] = (
            _mcnemar_p(predictions, dataset, Part(a, b, metric)) if one_run else math.nan
        )
    return results


def _holm_adjust(results: dict, metric: str) -> None:
    """Holm p-values and Holm-step intervals over the comparable parts of `metric`."""
    tested = [k for k in results if k[2] == metric and results[k]["comparable"]]
    for column, source in (("p_holm", "p"), ("mcnemar_p_holm", "mcnemar_p")):
        adjusted = holm([results[k][source] for k in tested])
        for key, p in zip(tested, adjusted, strict=True):
            results[key][column] = p
    levels = dict(zip(tested, holm_levels([results[k]["p"] for k in tested]), strict=True))
    for key in (k for k in results if k[2] == metric):
        results[key] = _with_intervals(results[key], levels.get(key, CONFIDENCE))


def _part_results(runs, predictions, dataset, family, claims) -> dict:
    """Every part of `claims` on one dataset, Holm-adjusted per metric (module doc)."""
    keys = dict.fromkeys((p.a, p.b, p.metric) for c in claims for p in c.parts)
    results = _part_tests(runs, predictions, dataset, family, keys)
    for metric in ("accuracy", "time"):
        _holm_adjust(results, metric)
    return results


def _reason(verdict: str, notes: list[str], n: int, mcnemar_p: float) -> str:
    if n == 0:
        return "no seed in common between the compared variants"
    if n == 1:
        extra = "" if math.isnan(mcnemar_p) else f"; exact McNemar p={mcnemar_p:.3g} tests this run"
        return f"n < 3 (n=1): one seed cannot support or contradict a claim about the method{extra}"
    if n < MIN_VERDICT_SEEDS:
        return f"n < 3 (n={n}): too few seeds for a verdict: " + "; ".join(notes)
    lead = {
        "supported": "every part holds",
        "contradicted": "the interval excludes the claim",
        "inconclusive": "not enough evidence either way",
        "not comparable": "what can be judged holds, but a time was measured on other hardware",
    }[verdict]
    return f"{lead}: " + "; ".join(notes)


def _test_text(claim: Claim, n: int) -> str:
    if n == 1:
        return "exact McNemar, 1 run, Holm"
    text = f"paired t over {n} seeds, Holm-step intervals"
    return text + ("; one-run prediction interval" if any(map(_claims_value, claim.parts)) else "")


def _claim_row(claim: Claim, dataset: str, results: dict) -> dict:
    parts = [(p, results[(p.a, p.b, p.metric)]) for p in claim.parts]
    statuses = [_judge(p, r) if r["comparable"] else "not comparable" for p, r in parts]
    n = min(r["n"] for _, r in parts)
    verdict = "inconclusive" if n < MIN_VERDICT_SEEDS else _combine(set(statuses))
    # The parts the reason names: all when supported or not comparable, else those not supported.
    every = verdict in ("supported", "not comparable")
    shown = [
        (p, r, s) for (p, r), s in zip(parts, statuses, strict=True) if every or s != "supported"
    ]
    p_col = "mcnemar_p_holm" if n == 1 else "p_holm"
    tested = [(p, r) for p, r, s in shown if p.claim != "little" and s != "not comparable"]
    p_values = [r[p_col] for _, r in (parts if n == 1 else tested) if not math.isnan(r[p_col])]
    return {
        "claim_id": claim.id,
        "claim": claim.text,
        "dataset": dataset,
        "n_seeds": n,
        "estimate": "; ".join(
            f"{p.a} vs {p.b} {_value(p.metric, r['estimate'])}" for p, r in parts
        ),
        "interval": "; ".join(_interval(p, r) for p, r in parts),
        "p_value": max(p_values) if p_values else math.nan,
        "test": _test_text(claim, n),
        "verdict": verdict,
        "reason": _reason(
            verdict,
            [_describe(*shown_part) for shown_part in shown],
            n,
            max(p_values, default=math.nan),
        ),
    }


def _not_run(claim: Claim, dataset: str, why: str) -> dict:
    empty = dict.fromkeys(["estimate", "interval", "test"], "")
    return {"claim_id": claim.id, "claim": claim.text, "dataset": dataset, "n_seeds": 0} | (
        empty | {"p_value": math.nan, "verdict": "not run", "reason": why}
    )


def verdicts(
    runs: pd.DataFrame,
    predictions: pd.DataFrame | None = None,
    claims: Sequence[Claim] = CLAIMS,
) -> pd.DataFrame:
    """The study's claims tested on `runs`: one row per (claim, dataset of its family).

    Columns: claim_id, claim, dataset, n_seeds, estimate, interval (per part: the
    CI of the mean at its Holm step and, for a claimed value, the one-run prediction
    interval), p_value, test, verdict (supported / contradicted / inconclusive / not
    comparable / not run) and reason. See the module docstring for the decision rule.
    """
    rows = []
    for family in dict.fromkeys(c.family for c in claims):
        family_claims = [c for c in claims if c.family == family]
        datasets = runs.loc[runs["family"] == family, "dataset"].unique()
        if not len(datasets):
            rows += [_not_run(c, "", f"no {family} dataset in the results") for c in family_claims]
        for dataset in datasets:
            runnable = [c for c in family_claims if not _missing(runs, dataset, c)]
            results = _part_results(runs, predictions, dataset, family, runnable)
            for claim in family_claims:
                missing = _missing(runs, dataset, claim)
                rows.append(
                    _not_run(claim, dataset, f"not run: {', '.join(missing)} missing")
                    if missing
                    else _claim_row(claim, dataset, results)
                )
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


def dataset_verdicts(runs: pd.DataFrame, predictions: pd.DataFrame | None = None) -> pd.DataFrame:
    """`verdicts` of the claims about the families in `runs` only (e.g. one dataset's)."""
    families = set(runs["family"])
    return verdicts(runs, predictions, [c for c in CLAIMS if c.family in families])
