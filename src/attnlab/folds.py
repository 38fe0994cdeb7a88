"""Grouped folds (split method group_kfold): pooling fold runs and their tables.

A grouped dataset trains one run per (variant, seed, fold), each tested on the speakers
(groups) its fold holds out. Every recording is tested exactly once per (variant, seed),
so `pool_runs` joins the K fold runs into one run over all recordings: the pooled
`metrics.json` and `predictions.parquet` feed every per-dataset table, ranking and verdict
as they are. The tables here add what only folds show:

- `fold_table`: accuracy per fold (mean over seeds) and over the groups, the unit of
  analysis (`attnlab.units`: each group's accuracy averaged over seeds, a t-interval
  with df = groups - 1 and Nadeau and Bengio's correction for the shared training data);
- `speaker_table`: accuracy per speaker, mean and t-interval over seeds;
- `split_gap_table`: the same variants' random-split accuracy beside the grouped one, and
  how much the random split overstates accuracy (Welch interval of the difference).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from attnlab import stats, units
from attnlab.tables import _interval

# Keys that are sums over folds; per-epoch sample counts are epoch-weighted means, so that
# epochs_run x train_samples stays the number of samples seen (time per sample, FLOPs).
SUMMED = ("test_items", "train_seconds", "epochs_run")
PER_FOLD = ("fold", "test_accuracy", "test_items", "train_seconds", "epochs_run", "best_epoch")


def pool_runs(
    metrics: Sequence[Mapping],
    predictions: Sequence[pd.DataFrame],
    groups: Sequence | None = None,
    group_by: str | None = None,
) -> tuple[dict, pd.DataFrame]:
    """One run over all recordings from the fold runs of one (dataset, variant, seed).

    Predictions are concatenated in item order; an item tested in two folds is an error.
    The pooled accuracy and loss are over all items; `folds` keeps each fold's numbers.
    With `groups` (each manifest item's group, indexed by item) and `group_by` (the
    manifest column they come from), the pooled predictions get a `group` column and
    the pooled run its `groups`: per held-out group its fold, test items and accuracy,
    the unit of analysis of `attnlab.units`.
    """
    if not metrics or len(metrics) != len(predictions):
        raise ValueError(f"pool_runs: {len(metrics)} fold metrics, {len(predictions)} predictions")
    identity = {(m["dataset"], m["variant"], m["seed"]) for m in metrics}
    if len(identity) != 1:
        raise ValueError(f"pool_runs: fold runs of different runs {sorted(identity)}")
    pooled = pd.concat(predictions, ignore_index=True)
    repeated = pooled["item"][pooled["item"].duplicated()]
    if len(repeated):
        raise ValueError(
            f"pool_runs: {len(repeated)} items tested in more than one fold "
            f"(e.g. item {repeated.iloc[0]}); folds must hold out disjoint groups"
        )
    pooled = pooled.sort_values("item", ignore_index=True)
    first = dict(metrics[0])
    first.pop("fold", None)
    if groups is not None:
        first |= {"group_by": group_by, "groups": _group_scores(metrics, predictions, groups)}
        pooled["group"] = np.asarray(groups)[pooled["item"].to_numpy()]
    return first | {key: sum(m[key] for m in metrics) for key in SUMMED} | {
        "test_accuracy": float(np.mean(pooled["pred"] == pooled["label"])),
        "test_loss": _weighted_mean(metrics, "test_loss", "test_items"),
        "train_samples": _weighted_mean(metrics, "train_samples", "epochs_run"),
        "val_samples": _weighted_mean(metrics, "val_samples", "epochs_run"),
        "validation_accuracy": _validation_accuracy(metrics),
        "best_epoch": None,
        "resumed": any(m["resumed"] for m in metrics),
        "resumed_from_epoch": None,
        "inputs": {str(m["fold"]): m["inputs"] for m in metrics},
        "folds": [{key: m[key] for key in PER_FOLD} for m in metrics],
    }, pooled


def _group_scores(metrics, predictions, groups) -> list[dict]:
    """Per held-out group: its fold, number of test items and accuracy."""
    names = np.asarray(groups)
    scores = []
    for m, fold in zip(metrics, predictions, strict=True):
        correct = (fold["pred"] == fold["label"]).to_numpy()
        held_out = names[fold["item"].to_numpy()]
        for name in dict.fromkeys(held_out):
            mine = held_out == name
            scores.append(
                {
                    "group": str(name),
                    "fold": m["fold"],
                    "items": int(mine.sum()),
                    "accuracy": float(correct[mine].mean()),
                }
            )
    return sorted(scores, key=lambda g: (g["fold"], g["group"]))


def _validation_accuracy(metrics: Sequence[Mapping]) -> float | None:
    """The folds' validation accuracies weighted by their validation sets (None if any
    fold has none)."""
    if any(m.get("validation_accuracy") is None for m in metrics):
        return None
    return _weighted_mean(metrics, "validation_accuracy", "val_samples")


def _weighted_mean(metrics: Sequence[Mapping], key: str, weight: str) -> float:
    return float(np.average([m[key] for m in metrics], weights=[m[weight] for m in metrics]))


def fold_accuracies(runs: pd.DataFrame) -> pd.DataFrame:
    """variant, seed, fold, accuracy of every fold run (from pooled runs' `folds`)."""
    rows = [
        {"variant": r.variant, "seed": r.seed, "fold": f["fold"], "accuracy": f["test_accuracy"]}
        for r in runs.itertuples()
        for f in r.folds
    ]
    return pd.DataFrame(rows)


def fold_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per variant: accuracy (points) per fold, mean over seeds; and over the groups."""
    per_run = fold_accuracies(runs)
    rows = []
    for variant, of in per_run.groupby("variant", sort=False):
        points = 100 * of["accuracy"]
        per_fold = points.groupby(of["fold"]).mean()
        pooled = 100 * runs.loc[runs["variant"] == variant, "test_accuracy"]
        groups = _variant_units(runs, variant)
        row = {
            "variant": variant,
            "n_seeds": of["seed"].nunique(),
            "n_folds": len(per_fold),
            "unit": groups.label(),
            "mean_pts": groups.values[variant].mean(),
            **dict(zip(("ci_low", "ci_high"), _unit_interval(groups, variant), strict=True)),
            "worst_fold_pts": per_fold.min(),
            "pooled_pts": pooled.mean(),
        }
        rows.append(row | {f"fold{fold}_pts": mean for fold, mean in per_fold.items()})
    return pd.DataFrame(rows)


def _variant_units(runs: pd.DataFrame, variant: str) -> units.Units:
    (dataset,) = runs.loc[runs["variant"] == variant, "dataset"].unique()
    return units.accuracy_units(runs, dataset, [variant])


def _unit_spread(of: units.Units, variant: str) -> stats.Spread:
    """A variant's values over the units, sd floored at one unit's item noise."""
    return stats.spread(of.values[variant], stats.units_floor(of, variant), of.rho)


def _unit_interval(of: units.Units, variant: str) -> tuple[float, float]:
    """t-interval of the mean over units, clipped to [0, 100] points."""
    low, high = np.clip(stats.t_interval(_unit_spread(of, variant)), 0, 100)
    return float(low), float(high)


def format_fold_table(table: pd.DataFrame) -> pd.DataFrame:
    folds = [c for c in table.columns if c.startswith("fold") and c.endswith("_pts")]
    text = pd.DataFrame({"variant": table["variant"], "n": table["unit"]})
    for column in folds:
        text[f"fold {column[4:-4]} (%)"] = table[column].map("{:.2f}".format)
    text["mean over groups (%)"] = [
        f"{r.mean_pts:.2f} {_interval(r.ci_low, r.ci_high, 2)}" for r in table.itertuples()
    ]
    text["all recordings (%)"] = table["pooled_pts"].map("{:.2f}".format)
    return text


def speaker_table(predictions: pd.DataFrame, group: str) -> pd.DataFrame:
    """Per variant and group (speaker): accuracy (points), mean and t-interval over seeds,
    its sd floored at the item noise of the group's recordings (`stats.spread`).

    `predictions` are pooled ones (`pool_runs`) with variant and seed columns and each
    item's held-out `group`; `group` names the column of the table (the manifest's).
    """
    scored = predictions.assign(correct=(predictions["pred"] == predictions["label"]).astype(float))
    # Every item is tested once per (variant, seed): a group's size is its count in any.
    items = scored.groupby(["variant", "seed", "group"]).size().groupby(level="group").max()
    per_seed = scored.groupby(["variant", "group", "seed"], sort=False)["correct"].mean()
    rows = []
    for (variant, name), accuracy in (100 * per_seed).groupby(level=[0, 1], sort=False):
        floor = 100 * stats.item_noise((accuracy.mean() / 100, int(items[name])))
        low, high = stats.points_ci(accuracy, floor_sd=floor)
        rows.append(
            {
                "variant": variant,
                group: name,
                "n_seeds": len(accuracy),
                "items": int(items[name]),
                "accuracy_pts": accuracy.mean(),
                "ci_low": low,
                "ci_high": high,
            }
        )
    return pd.DataFrame(rows)


def format_speaker_table(table: pd.DataFrame, group: str) -> pd.DataFrame:
    """Variants as rows, one column per group: mean [interval] over seeds."""
    cells = table.assign(
        cell=[
            f"{r.accuracy_pts:.2f} {_interval(r.ci_low, r.ci_high, 1)}" for r in table.itertuples()
        ]
    )
    wide = cells.pivot(index="variant", columns=group, values="cell")
    wide = wide.reindex(index=table["variant"].unique())
    wide.columns = [f"{name} (%)" for name in wide.columns]
    return wide.reset_index()


def split_gap_table(random_runs: pd.DataFrame, grouped_runs: pd.DataFrame) -> pd.DataFrame:
    """Per variant of both: random-split vs grouped accuracy (points) and the difference.

    The difference (random - grouped: how much a random split overstates accuracy) has a
    Welch t-interval: the two sets of runs share seeds but not data, so they are not
    paired. Each arm is over its own units (`attnlab.units`: the random split's seeds,
    the grouped set's speakers), its sd floored at its item noise.
    """
    rows = []
    shared = [v for v in grouped_runs["variant"].unique() if v in set(random_runs["variant"])]
    for variant in shared:
        row = {"variant": variant}
        arms = {}
        for name, runs in (("random", random_runs), ("grouped", grouped_runs)):
            of = _variant_units(runs, variant)
            arms[name] = _unit_spread(of, variant)
            low, high = _unit_interval(of, variant)
            row |= {f"{name}_seeds": of.n_seeds, f"{name}_unit": of.label()}
            row |= {f"{name}_pts": arms[name].mean, f"{name}_ci_low": low, f"{name}_ci_high": high}
        gap = stats.welch(arms["random"], arms["grouped"])
        rows.append(
            row
            | {
                "overstatement_pts": gap["estimate"],
                "overstatement_ci_low": gap["ci_low"],
                "overstatement_ci_high": gap["ci_high"],
            }
        )
    return pd.DataFrame(rows)


def format_split_gap(table: pd.DataFrame, random_name: str, grouped_name: str) -> pd.DataFrame:
    def cell(r, prefix, sign=""):
        value = getattr(r, f"{prefix}_pts")
        low, high = getattr(r, f"{prefix}_ci_low"), getattr(r, f"{prefix}_ci_high")
        return f"{value:{sign}.2f} {_interval(low, high, 2, sign)}"

    rows = list(table.itertuples())
    return pd.DataFrame(
        {
            "variant": table["variant"],
            "n": [f"{r.random_unit} / {r.grouped_unit}" for r in rows],
            f"{random_name}: random split (%)": [cell(r, "random") for r in rows],
            f"{grouped_name}: unseen speakers (%)": [cell(r, "grouped") for r in rows],
            "overstated by (points)": [cell(r, "overstatement", "+") for r in rows],
        }
    )
