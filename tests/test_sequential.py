"""Seeds on demand: the rounds on synthetic runs, and a tiny digits study that stops early
for the clear comparisons and goes on for the undecided one."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import describe_failure, digits_overlay, run_snakemake, write_digits_config

from attnlab import sequential

SETTINGS = {"min_seeds": 3, "max_seeds": 5, "rope": 0.5, "decide_at": 0.95}


def test_seed_sequence_keeps_the_config_seeds_first():
    assert sequential.seed_sequence([4], 5) == [4, 5, 6, 7, 8]
    assert sequential.seed_sequence([4, 1, 9], 5) == [4, 1, 9, 10, 11]
    assert sequential.seed_sequence([4, 5, 6, 7], 3) == [4, 5, 6]


def synthetic_runs(accuracy: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {"dataset": "d", "variant": v, "seed": 4 + i, "test_accuracy": a, "n_test": 10_000}
        for v, values in accuracy.items()
        for i, a in enumerate(values)
    ]
    return pd.DataFrame(rows)


def test_a_round_stops_the_decided_and_adds_a_seed_to_the_rest():
    sequence = sequential.seed_sequence([4], 5)
    seeds = {v: sequence[:3] for v in ("base", "good", "same", "bad")}  # min_seeds 3
    runs = synthetic_runs(
        {
            "base": [0.90, 0.91, 0.92],
            "good": [0.95, 0.96, 0.97],
            "same": [0.91, 0.90, 0.93],
            "bad": [0.70, 0.72, 0.71],
        }
    )
    state = sequential.next_round(runs, "d", "base", seeds, sequence, SETTINGS)
    decisions = {d["variant"]: d for d in state["decisions"]}
    assert decisions["good"]["decision"] == "better"
    assert decisions["bad"]["decision"] == "worse"
    assert decisions["good"]["stopped"] == "decided at 3 seeds"
    assert decisions["same"]["stopped"] == "" and not state["done"]
    assert state["seeds"] == {
        "base": [4, 5, 6, 7],
        "good": [4, 5, 6],
        "same": [4, 5, 6, 7],
        "bad": [4, 5, 6],
    }
    # At max_seeds the undecided one stops too, and the rounds are done.
    at_max = {v: sequence[:5] for v in ("base", "same")}
    runs = synthetic_runs(
        {"base": [0.90, 0.91, 0.92, 0.90, 0.91], "same": [0.91, 0.9, 0.93, 0.9, 0.9]}
    )
    final = sequential.next_round(runs, "d", "base", at_max, sequence, SETTINGS)
    assert final["done"] and final["seeds"] == at_max
    assert final["decisions"][0]["stopped"] == "max_seeds (5) reached"
    table = sequential.decisions_table(final)
    assert table.loc[0, "seeds"] == "4, 5, 6, 7, 8"


# ------------------------------------------- a tiny digits study with seeds on demand
@pytest.fixture(scope="module")
def sequential_study(tmp_path_factory):
    """base trains 1 epoch; se 6 epochs (clearly better); `worse` learns nothing (clearly
    worse); `twin` is base again (identical: never decided, so it goes on to max_seeds)."""
    workdir = tmp_path_factory.mktemp("sequential")
    overlay = digits_overlay()
    digits = overlay["datasets"]["reduced_mnist"]
    digits |= {"train_per_class": 30, "test_per_class": 10}
    digits["variants"] = ["base", "se", {"name": "worse"}, {"name": "twin"}]
    digits["recipe"] |= {"epochs": 6}
    digits["variant_recipes"] = {
        "base": {"epochs": 1},
        "twin": {"epochs": 1},
        "worse": {"learning_rate": 1.0e-9},
    }
    overlay["seeds"] = [4]
    overlay["sequential"] = SETTINGS
    config = write_digits_config(workdir, overlay)
    result = run_snakemake(
        workdir,
        "results/tables/reduced_mnist/decisions.csv",
        "results/summary.md",
        configfiles=[config],
        timeout=1800,
    )
    if result.returncode != 0:
        pytest.fail("tiny sequential study failed\n" + describe_failure(result, workdir))
    return workdir


@pytest.mark.slow
def test_the_clear_ones_stop_early_and_the_undecided_goes_on(sequential_study):
    table = pd.read_csv(sequential_study / "results/tables/reduced_mnist/decisions.csv")
    table = table.set_index("variant")
    assert table.loc["se", "decision"] == "better" and table.loc["se", "n_seeds"] < 5
    assert table.loc["worse", "decision"] == "worse" and table.loc["worse", "n_seeds"] < 5
    assert table.loc["twin", "n_seeds"] == 5
    assert table.loc["twin", "stopped"] == "max_seeds (5) reached"
    assert table.loc["twin", "diff_pts"] == 0.0  # identical runs, floored: never P = 1
    assert table.loc["twin", "p_equivalent"] < 0.95
    rounds = sorted((sequential_study / "results/sequential/reduced_mnist").glob("round*.json"))
    last = json.loads(rounds[-1].read_text())
    assert last["done"] and last["seeds"]["base"] == [4, 5, 6, 7, 8]
    trained = {
        p.parent.name
        for p in (sequential_study / "results/reduced_mnist/se").glob("*/metrics.json")
    }
    assert trained == {f"seed{s}" for s in last["seeds"]["se"]}
    assert np.isfinite(table["diff_pts"]).all()
    summary = (sequential_study / "results/summary.md").read_text()
    assert "## reduced_mnist: seeds on demand" in summary and "max_seeds (5) reached" in summary
