"""Read a list of run folders' files into tidy frames.

A run folder is `results/{dataset}/{variant}/seed{seed}/` holding `metrics.json`,
`history.csv` and `predictions.parquet`. `load_runs`, `load_histories` and
`load_predictions` take lists of those files and the runs' identities (which the
workflow passes as params, never parsed from paths).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

# `group`: the held-out group of each item of a pooled grouped-folds run.
PREDICTION_COLUMNS = ("item", "label", "pred", "group")


def _read_metrics(metrics: Path, predictions: Path) -> dict:
    run = json.loads(metrics.read_text())
    run["recipe"] = json.dumps(run["recipe"], sort_keys=True)
    run["architecture"] = json.dumps(run["architecture"], sort_keys=True)
    run["n_test"] = pq.read_metadata(predictions).num_rows
    return run


def load_runs(metrics: Sequence[str | Path], predictions: Sequence[str | Path]) -> pd.DataFrame:
    """One row per run: every `metrics.json` key and `n_test` (rows of its predictions).

    `metrics` and `predictions` list the same runs in the same order.
    """
    if len(metrics) != len(predictions):
        raise ValueError(f"load_runs: {len(metrics)} metrics files, {len(predictions)} predictions")
    frame = pd.DataFrame(
        [_read_metrics(Path(m), Path(p)) for m, p in zip(metrics, predictions, strict=True)]
    )
    if frame.empty:
        raise ValueError("load_runs: no runs given")
    return frame.sort_values(["dataset", "variant", "seed"], ignore_index=True)


def _load_each(paths: Sequence[str | Path], identities: Sequence[Mapping], read) -> pd.DataFrame:
    if len(paths) != len(identities):
        raise ValueError(f"{len(paths)} files but {len(identities)} run identities")
    frames = [
        read(Path(path)).assign(dataset=i["dataset"], variant=i["variant"], seed=int(i["seed"]))
        for path, i in zip(paths, identities, strict=True)
    ]
    frame = pd.concat(frames, ignore_index=True)
    front = ["dataset", "variant", "seed"]
    return frame[front + [c for c in frame.columns if c not in front]]


def load_histories(paths: Sequence[str | Path], identities: Sequence[Mapping]) -> pd.DataFrame:
    """Every run's `history.csv` with dataset, variant and seed columns.

    `identities[i]` is the dataset, variant and seed of `paths[i]`.
    """
    return _load_each(paths, identities, pd.read_csv)


def load_predictions(
    paths: Sequence[str | Path], identities: Sequence[Mapping], probabilities: bool = False
) -> pd.DataFrame:
    """Every run's `predictions.parquet` (item, label, pred, group where recorded; p0.. if
    asked)."""

    def read(path: Path) -> pd.DataFrame:
        if probabilities:
            return pd.read_parquet(path)
        recorded = pq.read_schema(path).names
        return pd.read_parquet(path, columns=[c for c in PREDICTION_COLUMNS if c in recorded])

    return _load_each(paths, identities, read)
