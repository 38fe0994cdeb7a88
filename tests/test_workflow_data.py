"""The data stage through Snakemake: tiny config on the mirror, a custom folder dataset,
config validation, lint and a dry run of the study."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import (
    STUDY_CONFIG,
    TINY_CONFIG,
    TINY_DATA_TARGETS,
    describe_failure,
    planned_jobs,
    trainings_planned,
)
from PIL import Image

FSDD_SPEAKERS = {"george", "jackson", "lucas", "nicolas", "theo", "yweweler"}
DIGITS = [str(d) for d in range(10)]

pytestmark = pytest.mark.slow


def read_manifest(workdir: Path, dataset: str) -> pd.DataFrame:
    return pd.read_parquet(workdir / "results" / dataset / "cache" / "manifest.parquet")


def counts_per_class(manifest: pd.DataFrame) -> dict[str, list[int]]:
    table = manifest.groupby(["split", "label"]).size().unstack(fill_value=0)
    return {split: table.loc[split].tolist() for split in table.index}


def png_array(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image, dtype=np.float32) / np.float32(255)


# --- (1) the tiny data stage -------------------------------------------------------------


def test_tiny_reduced_mnist_manifest(tiny_data):
    manifest = read_manifest(tiny_data, "reduced_mnist")
    assert len(manifest) == 90
    assert counts_per_class(manifest) == {"train": [6] * 10, "test": [3] * 10}
    assert manifest["sha256"].is_unique
    assert manifest["speaker"].isna().all()
    for row in manifest.itertuples():
        path = Path(row.path)
        assert path.parts[-3:-1] == (row.split, str(row.label))
        assert (tiny_data / path).is_file()


def test_tiny_fsdd_manifest(tiny_data):
    manifest = read_manifest(tiny_data, "fsdd")
    assert len(manifest) == 80
    # 8 recordings per digit, stratified 80/10/10 (rounded per class: 6/1/1).
    assert counts_per_class(manifest) == {"train": [6] * 10, "val": [1] * 10, "test": [1] * 10}
    assert set(manifest["speaker"]) <= FSDD_SPEAKERS
    assert manifest["index"].between(0, 49).all()
    for row in manifest.itertuples():
        assert Path(row.path).stem == f"{row.label}_{row.speaker}_{row.index}"
    assert manifest.groupby("sha256")["split"].nunique().max() == 1


def test_tiny_image_folders(tiny_data):
    images = tiny_data / "resources" / "images"
    for split, count in (("train", 6), ("test", 3)):
        for digit in DIGITS:
            assert len(list((images / "reduced_mnist" / split / digit).glob("*.png"))) == count
    for digit in DIGITS:
        files = sorted((images / "fsdd" / digit).glob("*.png"))
        assert len(files) == 8
        with Image.open(files[0]) as image:
            assert image.mode == "RGB" and image.size == (32, 32)
    recordings = tiny_data / "resources" / "raw" / "fsdd" / "recordings"
    assert len(list(recordings.glob("*.wav"))) == 3000


@pytest.mark.parametrize(
    "dataset, shapes",
    [
        ("reduced_mnist", {"train": (60, 28, 28, 1), "test": (30, 28, 28, 1)}),
        ("fsdd", {"train": (60, 32, 32, 3), "val": (10, 32, 32, 3), "test": (10, 32, 32, 3)}),
    ],
)
def test_tiny_arrays(tiny_data, dataset, shapes):
    cache = tiny_data / "results" / dataset / "cache"
    manifest = read_manifest(tiny_data, dataset)
    for split, shape in shapes.items():
        x = np.load(cache / f"{split}_x.npy", allow_pickle=False)
        y = np.load(cache / f"{split}_y.npy", allow_pickle=False)
        assert x.dtype == np.float32 and x.shape == shape
        assert 0.0 <= x.min() and x.max() <= 1.0
        assert np.issubdtype(y.dtype, np.integer) and y.shape == (shape[0],)
        rows = manifest[manifest["split"] == split]
        np.testing.assert_array_equal(y, rows["label"].to_numpy())
        # Every row is its PNG scaled to [0, 1], unchanged (validation/test never noised).
        for i, path in enumerate(rows["path"]):
            np.testing.assert_array_equal(x[i], png_array(tiny_data / path).reshape(shape[1:]))
    assert not list(cache.glob("val_noisy*")) and not list(cache.glob("test_noisy*"))


@pytest.mark.parametrize("dataset", ["reduced_mnist", "fsdd"])
def test_tiny_noisy_training_cache(tiny_data, dataset):
    cache = tiny_data / "results" / dataset / "cache"
    clean = np.load(cache / "train_x.npy")
    noisy = np.load(cache / "train_noisy_x.npy")
    assert noisy.dtype == np.float32 and noisy.shape == clean.shape
    assert 0.0 <= noisy.min() and noisy.max() <= 1.0
    difference = noisy - clean
    inside = (clean > 0.1) & (clean < 0.9)  # away from the clipping edges
    assert np.std(difference[inside]) == pytest.approx(0.02, rel=0.15)


def test_tiny_data_stage_is_up_to_date(tiny_data, snakemake_cmd, mirror):
    result = snakemake_cmd(tiny_data, *TINY_DATA_TARGETS, config={"mirror": mirror}, args=["-n"])
    assert result.returncode == 0, result.stdout
    assert "Nothing to be done" in result.stdout, result.stdout


# --- (2) a custom class-folder dataset ------------------------------------------------------

SHAPE_CLASSES = ["circle", "square", "triangle"]


def shapes_overlay(path: Path, image_folder: Path, **settings) -> Path:
    """A config overlay adding the class-folder dataset `shapes` (every required key),
    with `settings` on top."""
    overlay = {
        "datasets": {
            "shapes": {
                "source": "folder",
                "path": str(image_folder),
                "family": "digits",
                "image_size": [20, 24],
                "channels": 1,
                "classes": SHAPE_CLASSES,
                "split": {"method": "random", "fractions": {"train": 0.6, "val": 0.2, "test": 0.2}},
                "baseline": "base",
                "variants": ["base"],
                "recipe": {
                    "learning_rate": 0.001,
                    "clipnorm": None,
                    "epochs": 1,
                    "batch_size": 4,
                    "early_stopping": None,
                    "noisy_train": False,
                    "validation": "val",
                    "validation_fraction": 0.1,
                },
            }
        }
    }
    overlay["datasets"]["shapes"].update(settings)
    path.write_text(yaml.safe_dump(overlay))
    return path


SHAPES_TARGETS = [
    f"results/shapes/cache/{name}"
    for name in ["manifest.parquet"]
    + [f"{s}_{k}.npy" for s in ("train", "val", "test") for k in "xy"]
]


def test_custom_folder_dataset(tmp_path, snakemake_cmd, write_image_folder):
    folder = write_image_folder(tmp_path / "shapes", SHAPE_CLASSES, per_class=5, size=(20, 24))
    overlay = shapes_overlay(tmp_path / "shapes.yaml", folder)
    workdir = tmp_path / "work"
    result = snakemake_cmd(
        workdir, *SHAPES_TARGETS, configfiles=[STUDY_CONFIG, TINY_CONFIG, overlay]
    )
    assert result.returncode == 0, describe_failure(result, workdir)
    manifest = read_manifest(workdir, "shapes")
    assert len(manifest) == 15
    assert counts_per_class(manifest) == {"train": [3] * 3, "val": [1] * 3, "test": [1] * 3}
    assert sorted(set(manifest["class_name"])) == SHAPE_CLASSES
    assert all(Path(p).is_relative_to(folder) for p in manifest["path"])
    x = np.load(workdir / "results" / "shapes" / "cache" / "train_x.npy")
    assert x.shape == (9, 20, 24, 1) and x.dtype == np.float32
    assert not (workdir / "resources").exists()  # no MNIST/FSDD work for this target


def test_folder_of_mixed_sizes_and_colours_resized_and_converted(
    tmp_path, snakemake_cmd, write_image_folder
):
    folder = write_image_folder(tmp_path / "shapes", SHAPE_CLASSES, per_class=5, size=(8, 8))
    write_image_folder(
        folder,
        SHAPE_CLASSES,
        per_class=2,
        size=(32, 32),
        channels=3,
        seed=1,
        filename=lambda c, i: f"{c}_big_{i}.png",
    )
    workdir = tmp_path / "work"
    plain = shapes_overlay(tmp_path / "plain.yaml", folder)
    result = snakemake_cmd(workdir, SHAPES_TARGETS[0], configfiles=[STUDY_CONFIG, plain])
    assert result.returncode != 0
    log = (workdir / "results/logs/data/manifest_shapes.log").read_text()
    assert "size 8x8, expected 20x24 (or set resize to resample)" in log
    assert "mode RGB (3 channels), expected 1 channel(s) (or set convert_channels)" in log
    resized = shapes_overlay(
        tmp_path / "resized.yaml", folder, resize="bilinear", convert_channels=True
    )
    result = snakemake_cmd(workdir, *SHAPES_TARGETS, configfiles=[STUDY_CONFIG, resized])
    assert result.returncode == 0, describe_failure(result, workdir)
    x = np.load(workdir / "results/shapes/cache/train_x.npy")
    assert x.shape[1:] == (20, 24, 1) and len(read_manifest(workdir, "shapes")) == 21
    assert 0.0 <= x.min() and x.max() <= 1.0


@pytest.mark.slow
def test_cross_dataset_evaluation_scores_runs_on_another_test_set(
    tmp_path, snakemake_cmd, write_image_folder
):
    home = write_image_folder(tmp_path / "home", SHAPE_CLASSES, per_class=5, size=(20, 24))
    other = write_image_folder(
        tmp_path / "other", SHAPE_CLASSES, per_class=5, size=(20, 24), seed=3
    )
    first = yaml.safe_load(shapes_overlay(tmp_path / "a.yaml", home).read_text())["datasets"][
        "shapes"
    ]
    datasets = {"shapes": first, "shapes2": {**first, "path": str(other)}}
    for settings in datasets.values():
        settings["variants"] = ["base"]
    config = yaml.safe_load(STUDY_CONFIG.read_text())
    config |= {"datasets": datasets, "cross_dataset": [{"train": "shapes", "test": "shapes2"}]}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    workdir = tmp_path / "work"
    target = "results/tables/cross/shapes_on_shapes2.csv"
    result = snakemake_cmd(workdir, target, configfiles=[path])
    assert result.returncode == 0, describe_failure(result, workdir)
    table = pd.read_csv(workdir / target)
    assert list(table["variant"]) == ["base"] and table.loc[0, "n_seeds"] == 1
    score = json.loads((workdir / "results/cross/shapes_on_shapes2/base/seed4.json").read_text())
    assert score["n_items"] == 3 and table.loc[0, "other_accuracy_pts"] == 100 * score["accuracy"]
    mismatch = config | {
        "datasets": {**datasets, "shapes2": {**datasets["shapes2"], "classes": ["a", "b"]}}
    }
    path.write_text(yaml.safe_dump(mismatch))
    result = snakemake_cmd(workdir, target, configfiles=[path], args=["-n"])
    assert result.returncode != 0
    assert "config cross_dataset[0]: shapes and shapes2 differ in classes" in result.stdout


def test_custom_folder_dataset_with_bad_image_fails_clearly(
    tmp_path, snakemake_cmd, write_image_folder
):
    folder = write_image_folder(tmp_path / "shapes", SHAPE_CLASSES, per_class=5, size=(20, 24))
    black = folder / "square" / "black.png"
    Image.fromarray(np.zeros((20, 24), np.uint8)).save(black)
    overlay = shapes_overlay(tmp_path / "shapes.yaml", folder)
    workdir = tmp_path / "work"
    result = snakemake_cmd(
        workdir, "results/shapes/cache/manifest.parquet", configfiles=[STUDY_CONFIG, overlay]
    )
    assert result.returncode != 0
    log = (workdir / "results" / "logs" / "data" / "manifest_shapes.log").read_text()
    assert str(black) in log and "constant image" in log
    assert not (workdir / "results" / "shapes" / "cache" / "manifest.parquet").exists()


# --- (3) a wrong key or value fails at once, naming it -------------------------------------

GROUPED = {"method": "group_kfold", "folds": 6}
BAD_CONFIGS = {
    "device-tpu": ({"device": "tpu"}, ["'tpu' is not one of", "['device']"]),
    "unknown-top-level-key": ({"colour": "blue"}, ["'colour' was unexpected"]),
    "unknown-variant": (
        {"datasets": {"reduced_mnist": {"variants": ["base", "nonsense"]}}},
        ["variants[1]: unknown digits variant 'nonsense'; known: base, spatial"],
    ),
    "unknown-block": (
        {"datasets": {"reduced_mnist": {"variants": ["base", {"name": "x", "block": "nope"}]}}},
        ["variants[1] 'x': unknown block 'nope'; known: spatial, self_attention, se"],
    ),
    "unknown-block-option": (
        {
            "datasets": {
                "reduced_mnist": {"variants": ["base", {"name": "x", "block": "se", "r": 4}]}
            }
        },
        ["'x' block se: unknown option(s) r; known: ratio"],
    ),
    "bad-block-option-value": (
        {
            "datasets": {
                "fsdd": {"variants": ["lenet", {"name": "c", "block": "cbam", "kernel_size": 4}]}
            }
        },
        ["'c' block cbam.kernel_size: 4 must be odd"],
    ),
    "sweep-of-an-unknown-variant": (
        {
            "sweeps": {
                "s": {"dataset": "reduced_mnist", "variant": "nope", "options": {"ratio": [4]}}
            }
        },
        ["config sweeps.s.variant: 'nope' is not one of"],
    ),
    "sweep-of-an-unknown-recipe-key": (
        {"sweeps": {"s": {"dataset": "reduced_mnist", "variant": "se", "recipe": {"lr": [0.1]}}}},
        ["config sweeps.s.recipe:", "'lr' was unexpected"],
    ),
    "sweep-of-an-option-the-variant-lacks": (
        {"sweeps": {"s": {"dataset": "reduced_mnist", "variant": "se", "options": {"heads": [2]}}}},
        ["config sweeps.s.options: 'heads' is not an option of variant 'se'; known: ratio"],
    ),
    "image-too-small-for-the-family": (
        {"datasets": {"reduced_mnist": {"image_size": [8, 8]}}},
        [
            "datasets.reduced_mnist.image_size: 8x8 is too small for the digits family's network;"
            " the smallest it accepts is 10x10"
        ],
    ),
    "variant-reuses-a-builtin-name": (
        {"datasets": {"reduced_mnist": {"variants": ["base", {"name": "se", "block": "se"}]}}},
        ["'se' is a built-in digits variant"],
    ),
    "unknown-dataset-key": (
        {"datasets": {"fsdd": {"imagesize": [8, 8]}}},
        ["'imagesize' was unexpected"],
    ),
    "bad-channels": (
        {"datasets": {"fsdd": {"channels": 2}}},
        ["2 is not one of", "['fsdd']['channels']"],
    ),
    "bad-split-method": (
        {"datasets": {"fsdd": {"split": {"method": "bogus"}}}},
        ["'bogus' is not one of"],
    ),
    "baseline-not-a-variant": (
        {"datasets": {"fsdd": {"baseline": "cbam_original", "variants": ["lenet"]}}},
        ["datasets.fsdd.baseline"],
    ),
    "bad-per-class": (
        {"datasets": {"reduced_mnist": {"train_per_class": 0}}},
        ["['reduced_mnist']['train_per_class']"],
    ),
    "folder-without-path": (
        {
            "datasets": {
                "extra": {
                    "source": "folder",
                    "family": "digits",
                    "image_size": [28, 28],
                    "channels": 1,
                    "classes": ["a", "b"],
                    "split": {"method": "random"},
                    "baseline": "base",
                    "variants": ["base"],
                    "recipe": {
                        "learning_rate": 0.001,
                        "epochs": 1,
                        "batch_size": 8,
                        "noisy_train": False,
                        "validation": "val",
                    },
                }
            }
        },
        ["'path' is a required property"],
    ),
    "group-folds-without-a-count": (
        {"datasets": {"fsdd": {"split": {"method": "group_kfold"}}}},
        ["None is not of type 'integer'", "['fsdd']['split']['folds']"],
    ),
    "folds-on-a-random-split": (
        {"datasets": {"fsdd": {"split": {"folds": 3}}}},
        ["3 is not of type 'null'", "['fsdd']['split']['folds']"],
    ),
    "grouped-set-beside-an-unknown-dataset": (
        {"datasets": {"fsdd": {"split": GROUPED | {"compare_with": "x"}}}},
        ["config datasets.fsdd.split.compare_with: 'x' is not a dataset with a single split"],
    ),
    "recipe-for-no-variant-of-the-family": (
        {"datasets": {"fsdd": {"variant_recipes": {"nosuch": {"noisy_train": True}}}}},
        ["config datasets.fsdd.variant_recipes.nosuch: not one of its variants"],
    ),
    "early-stopping-on-the-test-set": (
        {
            "datasets": {
                "reduced_mnist": {
                    "recipe": {"early_stopping": {"monitor": "val_loss", "patience": 2}}
                }
            }
        },
        ["early_stopping with validation: test would choose the epoch on the test set"],
    ),
    "recipe-without-epochs": (
        {"datasets": {"reduced_mnist": {"recipe": {"epochs": None}}}},
        ["epochs", "None is not of type 'integer'"],
    ),
}


def dry_run_with(tmp_path, snakemake_cmd, overlay: dict):
    path = tmp_path / "overlay.yaml"
    path.write_text(yaml.safe_dump(overlay))
    return snakemake_cmd(tmp_path / "work", configfiles=[STUDY_CONFIG, path], args=["-n"])


@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_bad_config_fails_at_once_naming_it(tmp_path, snakemake_cmd, case):
    overlay, names = BAD_CONFIGS[case]
    result = dry_run_with(tmp_path, snakemake_cmd, overlay)
    assert result.returncode != 0, result.stdout
    for name in names:
        assert name in result.stdout, result.stdout
    assert "Job stats" not in result.stdout


def test_an_overlay_narrows_the_variants_and_their_recipes_are_ignored(tmp_path, snakemake_cmd):
    # config.yaml has a recipe for hybrid; narrowing fsdd's variants must not trip on it.
    overlay = {"datasets": {"fsdd": {"variants": ["lenet", "cbam"]}}}
    result = dry_run_with(tmp_path, snakemake_cmd, overlay)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "variant_recipes.hybrid: ignored" in result.stdout


def test_speaker_split_without_a_speaker_fails_at_once(tmp_path, snakemake_cmd):
    # method: speaker needs the held-out speaker's name; without one the run should stop at
    # startup, not in the manifest job after fetching and converting the data.
    result = dry_run_with(
        tmp_path, snakemake_cmd, {"datasets": {"fsdd": {"split": {"method": "speaker"}}}}
    )
    assert result.returncode != 0, "split method 'speaker' without a speaker passed startup"
    assert "speaker" in result.stdout


def test_speaker_independent_overlay_is_the_study_fsdd_split_by_speaker(tmp_path, snakemake_cmd):
    study = yaml.safe_load(STUDY_CONFIG.read_text())["datasets"]["fsdd"]
    overlay = STUDY_CONFIG.with_name("speaker_independent.yaml")
    grouped = yaml.safe_load(overlay.read_text())["datasets"]["fsdd_speakers"]
    assert {k: v for k, v in grouped.items() if k not in ("split", "variants")} == {
        k: v for k, v in study.items() if k not in ("split", "variants")
    }
    target = "results/tables/fsdd_speakers/random_vs_grouped.md"
    result = snakemake_cmd(
        tmp_path, target, configfiles=[STUDY_CONFIG, overlay], args=["-n", "-q", "rules"]
    )
    assert result.returncode == 0, result.stdout[-3000:]
    jobs = planned_jobs(result)
    # 4 variants x 2 seeds: 6 folds each, pooled; the random split's same 8 runs beside.
    assert (jobs["train_fold"], jobs["pool_folds"], trainings_planned(jobs)) == (48, 8, 8)


# --- (4) lint and (5) dry run of the study ----------------------------------------------------


def test_lint_of_the_study_config(tmp_path, snakemake_cmd):
    result = snakemake_cmd(tmp_path, configfiles=[STUDY_CONFIG], args=["--lint"])
    where = re.findall(r"^Lints for (.+?):$", result.stdout, flags=re.M)
    what = sorted(set(re.findall(r"^\s+\* (.+?):?$", result.stdout, flags=re.M)))
    assert result.returncode == 0, f"snakemake --lint: {what} in {where}"


def test_dry_run_of_the_study(tmp_path, snakemake_cmd):
    result = snakemake_cmd(tmp_path, configfiles=[STUDY_CONFIG], args=["-n"])
    assert result.returncode == 0, result.stdout[-5000:]
    jobs = planned_jobs(result)
    config = yaml.safe_load(STUDY_CONFIG.read_text())
    runs = sum(len(d["variants"]) for d in config["datasets"].values()) * len(config["seeds"])
    expected = {
        "mnist_raw": 4,
        "fsdd_raw": 1,
        "mnist_images": 1,
        "audio_images": 1,
        "manifest": 2,
        "split_arrays": 5,
        "noisy_train": 1,
        "train": runs,
        "all": 1,
    }
    assert {rule: int(jobs.get(rule, 0)) for rule in expected} == expected
    assert not (tmp_path / "results").exists() and not (tmp_path / "resources").exists()
