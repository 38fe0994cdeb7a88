"""Training jobs through Snakemake on tiny digits data: determinism, resume, NaN, rebuilds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import digits_overlay, planned_jobs, write_digits_config

from attnlab import precision

REPO = Path(__file__).resolve().parents[1]
MIRROR = REPO.parent / "shared" / "data"
TIMING_KEYS = {"train_seconds"}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not MIRROR.is_dir(), reason=f"offline data mirror {MIRROR} not found"),
]


def run_workflow(workdir: Path, overlay: dict, *args: str, **kwargs) -> subprocess.CompletedProcess:
    config_path = write_digits_config(workdir, overlay)
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile")]
    command += [*args, "--directory", str(workdir), "--cores", "2"]
    command += ["--configfile", str(config_path)]  # last: it takes several values
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def run_dir(workdir: Path, variant: str, seed: int = 4) -> Path:
    return workdir / "results" / "reduced_mnist" / variant / f"seed{seed}"


def read_metrics(workdir: Path, variant: str) -> dict:
    return json.loads((run_dir(workdir, variant) / "metrics.json").read_text())


def check(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


# The training jobs only: these tests do not need the tables and figures of `rule all`.
TARGETS = [f"results/reduced_mnist/{variant}/seed4/metrics.json" for variant in ("base", "se")]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, copy_tiny_data) -> Path:
    workdir = copy_tiny_data(tmp_path_factory.mktemp("trained") / "work")
    check(run_workflow(workdir, digits_overlay(), *TARGETS))
    return workdir


def test_every_output_of_a_job_is_written(trained):
    folder = run_dir(trained, "se")
    for name in ("model.keras", "history.csv", "metrics.json", "predictions.parquet"):
        assert (folder / name).stat().st_size > 0, name
    metrics = read_metrics(trained, "se")
    assert metrics["params"] == 225_326
    assert metrics["epochs_run"] == 1 and metrics["resumed"] is False
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and np.isfinite(metrics["test_loss"])
    assert metrics["device"] == "cpu" and metrics["precision"] == "float32"
    origin = metrics["provenance"]
    assert len(origin["commit"]) == 40 and isinstance(origin["dirty"], bool)
    assert {"keras", "numpy", "snakemake"} <= set(origin["packages"])
    assert {"tensorflow", "tensorflow-cpu"} & set(origin["packages"])
    assert origin["cpu"] and origin["cpu_count"] >= 1 and origin["gpu"] is None
    assert origin["precision"] == "float32" and origin["threads"] == 1
    assert not (folder / "backup").exists()
    benchmark = trained / "results" / "benchmarks" / "train" / "reduced_mnist" / "se" / "seed4.tsv"
    assert benchmark.exists()
    log = (
        trained / "results" / "logs" / "train" / "reduced_mnist" / "se" / "seed4.log"
    ).read_text()
    assert "epoch 1" in log


def test_same_job_twice_gives_identical_weights_and_metrics(trained, tmp_path):
    import keras

    first = read_metrics(trained, "base")
    weights_before = keras.saving.load_model(run_dir(trained, "base") / "model.keras").get_weights()
    check(run_workflow(trained, digits_overlay(), *TARGETS, "--forcerun", "train"))
    second = read_metrics(trained, "base")
    weights_after = keras.saving.load_model(run_dir(trained, "base") / "model.keras").get_weights()
    assert {k: v for k, v in first.items() if k not in TIMING_KEYS} == {
        k: v for k, v in second.items() if k not in TIMING_KEYS
    }
    for before, after in zip(weights_before, weights_after, strict=True):
        np.testing.assert_array_equal(before, after)


def test_one_target_trains_exactly_that_model(trained, tmp_path):
    fresh = run_workflow(
        tmp_path, digits_overlay(), "-n", "results/reduced_mnist/se/seed4/metrics.json"
    )
    assert planned_jobs(check(fresh))["train"] == 1


def test_changing_one_variant_recipe_reruns_only_that_variant(trained):
    overlay = digits_overlay()
    overlay["datasets"]["reduced_mnist"]["variant_recipes"] = {"se": {"batch_size": 16}}
    result = check(run_workflow(trained, overlay, "-n", *TARGETS))
    assert planned_jobs(result).get("train") == 1
    outputs = [line for line in result.stdout.splitlines() if line.strip().startswith("output:")]
    assert any("reduced_mnist/se/seed4/metrics.json" in line for line in outputs)
    assert not any("reduced_mnist/base/seed4" in line for line in outputs)


def test_unchanged_study_is_a_no_op(trained):
    result = check(run_workflow(trained, digits_overlay(), "-n", *TARGETS))
    assert "Nothing to be done" in result.stdout + result.stderr


def test_nan_loss_stops_the_job_with_a_clear_message(tmp_path, copy_tiny_data):
    tmp_path = copy_tiny_data(tmp_path / "work")
    result = run_workflow(
        tmp_path,
        digits_overlay(learning_rate=1e12),
        "results/reduced_mnist/base/seed4/metrics.json",
    )
    assert result.returncode != 0
    assert "Error in rule train" in result.stderr, result.stderr[-3000:]
    log = (tmp_path / "results/logs/train/reduced_mnist/base/seed4.log").read_text()
    assert "reduced_mnist/base/seed4: training loss became" in log
    assert "in epoch 1" in log
    assert not (run_dir(tmp_path, "base") / "metrics.json").exists()
    assert not (run_dir(tmp_path, "base") / "model.keras").exists()


def test_killed_job_resumes_from_its_last_epoch_as_if_never_killed(tmp_path, copy_tiny_data):
    """The resumed run is the uninterrupted one, bit for bit: same epochs, the same
    early-stopping decision and restored weights, the same predictions."""
    stopping = {"monitor": "val_loss", "patience": 2, "restore_best_weights": True}
    overlay = digits_overlay(
        epochs=12, early_stopping=stopping, validation="split", validation_fraction=0.2
    )
    overlay["datasets"]["reduced_mnist"]["train_per_class"] = 60
    target = "results/reduced_mnist/base/seed4/metrics.json"
    uninterrupted = copy_tiny_data(tmp_path / "uninterrupted")
    check(run_workflow(uninterrupted, overlay, target))
    tmp_path = tmp_path / "killed"
    check(
        run_workflow(
            tmp_path,
            overlay,
            "results/reduced_mnist/cache/train_x.npy",
            "results/reduced_mnist/cache/test_x.npy",
        )
    )
    log = tmp_path / "results/logs/train/reduced_mnist/base/seed4.log"
    config_path = write_digits_config(tmp_path, overlay)
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), target]
    command += ["--directory", str(tmp_path), "--cores", "2", "--configfile", str(config_path)]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if log.exists() and "epoch 2:" in log.read_text():
            break
        time.sleep(0.05)
    assert process.poll() is None, "the job finished before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (run_dir(tmp_path, "base") / "metrics.json").exists()
    check(run_workflow(tmp_path, overlay, "--unlock"))  # what a user does after a kill
    check(run_workflow(tmp_path, overlay, "--rerun-incomplete", target))
    metrics = read_metrics(tmp_path, "base")
    assert metrics["resumed"] is True and metrics["resumed_from_epoch"] >= 2
    expected = read_metrics(uninterrupted, "base")
    for key in ("epochs_run", "best_epoch", "test_accuracy", "test_loss"):
        assert metrics[key] == expected[key], key
    runs = [run_dir(workdir, "base") for workdir in (tmp_path, uninterrupted)]
    histories = [pd.read_csv(run / "history.csv").drop(columns="seconds") for run in runs]
    pd.testing.assert_frame_equal(*histories)
    pd.testing.assert_frame_equal(*(pd.read_parquet(run / "predictions.parquet") for run in runs))


@pytest.mark.parametrize("setting", ["mixed_bfloat16", "mixed_float16", "auto"])
def test_precision_options_train_a_step(tmp_path, setting, copy_tiny_data):
    tmp_path = copy_tiny_data(tmp_path / "work")
    overlay = {**digits_overlay(), "precision": setting}
    check(run_workflow(tmp_path, overlay, "results/reduced_mnist/base/seed4/metrics.json"))
    metrics = read_metrics(tmp_path, "base")
    # auto: what this machine and base's evidence give (tests/test_precision.py).
    policy, why = precision.resolve(setting, metrics["architecture"], "cpu")
    assert metrics["precision"] == policy and np.isfinite(metrics["test_loss"])
    log = (tmp_path / "results/logs/train/reduced_mnist/base/seed4.log").read_text()
    assert f"precision {policy} ({why})" in log
