"""Sweeps: grid expansion and names; a tiny digits study with a sweep over 2 seeds."""

import pandas as pd
import pytest
from conftest import (
    describe_failure,
    digits_overlay,
    run_snakemake,
    write_digits_config,
)
from PIL import Image

from attnlab import registry, sweeps

SE = registry.builtin("digits", "se")


def test_grid_expands_options_and_recipe_keys_into_named_variants():
    grid = {"options": {"ratio": [4, 16]}, "recipe": {"learning_rate": [0.001, 0.0001]}}
    settings = sweeps.expand("se_grid", grid, SE, {"learning_rate": 0.01})
    assert [s.variant.name for s in settings] == [
        "se-ratio4-learning_rate0.001",
        "se-ratio4-learning_rate0.0001",
        "se-ratio16-learning_rate0.001",
        "se-ratio16-learning_rate0.0001",
    ]
    first = settings[0]
    assert first.variant.placements[0].options == {"ratio": 4}
    assert first.recipe == {"learning_rate": 0.001}
    assert first.values == {"ratio": 4, "learning_rate": 0.001}
    assert first.base == "se" and not first.variant.is_study
    assert all(registry.valid_name(s.variant.name) for s in settings)


def test_options_reach_every_block_and_the_skeleton():
    cbam = registry.builtin("spectrogram", "cbam")
    grid = {"options": {"ratio": [2], "conv_dropout": [0.2]}}
    (setting,) = sweeps.expand("s", grid, cbam, {})
    assert [p.options["ratio"] for p in setting.variant.placements] == [2, 2]
    assert setting.variant.skeleton["conv_dropout"] == 0.2
    assert setting.variant.name == "cbam-ratio2-conv_dropout0.2"


@pytest.mark.parametrize(
    "grid, message",
    [
        ({"options": {"heads": [2]}}, "'heads' is not an option of variant 'se'; known: ratio"),
        ({"options": {"ratio": [0]}}, "ratio: 0 is below the minimum 1"),
        ({}, "no options or recipe keys to sweep"),
    ],
)
def test_bad_sweeps_fail_naming_the_problem(grid, message):
    with pytest.raises(registry.RegistryError, match="config sweeps.bad") as caught:
        sweeps.expand("bad", grid, SE, {})
    assert message in str(caught.value)


def test_the_point_that_changes_nothing_is_the_variant_itself():
    grid = {"options": {"ratio": [8, 16]}, "recipe": {"learning_rate": [0.001]}}
    settings = sweeps.expand("r", grid, SE, {"learning_rate": 0.001})
    assert [s.variant.name for s in settings] == ["se", "se-ratio16-learning_rate0.001"]
    assert settings[0].variant is SE and settings[0].values == {"ratio": 8, "learning_rate": 0.001}


def test_value_text():
    texts = [sweeps.value_text(v) for v in (16, 0.001, 1e-05, True, None, "x")]
    assert texts == ["16", "0.001", "1e-05", "true", "none", "x"]
    assert sweeps.numeric_order(["16", "4", "8"]) == ["4", "8", "16"]


