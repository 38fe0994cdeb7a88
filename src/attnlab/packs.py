"""Several seeds of one (dataset, variant) in one process (config `pack_seeds`).

A separate job per seed pays TensorFlow's import, the data load and the graph tracing
every time (BENCHMARKS.md, "Per-job overhead"). Here one compiled model serves every seed
of the process: each seed resets it to the variables a fresh build under that seed has,
so a seed trains exactly as its own job would.
"""

from __future__ import annotations

import json
import logging
import shutil
import time

import numpy as np

from attnlab import train

log = logging.getLogger("attnlab.train")


def run_seeds(
    jobs: list[train.Job], outputs: list[train.Outputs], test_items: np.ndarray
) -> list[dict]:
    """Train the seeds of one (dataset, variant) one after another in this process.

    The process pays TensorFlow's import, the data load and the graph tracing once: each
    seed resets one compiled model to the variables a fresh build under its seed has and
    the optimizer to its initial state, so every seed trains as its own job would (bit for
    bit, tests/test_packs.py). A finished seed stays in its backup folder until the last
    one is done, so a failed or killed job loses none; a seed whose loss becomes NaN or
    inf does not stop the others, and the job fails at the end naming it.
    """
    import keras
    import tensorflow as tf

    check_pack(jobs)
    tf.config.experimental.enable_op_determinism()
    arrays, state, results, failures = {}, {}, [], []
    for job, out in zip(jobs, outputs, strict=True):
        if restore_finished(job, out):
            results.append(json.loads(out.metrics.read_text()))
            continue
        began = time.perf_counter()
        keras.utils.set_random_seed(job.seed)
        data = train.load_data(job, arrays)
        fresh = train.compile_model(job, data["train"][0].shape[1:], train.num_classes_of(data))
        model = reset_model(state, fresh)
        try:
            results.append(train.run(job, out, model, data, test_items, state, began))
            keep_finished(out)
        except train.NonFiniteLossError as error:
            shutil.rmtree(out.backup_dir, ignore_errors=True)
            failures.append(str(error))
    if failures:
        raise train.NonFiniteLossError("; ".join(failures))
    for out in outputs:
        shutil.rmtree(out.backup_dir, ignore_errors=True)
    return results


def check_pack(jobs: list[train.Job]) -> None:
    """The jobs of one process differ only in their seed (they share one compiled model)."""
    first = {k: v for k, v in jobs[0].__dict__.items() if k != "seed"}
    for job in jobs[1:]:
        differs = sorted(k for k, v in first.items() if job.__dict__[k] != v)
        if differs:
            raise ValueError(
                f"{job.label()}: cannot train with {jobs[0].label()}: {differs} differ"
            )


def reset_model(state: dict, fresh):
    """The process's compiled model, holding `fresh`'s variables and a new optimizer.

    The first call keeps `fresh` (building its optimizer, so its initial state can be
    restored); later ones copy `fresh`'s variables (weights, BatchNorm statistics, dropout
    seed states) into the first model, whose traced step functions then serve again.
    """
    if "model" not in state:
        fresh.optimizer.build(fresh.trainable_variables)
        state["model"] = fresh
        state["optimizer"] = [v.numpy() for v in fresh.optimizer.variables]
        return fresh
    model = state["model"]
    shapes = [tuple(v.shape) for v in model.variables]
    if shapes != [tuple(v.shape) for v in fresh.variables]:
        raise ValueError("a seed's model differs in its variables from the first seed's")
    for variable, value in zip(model.variables, fresh.variables, strict=True):
        variable.assign(value)
    for variable, value in zip(model.optimizer.variables, state["optimizer"], strict=True):
        variable.assign(value)
    return model


def restore_finished(job: train.Job, outputs: train.Outputs) -> bool:
    """Put back a seed that a failed or killed job finished (kept in its backup folder)."""
    finished = outputs.backup_dir / "finished"
    if not (finished / "metrics.json").exists() or not train.prepare_backup(
        job, outputs.backup_dir
    ):
        return False
    for name in train.Outputs.__annotations__:
        shutil.copy2(finished / getattr(outputs, name).name, getattr(outputs, name))
    log.info("%s: restored from %s, finished by an earlier try", job.label(), finished)
    return True


def keep_finished(outputs: train.Outputs) -> None:
    finished = outputs.backup_dir / "finished"
    partial = finished.with_suffix(".part")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    for name in train.Outputs.__annotations__:
        shutil.copy2(getattr(outputs, name), partial)
    partial.replace(finished)
