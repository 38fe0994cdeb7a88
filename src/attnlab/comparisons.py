"""Variants compared with their baseline: paired over units, and on the same test items.

`compare` gives one row per (dataset, variant): the accuracy difference paired over
the dataset's units (`attnlab.units`: seeds, or held-out speakers with grouped folds),
the time overhead paired over seeds, both Holm-adjusted per dataset, and with
predictions the item-level tests per seed: exact McNemar over the test items, or with
grouped folds Cochran-Mantel-Haenszel stratified by held-out group (`cmh_test`). Those
test one pair of trained models on these items, not the method. The primitives
(spread, intervals, Holm) are `attnlab.stats`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from statsmodels.stats.contingency_tables import StratifiedTable, mcnemar

from attnlab import units
from attnlab.stats import ALPHA, holm, paired_test, units_floor


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


def paired_runs(runs: pd.DataFrame, dataset: str, a: str, b: str) -> pd.DataFrame:
    """Runs of variants a and b of `dataset` joined on seed (suffixes _a, _b)."""
    of = runs[runs["dataset"] == dataset]
    return pd.merge(
        of[of["variant"] == a], of[of["variant"] == b], on="seed", suffixes=("_a", "_b")
    ).sort_values("seed")


def compare_pair(runs: pd.DataFrame, dataset: str, a: str, b: str, metric: str) -> dict:
    """Paired test of a vs b: `accuracy` in points, `time` in % of b's time.

    Accuracy is paired over the dataset's units (`attnlab.units`: seeds, or groups
    such as speakers with grouped folds), its sd floored at the item noise of the
    difference (`item_noise`, from the test items behind each unit where known).
    Time is paired over seeds (a run's time is its folds' sum) and has no floor.
    `unit` and `n_seeds` say what was paired.
    """
    if metric == "accuracy":
        of = units.accuracy_units(runs, dataset, [a, b])
        label = of.label()
        result = paired_test(of.values[a], of.values[b], units_floor(of, a, b), of.rho, label)
        return result | {"unit": label, "n_seeds": of.n_seeds}
    if metric == "time":
        pairs = paired_runs(runs, dataset, a, b)
        overhead = 100 * (pairs["train_seconds_a"] / pairs["train_seconds_b"] - 1)
        label = f"{len(pairs)} seeds"
        result = paired_test(overhead, np.zeros(len(overhead)), unit=label)
        return result | {"unit": label, "n_seeds": len(pairs)}
    raise ValueError(f"unknown metric {metric!r}: accuracy or time")


def correctness(predictions: pd.DataFrame, dataset: str, variant: str) -> pd.DataFrame:
    """Per-item correctness of a variant's runs: index item, one column per seed."""
    of = predictions[(predictions["dataset"] == dataset) & (predictions["variant"] == variant)]
    return of.assign(correct=of["pred"] == of["label"]).pivot(
        index="item", columns="seed", values="correct"
    )


