"""The study's tables from the runs (`attnlab.run_files` loads them): tabulate, format,
write.

`study_table`, `cross_domain_table` and `attnlab.stats` turn the runs into tables;
`format_*` into readable strings, `write_table` into CSV and Markdown;
`attnlab.summary` puts them into `results/summary.md`.

Accuracies are fractions (as the study reported them), gains are percentage
points, times are wall seconds of `fit`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from attnlab import comparisons, cost, registry, stats


# -------------------------------------------------------------------- tables
def _study(family: str, variant: str, key: str) -> float:
    """What the study reported for a built-in variant (registry), NaN otherwise."""
    record = registry.VARIANTS.get(family, {}).get(variant)
    return getattr(record.study, key) if record and record.study else math.nan


def _time_diff(runs: pd.DataFrame, dataset: str, variant: str, baseline: str) -> pd.Series:
    pairs = comparisons.paired_runs(runs, dataset, variant, baseline)
    return pairs["train_seconds_a"] - pairs["train_seconds_b"]


def _study_row(runs: pd.DataFrame, dataset: str, variant: str, baseline: str) -> dict:
    of = runs[(runs["dataset"] == dataset) & (runs["variant"] == variant)]
    family = of["family"].iloc[0]
    n_test = of["n_test"].dropna()
    low, high, method = stats.accuracy_ci(
        of["test_accuracy"], n_test.iloc[0] if len(n_test) else None
    )
    diff = _time_diff(runs, dataset, variant, baseline)
    return {
        "variant": variant,
        "n_seeds": len(of),
        "accuracy_mean": of["test_accuracy"].mean(),
        "accuracy_std": of["test_accuracy"].std(),
        "accuracy_ci_low": low,
        "accuracy_ci_high": high,
        "ci_method": method,
        "study_accuracy": _study(family, variant, "accuracy"),
        "time_mean_s": of["train_seconds"].mean(),
        "time_std_s": of["train_seconds"].std(),
        "study_time_s": _study(family, variant, "time_s"),
        "time_diff_s": diff.mean(),
        "time_diff_std_s": diff.std(),
        "study_time_diff_s": _study(family, variant, "time_diff_s"),
        "params": of["params"].iloc[0],
        **_cost_columns(of),
    }


def _cost_columns(of: pd.DataFrame) -> dict:
    """Seconds per training sample, forward FLOPs per sample and the achieved rate."""
    samples_seen = of["epochs_run"] * of["train_samples"]
    flops = [
        cost.training_flops(r.forward_flops, r.train_samples, r.val_samples, r.epochs_run)
        for r in of.itertuples()
    ]
    return {
        "us_per_sample": (1e6 * of["train_seconds"] / samples_seen).mean(),
        "forward_flops": of["forward_flops"].iloc[0],
        "block_flops": of["block_flops"].iloc[0],
        "gflops_per_s": (pd.Series(flops, index=of.index) / of["train_seconds"]).mean() / 1e9,
    }


def study_table(runs: pd.DataFrame, dataset: str, baseline: str) -> pd.DataFrame:
    """The study's table for one dataset: one row per variant, baseline first.

    Ours: accuracy mean, std (across seeds, ddof=1: NaN with one seed), 95%
    CI (`stats.accuracy_ci`, its method in `ci_method`), training time mean
    and std, time difference vs the baseline (paired by seed). The study's
    reported accuracy, time and time difference sit next to ours (NaN for
    variants the study did not have).
    """
    variants = runs.loc[runs["dataset"] == dataset, "variant"].unique()
    if not len(variants):
        raise ValueError(f"study_table: no runs of dataset {dataset!r}")
    order = [baseline] * (baseline in variants) + sorted(v for v in variants if v != baseline)
    return pd.DataFrame([_study_row(runs, dataset, v, baseline) for v in order])


def _cross_row(runs, dataset, family, variant, baseline, best) -> dict:
    acc = comparisons.compare_pair(runs, dataset, variant, baseline, "accuracy")
    time = comparisons.compare_pair(runs, dataset, variant, baseline, "time")
    return {
        "dataset": dataset,
        "family": family,
        "baseline": baseline,
        "variant": variant,
        "our_best": variant == best,
        "n_seeds": acc["n_seeds"],
        "unit": acc["unit"],
        "gain_pts": acc["estimate"],
        "gain_ci_low": acc["ci_low"],
        "gain_ci_high": acc["ci_high"],
        "time_pct": time["estimate"],
        "time_pct_ci_low": time["ci_low"],
        "time_pct_ci_high": time["ci_high"],
        "study_gain_pts": _study(family, variant, "gain_pts"),
        "study_time_pct": _study(family, variant, "time_pct"),
    }


def study_cross_domain(family: str) -> list[str]:
    """The variants the study put in its cross-domain table (registry: a gain_pts)."""
    return [
        v.name
        for v in registry.VARIANTS.get(family, {}).values()
        if v.study and not math.isnan(v.study.gain_pts)
    ]


def best_attention_variant(runs: pd.DataFrame, dataset: str, baseline: str) -> str | None:
    """The attention variant with the highest mean validation accuracy on `dataset`.

    A selection never looks at the test set: runs without a validation accuracy (their
    recipe validates on the test set, `validation: test`) are not candidates, and None
    means no variant could be picked honestly.
    """
    of = runs[(runs["dataset"] == dataset) & runs["attention"] & (runs["variant"] != baseline)]
    of = of.dropna(subset=["validation_accuracy"]) if "validation_accuracy" in of else of[:0]
    if of.empty:
        return None
    return of.groupby("variant")["validation_accuracy"].mean().idxmax()


def cross_domain_table(runs: pd.DataFrame, baselines: Mapping[str, str]) -> pd.DataFrame:
    """Best attention variant's gain and extra training time per dataset.

    One row for our best attention variant of each dataset (by validation accuracy,
    `best_attention_variant`; none where the runs validated on the test set), plus a
    row for each variant the study put in its cross-domain table (SE on digits; CBAM
    and hybrid on speech) when it was run, with the study's numbers alongside.
    """
    rows = []
    for dataset, baseline in baselines.items():
        of = runs[runs["dataset"] == dataset]
        if of.empty or baseline not in set(of["variant"]):
            continue
        family = of["family"].iloc[0]
        best = best_attention_variant(runs, dataset, baseline)
        study_picks = [v for v in study_cross_domain(family) if v in set(of["variant"])]
        for variant in dict.fromkeys([best, *study_picks] if best else study_picks):
            rows.append(_cross_row(runs, dataset, family, variant, baseline, best))
    return pd.DataFrame(rows)


def transfer_table(runs: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """Per variant: home test accuracy vs accuracy on another dataset (points), over seeds.

    `scores` has train, test, variant, seed, accuracy and n_items (from the
    cross-evaluation jobs); `runs` are the train dataset's runs. The drop is home - other,
    paired by seed. Every sd is floored at its item noise (`stats.spread`) where the test
    items are known.
    """
    from attnlab import units

    (train,) = scores["train"].unique()
    (test,) = scores["test"].unique()
    home = runs[runs["dataset"] == train]
    home_items = units.n_test_items(home)
    other_items = units.n_test_items(scores.rename(columns={"n_items": "test_items"}))
    both = home[["variant", "seed", "test_accuracy"]].merge(
        scores[["variant", "seed", "accuracy"]], on=["variant", "seed"]
    )
    rows = []
    for variant, of in both.groupby("variant", sort=False):
        home_pts, other_pts = 100 * of["test_accuracy"], 100 * of["accuracy"]
        home_arm = (home_pts.mean() / 100, home_items)
        other_arm = (other_pts.mean() / 100, other_items)
        drop = stats.paired_test(home_pts, other_pts, 100 * stats.item_noise(home_arm, other_arm))
        rows.append(
            {
                "train": train,
                "test": test,
                "variant": variant,
                "n_seeds": len(of),
                "home_accuracy_pts": home_pts.mean(),
                "home_ci": stats.mean_ci(home_pts, floor_sd=100 * stats.item_noise(home_arm)),
                "other_accuracy_pts": other_pts.mean(),
                "other_ci": stats.mean_ci(other_pts, floor_sd=100 * stats.item_noise(other_arm)),
                "drop_pts": drop["estimate"],
                "drop_ci_low": drop["ci_low"],
                "drop_ci_high": drop["ci_high"],
            }
        )
    table = pd.DataFrame(rows)
    for column in ("home", "other"):
        table[[f"{column}_ci_low", f"{column}_ci_high"]] = table.pop(f"{column}_ci").tolist()
    return table


def format_transfer(table: pd.DataFrame) -> pd.DataFrame:
    """Readable strings of `transfer_table` for Markdown."""

    def with_interval(prefix: str, sign: str = "") -> list[str]:
        columns = table[[f"{prefix}", f"{prefix.split('_')[0]}_ci_low"]]
        highs = table[f"{prefix.split('_')[0]}_ci_high"]
        return [
            f"{m:{sign}.2f} {_interval(lo, hi, 2, sign)}"
            for (m, lo), hi in zip(columns.itertuples(index=False), highs, strict=True)
        ]

    train, test = table["train"].iloc[0], table["test"].iloc[0]
    return pd.DataFrame(
        {
            "variant": table["variant"],
            "seeds": table["n_seeds"].astype(str),
            f"{train} test (%)": with_interval("home_accuracy_pts"),
            f"{test} test (%)": with_interval("other_accuracy_pts"),
            "drop (points)": with_interval("drop_pts", "+"),
        }
    )


# ---------------------------------------------------------------- formatting
def _pm(mean: float, std: float, digits: int, sign: str = "") -> str:
    if pd.isna(mean):
        return "n/a"
    text = f"{mean:{sign}.{digits}f}"
    return text if pd.isna(std) else f"{text} ± {std:.{digits}f}"


def _num(value, digits: int, sign: str = "") -> str:
    return "n/a" if pd.isna(value) else f"{value:{sign}.{digits}f}"


def _interval(low, high, digits: int, sign: str = "") -> str:
    return "n/a" if pd.isna(low) else f"[{low:{sign}.{digits}f}, {high:{sign}.{digits}f}]"


def _study_strings(r) -> dict:
    return {
        "variant": r.variant,
        "seeds": r.n_seeds,
        "test accuracy": _pm(r.accuracy_mean, r.accuracy_std, 4),
        "95% CI": f"{_interval(r.accuracy_ci_low, r.accuracy_ci_high, 4)} ({r.ci_method})",
        "study accuracy": _num(r.study_accuracy, 4),
        "time (s)": _pm(r.time_mean_s, r.time_std_s, 1),
        "study time (s)": _num(r.study_time_s, 2),
        "Δ time vs baseline (s)": _pm(r.time_diff_s, r.time_diff_std_s, 1, "+"),
        "study Δ time (s)": _num(r.study_time_diff_s, 2, "+"),
        "params": r.params,
        "µs / train sample": _num(r.us_per_sample, 0),
        "forward MFLOP": _num(r.forward_flops / 1e6, 2),
        "GFLOP/s": _num(r.gflops_per_s, 1),
    }


def _cross_strings(r) -> dict:
    gain = _interval(r.gain_ci_low, r.gain_ci_high, 2, "+")
    time = _interval(r.time_pct_ci_low, r.time_pct_ci_high, 1, "+")
    return {
        "dataset": r.dataset,
        "variant": r.variant + (" (our best)" if r.our_best else ""),
        "vs": r.baseline,
        "n": r.unit,
        "gain (points)": f"{_num(r.gain_pts, 2, '+')} {gain}",
        "study gain (points)": _num(r.study_gain_pts, 2, "+"),
        "extra time (%)": f"{_num(r.time_pct, 1, '+')} {time}",
        "study extra time (%)": _num(r.study_time_pct, 1, "+"),
    }


def _compare_strings(r) -> dict:
    diff = _interval(r.diff_ci_low, r.diff_ci_high, 2, "+")
    time = _interval(r.time_pct_ci_low, r.time_pct_ci_high, 1, "+")
    return {
        "dataset": r.dataset,
        "variant": r.variant,
        "vs": r.baseline,
        "n (accuracy)": r.unit,
        "Δ accuracy (points)": f"{_num(r.diff_pts, 2, '+')} {diff}",
        "test": r.test,
        "p (Holm)": stats.format_p(r.p_holm),
        "Wilcoxon p": stats.format_p(r.p_wilcoxon),
        "McNemar p (median over seeds)": stats.format_p(r.mcnemar_p_median),
        "extra time (%)": f"{_num(r.time_pct, 1, '+')} {time}",
    }


def _strings(table: pd.DataFrame, row_strings) -> pd.DataFrame:
    rows = [row_strings(r) for r in table.itertuples(index=False)]
    return pd.DataFrame(rows).map(lambda v: "n/a" if pd.isna(v) else str(v))


def format_study_table(table: pd.DataFrame) -> pd.DataFrame:
    """Readable strings of `study_table` for Markdown (mean ± std, intervals)."""
    return _strings(table, _study_strings)


def format_cross_domain(table: pd.DataFrame) -> pd.DataFrame:
    """Readable strings of `cross_domain_table` for Markdown."""
    return _strings(table, _cross_strings)


def format_compare(table: pd.DataFrame) -> pd.DataFrame:
    """Readable strings of `comparisons.compare` for Markdown."""
    return _strings(table, _compare_strings)


def format_verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """`verdicts.verdicts` with the p-value as text, for Markdown. `n_seeds` is headed
    "seeds": with grouped folds the unit is the speaker, and the test column gives both."""
    p_values = table["p_value"].map(stats.format_p)
    formatted = table.drop(columns=["claim_id"]).assign(p_value=p_values)
    return formatted.rename(columns={"n_seeds": "seeds"})


# ------------------------------------------------------------------- writing
def to_markdown(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (no index)."""
    if all(map(pd.api.types.is_string_dtype, table.dtypes)):  # formatted text: keep as is
        return table.to_markdown(index=False, disable_numparse=True) + "\n"
    return table.to_markdown(index=False, floatfmt=".4g") + "\n"


def write_table(
    table: pd.DataFrame,
    csv: str | Path,
    markdown: str | Path | None = None,
    formatted: pd.DataFrame | None = None,
) -> None:
    """Write `table` as CSV, and as Markdown (`formatted` if given) when asked."""
    Path(csv).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(csv, index=False)
    if markdown is not None:
        Path(markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(markdown).write_text(to_markdown(table if formatted is None else formatted))
