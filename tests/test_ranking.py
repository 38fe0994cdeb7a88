"""Ranks, Friedman, Nemenyi, critical difference and the Bayesian comparison, by hand."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from attnlab import ranking

# Accuracies in points: 5 seeds (rows) x 4 variants (columns), no ties within a seed.
MATRIX = pd.DataFrame(
    {
        "base": [97.0, 97.2, 96.9, 97.1, 97.0],
        "se": [97.6, 97.9, 97.5, 97.2, 97.8],
        "eca": [97.3, 97.0, 97.4, 97.6, 97.1],
        "gc": [96.5, 96.8, 96.6, 96.4, 96.7],
    },
    index=pd.Index([4, 5, 6, 7, 8], name="seed"),
)


def hand_ranks():
    # Per seed, 1 = best: seed4 se>eca>base>gc, seed5 se>base>eca>gc, seed6 se>eca>base>gc,
    # seed7 eca>se>base>gc, seed8 se>eca>base>gc.
    per_seed = {
        "base": [3, 2, 3, 3, 3],
        "se": [1, 1, 1, 2, 1],
        "eca": [2, 3, 2, 1, 2],
        "gc": [4, 4, 4, 4, 4],
    }
    return {v: np.mean(r) for v, r in per_seed.items()}


def test_mean_ranks_by_hand():
    ranks = ranking.mean_ranks(MATRIX)
    assert ranks.to_dict() == pytest.approx(hand_ranks())
    assert list(ranks.index) == ["se", "eca", "base", "gc"]


def test_friedman_statistic_by_the_textbook_formula():
    n, k = MATRIX.shape
    r = np.array(list(hand_ranks().values()))
    chi2 = 12 * n / (k * (k + 1)) * (np.sum(r**2) - k * (k + 1) ** 2 / 4)
    result = ranking.friedman(MATRIX)
    assert result["statistic"] == pytest.approx(chi2)
    assert result["p"] == pytest.approx(stats.chi2.sf(chi2, k - 1))
    assert result["test"].startswith("Friedman over 5 seeds x 4 variants")


def test_critical_difference_matches_demsar():
    # Demsar 2006, Table 5: q_0.05 = 2.569 for k = 4; his example has N = 14 data sets.
    assert ranking.critical_difference(4, 14) == pytest.approx(2.569 * math.sqrt(20 / 84), abs=1e-3)
    # k = 10: q_0.05 = 3.164.
    assert ranking.critical_difference(10, 5) == pytest.approx(
        3.164 * math.sqrt(110 / 30), abs=2e-3
    )


def test_nemenyi_p_values_from_the_studentized_range():
    n, k = MATRIX.shape
    table = ranking.nemenyi(MATRIX)
    r = hand_ranks()
    z = abs(r["se"] - r["gc"]) / math.sqrt(k * (k + 1) / (6 * n))
    expected = stats.studentized_range.sf(z * math.sqrt(2), k, np.inf)
    assert table.loc["se", "gc"] == pytest.approx(expected, rel=1e-3)
    assert table.loc["se", "gc"] < 0.05 < table.loc["se", "eca"]
    assert (np.diag(table) == 1).all()


def test_rank_table_and_too_few_seeds():
    table = ranking.rank_table(MATRIX, "base")
    assert list(table["variant"]) == ["se", "eca", "base", "gc"]
    assert table.loc[table["variant"] == "base", "nemenyi_p_vs_baseline"].item() == 1.0
    assert "CD = " in ranking.friedman_line(table)
    one_seed = ranking.rank_table(MATRIX.iloc[:1], "base")
    assert one_seed["friedman_p"].isna().all()
    assert "needs >= 3 variants and >= 2 units" in ranking.friedman_line(one_seed)


def test_bayes_posterior_by_hand():
    d = MATRIX["se"] - MATRIX["base"]
    n = len(d)
    scale = d.std(ddof=1) / math.sqrt(n)
    result = ranking.bayes_pair(MATRIX["se"], MATRIX["base"], rope=0.5)
    assert result["p_better"] == pytest.approx(stats.t.sf(0.5, n - 1, d.mean(), scale))
    assert result["p_worse"] == pytest.approx(stats.t.cdf(-0.5, n - 1, d.mean(), scale))
    total = result["p_worse"] + result["p_equivalent"] + result["p_better"]
    assert total == pytest.approx(1.0)


def test_bayes_decisions():
    near = MATRIX["base"] + np.array([0.01, -0.02, 0.0, 0.02, -0.01])
    matrix = MATRIX.assign(near=near, far=MATRIX["base"] + 3 + np.arange(5) * 0.1)
    table = ranking.bayes_vs_baseline(matrix, "base").set_index("variant")
    assert table.loc["near", "decision"] == "equivalent"
    assert table.loc["far", "decision"] == "better"
    # gc is 0.44 points below base on average: mostly inside the ROPE, not decided.
    assert table.loc["gc", "decision"] == "undecided"
    assert table.loc["gc", "p_equivalent"] > table.loc["gc", "p_worse"] > 0.1
    one = ranking.bayes_vs_baseline(MATRIX.iloc[:1], "base")
    assert (one["decision"] == "n/a (n = 1)").all()


def test_accuracy_matrix_keeps_seeds_every_variant_ran():
    runs = pd.DataFrame(
        {
            "dataset": "d",
            "variant": ["a", "b", "a", "b", "a"],
            "seed": [1, 1, 2, 2, 3],
            "test_accuracy": [0.9, 0.8, 0.91, 0.82, 0.95],
        }
    )
    matrix = ranking.accuracy_matrix(runs, "d")
    assert list(matrix.index) == [1, 2]
    assert matrix.loc[2, "b"] == pytest.approx(82.0)


def identical_gain_runs(seeds, n_test=None) -> pd.DataFrame:
    """base and se over `seeds`, se exactly 1 point better in every seed."""
    base = 0.97 + 0.001 * np.arange(len(seeds))
    runs = pd.DataFrame(
        {
            "dataset": "d",
            "variant": ["base"] * len(seeds) + ["se"] * len(seeds),
            "seed": [*seeds, *seeds],
            "test_accuracy": [*base, *(base + 0.01)],
        }
    )
    return runs if n_test is None else runs.assign(n_test=n_test)


@pytest.mark.parametrize("seeds", [(4, 5), (4, 5, 6)])
def test_identical_differences_are_not_certainly_better(seeds):
    # Zero spread used to give P(better) = 1.0 and "better"; the sd is now floored at
    # the item noise of a 1-point difference on 1000 items (about 0.7 points).
    matrix = ranking.accuracy_matrix(identical_gain_runs(seeds, n_test=1000), "d")
    assert matrix.attrs["test_items"] == {"base": 1000, "se": 1000}
    row = ranking.bayes_vs_baseline(matrix, "base").iloc[0]
    assert row["sd_floored"] and row["decision"] == "undecided"
    assert 0.5 < row["p_better"] < 0.95
    floor = ranking.difference_floor(matrix, "se", "base")
    expected = stats.t.sf(0.5, len(seeds) - 1, 1.0, floor / math.sqrt(len(seeds)))
    assert row["p_better"] == pytest.approx(expected)


def test_identical_differences_without_test_items_have_no_posterior():
    matrix = ranking.accuracy_matrix(identical_gain_runs((4, 5, 6)), "d")
    row = ranking.bayes_vs_baseline(matrix, "base").iloc[0]
    assert math.isnan(row["p_better"]) and row["decision"] == "n/a (no spread, test items unknown)"
