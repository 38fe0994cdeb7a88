"""Which images train, validate and test: split methods and grouped folds.

`assign_splits` gives flat folders a split (random and stratified by class, FSDD's
official split, or one held-out speaker); `assign_folds` gives a group_kfold dataset a
`fold` and a split column per fold (`split_column`). Images shared by two parts are
refused (`cross_part_duplicates`). Every draw takes the config's `data_seed`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SPLITS = ("train", "val", "test")
SPLIT_ORDER = {split: i for i, split in enumerate(SPLITS)}


def split_column(fold: int | None) -> str:
    """The manifest column with each image's split: `split`, or `split_fold{k}` in fold k."""
    return "split" if fold is None else f"split_fold{fold}"


def cross_part_duplicates(manifest: pd.DataFrame, part: str) -> list[str]:
    parts_per_hash = manifest.groupby("sha256")[part].nunique()
    shared = parts_per_hash[parts_per_hash > 1].index
    rows = manifest[manifest["sha256"].isin(shared)].sort_values(["sha256", "path"])
    kind = "split" if part == "split" else "fold"
    return [
        f"{row.path}: same image (sha256 {row.sha256[:12]}...) appears in {kind} "
        f"{getattr(row, part)!r} and another {kind}"
        for row in rows.itertuples()
    ]


def _groups_or_error(manifest: pd.DataFrame, method: str, column: str) -> pd.Series:
    unknown = manifest.loc[manifest[column].isna(), "path"]
    if len(unknown):
        raise ValueError(
            f"split method {method!r} needs a {column} for every image; none for "
            f"{len(unknown)} image(s), e.g. {unknown.iloc[0]} (FSDD names "
            "{digit}_{speaker}_{index}, or an audio pattern with a speaker group)"
        )
    return manifest[column]


def assign_splits(manifest: pd.DataFrame, split: dict, seed: int) -> pd.Series:
    """Split assignment for flat folders: random (stratified), official or speaker."""
    method = split["method"]
    fractions = split["fractions"]
    if method == "random":
        return _stratified(manifest, fractions, seed)
    if method in ("official", "speaker"):
        _groups_or_error(manifest, method, "speaker")
    if method == "official":
        is_test = manifest["index"].astype(int) < 5
    elif method == "speaker":
        speaker = split["speaker"]
        if speaker not in set(manifest["speaker"]):
            known = sorted(set(manifest["speaker"]))
            raise ValueError(f"split speaker {speaker!r} is not among {known}")
        is_test = manifest["speaker"] == speaker
    else:
        raise ValueError(f"unknown split method {method!r}")
    return _train_val_rest(manifest, is_test, fractions, seed)


def _train_val_rest(manifest: pd.DataFrame, is_test: pd.Series, fractions: dict, seed: int):
    """Test where `is_test`; the rest cut into train and val per class by the fractions."""
    kept = {"train": fractions["train"], "val": fractions["val"]}
    rest = _stratified(manifest[~is_test], kept, seed)
    return rest.reindex(manifest.index).fillna("test")


def group_folds(groups: pd.Series, folds: int) -> dict:
    """Each group's fold (1..folds): largest groups first, each to the fold with the
    fewest images so far (ties: lower fold, then group name); one group per fold when
    `folds` equals the number of groups (leave-one-group-out)."""
    sizes = groups.value_counts()
    if folds > len(sizes):
        raise ValueError(
            f"split group_kfold: {folds} folds but only {len(sizes)} groups "
            f"{sorted(sizes.index)}; at most one fold per group"
        )
    load = [0] * folds
    fold_of = {}
    for group in sorted(sizes.index, key=lambda g: (-sizes[g], g)):
        lightest = min(range(folds), key=lambda k: load[k])
        fold_of[group] = lightest + 1
        load[lightest] += int(sizes[group])
    return fold_of


def assign_folds(manifest: pd.DataFrame, split: dict, seed: int) -> pd.DataFrame:
    """group_kfold: `fold` (the run whose test set holds the image) and, per fold k,
    `split_fold{k}`: test for that fold's groups, train/val (stratified by class with the
    fractions, carved from the other groups) for the rest."""
    groups = _groups_or_error(manifest, "group_kfold", split["group"])
    fold = groups.map(group_folds(groups, split["folds"])).astype(int)
    columns = {"fold": fold}
    for k in range(1, split["folds"] + 1):
        columns[split_column(k)] = _train_val_rest(manifest, fold == k, split["fractions"], seed)
    return pd.DataFrame(columns, index=manifest.index)


def _stratified(manifest: pd.DataFrame, fractions: dict, seed: int) -> pd.Series:
    """Shuffle each class with `seed` and cut it by the split fractions (rounded per class)."""
    rng = np.random.default_rng(seed)
    total = sum(fractions.values())
    out = pd.Series("train", index=manifest.index, dtype=object)
    for _, group in manifest.groupby("label", sort=True):
        order = rng.permutation(group.index.to_numpy())
        n_val = int(round(len(order) * fractions.get("val", 0.0) / total))
        n_test = int(round(len(order) * fractions.get("test", 0.0) / total))
        out[order[:n_test]] = "test"
        out[order[n_test : n_test + n_val]] = "val"
    return out
