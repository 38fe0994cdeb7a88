"""The config checks the schema cannot express, run when a `Plan` is built so that a bad
config stops at start-up with the key that is wrong: baselines, recipes, splits,
paths, grouped-fold comparisons, cross-dataset pairs and data seeds."""

from __future__ import annotations

from pathlib import Path

from attnlab import registry


def check(plan) -> None:
    """Checks the schema cannot express: baselines, recipes, splits, paths, pairs."""
    for dataset in plan.datasets:
        _check_dataset(plan, dataset)
    _check_cross_dataset(plan)


def _check_dataset(plan, dataset: str) -> None:
    cfg = plan.dataset(dataset)
    where = f"config datasets.{dataset}"
    _check_split_comparison(plan, dataset)
    registry.family(cfg["family"]).check_size(cfg["image_size"], f"{where}.image_size")
    if cfg["baseline"] not in plan.variants[dataset]:
        raise ValueError(f"{where}.baseline: {cfg['baseline']!r} is not in its variants")
    _check_variant_recipes(plan, dataset)
    validations = {plan.recipe_of(dataset, v)["validation"] for v in plan.variants[dataset]}
    if "val" in validations and "val" not in plan.splits_of(dataset):
        raise ValueError(
            f"{where}: a recipe validates on 'val' but the dataset has no val split "
            f"(split method {cfg['split']['method']!r})"
        )
    for key in ("path", "sample_rate"):
        if cfg["source"] == "fsdd" and key in cfg:
            raise ValueError(
                f"{where}.{key}: source fsdd reads the fetched FSDD recordings at 8000 Hz; "
                "to read other recordings use source: audio_folder"
            )
    if plan.data_seeds:
        _check_data_seeds(plan, dataset)
    if cfg["source"] in ("folder", "audio_folder") and not Path(cfg["path"]).is_dir():
        raise ValueError(f"{where}.path: {cfg['path']} is not a folder")


def _check_variant_recipes(plan, dataset: str) -> None:
    """Recipes of unselected variants are ignored (an overlay may narrow `variants`);
    a name no variant of the family has is an error. Early stopping must not select
    its epoch on the test set."""
    cfg = plan.dataset(dataset)
    for variant in cfg["variant_recipes"]:
        where = f"config datasets.{dataset}.variant_recipes.{variant}"
        if variant in plan.variants[dataset]:
            continue
        if variant not in registry.names(cfg["family"]):
            raise ValueError(f"{where}: not one of its variants")
        plan.notes.append(f"{where}: ignored ({variant} is not in the dataset's variants)")
    for variant in plan.variants[dataset]:
        recipe = plan.recipe_of(dataset, variant)
        if recipe["early_stopping"] and recipe["validation"] == "test":
            raise ValueError(
                f"config datasets.{dataset} ({variant}): early_stopping with validation: "
                "test would choose the epoch on the test set; use validation: split or val"
            )


def _check_split_comparison(plan, dataset: str) -> None:
    """A group_kfold dataset's compare_with: a single-split dataset, same classes."""
    other = plan.compared_with(dataset)
    where = f"config datasets.{dataset}.split.compare_with"
    if other is None:
        return
    plain = [d for d in plan.datasets if plan.folds_of(d) == [None]]
    if other not in plain:
        raise ValueError(
            f"{where}: {other!r} is not a dataset with a single split (one of {plain})"
        )
    if plan.dataset(other)["classes"] != plan.dataset(dataset)["classes"]:
        raise ValueError(f"{where}: {other!r} has other classes than {dataset!r}")
    if not set(plan.variants[other]) & set(plan.variants[dataset]):
        raise ValueError(f"{where}: {other!r} and {dataset!r} share no variant")


def _check_cross_dataset(plan) -> None:
    """Each pair: known datasets with the same classes, image size and channels."""
    for i, pair in enumerate(plan.config["cross_dataset"]):
        if pair not in plan.cross_dataset:
            continue
        where = f"config cross_dataset[{i}]"
        for role in ("train", "test"):
            if pair[role] not in plan.datasets:
                raise ValueError(f"{where}.{role}: {pair[role]!r} is not in datasets")
            if pair[role] in plan.fold_datasets:
                raise ValueError(
                    f"{where}.{role}: {pair[role]!r} is split in grouped folds (one model "
                    "and one test set per fold); cross-dataset scores need a single split"
                )
        a, b = plan.dataset(pair["train"]), plan.dataset(pair["test"])
        for key in ("classes", "image_size", "channels"):
            if a[key] != b[key]:
                raise ValueError(
                    f"{where}: {pair['train']} and {pair['test']} differ in {key} "
                    f"({a[key]} vs {b[key]}); a model can only be scored on the same inputs"
                )


def _check_data_seeds(plan, dataset: str) -> None:
    """`data_seeds` needs a test set that the data seed draws."""
    where, cfg = f"config data_seeds (datasets.{dataset})", plan.dataset(dataset)
    if dataset in plan.fold_datasets:
        raise ValueError(
            f"{where}: grouped folds test every speaker already; data_seeds redraws a "
            "random split or a subsample, so leave it off with group_kfold"
        )
    if not plan.drawn_stages(dataset):
        raise ValueError(
            f"{where}: nothing of this dataset is drawn with the data seed (split method "
            f"{cfg['split']['method']!r}, every image kept), so every seed would get the "
            "same test set; use split method random or a per-class subsample"
        )
