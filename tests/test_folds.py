"""Grouped folds: assigning groups to folds, pooling fold runs, the fold tables."""

import numpy as np
import pandas as pd
import pytest

from attnlab import cache, folds

FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}


def manifest_of(speakers: dict[str, int]) -> pd.DataFrame:
    """`count` recordings of each of two digits per speaker."""
    rows = [
        {"path": f"{digit}_{speaker}_{i}.png", "label": digit, "speaker": speaker}
        for speaker, count in speakers.items()
        for digit in (0, 1)
        for i in range(count)
    ]
    return pd.DataFrame(rows)


def test_one_speaker_per_fold_is_leave_one_speaker_out():
    manifest = manifest_of({"a": 5, "b": 5, "c": 5})
    assert sorted(cache.group_folds(manifest["speaker"], 3).items()) == [
        ("a", 1),
        ("b", 2),
        ("c", 3),
    ]


def test_fewer_folds_than_groups_balances_the_folds():
    manifest = manifest_of({"a": 9, "b": 5, "c": 4, "d": 1})
    fold_of = cache.group_folds(manifest["speaker"], 2)
    assert fold_of == {"a": 1, "b": 2, "c": 2, "d": 1}  # 18+2 vs 10+8 images


def test_more_folds_than_groups_is_an_error():
    with pytest.raises(ValueError, match=r"3 folds but only 2 groups \['a', 'b'\]"):
        cache.group_folds(manifest_of({"a": 2, "b": 2})["speaker"], 3)


def test_each_fold_tests_its_groups_and_validates_on_the_others():
    manifest = manifest_of({"a": 10, "b": 10, "c": 10})
    split = {"group": "speaker", "folds": 3, "fractions": FRACTIONS}
    assigned = manifest.join(cache.assign_folds(manifest, split, seed=4))
    for k in (1, 2, 3):
        roles = assigned[cache.split_column(k)]
        held_out = assigned["fold"] == k
        assert (roles[held_out] == "test").all()
        # val: 1/9 of the other speakers' recordings of each digit (20 -> 2)
        assert assigned[~held_out & (roles == "val")].groupby("label").size().tolist() == [2, 2]


def test_recordings_without_a_speaker_are_named():
    manifest = manifest_of({"a": 2}).assign(speaker=[None, "a", "a", "a"])
    split = {"group": "speaker", "folds": 2, "fractions": FRACTIONS}
    message = r"needs a speaker for every image; none for 1 image\(s\), e\.g\. 0_a_0\.png"
    with pytest.raises(ValueError, match=message):
        cache.assign_folds(manifest, split, seed=4)


def fold_run(fold, items, correct, seconds=10.0):
    labels = np.zeros(len(items), dtype=int)
    metrics = {
        "dataset": "d",
        "variant": "v",
        "seed": 4,
        "fold": fold,
        "test_accuracy": np.mean(correct),
        "test_loss": 0.5 * fold,
        "test_items": len(items),
        "train_seconds": seconds,
        "epochs_run": 2 * fold,
        "best_epoch": fold,
        "train_samples": 100 * fold,
        "val_samples": 10,
        "resumed": False,
        "inputs": {"train_x": f"fold{fold}"},
    }
    predictions = pd.DataFrame({"item": items, "label": labels, "pred": np.where(correct, 0, 1)})
    return metrics, predictions


def test_pooling_counts_every_recording_once():
    runs = [fold_run(2, [3, 1], [True, False]), fold_run(1, [0, 2, 4], [True, True, True])]
    pooled, predictions = folds.pool_runs(*zip(*runs, strict=True))
    assert predictions["item"].tolist() == [0, 1, 2, 3, 4]
    assert pooled["test_accuracy"] == pytest.approx(4 / 5)
    assert pooled["test_loss"] == pytest.approx((1.0 * 2 + 0.5 * 3) / 5)
    assert (pooled["test_items"], pooled["train_seconds"], pooled["epochs_run"]) == (5, 20.0, 6)
    # samples seen stay exact: 6 epochs x train_samples = 4 x 200 + 2 x 100
    assert pooled["epochs_run"] * pooled["train_samples"] == pytest.approx(1000)
    assert "fold" not in pooled and [f["fold"] for f in pooled["folds"]] == [2, 1]


def test_pooling_refuses_an_item_tested_twice():
    runs = [fold_run(1, [0, 1], [True, True]), fold_run(2, [1, 2], [True, True])]
    with pytest.raises(ValueError, match="1 items tested in more than one fold"):
        folds.pool_runs(*zip(*runs, strict=True))


def test_split_gap_is_the_random_minus_the_grouped_accuracy():
    random = pd.DataFrame({"variant": ["v"] * 3, "test_accuracy": [0.98, 0.97, 0.99]})
    grouped = pd.DataFrame({"variant": ["v"] * 3 + ["w"], "test_accuracy": [0.90, 0.88, 0.92, 0.5]})
    (row,) = folds.split_gap_table(random, grouped).itertuples()
    assert row.overstatement_pts == pytest.approx(8.0)
    assert row.overstatement_ci_low < 8.0 < row.overstatement_ci_high
