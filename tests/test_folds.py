"""Grouped folds: assigning groups to folds, pooling fold runs, the fold tables."""

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from attnlab import comparisons, folds, splits

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
    assert sorted(splits.group_folds(manifest["speaker"], 3).items()) == [
        ("a", 1),
        ("b", 2),
        ("c", 3),
    ]


def test_fewer_folds_than_groups_balances_the_folds():
    manifest = manifest_of({"a": 9, "b": 5, "c": 4, "d": 1})
    fold_of = splits.group_folds(manifest["speaker"], 2)
    assert fold_of == {"a": 1, "b": 2, "c": 2, "d": 1}  # 18+2 vs 10+8 images


def test_more_folds_than_groups_is_an_error():
    with pytest.raises(ValueError, match=r"3 folds but only 2 groups \['a', 'b'\]"):
        splits.group_folds(manifest_of({"a": 2, "b": 2})["speaker"], 3)


def test_each_fold_tests_its_groups_and_validates_on_the_others():
    manifest = manifest_of({"a": 10, "b": 10, "c": 10})
    split = {"group": "speaker", "folds": 3, "fractions": FRACTIONS}
    assigned = manifest.join(splits.assign_folds(manifest, split, seed=4))
    for k in (1, 2, 3):
        roles = assigned[splits.split_column(k)]
        held_out = assigned["fold"] == k
        assert (roles[held_out] == "test").all()
        # val: 1/9 of the other speakers' recordings of each digit (20 -> 2)
        assert assigned[~held_out & (roles == "val")].groupby("label").size().tolist() == [2, 2]


def test_recordings_without_a_speaker_are_named():
    manifest = manifest_of({"a": 2}).assign(speaker=[None, "a", "a", "a"])
    split = {"group": "speaker", "folds": 2, "fractions": FRACTIONS}
    message = r"needs a speaker for every image; none for 1 image\(s\), e\.g\. 0_a_0\.png"
    with pytest.raises(ValueError, match=message):
        splits.assign_folds(manifest, split, seed=4)


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


def grouped_runs(accuracies: dict[str, dict[str, list[float]]], items: int = 100):
    """Pooled runs of dataset d: per variant, per speaker one accuracy per seed (4, 5, ...),
    one speaker per fold (leave-one-speaker-out)."""
    rows = []
    for variant, by_speaker in accuracies.items():
        n_seeds = len(next(iter(by_speaker.values())))
        for i in range(n_seeds):
            groups = [
                {"group": name, "fold": k + 1, "items": items, "accuracy": values[i]}
                for k, (name, values) in enumerate(by_speaker.items())
            ]
            rows.append(
                {
                    "dataset": "d",
                    "variant": variant,
                    "seed": 4 + i,
                    "test_accuracy": np.mean([g["accuracy"] for g in groups]),
                    "train_seconds": 10.0 + i,
                    "n_test": items * len(groups),
                    "group_by": "speaker",
                    "groups": groups,
                    "folds": [{"fold": g["fold"], "test_accuracy": g["accuracy"]} for g in groups],
                }
            )
    return pd.DataFrame(rows)


SPEAKER_ACCURACY = {
    "base": {"ann": [0.80, 0.82], "bob": [0.70, 0.66], "cy": [0.90, 0.92], "di": [0.60, 0.64]},
    "new": {"ann": [0.84, 0.86], "bob": [0.69, 0.69], "cy": [0.95, 0.93], "di": [0.66, 0.70]},
}


def test_grouped_comparison_is_over_speakers_with_nadeau_bengio():
    from scipy import stats as scipy_stats

    runs = grouped_runs(SPEAKER_ACCURACY, items=5000)  # the item-noise floor stays below
    result = comparisons.compare_pair(runs, "d", "new", "base", "accuracy")
    # By hand: per speaker the difference of the seed means; n = 4 speakers, df = 3.
    d = 100 * np.array([0.04, 0.01, 0.03, 0.06])
    se = d.std(ddof=1) * np.sqrt(1 / 4 + (1 / 4) / (1 - 1 / 4))  # rho = 1/K, K = 4 folds
    low, high = scipy_stats.t.interval(0.95, 3, loc=d.mean(), scale=se)
    assert (result["n"], result["n_seeds"], result["unit"]) == (4, 2, "4 speakers x 2 seeds")
    assert result["estimate"] == pytest.approx(d.mean())
    assert (result["ci_low"], result["ci_high"]) == pytest.approx((low, high))
    assert result["p"] == pytest.approx(2 * scipy_stats.t.sf(d.mean() / se, 3))
    assert "Nadeau-Bengio" in result["test"] and np.isnan(result["p_wilcoxon"])
    # Time stays a per-run quantity, paired over the 2 seeds.
    time = comparisons.compare_pair(runs, "d", "new", "base", "time")
    assert (time["n"], time["unit"]) == (2, "2 seeds")


