"""Finished runs into a real local MLflow store (attnlab.tracking)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from attnlab import tracking

mlflow = pytest.importorskip("mlflow")


def write_run(root, variant, seed, accuracy, fold=None):
    """A run folder as a training job leaves it (the files the export reads)."""
    folder = root / "reduced_mnist" / variant / f"seed{seed}"
    folder.mkdir(parents=True)
    metrics = {
        "dataset": "reduced_mnist",
        "variant": variant,
        "family": "digits",
        "seed": seed,
        "fold": fold,
        "attention": variant != "base",
        "architecture": {"name": variant, "family": "digits", "blocks": [], "skeleton": {}},
        "recipe": {"learning_rate": 0.001, "epochs": 2, "early_stopping": None},
        "test_accuracy": accuracy,
        "test_loss": 0.1,
        "train_seconds": 3.5,
        "resumed": False,
        "precision": "float32",
        "threads": 1,
        "code_hash": "abc",
        "provenance": {"commit": "c" * 40, "dirty": False},
    }
    (folder / "metrics.json").write_text(json.dumps(metrics))
    history = {"epoch": [1, 2], "loss": [0.9, 0.5], "accuracy": [0.7, 0.8]}
    pd.DataFrame(history | {"val_loss": [0.8, 0.6], "seconds": [1.0, 1.1]}).to_csv(
        folder / "history.csv", index=False
    )
    pd.DataFrame({"item": [0, 1], "label": [3, 4], "predicted": [3, 5]}).to_parquet(
        folder / "predictions.parquet"
    )
    files = {name: folder / f"{name}.{ext}" for name, ext in (("metrics", "json"),)}
    files |= {"history": folder / "history.csv", "predictions": folder / "predictions.parquet"}
    return files | {"model": folder / "model.keras"}


def test_every_run_is_logged_with_params_metrics_history_tags_and_artifacts(tmp_path):
    runs = [
        write_run(tmp_path / "results", v, s, 0.9 + s / 100) for v in ("base", "se") for s in (4, 5)
    ]
    store = tmp_path / "mlruns"
    table = tracking.export(store, runs)
    assert list(table["status"]) == ["logged"] * 4

    client = mlflow.MlflowClient(tracking_uri=tracking.tracking_uri(store))
    experiment = client.get_experiment_by_name("reduced_mnist")
    found = client.search_runs([experiment.experiment_id], filter_string="tags.variant = 'se'")
    assert sorted(r.data.tags["seed"] for r in found) == ["4", "5"]
    run = next(r for r in found if r.data.tags["seed"] == "5")
    assert run.info.run_name == "se/seed5"
    assert run.data.metrics["test_accuracy"] == pytest.approx(0.95)
    assert run.data.params["recipe.learning_rate"] == "0.001"
    assert "recipe.early_stopping" not in run.data.params  # null: not set
    assert run.data.tags["commit"] == "c" * 40 and run.data.tags["attention"] == "True"
    losses = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in losses] == [(1, 0.9), (2, 0.5)]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert artifacts == {"metrics.json", "history.csv", "predictions.parquet"}
    assert str(store.resolve()) in run.info.artifact_uri


def test_exporting_again_replaces_only_the_runs_that_changed(tmp_path):
    runs = [write_run(tmp_path / "results", "se", s, 0.9) for s in (4, 5)]
    store = tmp_path / "mlruns"
    first = tracking.export(store, runs)
    metrics = json.loads(runs[1]["metrics"].read_text()) | {"test_accuracy": 0.5}
    runs[1]["metrics"].write_text(json.dumps(metrics))
    again = tracking.export(store, runs)
    assert list(again["status"]) == ["unchanged", "replaced"]
    assert again["mlflow_run_id"][0] == first["mlflow_run_id"][0]
    client = mlflow.MlflowClient(tracking_uri=tracking.tracking_uri(store))
    experiment = client.get_experiment_by_name("reduced_mnist")
    active = client.search_runs([experiment.experiment_id])
    assert sorted(r.data.metrics["test_accuracy"] for r in active) == [0.5, 0.9]


def test_fold_runs_are_told_apart(tmp_path):
    run = write_run(tmp_path / "results", "se", 4, 0.9, fold=2)
    table = tracking.export(tmp_path / "mlruns", [run])
    assert table["run"].tolist() == ["reduced_mnist/se/seed4/fold2"]
