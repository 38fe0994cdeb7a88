"""The unit of analysis of an accuracy comparison: seeds, or groups (speakers).

On a fixed split every seed trains one model on the same data, so the values that are
paired, tested and ranked are the seeds' test accuracies (n = seeds).

With grouped folds (split method group_kfold) the question is how a model does on
speakers it has not heard: the sample that matters is the speakers, not their
recordings and not the fold x seed runs. The unit is then the group. A group's value is
its accuracy averaged over the seeds every compared variant ran (seeds are repeated
measurements of one group, not more groups), and tests run over groups with
df = groups - 1. The pooled run of each (variant, seed) records its groups
(`attnlab.folds.pool_runs`).

Folds share training data (any two training sets share (K-2)/(K-1) of their
recordings), so the groups' values are positively correlated. Intervals, tests and
posteriors over groups use Nadeau and Bengio's (2003) corrected variance
sd^2 (1/n + rho/(1-rho)) with rho = 1/K, the share of the data each fold tests, as
baycomp's correlated t-test does (Corani and Benavoli 2015); on a fixed split rho = 0.

With `data_seeds` every seed redraws its data (`draws_data`), so a seed's value also
carries test-set sampling; the draws' training sets overlap, so the seeds get the same
correction with rho = the share of a draw's items that it tests (exact for a random split
of one dataset, conservative for Reduced MNIST's draws from the far larger MNIST).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Units:
    """Accuracy (points) per unit (rows) and variant (columns), and what a unit is.

    `items` is, per variant, the number of test items behind one unit's value (one
    run's test items; a group's recordings, which its seeds share), for the binomial
    floor of the spread.
    """

    values: pd.DataFrame
    name: str
    n_seeds: int
    rho: float = 0.0
    items: dict[str, float] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.values)

    def label(self) -> str:
        """How many of what, e.g. "6 speakers x 2 seeds" or "3 seeds"."""
        if self.name == "seeds":
            return f"{self.n} seeds"
        return f"{self.n} {self.name} x {self.n_seeds} seed{'s' * (self.n_seeds != 1)}"


def is_grouped(runs: pd.DataFrame, dataset: str) -> bool:
    """Whether `dataset`'s runs are pooled grouped folds that record their groups."""
    if "groups" not in runs:
        return False
    return bool(runs.loc[runs["dataset"] == dataset, "groups"].map(_has_groups).any())


def draws_data(runs: pd.DataFrame, dataset: str) -> bool:
    """Whether `dataset`'s seeds trained and tested on data drawn with different seeds."""
    if "data_seed" not in runs:
        return False
    return runs.loc[runs["dataset"] == dataset, "data_seed"].dropna().nunique() > 1


def _draw_rho(of: pd.DataFrame) -> float:
    """The share of a draw's items that it tests: test / (train + val + test), the
    validation items counted apart only where they are the val split (not the test set,
    not carved from train)."""
    test = of["test_items"].astype(float)
    val = of["val_samples"].where(of["validation"] == "val", 0)
    return float((test / (of["train_samples"] + val + test)).max())


def _has_groups(value) -> bool:
    return isinstance(value, list) and len(value) > 0


def _common_seeds(of: pd.DataFrame, variants: Sequence[str]) -> list:
    seeds = [set(of.loc[of["variant"] == v, "seed"]) for v in variants]
    return sorted(set.intersection(*seeds)) if seeds else []


def accuracy_units(runs: pd.DataFrame, dataset: str, variants: Sequence[str] | None = None):
    """The units of `dataset` over the seeds that every one of `variants` ran.

    `variants` defaults to every variant of the dataset (in order of appearance).
    """
    of = runs[runs["dataset"] == dataset]
    variants = list(of["variant"].unique()) if variants is None else list(variants)
    seeds = _common_seeds(of, variants)
    of = of[of["seed"].isin(seeds) & of["variant"].isin(variants)]
    if is_grouped(runs, dataset):
        return _group_units(of, variants, seeds)
    values = 100 * of.pivot(index="seed", columns="variant", values="test_accuracy")
    items = {v: n_test_items(runs_of) for v, runs_of in of.groupby("variant")}
    items = {v: m for v, m in items.items() if m is not None}
    rho = _draw_rho(of) if draws_data(runs, dataset) else 0.0
    return Units(values.reindex(columns=variants), "seeds", len(seeds), rho, items)


def n_test_items(runs: pd.DataFrame) -> float | None:
    """Test items per run of `runs` (the fewest where they differ); None when unknown."""
    for column in ("n_test", "test_items"):
        if column in runs and runs[column].notna().any():
            return float(runs[column].min())
    return None


def _group_units(of: pd.DataFrame, variants: list[str], seeds: list) -> Units:
    rows = [
        {"variant": r.variant, "seed": r.seed, **group}
        for r in of.itertuples()
        for group in r.groups
    ]
    groups = pd.DataFrame(rows, columns=["variant", "seed", "group", "fold", "items", "accuracy"])
    values = 100 * groups.pivot_table(
        index="group", columns="variant", values="accuracy", aggfunc="mean"
    )
    n_folds = int(groups["fold"].nunique())
    rho = 1 / n_folds if n_folds > 1 else 0.0
    items = {
        v: float(groups.loc[groups["variant"] == v, "items"].min())
        for v in variants
        if (groups["variant"] == v).any()
    }
    name = _group_name(of)
    return Units(values.reindex(columns=variants), name, len(seeds), rho, items)


def _group_name(of: pd.DataFrame) -> str:
    """The plural of the grouping column the runs record, e.g. "speakers"."""
    names = set(of["group_by"].dropna()) if "group_by" in of else set()
    return f"{names.pop()}s" if len(names) == 1 else "groups"
