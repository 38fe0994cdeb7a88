"""Finished runs into a local MLflow store, to browse them with `mlflow ui`.

One MLflow experiment per dataset, one MLflow run per training job (dataset, variant,
seed, fold): the recipe and architecture as params, the test metrics and costs as
metrics, the history per epoch as metric steps, tags dataset / variant / seed / fold /
attention / commit, and metrics.json, history.csv and predictions.parquet as artifacts
(the model stays in its run folder; the tag `model_path` names it).

The store is SQLite (`<store>/mlflow.db`, artifacts under `<store>/artifacts`): MLflow 3
refuses new file stores. Exporting again replaces a run whose metrics.json changed and
leaves the others as they are, so the store mirrors the run folders. Needs the `mlflow`
extra: `pip install -e '.[mlflow]'`.
"""

from __future__ import annotations

import hashlib
import json
import numbers
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

RUN_TAG = "attnlab.run"
HASH_TAG = "attnlab.metrics_sha256"
HISTORY_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy", "seconds")


def _mlflow():
    try:
        import mlflow
    except ImportError as error:
        raise ImportError(
            "the MLflow export needs the mlflow extra: pip install -e '.[mlflow]'"
        ) from error
    return mlflow


def tracking_uri(store: Path | str) -> str:
    return f"sqlite:///{Path(store).resolve() / 'mlflow.db'}"


def run_key(run: Mapping) -> str:
    """ "dataset/variant/seed4" or ".../seed4/fold2": one training job."""
    key = f"{run['dataset']}/{run['variant']}/seed{run['seed']}"
    return key if run.get("fold") is None else f"{key}/fold{run['fold']}"


def _flatten(prefix: str, value) -> dict[str, object]:
    if isinstance(value, Mapping):
        flat = {}
        for key, inner in value.items():
            flat |= _flatten(f"{prefix}.{key}" if prefix else str(key), inner)
        return flat
    return {prefix: json.dumps(value) if isinstance(value, list) else value}


def params_of(metrics: Mapping) -> dict[str, object]:
    """What defined the run: identity, recipe, architecture, precision, device, threads."""
    params = {key: metrics.get(key) for key in ("dataset", "variant", "seed", "fold", "family")}
    params |= {key: metrics.get(key) for key in ("precision", "device", "threads")}
    params |= _flatten("recipe", metrics.get("recipe", {}))
    params |= _flatten("architecture", metrics.get("architecture", {}))
    return {key: value for key, value in params.items() if value is not None}


def metrics_of(metrics: Mapping) -> dict[str, float]:
    """Every numeric top-level result of metrics.json (accuracy, loss, seconds, counts)."""
    return {
        key: float(value)
        for key, value in metrics.items()
        if isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and key not in ("seed", "fold", "threads")
    }


def tags_of(metrics: Mapping, model_path: Path) -> dict[str, str]:
    origin = metrics.get("provenance") or {}
    tags = {key: metrics.get(key) for key in ("dataset", "variant", "seed", "fold", "attention")}
    tags |= {"commit": origin.get("commit"), "code_hash": metrics.get("code_hash")}
    tags |= {RUN_TAG: run_key(metrics), "model_path": str(Path(model_path).resolve())}
    return {key: str(value) for key, value in tags.items() if value is not None}


def _experiment_id(client, store: Path, dataset: str) -> str:
    experiment = client.get_experiment_by_name(dataset)
    if experiment is not None:
        return experiment.experiment_id
    artifacts = (Path(store).resolve() / "artifacts" / dataset).as_uri()
    return client.create_experiment(dataset, artifact_location=artifacts)


def _logged_runs(client, experiment_id: str) -> dict[str, object]:
    found = client.search_runs([experiment_id], max_results=50_000)
    return {run.data.tags.get(RUN_TAG): run for run in found}


def log_run(client, experiment_id: str, files: Mapping[str, Path], metrics: Mapping, digest) -> str:
    """One MLflow run for one training job (`digest`: its metrics.json's); returns its id."""
    from mlflow.entities import Metric, Param, RunTag

    run = client.create_run(experiment_id, run_name=run_key(metrics).split("/", 1)[1])
    run_id = run.info.run_id
    history = pd.read_csv(files["history"])
    steps = [
        Metric(name, float(row[name]), 0, int(row["epoch"]))
        for _, row in history.iterrows()
        for name in HISTORY_METRICS
        if name in row and pd.notna(row[name])
    ]
    results = [Metric(name, value, 0, 0) for name, value in metrics_of(metrics).items()]
    client.log_batch(
        run_id,
        metrics=steps + results,
        params=[Param(k, str(v)[:6000]) for k, v in params_of(metrics).items()],
        tags=[
            RunTag(k, v) for k, v in (tags_of(metrics, files["model"]) | {HASH_TAG: digest}).items()
        ],
    )
    for name in ("metrics", "history", "predictions"):
        client.log_artifact(run_id, str(files[name]))
    client.set_terminated(run_id)
    return run_id


def export(store: Path | str, runs: Sequence[Mapping[str, Path]]) -> pd.DataFrame:
    """Log every run into the store at `store` (see the module docstring).

    Each entry of `runs` maps "metrics", "history", "predictions" and "model" to the
    run's files. Returns one row per run: run (its key), dataset, mlflow_run_id and
    status (logged / unchanged / replaced).
    """
    mlflow = _mlflow()
    Path(store).mkdir(parents=True, exist_ok=True)
    client = mlflow.MlflowClient(tracking_uri=tracking_uri(store))
    rows, known = [], {}
    for files in runs:
        raw = Path(files["metrics"]).read_bytes()
        metrics, digest = json.loads(raw), hashlib.sha256(raw).hexdigest()
        dataset, key = metrics["dataset"], run_key(metrics)
        experiment_id = _experiment_id(client, store, dataset)
        if experiment_id not in known:
            known[experiment_id] = _logged_runs(client, experiment_id)
        earlier = known[experiment_id].get(key)
        if earlier is not None and earlier.data.tags.get(HASH_TAG) == digest:
            run_id, status = earlier.info.run_id, "unchanged"
        else:
            if earlier is not None:
                client.delete_run(earlier.info.run_id)
            run_id = log_run(client, experiment_id, files, metrics, digest)
            status = "replaced" if earlier is not None else "logged"
        rows.append({"run": key, "dataset": dataset, "mlflow_run_id": run_id, "status": status})
    return pd.DataFrame(rows, columns=["run", "dataset", "mlflow_run_id", "status"])