def test_sweep_table_and_conclusion_on_synthetic_runs():
    rows = []
    for seed, (low, high) in zip(
        (1, 2, 3), ((0.90, 0.95), (0.91, 0.97), (0.89, 0.96)), strict=True
    ):
        rows += [("se-ratio4", seed, low, 10.0), ("se-ratio16", seed, high, 12.0)]
    runs = pd.DataFrame(rows, columns=["variant", "seed", "test_accuracy", "train_seconds"])
    # ratio4 validates best although ratio16 tests best: the pick is ratio4.
    runs["validation_accuracy"] = runs["variant"].map({"se-ratio4": 0.99, "se-ratio16": 0.98})
    runs["dataset"] = "d"
    settings = [
        {"variant": "se-ratio4", "values": {"ratio": 4}},
        {"variant": "se-ratio16", "values": {"ratio": 16}},
    ]
    table = sweeps.sweep_table(runs, "d", settings)
    assert list(table["ratio"]) == ["4", "16"]
    assert table["accuracy_mean_pts"].tolist() == pytest.approx([90.0, 96.0])
    low, high = table.loc[1, ["accuracy_ci_low_pts", "accuracy_ci_high_pts"]]
    assert low < 96.0 < high
    # Identical seeds of a setting with known test items: the interval is the item noise.
    same = runs.assign(test_accuracy=0.95, n_test=1000)
    low, high = sweeps.sweep_table(same, "d", settings).loc[
        0, ["accuracy_ci_low_pts", "accuracy_ci_high_pts"]
    ]
    assert low < 95.0 < high
    collapsed = runs.assign(test_accuracy=[0.1, 0.97, 0.1, 0.97, 0.98, 0.97])
    wide = sweeps.sweep_table(collapsed, "d", settings)
    assert (
        wide.loc[0, "accuracy_ci_low_pts"] == 0.0 and wide.loc[0, "accuracy_ci_high_pts"] == 100.0
    )
    assert table["validation_mean_pts"].tolist() == pytest.approx([99.0, 98.0])
    text = sweeps.conclusion("r", runs, "d", table)
    assert text.startswith(
        "sweep r (3 seeds): best on validation se-ratio4 (99.00%; test 90.00%); the settings differ"
    )
    assert "paired t p = " in text
    on_test = runs.assign(validation_accuracy=None)
    text = sweeps.conclusion("r", on_test, "d", sweeps.sweep_table(on_test, "d", settings))
    assert text.startswith("sweep r (3 seeds): no best named (the settings validate on the test")


# --------------------------------------------------- the tiny sweep study over 2 seeds
SEEDS = [4, 5]
SWEEP = {"dataset": "reduced_mnist", "variant": "se"}
# ratio 8 with learning rate 0.001 is the study's se itself: its runs are reused.
SWEEP |= {"options": {"ratio": [8, 16]}, "recipe": {"learning_rate": [0.001, 0.003]}}


@pytest.fixture(scope="module")
def sweep_study(tmp_path_factory, mirror, copy_tiny_data):
    workdir = copy_tiny_data(tmp_path_factory.mktemp("tiny_sweep") / "work")
    overlay = digits_overlay()
    overlay.update(seeds=SEEDS, sweeps={"se_grid": SWEEP})
    config = write_digits_config(workdir, overlay)
    targets = [
        "results/tables/sweeps/se_grid.csv",
        "results/figures/sweeps/se_grid.png",
        "results/tables/reduced_mnist/ranks.csv",
        "results/figures/reduced_mnist/critical_difference.png",
        "results/summary.md",
    ]
    result = run_snakemake(workdir, *targets, configfiles=[config])
    if result.returncode != 0:
        pytest.fail("tiny sweep study failed\n" + describe_failure(result, workdir))
    return workdir


@pytest.mark.slow
def test_sweep_table_plot_and_rankings(sweep_study):
    table = pd.read_csv(sweep_study / "results/tables/sweeps/se_grid.csv")
    assert len(table) == 4 and (table["n_seeds"] == 2).all()
    assert set(table["ratio"]) == {8, 16} and set(table["learning_rate"]) == {0.001, 0.003}
    assert table["variant"].iloc[0] == "se"
    assert (
        "sweep se_grid (2 seeds): no best named"
        in (sweep_study / "results/tables/sweeps/se_grid.md").read_text()
    )
    ranks = pd.read_csv(sweep_study / "results/tables/reduced_mnist/ranks.csv")
    assert len(ranks) == 5 and (ranks["n_units"] == 2).all()
    assert ranks["friedman_p"].between(0, 1).all()
    bayes = pd.read_csv(sweep_study / "results/tables/reduced_mnist/bayes.csv")
    assert set(bayes["variant"]) == set(ranks["variant"]) - {"base"}
    assert (bayes[["p_worse", "p_equivalent", "p_better"]].sum(axis=1) - 1).abs().max() < 1e-9
    for figure in ("figures/sweeps/se_grid.png", "figures/reduced_mnist/critical_difference.png"):
        with Image.open(sweep_study / "results" / figure) as image:
            assert image.size[0] > 400


@pytest.mark.slow
def test_summary_opens_with_ranking_equivalence_and_sweeps(sweep_study):
    summary = (sweep_study / "results/summary.md").read_text()
    overview = summary.split("## reduced_mnist: the study's table")[0]
    assert "## reduced_mnist: ranking (n = 2 seeds)" in overview
    assert "Practically equivalent to base" in overview
    assert "- sweep se_grid (2 seeds): no best named" in overview
