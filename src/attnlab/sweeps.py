"""Sweeps: a grid over block options and recipe keys, expanded into variants.

A sweep (config `sweeps.NAME`) takes one variant of one dataset and a grid:

    se_ratio:
      dataset: reduced_mnist
      variant: se
      options: {ratio: [4, 8, 16]}           # block or skeleton options
      recipe: {learning_rate: [0.0001, 0.001]}  # recipe keys

Each point of the grid is a variant of its own, named `{variant}-{key}{value}-...`
(`se-ratio16-learning_rate0.001`): stable, readable and safe as a path part and a
wildcard. It trains over every seed like any variant, so it also enters the dataset's
tables and rankings. The point equal to the swept variant itself is that variant.
`sweep_table` and `conclusion` summarise a sweep over seeds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from attnlab import registry


@dataclass(frozen=True)
class Setting:
    """One point of a sweep: its variant, the recipe keys it overrides, the swept values."""

    sweep: str
    base: str
    variant: registry.Variant
    recipe: Mapping[str, object]
    values: Mapping[str, object]


def value_text(value) -> str:
    """A swept value as a name part: 16, 0.001, 1e-05, true, none."""
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, float):
        return format(value, "g")
    return str(value)


def _with_option(variant: registry.Variant, key: str, value, where: str) -> registry.Variant:
    """`variant` with block option (every block that has it) or skeleton option `key`."""
    placements, hit = [], False
    for p in variant.placements:
        block = registry.BLOCKS[p.block]
        if key in block.options:
            checked = block.options[key].check(value, f"{where}.{key}")
            placements.append(replace(p, options={**p.options, key: checked}))
            hit = True
        else:
            placements.append(p)
    fam = registry.family(variant.family)
    if key in fam.options:
        checked = fam.options[key].check(value, f"{where}.{key}")
        return replace(
            variant, placements=tuple(placements), skeleton={**variant.skeleton, key: checked}
        )
    if not hit:
        known = sorted(
            {k for p in variant.placements for k in registry.BLOCKS[p.block].options}
            | set(fam.options)
        )
        raise registry.RegistryError(
            f"{where}: {key!r} is not an option of variant {variant.name!r}; "
            f"known: {', '.join(known) or 'none'}"
        )
    return replace(variant, placements=tuple(placements))


def expand(
    name: str, sweep: Mapping, base: registry.Variant, base_recipe: Mapping
) -> list[Setting]:
    """The grid of sweep `name` over `base`, one Setting per point (options first).

    A point that changes nothing (the base's own options and its recipe, `base_recipe`)
    is the base variant itself, under its own name: its runs are not repeated.
    """
    where = f"config sweeps.{name}.options"
    grid = [("options", k, v) for k, v in sweep.get("options", {}).items()]
    grid += [("recipe", k, v) for k, v in sweep.get("recipe", {}).items()]
    if not grid:
        raise registry.RegistryError(f"config sweeps.{name}: no options or recipe keys to sweep")
    settings = []
    for point in itertools.product(*(values for _, _, values in grid)):
        variant, recipe, values = base, {}, {}
        for (kind, key, _), value in zip(grid, point, strict=True):
            values[key] = value
            if kind == "options":
                variant = _with_option(variant, key, value, where)
            else:
                recipe[key] = value
        unchanged = all(base_recipe.get(k) == v for k, v in recipe.items())
        if unchanged and (variant.placements, variant.skeleton) == (base.placements, base.skeleton):
            settings.append(Setting(name, base.name, base, {}, values))
            continue
        label = "-".join(f"{key}{value_text(value)}" for key, value in values.items())
        full = f"{base.name}-{label}".lower()
        if not registry.valid_name(full):
            raise registry.RegistryError(f"config sweeps.{name}: {full!r} is not a usable name")
        variant = replace(variant, name=full, study=None, note=f"sweep {name}")
        settings.append(Setting(name, base.name, variant, recipe, values))
    return settings


def sweep_table(runs, dataset: str, settings: list[Mapping]):
    """One row per setting: swept values, seeds, accuracy mean and t-interval (clipped to
    [0, 100] points), time.

    `settings` are {"variant": name, "values": {key: value}} in grid order.
    """
    import pandas as pd

    from attnlab import stats, units

    rows = []
    for setting in settings:
        of = runs[(runs["dataset"] == dataset) & (runs["variant"] == setting["variant"])]
        floor = stats.item_noise((of["test_accuracy"].mean(), units.n_test_items(of)))
        low, high = stats.points_ci(100 * of["test_accuracy"], 100 * floor)
        validation = of["validation_accuracy"] if "validation_accuracy" in of else of[:0]
        rows.append(
            {
                "variant": setting["variant"],
                **{key: value_text(value) for key, value in setting["values"].items()},
                "n_seeds": len(of),
                "accuracy_mean_pts": 100 * of["test_accuracy"].mean(),
                "accuracy_ci_low_pts": low,
                "accuracy_ci_high_pts": high,
                "validation_mean_pts": 100 * pd.to_numeric(validation).mean(),
                "time_mean_s": of["train_seconds"].mean(),
            }
        )
    return pd.DataFrame(rows)


def best_setting(table):
    """The setting with the highest mean validation accuracy (None where no setting has
    one: a selection on the test set is no selection)."""
    scored = table.dropna(subset=["validation_mean_pts"])
    return None if scored.empty else scored.loc[scored["validation_mean_pts"].idxmax()]


def conclusion(name: str, runs, dataset: str, table) -> str:
    """One sentence: the best setting by validation accuracy (its test accuracy beside),
    and whether the settings differ (n seeds stated)."""
    from attnlab import ranking, stats

    best = best_setting(table)
    matrix = ranking.accuracy_matrix(runs[runs["variant"].isin(table["variant"])], dataset)
    n = len(matrix)
    if best is None:
        lead = (
            f"sweep {name} ({n} seeds): no best named (the settings validate on the test "
            "set; recipe validation: split or val gives a pick)"
        )
    else:
        lead = (
            f"sweep {name} ({n} seeds): best on validation {best['variant']} "
            f"({best['validation_mean_pts']:.2f}%; test {best['accuracy_mean_pts']:.2f}%)"
        )
    if n < 2:
        return f"{lead}; one seed cannot tell the settings apart."
    if matrix.shape[1] == 2:
        a, b = matrix.columns
        test = stats.paired_test(matrix[a], matrix[b])
        p, how = test["p"], "paired t"
    else:
        p, how = ranking.friedman(matrix)["p"], "Friedman"
    if math.isnan(p):
        return f"{lead}; the settings gave identical differences ({how} undefined)."
    verdict = "the settings differ" if p < stats.ALPHA else "no detectable difference"
    return f"{lead}; {verdict} ({how} {stats.p_clause(p)})."


def swept_keys(table) -> list[str]:
    fixed = {"variant", "n_seeds", "accuracy_mean_pts", "accuracy_ci_low_pts"}
    fixed |= {"accuracy_ci_high_pts", "validation_mean_pts", "time_mean_s"}
    return [c for c in table.columns if c not in fixed]


def numeric_order(values) -> list:
    """Swept values in numeric order where they are numbers, else as given."""
    try:
        return sorted(dict.fromkeys(values), key=float)
    except ValueError:
        return list(dict.fromkeys(values))


def series_by_key(table, key: str) -> dict:
    """For a plot against `key`: one frame per combination of the other swept keys."""
    import numpy as np

    others = [k for k in swept_keys(table) if k != key]
    if not others:
        return {"": table}
    return {
        ", ".join(f"{k}={v}" for k, v in zip(others, np.atleast_1d(group), strict=True)): frame
        for group, frame in table.groupby(others if len(others) > 1 else others[0])
    }