def cmh_test(correct: Sequence[bool], baseline_correct: Sequence[bool], strata) -> dict:
    """Two classifiers on the same items, stratified (e.g. by speaker): CMH and Breslow-Day.

    Per stratum a 2 x 2 table (classifier x correct); the Cochran-Mantel-Haenszel test
    (continuity-corrected) of a common odds ratio of 1 gives `p`, Breslow-Day's test of
    equal odds ratios across strata `p_heterogeneity`. Within a stratum the items are
    counted as independent, so this is a statement about these strata's items; a
    stratum where neither classifier errs (or both always err) adds nothing. NaN when
    no stratum carries information.
    """
    a, b = np.asarray(correct, dtype=bool), np.asarray(baseline_correct, dtype=bool)
    strata = np.asarray(strata)
    tables = []
    for name in dict.fromkeys(strata):
        sa, sb = a[strata == name], b[strata == name]
        tables.append([[sa.sum(), (~sa).sum()], [sb.sum(), (~sb).sum()]])
    out = {"variant_only": int(np.sum(a & ~b)), "baseline_only": int(np.sum(~a & b))}
    out |= {"n_items": int(a.size), "strata": len(tables)}
    informative = [t for t in tables if min(t[0][0] + t[1][0], t[0][1] + t[1][1]) > 0]
    if not informative:
        return out | {"p": math.nan, "p_heterogeneity": math.nan}
    table = StratifiedTable(np.moveaxis(np.asarray(informative, dtype=float), 0, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        p_heterogeneity = (
            float(table.test_equal_odds().pvalue) if len(informative) > 1 else math.nan
        )
    return out | {
        "p": float(table.test_null_odds(correction=True).pvalue),
        "p_heterogeneity": p_heterogeneity,
    }


MCNEMAR_COLUMNS = ["seed", "test", "variant_only", "baseline_only", "n_items", "p"]


def mcnemar_runs(predictions: pd.DataFrame, dataset: str, a: str, b: str) -> pd.DataFrame:
    """a vs b on the same items for every seed both were run with.

    Exact McNemar over the test items; with grouped folds (predictions with a `group`
    column) the Cochran-Mantel-Haenszel test over the held-out groups (`cmh_test`).
    """
    ca, cb = correctness(predictions, dataset, a), correctness(predictions, dataset, b)
    groups = _item_groups(predictions, dataset)
    rows = []
    for seed in sorted(set(ca.columns) & set(cb.columns)):
        both = pd.concat([ca[seed], cb[seed]], axis=1, join="inner")
        if groups is None:
            rows.append({"seed": seed, "test": "exact McNemar"} | mcnemar_exact(*both.T.values))
            continue
        result = cmh_test(*both.T.values, groups.loc[both.index])
        test = f"CMH over {result.pop('strata')} groups"
        rows.append({"seed": seed, "test": test} | result)
    columns = MCNEMAR_COLUMNS + ["p_heterogeneity"] * (groups is not None)
    return pd.DataFrame(rows, columns=columns)


def _item_groups(predictions: pd.DataFrame, dataset: str) -> pd.Series | None:
    """Each test item's group where the dataset's predictions record one, else None."""
    if "group" not in predictions:
        return None
    of = predictions[predictions["dataset"] == dataset]
    if of["group"].isna().all():
        return None
    return of.drop_duplicates("item").set_index("item")["group"]


def _baselines(runs: pd.DataFrame, baseline: str | Mapping[str, str]) -> dict[str, str]:
    datasets = runs["dataset"].unique()
    if isinstance(baseline, str):
        return dict.fromkeys(datasets, baseline)
    return {d: baseline[d] for d in datasets if d in baseline}


def mcnemar_table(predictions: pd.DataFrame, baseline: str | Mapping[str, str]) -> pd.DataFrame:
    """`mcnemar_runs` per (dataset, variant, seed) vs the baseline.

    `p_holm` is Holm-adjusted across the variants of a dataset, per seed.
    """
    frames = []
    for dataset, base in _baselines(predictions, baseline).items():
        variants = predictions.loc[predictions["dataset"] == dataset, "variant"].unique()
        for variant in (v for v in variants if v != base):
            table = mcnemar_runs(predictions, dataset, variant, base)
            frames.append(table.assign(dataset=dataset, variant=variant, baseline=base))
    columns = ["dataset", "variant", "baseline", *MCNEMAR_COLUMNS, "p_holm"]
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True)
    table["p_holm"] = table.groupby(["dataset", "seed"])["p"].transform(holm)
    return table[columns + ["p_heterogeneity"] * ("p_heterogeneity" in table)]


def _compare_row(runs: pd.DataFrame, dataset: str, variant: str, base: str) -> dict:
    acc = compare_pair(runs, dataset, variant, base, "accuracy")
    time = compare_pair(runs, dataset, variant, base, "time")
    pairs = paired_runs(runs, dataset, variant, base)
    return {
        "dataset": dataset,
        "variant": variant,
        "baseline": base,
        "n_seeds": acc["n_seeds"],
        "unit": acc["unit"],
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
        runs: tidy runs (`attnlab.run_files.load_runs`).
        baseline: the baseline variant, or a mapping dataset -> baseline.
        predictions: per-item predictions (`attnlab.run_files.load_predictions`);
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
