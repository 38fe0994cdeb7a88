"""Seeds needed: the power table against simulated studies and the posterior it forecasts."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from attnlab import power


def test_the_seeds_it_names_reach_the_power_in_simulated_studies():
    # n is the fewest seeds with 80% power: simulated studies of n seeds reach it, of
    # n - 1 seeds do not (within the simulation's own noise, about +-0.01).
    rng = np.random.default_rng(7)

    def simulated_power(sd, n):
        diffs = rng.normal(power.ROPE_PTS, sd, size=(8000, n))
        return (scipy_stats.ttest_1samp(diffs, 0.0, axis=1).pvalue < 0.05).mean()

    for sd in (0.4, 1.0):
        n = power.seeds_to_detect(sd)
        assert simulated_power(sd, n) >= power.POWER - 0.02
        assert simulated_power(sd, n - 1) <= power.POWER + 0.02
    assert power.seeds_to_detect(1.0) == 34  # effect size 0.5: the textbook 33.4, rounded up


def test_seeds_to_decide_is_the_first_n_whose_posterior_decides():
    n, decision = power.seeds_to_decide(0.1, 0.6)
    assert decision == "equivalent"

    def inside(k):
        scale = 0.6 / np.sqrt(k)
        t = scipy_stats.t(k - 1, loc=0.1, scale=scale)
        return t.cdf(0.5) - t.cdf(-0.5)

    assert inside(n) >= 0.95 > inside(n - 1)
    assert (
        power.seeds_to_decide(2.0, 0.6) == (2, "better")
        or power.seeds_to_decide(2.0, 0.6)[1] == "better"
    )
    assert power.seeds_to_decide(0.5, 0.6) == (None, "undecided")  # on the ROPE's edge
    assert power.seeds_to_decide(0.0, float("nan")) == (None, "n/a")


def test_power_table_over_seeds_and_its_grouped_refusal():
    rows = []
    for seed, (a, b) in enumerate(((0.90, 0.91), (0.92, 0.92), (0.91, 0.93))):
        rows += [("base", seed, a), ("new", seed, b)]
    runs = pd.DataFrame(rows, columns=["variant", "seed", "test_accuracy"]).assign(
        dataset="d", n_test=1000
    )
    (row,) = power.power_table(runs, "d", "base").itertuples()
    assert (row.variant, row.unit, row.n_seeds) == ("new", "3 seeds", 3)
    assert row.diff_pts == pytest.approx(1.0)
    assert row.seeds_to_detect == power.seeds_to_detect(row.sd_pts)
    text = power.format_power(power.power_table(runs, "d", "base"))
    assert "seeds to detect 0.5 pts (80% power)" in text.columns
    grouped = runs.assign(
        group_by="speaker",
        groups=[
            [{"group": g, "fold": k, "items": 10, "accuracy": acc}]
            for k, (g, acc) in enumerate(zip("abcdef", runs["test_accuracy"], strict=True))
        ],
    )
    (row,) = power.power_table(grouped, "d", "base").itertuples()
    assert row.note.startswith("the unit is speakers") and pd.isna(row.seeds_to_detect)
