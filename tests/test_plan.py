"""The plan of a config, without Snakemake: runs, recipes, paths, inputs and checks."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from conftest import REPO_ROOT, STUDY_CONFIG

from attnlab import config_files, plan
from attnlab.cli import main

SPEAKERS = REPO_ROOT / "config" / "speaker_independent.yaml"


@pytest.fixture(scope="module")
def study():
    return config_files.load_config([STUDY_CONFIG])


def with_overlay(config, overlay):
    return config_files.merge(copy.deepcopy(config), overlay)


def test_the_study_plans_its_runs_recipes_and_inputs(study):
    planned = plan.Plan(study)
    assert planned.datasets == ["reduced_mnist", "fsdd"]
    assert [r["seed"] for r in planned.runs("reduced_mnist")] == [4] * 11
    assert planned.recipe_of("fsdd", "hybrid")["noisy_train"] is True
    assert planned.recipe_of("fsdd", "lenet")["noisy_train"] is False
    inputs = planned.train_inputs("fsdd", "hybrid")
    assert inputs["train_x"] == "results/fsdd/cache/train_noisy_x.npy"
    assert inputs["train_x_sha256"] == "results/fsdd/cache/train_noisy_x.npy.sha256"
    assert planned.splits_of("reduced_mnist") == ["train", "test"]
    assert planned.training_file({"dataset": "d", "variant": "v", "seed": 4}, "m.json") == (
        "results/d/v/seed4/m.json"
    )
    # The spectrogram trainings (128x128 x 15 epochs) go before the digits (28x28 x 10).
    assert planned.train_priority("fsdd", "cbam") > planned.train_priority("reduced_mnist", "se")
    outputs = planned.dataset_outputs("fsdd")
    assert "results/tables/fsdd/power.csv" in outputs and "results/fsdd/cache/val_x.npy" in outputs


def test_a_dataset_gets_the_attention_figures_its_variants_have_maps_for(study):
    planned = plan.Plan(study)
    mnist = planned.map_figures("reduced_mnist")
    assert mnist["attention_self"] == ["self_attention"]
    assert "cbam" in mnist["attention_spatial"] and "se" in mnist["channel_weights"]
    assert mnist["gradcam"] == planned.variants_of("reduced_mnist")
    # No spectrogram variant has self-attention: no placeholder figure.
    assert "attention_self" not in planned.map_figures("fsdd")
    outputs = planned.dataset_outputs("fsdd")
    assert "results/figures/fsdd/attention_self.png" not in outputs
    assert "results/figures/fsdd/channel_weights.png" in outputs
    lenet_only = plan.Plan(with_overlay(study, {"datasets": {"fsdd": {"variants": ["lenet"]}}}))
    assert list(lenet_only.map_figures("fsdd")) == ["gradcam"]


def test_fsdd_is_a_preset_of_audio_folder(study):
    planned = plan.Plan(study)
    settings = planned.audio_settings("fsdd")
    assert settings["path"] == "resources/raw/fsdd/recordings"
    assert (settings["layout"], settings["sample_rate"], settings["mono_mixdown"]) == (
        "flat",
        8000,
        False,
    )
    assert planned.manifest_inputs("fsdd")["recordings"] == "resources/images/fsdd.recordings.csv"
    assert planned.datasets_from(*plan.RECORDING_SOURCES) == ["fsdd"]


def test_grouped_folds_plan_one_training_per_fold(study):
    planned = plan.Plan(config_files.load_config([STUDY_CONFIG, SPEAKERS]))
    assert planned.fold_datasets == ["fsdd_speakers"]
    jobs = planned.training_jobs(planned.runs("fsdd_speakers"))
    assert len(jobs) == 4 * 2 * 6 and {j["fold"] for j in jobs} == set(range(1, 7))
    assert planned.cache_file("fsdd_speakers", "test_x.npy", 3) == (
        "results/fsdd_speakers/cache/fold3/test_x.npy"
    )
    assert "results/tables/fsdd_speakers/random_vs_grouped.csv" in planned.dataset_outputs(
        "fsdd_speakers"
    )


def test_sequential_plans_the_first_seeds_and_fills_in_the_schema_defaults(study):
    planned = plan.Plan(with_overlay(study, {"sequential": {"min_seeds": 3, "max_seeds": 6}}))
    assert planned.sequential == {"min_seeds": 3, "max_seeds": 6, "rope": 0.5, "decide_at": 0.95}
    assert planned.seed_sequence == [4, 5, 6, 7, 8, 9]
    assert {r["seed"] for r in planned.runs("fsdd")} == {4, 5, 6}
    with pytest.raises(ValueError, match="max_seeds 2 is below min_seeds 3"):
        plan.Plan(with_overlay(study, {"sequential": {"min_seeds": 3, "max_seeds": 2}}))


@pytest.mark.parametrize(
    ("overlay", "message"),
    [
        ({"datasets": {"fsdd": {"baseline": "se_x"}}}, "baseline: 'se_x' is not in its variants"),
        (
            {"datasets": {"fsdd": {"variant_recipes": {"nosuch": {"epochs": 1}}}}},
            "variant_recipes.nosuch: not one of its variants",
        ),
        (
            {"cross_dataset": [{"train": "reduced_mnist", "test": "fsdd"}]},
            "reduced_mnist and fsdd differ in image_size",
        ),
        (
            {"sweeps": {"s": {"dataset": "fsdd", "variant": "nosuch", "options": {}}}},
            "config sweeps.s.variant: 'nosuch' is not one of",
        ),
        ({"run_datasets": ["fsdd", "mnist"]}, "config run_datasets: ['mnist'] not in datasets"),
        (
            {"datasets": {"fsdd": {"sample_rate": 16000}}},
            "datasets.fsdd.sample_rate: source fsdd reads the fetched FSDD recordings",
        ),
    ],
)
def test_every_config_check_names_the_key(study, overlay, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        plan.Plan(with_overlay(study, overlay))


def test_narrowing_the_variants_ignores_their_recipes_with_a_note(study):
    planned = plan.Plan(with_overlay(study, {"datasets": {"fsdd": {"variants": ["lenet"]}}}))
    assert planned.variants_of("fsdd") == ["lenet"]
    assert planned.notes == [
        "config datasets.fsdd.variant_recipes.hybrid: ignored (hybrid is not in the "
        "dataset's variants)"
    ]


def test_run_datasets_builds_only_those_and_leaves_out_their_sweeps_and_pairs(study):
    overlay = {
        "run_datasets": ["reduced_mnist"],
        "datasets": {"copy": {**study["datasets"]["reduced_mnist"]}},
        "cross_dataset": [{"train": "reduced_mnist", "test": "copy"}],
        "sweeps": {"lr": {"dataset": "fsdd", "variant": "lenet", "recipe": {"epochs": [1]}}},
    }
    planned = plan.Plan(with_overlay(study, overlay))
    assert planned.datasets == ["reduced_mnist"] and list(planned.variants) == ["reduced_mnist"]
    assert planned.cross_pairs == [] and planned.sweeps == {}
    assert planned.notes == [
        "run_datasets: building ['reduced_mnist'], leaving out ['fsdd', 'copy']",
        "run_datasets: sweep lr on fsdd left out",
        "run_datasets: cross_dataset reduced_mnist -> copy left out",
    ]
    assert all("fsdd" not in target for target in planned.study_outputs())
    assert plan.Plan(with_overlay(study, {**overlay, "run_datasets": None})).cross_pairs == [
        "reduced_mnist_on_copy"
    ]


def test_load_config_merges_in_order_and_fills_defaults(tmp_path):
    overlay = tmp_path / "o.yaml"
    overlay.write_text(
        yaml.safe_dump({"seeds": [1, 2], "datasets": {"fsdd": {"baseline": "cbam"}}})
    )
    config = config_files.load_config([STUDY_CONFIG, overlay])
    assert config["seeds"] == [1, 2] and config["datasets"]["fsdd"]["baseline"] == "cbam"
    assert config["datasets"]["fsdd"]["source"] == "fsdd"  # kept from the first file
    assert config["threads"] == 1 and config["sequential"] is None  # schema defaults


def test_plan_command_prints_the_runs(capsys, tmp_path):
    assert main(["plan", "--configfile", str(STUDY_CONFIG), str(SPEAKERS)]) == 0
    text = capsys.readouterr().out
    assert "fsdd_speakers: 4 variants x 2 seeds x 6 folds = 48 trainings" in text
    assert "total: 90 trainings" in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"datasets": {"fsdd": {"baseline": "se_x"}}}))
    assert main(["plan", "--configfile", str(STUDY_CONFIG), str(bad)]) == 2
    assert "baseline: 'se_x' is not in its variants" in capsys.readouterr().err
