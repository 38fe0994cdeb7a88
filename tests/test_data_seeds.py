"""data_seeds: every training seed also redraws its data, so intervals include test-set
sampling; the seed equal to data_seed keeps the study's shared draw."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
from conftest import (
    STUDY_CONFIG,
    describe_failure,
    digits_overlay,
    run_snakemake,
    write_digits_config,
)

from attnlab import config_files, plan, summary, units

SPEAKERS = STUDY_CONFIG.parent / "speaker_independent.yaml"


@pytest.fixture(scope="module")
def study():
    return config_files.load_config([STUDY_CONFIG])


def drawn(config, **overlay):
    return plan.Plan(config_files.merge(copy.deepcopy(config), {"data_seeds": True, **overlay}))


def test_each_seed_reads_its_own_draw_and_seed_4_the_shared_cache(study):
    planned = drawn(study, seeds=[4, 5, 6])
    assert planned.draws == ["5", "6"]
    assert planned.drawn_stages("reduced_mnist") == ["images"]  # the per-class subsample
    assert planned.drawn_stages("fsdd") == ["split"]  # every recording, a random split
    shared = planned.train_inputs("reduced_mnist", "base", seed="4")
    own = planned.train_inputs("reduced_mnist", "base", seed="5")
    assert shared["train_x"] == "results/reduced_mnist/cache/train_x.npy"
    assert own["train_x"] == "results/reduced_mnist/cache/data5/train_x.npy"
    assert own["manifest"] == "results/reduced_mnist/cache/data5/manifest.parquet"
    assert planned.manifest_inputs("reduced_mnist", 5) == {
        "images": "resources/images/reduced_mnist.data5"
    }
    # FSDD's spectrograms do not depend on the draw; only its split does.
    assert planned.manifest_inputs("fsdd", 5)["images"] == "resources/images/fsdd"
    assert planned.shown_model({"dataset": "fsdd", "variant": "cbam", "seed": 6})["images"] == (
        "results/fsdd/cache/data6/test_x.npy"
    )
    assert [planned.data_seed_of(s) for s in (4, 5, None)] == [4, 5, 4]
    assert plan.Plan(study).draws == [] and plan.Plan(study).draw_of(5) is None


def test_data_seeds_is_refused_where_nothing_is_drawn(study):
    official = {"datasets": {"fsdd": {"split": {"method": "official"}}}}
    with pytest.raises(ValueError, match=r"data_seeds \(datasets.fsdd\): nothing .* 'official'"):
        drawn(study, **official)
    speakers = config_files.load_config([STUDY_CONFIG, SPEAKERS])
    with pytest.raises(ValueError, match=r"datasets.fsdd_speakers\): grouped folds"):
        drawn(speakers)


def runs_table(data_seeds: list[int]) -> pd.DataFrame:
    rows = [
        {
            "dataset": "d",
            "variant": variant,
            "seed": seed,
            "data_seed": data_seed,
            "test_accuracy": 0.9 + 0.01 * k + 0.005 * (variant == "b"),
            "test_items": 100,
            "train_samples": 800,
            "val_samples": 100,
            "validation": "val",
        }
        for variant in ("a", "b")
        for k, (seed, data_seed) in enumerate(zip([4, 5, 6], data_seeds, strict=True))
    ]
    return pd.DataFrame(rows)


def test_redrawn_seeds_share_data_so_their_spread_is_corrected_and_the_scope_says_so():
    fixed, redrawn = runs_table([4, 4, 4]), runs_table([4, 5, 6])
    assert units.accuracy_units(fixed, "d").rho == 0.0
    assert units.accuracy_units(redrawn, "d").rho == pytest.approx(100 / 1000)
    assert "the same split (data seed 4)" in summary.scope_line(fixed, 4)
    scope = summary.scope_line(redrawn, 4)
    assert "every seed redraws its data" in scope and "about data drawn like this" in scope


@pytest.mark.slow
def test_a_redrawn_seed_trains_on_another_subsample(tmp_path, mirror):
    config = write_digits_config(tmp_path, digits_overlay() | {"data_seeds": True, "seeds": [4, 5]})
    targets = [
        "results/reduced_mnist/cache/test_y.npy",
        "results/reduced_mnist/base/seed5/metrics.json",
    ]
    result = run_snakemake(tmp_path, *targets, configfiles=[config])
    assert result.returncode == 0, describe_failure(result, tmp_path)
    cache = tmp_path / "results/reduced_mnist/cache"
    shared, own = (pd.read_parquet(c / "manifest.parquet") for c in (cache, cache / "data5"))
    assert len(shared) == len(own) == 90
    assert shared.groupby(["split", "label"]).size().equals(own.groupby(["split", "label"]).size())
    assert not set(shared["sha256"]) & set(own.loc[own["split"] == "test", "sha256"])
    assert not np.array_equal(np.load(cache / "test_x.npy"), np.load(cache / "data5/test_x.npy"))
    metrics = json.loads((tmp_path / "results/reduced_mnist/base/seed5/metrics.json").read_text())
    assert metrics["data_seed"] == 5
    assert metrics["inputs"]["train_x"] == "results/reduced_mnist/cache/data5/train_x.npy"
