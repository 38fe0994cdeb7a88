"""Statistics of the study: which differences between variants are real?

Inputs are tidy frames (see `attnlab.tables`): `runs` has one row per trained
model (columns dataset, family, variant, seed, test_accuracy, train_seconds),
`predictions` one row per (run, test item) (dataset, variant, seed, item, label,
pred). Accuracy differences are in percentage points, time differences in % of
the baseline's time, both paired by seed.

Tests (scipy / statsmodels):

- exact McNemar per seed on per-item correctness (variant vs baseline on the
  same test items): it tests one pair of trained models, not the method;
- across seeds, a paired t-test (with its t-based 95% CI of the mean
  difference), plus a Wilcoxon signed-rank test when n >= `WILCOXON_MIN_N`
  (with fewer pairs its exact two-sided p can never fall below 0.05); with
  n < 2 no test is possible and the test is reported as "n/a";
- Holm correction across the comparisons of one dataset (one family per
  metric: accuracy, training time).

Decision rule of `verdicts` (alpha = 0.05, 95% intervals). A claim is made of
parts, each a paired comparison "a vs b" with a claimed direction (">0",
"<0"), a claimed value (e.g. +1.95 points) or "little" (gain below
`LITTLE_GAIN_PTS`). A part is

- supported: n >= 2 seeds, Holm-adjusted paired-t p < 0.05, the whole CI on
  the claimed side of 0 and, for a claimed value, the CI containing it
  ("little": the whole CI below `LITTLE_GAIN_PTS`, no test needed);
- contradicted: n >= 2 and the CI excludes the claim: entirely on the other
  side of 0 (0 included), or not containing the claimed value ("little": the
  whole CI at or above `LITTLE_GAIN_PTS`);
- inconclusive otherwise, and always with one seed: n = 1 cannot support a
  claim about a method (its McNemar test is reported, but it tests that run).

A claim is supported when every part is, contradicted when any part is, and
inconclusive otherwise; "not run" when its dataset or variants are missing.
Time parts also say whether the extra time is arithmetic: the forward-FLOP overhead
of a over b (`attnlab.cost`, recorded per run) explains at least half of the measured
time overhead ("mostly arithmetic") or not ("mostly implementation overhead").

The p-value column shows the weakest link: the largest Holm-adjusted p of the
parts the reason names (every part when supported, else the parts that are
not; "little" parts carry no test); with one seed, the largest Holm-adjusted
McNemar p of that run. Verdict p-values are Holm-adjusted across the
comparisons the verdicts make on one dataset (per metric), so they can differ
from `compare`'s, whose family is "every variant vs the baseline".
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
# "Little gain": below half a point, about the study's own standard error of
# one accuracy on 1000 test images (0.44 points at 98%).
LITTLE_GAIN_PTS = 0.5
VERDICTS = ("supported", "contradicted", "inconclusive", "not run")
VERDICT_COLUMNS = ["claim_id", "claim", "dataset", "n_seeds", "estimate", "interval"]
VERDICT_COLUMNS += ["p_value", "test", "verdict", "reason"]


# ---------------------------------------------------------------- primitives
def mean_ci(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """t-based CI of the mean; NaNs with fewer than two values or no spread."""
    x = np.asarray(values, dtype=float)
    if x.size < 2 or np.allclose(x, x[0], rtol=1e-9, atol=1e-12):
        return math.nan, math.nan
    low, high = stats.t.interval(confidence, x.size - 1, loc=x.mean(), scale=stats.sem(x))
    return float(low), float(high)


def points_ci(points: Sequence[float]) -> tuple[float, float]:
    """`mean_ci` of accuracies in points, clipped to [0, 100]."""
    low, high = np.clip(mean_ci(points), 0.0, 100.0)
    return float(low), float(high)


def accuracy_ci(
    accuracies: Sequence[float], n_items: int | None = None
) -> tuple[float, float, str]:
    """95% CI of the mean test accuracy and how it was computed.

    Two or more seeds: t-interval across seeds, clipped to [0, 1]. One seed with `n_items` known:
    Wilson interval over that run's test items, which measures item noise
    only, not seed-to-seed variation (the label says so).
    """
    acc = np.asarray(accuracies, dtype=float)
    if acc.size >= 2:
        if np.allclose(acc, acc[0], rtol=1e-9, atol=1e-12):
            return float(acc[0]), float(acc[0]), f"t over {acc.size} seeds (no spread)"
        low, high = np.clip(mean_ci(acc), 0.0, 1.0)
        return float(low), float(high), f"t over {acc.size} seeds"
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


def paired_test(x: Sequence[float], y: Sequence[float]) -> dict:
    """Paired comparison of x and y (one pair per seed): mean difference x - y.

    Paired t-test with its 95% CI; Wilcoxon signed-rank when n >= WILCOXON_MIN_N.
    With n < 2, or identical differences in every pair (t undefined), the
    CI and p are NaN and `test` says why.
    """
    d = np.asarray(x, dtype=float) - np.asarray(y, dtype=float)
    n = int(d.size)
    out = {"n": n, "estimate": float(d.mean()) if n else math.nan}
    out |= {"ci_low": math.nan, "ci_high": math.nan, "p": math.nan, "p_wilcoxon": math.nan}
    if n < 2:
        return out | {"test": f"n/a (n={n})"}
    if np.allclose(d, d[0], rtol=1e-9, atol=1e-12):
        return out | {"test": f"paired t undefined (n={n}, identical differences)"}
    result = stats.ttest_rel(x, y)
    ci = result.confidence_interval(CONFIDENCE)
    out |= {"ci_low": float(ci.low), "ci_high": float(ci.high), "p": float(result.pvalue)}
    if n >= WILCOXON_MIN_N and np.any(d != 0):
        out["p_wilcoxon"] = float(stats.wilcoxon(x, y).pvalue)
        return out | {"test": f"paired t (n={n}); Wilcoxon signed-rank"}
    return out | {"test": f"paired t (n={n})"}


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values; NaNs stay NaN and are not counted."""
    p = np.asarray(pvalues, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        adjusted[ok] = multipletests(p[ok], alpha=ALPHA, method="holm")[1]
    return adjusted


# ------------------------------------------------------------- paired frames
def paired_runs(runs: pd.DataFrame, dataset: str, a: str, b: str) -> pd.DataFrame:
    """Runs of variants a and b of `dataset` joined on seed (suffixes _a, _b)."""
    of = runs[runs["dataset"] == dataset]
    return pd.merge(
        of[of["variant"] == a], of[of["variant"] == b], on="seed", suffixes=("_a", "_b")
    ).sort_values("seed")


def compare_pair(runs: pd.DataFrame, dataset: str, a: str, b: str, metric: str) -> dict:
    """Paired test of a vs b: `accuracy` in points, `time` in % of b's time."""
    pairs = paired_runs(runs, dataset, a, b)
    if metric == "accuracy":
        return paired_test(100 * pairs["test_accuracy_a"], 100 * pairs["test_accuracy_b"])
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


def _interval(metric: str, r: dict) -> str:
    if math.isnan(r["ci_low"]):
        return "n/a"
    return f"[{_value(metric, r['ci_low'])}, {_value(metric, r['ci_high'])}]"


def _judge(part: Part, r: dict) -> str:
    """supported / contradicted / inconclusive for one part (see module doc)."""
    low, high = r["ci_low"], r["ci_high"]
    if r["n"] < 2 or math.isnan(low):
        return "inconclusive"
    if part.claim == "little":
        if high < LITTLE_GAIN_PTS:
            return "supported"
        return "contradicted" if low >= LITTLE_GAIN_PTS else "inconclusive"
    if isinstance(part.claim, str):
        sign, outside = (1 if part.claim == ">0" else -1), False
    else:
        sign, outside = math.copysign(1, part.claim), not low <= part.claim <= high
    if outside or max(sign * low, sign * high) <= 0:
        return "contradicted"
    if r["p_holm"] < ALPHA and min(sign * low, sign * high) > 0:
        return "supported"
    return "inconclusive"


def _combine(statuses: set[str]) -> str:
    if "contradicted" in statuses:
        return "contradicted"
    return "supported" if statuses == {"supported"} else "inconclusive"


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


def _describe(part: Part, r: dict) -> str:
    """One part as text: a vs b, estimate [CI], Holm p, the claim and the status."""
    text = f"{part.a} vs {part.b}: {_value(part.metric, r['estimate'])}"
    if part.metric == "time" and r.get("cost_reading"):
        text += f" ({r['cost_reading']})"
    if not math.isnan(r["ci_low"]):
        text += f" {_interval(part.metric, r)}"
    elif r["n"] >= 2:
        text += f" ({r['test']})"
    if part.claim == "little":
        claim = f"whole CI below {_value(part.metric, LITTLE_GAIN_PTS)}"
    else:
        claim = part.claim if isinstance(part.claim, str) else _value(part.metric, part.claim)
        text += "" if math.isnan(r["p_holm"]) else f", Holm p={r['p_holm']:.3g}"
    return f"{text} (claimed {claim}): {r['status']}"


def _mcnemar_p(predictions, dataset, part) -> float:
    if predictions is None or part.metric != "accuracy":
        return math.nan
    table = mcnemar_runs(predictions, dataset, part.a, part.b)
    return float(table["p"].iloc[0]) if len(table) == 1 else math.nan


def _missing(runs: pd.DataFrame, dataset: str, claim: Claim) -> list[str]:
    present = set(runs.loc[runs["dataset"] == dataset, "variant"])
    needed = dict.fromkeys(v for part in claim.parts for v in (part.a, part.b))
    return [v for v in needed if v not in present]


def _part_results(runs, predictions, dataset, claims) -> dict:
    """Raw tests of every part on one dataset, Holm-adjusted per metric."""
    keys = dict.fromkeys((p.a, p.b, p.metric) for c in claims for p in c.parts)
    results = {k: compare_pair(runs, dataset, *k) for k in keys}
    for (a, b, metric), r in results.items():
        if metric == "time":
            r["cost_reading"] = cost_reading(r["estimate"], flop_overhead(runs, dataset, a, b))
    for key, r in results.items():
        r["mcnemar_p"] = _mcnemar_p(predictions, dataset, Part(*key)) if r["n"] == 1 else math.nan
    for metric in ("accuracy", "time"):
        family = [k for k in results if k[2] == metric]
        for column, source in (("p_holm", "p"), ("mcnemar_p_holm", "mcnemar_p")):
            adjusted = holm([results[k][source] for k in family])
            for key, p in zip(family, adjusted, strict=True):
                results[key][column] = p
    return results


def _reason(verdict: str, notes: list[str], n: int, mcnemar_p: float) -> str:
    if n == 1:
        extra = "" if math.isnan(mcnemar_p) else f"; exact McNemar p={mcnemar_p:.3g} tests this run"
        return f"one seed (n=1) cannot support or contradict a claim about the method{extra}"
    if n == 0:
        return "no seed in common between the compared variants"
    lead = {
        "supported": "every part holds",
        "contradicted": "the 95% CI excludes the claim",
        "inconclusive": "not enough evidence either way",
    }[verdict]
    return f"{lead}: " + "; ".join(notes)


def _claim_row(claim: Claim, dataset: str, results: dict) -> dict:
    parts = [(p, results[(p.a, p.b, p.metric)]) for p in claim.parts]
    for part, r in parts:
        r["status"] = _judge(part, r)
    verdict = _combine({r["status"] for _, r in parts})
    n = min(r["n"] for _, r in parts)
    # The parts the reason names: all when supported, else those not supported.
    shown = [(p, r) for p, r in parts if verdict == "supported" or r["status"] != "supported"]
    p_col = "mcnemar_p_holm" if n == 1 else "p_holm"
    p_values = [r[p_col] for p, r in shown if p.claim != "little" and not math.isnan(r[p_col])]
    if n == 1:
        p_values = [r[p_col] for _, r in parts if not math.isnan(r[p_col])]
    return {
        "claim_id": claim.id,
        "claim": claim.text,
        "dataset": dataset,
        "n_seeds": n,
        "estimate": "; ".join(
            f"{p.a} vs {p.b} {_value(p.metric, r['estimate'])}" for p, r in parts
        ),
        "interval": "; ".join(_interval(p.metric, r) for p, r in parts),
        "p_value": max(p_values) if p_values else math.nan,
        "test": "exact McNemar, 1 run, Holm" if n == 1 else f"paired t over {n} seeds, Holm",
        "verdict": verdict,
        "reason": _reason(
            verdict, [_describe(p, r) for p, r in shown], n, max(p_values, default=math.nan)
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

    Columns: claim_id, claim, dataset, n_seeds, estimate, interval (95%),
    p_value, test, verdict (supported / contradicted / inconclusive / not run)
    and reason. See the module docstring for the decision rule.
    """
    rows = []
    for family in dict.fromkeys(c.family for c in claims):
        family_claims = [c for c in claims if c.family == family]
        datasets = runs.loc[runs["family"] == family, "dataset"].unique()
        if not len(datasets):
            rows += [_not_run(c, "", f"no {family} dataset in the results") for c in family_claims]
        for dataset in datasets:
            runnable = [c for c in family_claims if not _missing(runs, dataset, c)]
            results = _part_results(runs, predictions, dataset, runnable)
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