def test_grouped_ranking_and_fold_table_use_the_speakers():
    from attnlab import ranking

    runs = grouped_runs(SPEAKER_ACCURACY)
    matrix = ranking.accuracy_matrix(runs, "d")
    assert list(matrix.index) == ["ann", "bob", "cy", "di"]
    assert matrix.loc["bob", "base"] == pytest.approx(68.0)
    assert matrix.attrs["unit"] == "4 speakers x 2 seeds" and matrix.attrs["rho"] == 0.25
    assert matrix.attrs["test_items"] == {"base": 100, "new": 100}
    table = folds.fold_table(runs).set_index("variant")
    assert table.loc["base", "unit"] == "4 speakers x 2 seeds"
    assert table.loc["base", "mean_pts"] == pytest.approx(75.5)


def test_cmh_over_speakers_matches_the_textbook_formula():
    from scipy import stats as scipy_stats

    rng = np.random.default_rng(0)
    strata = np.repeat(["ann", "bob", "cy"], [40, 60, 50])
    a = rng.random(150) < np.select([strata == "ann", strata == "bob"], [0.9, 0.6], 0.75)
    b = rng.random(150) < np.select([strata == "ann", strata == "bob"], [0.8, 0.5], 0.7)
    result = comparisons.cmh_test(a, b, strata)
    numerator, variance = 0.0, 0.0
    for name in ("ann", "bob", "cy"):
        sa, sb = a[strata == name], b[strata == name]
        n1, n2 = len(sa), len(sb)
        correct, wrong = sa.sum() + sb.sum(), (~sa).sum() + (~sb).sum()
        n = n1 + n2
        numerator += sa.sum() - n1 * correct / n
        variance += n1 * n2 * correct * wrong / (n**2 * (n - 1))
    chi2 = (abs(numerator) - 0.5) ** 2 / variance
    assert result["p"] == pytest.approx(scipy_stats.chi2.sf(chi2, 1))
    assert result["strata"] == 3 and 0 < result["p_heterogeneity"] < 1
    # Two perfect classifiers carry no information: NaN, never p = 1.
    perfect = comparisons.cmh_test(np.ones(10, bool), np.ones(10, bool), strata[:10])
    assert np.isnan(perfect["p"])


def test_split_gap_is_the_random_minus_the_grouped_accuracy():
    from scipy import stats as scipy_stats

    random = pd.DataFrame(
        {
            "dataset": "r",
            "variant": "base",
            "seed": [4, 5, 6],
            "test_accuracy": [0.98, 0.97, 0.99],
            "n_test": 10_000,
        }
    )
    grouped = grouped_runs(SPEAKER_ACCURACY, items=5000)
    (row,) = folds.split_gap_table(random, grouped).itertuples()
    assert (row.random_unit, row.grouped_unit) == ("3 seeds", "4 speakers x 2 seeds")
    assert row.overstatement_pts == pytest.approx(98.0 - 75.5)
    # By hand: Welch over the random seeds and the speakers (Nadeau-Bengio, rho = 1/4).
    speakers = 100 * np.array([0.81, 0.68, 0.91, 0.62])
    va = np.var([98, 97, 99], ddof=1) / 3
    vb = speakers.var(ddof=1) * (1 / 4 + 1 / 3)
    df = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 3)
    half = scipy_stats.t.ppf(0.975, df) * np.sqrt(va + vb)
    assert row.overstatement_ci_low == pytest.approx(22.5 - half)
    assert row.overstatement_ci_high == pytest.approx(22.5 + half)


def test_speaker_table_floors_identical_seeds_at_the_speakers_item_noise():
    manifest = manifest_of({"a": 50, "b": 50})
    items = np.flatnonzero(manifest["speaker"] == "a")
    pred = manifest["label"].to_numpy().copy()
    pred[items[:10]] = 1 - pred[items[:10]]  # 90 of speaker a's 100 right, in both seeds
    rows = [
        {
            "variant": "v",
            "seed": seed,
            "item": i,
            "label": manifest["label"][i],
            "pred": pred[i],
            "group": manifest["speaker"][i],
        }
        for seed in (4, 5)
        for i in items
    ]
    table = folds.speaker_table(pd.DataFrame(rows), "speaker")
    (row,) = table.itertuples()
    p = (90 + 1) / 102  # smoothed, as stats.item_noise does
    half = scipy.stats.t.ppf(0.975, 1) * 100 * np.sqrt(p * (1 - p) / 100) / np.sqrt(2)
    assert row.accuracy_pts == pytest.approx(90.0)
    assert (row.ci_low, row.ci_high) == pytest.approx((90.0 - half, min(100.0, 90.0 + half)))
