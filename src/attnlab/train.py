"""Training: (dataset, variant, seed) -> model, history, metrics, predictions.

One process trains one or several seeds of a (dataset, variant) (`run_seeds`; config
`pack_seeds`). Call `attnlab.runtime.configure()` before this module imports TensorFlow
(the workflow script does). Runs checkpoint every epoch into `{run_dir}/backup/` and
resume from it exactly: a resumed run is the uninterrupted one, bit for bit.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from attnlab import cache, spec

log = logging.getLogger("attnlab.train")

HISTORY_COLUMNS = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"]
CHECKPOINT = "checkpoint.npz"  # in the backup folder
STOPPING_STATE = ("wait", "stopped_epoch", "best", "best_epoch")
# Keras's fit makes two iterators of the training data per epoch (one it trains on, one it
# makes at the epoch's end and drops), so epoch k trains on the shuffle's order 2k. The
# resume tests (tests/test_resume.py, tests/test_train.py) fail if a Keras version changes
# that.
ITERATORS_PER_EPOCH = 2


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or inf."""


@dataclass
class Job:
    """Everything that defines one training run; its JSON form fingerprints the checkpoint."""

    dataset: str
    variant: str
    architecture: dict
    seed: int
    recipe: dict
    precision: str = "float32"
    device: str = "cpu"
    threads: int = 1
    code_hash: str = ""
    inputs: dict = field(default_factory=dict)
    preprocessing: dict = field(default_factory=dict)
    fold: int | None = None
    data_seed: int | None = None  # the seed the data was drawn with (config data_seeds)

    def label(self) -> str:
        fold = "" if self.fold is None else f"/fold{self.fold}"
        return f"{self.dataset}/{self.variant}/seed{self.seed}{fold}"

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.__dict__, sort_keys=True).encode()).hexdigest()


@dataclass
class Outputs:
    model: Path
    history: Path
    metrics: Path
    predictions: Path

    @property
    def run_dir(self) -> Path:
        return self.model.parent

    @property
    def backup_dir(self) -> Path:
        return self.run_dir / "backup"


def load_data(job: Job, loaded: dict | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Train / validation / test arrays as the recipe asks (noisy train, validation source).

    `job.inputs` maps the roles of `spec.recipe_arrays(job.recipe)` to files; `loaded`
    keeps the arrays read so far, by file, for the next seed of the same process.
    """
    files, recipe = job.inputs, job.recipe
    loaded = {} if loaded is None else loaded
    missing = sorted(set(spec.recipe_arrays(recipe)) - set(files))
    if missing:
        raise ValueError(f"{job.label()}: no input file for {missing}")

    def pair(role):
        for path in (files[f"{role}_x"], files[f"{role}_y"]):
            if path not in loaded:
                loaded[path] = cache.load_array(path)
        return loaded[files[f"{role}_x"]], loaded[files[f"{role}_y"]]

    data = {"train": pair("train"), "test": pair("test")}
    if recipe["validation"] == "test":
        data["val"] = data["test"]
    elif recipe["validation"] == "val":
        data["val"] = pair("val")
    else:
        data["train"], data["val"] = carve_validation(
            *data["train"], recipe["validation_fraction"], job.seed
        )
    return data


def carve_validation(x: np.ndarray, y: np.ndarray, fraction: float, seed: int):
    """Stratified validation split carved from the training arrays."""
    rng = np.random.default_rng(seed)
    val_index = []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        val_index.append(members[: max(1, int(round(len(members) * fraction)))])
    is_val = np.zeros(len(y), dtype=bool)
    is_val[np.concatenate(val_index)] = True
    return (x[~is_val], y[~is_val]), (x[is_val], y[is_val])


def make_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int | None):
    """Batched tf.data pipeline; shuffled with `seed` for training, in order otherwise.

    The training order is a seeded shuffle of the example indices, and each batch is one
    gather from the in-memory arrays. This visits the examples in exactly the order of
    `from_tensor_slices((x, y)).shuffle(len(x), seed)` (a shuffle's permutation depends only
    on its seed and the element count) without copying every example into a shuffle
    buffer and then again into its batch.
    """
    import tensorflow as tf

    if seed is None:
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
    else:
        features, labels = tf.constant(x), tf.constant(y)
        dataset = (
            tf.data.Dataset.range(len(x))
            .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size)
            .map(lambda index: (tf.gather(features, index), tf.gather(labels, index)))
        )
    return dataset.prefetch(tf.data.AUTOTUNE)


def compile_model(job: Job, input_shape, num_classes: int):
    import keras

    from attnlab import models

    keras.mixed_precision.set_global_policy(job.precision)
    model = models.build(job.architecture, input_shape, num_classes)
    recipe = job.recipe
    optimizer = keras.optimizers.Adam(
        learning_rate=recipe["learning_rate"], clipnorm=recipe["clipnorm"]
    )
    if job.precision == "mixed_float16":
        # float16 gradients underflow without loss scaling (the study's inf loss).
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        # Several steps per call of the compiled function: same math, less Python per step.
        # (No XLA: 2.1-2.4x slower on CPU for these models, and Keras turns it off under
        # op determinism anyway; see BENCHMARKS.md.)
        steps_per_execution=recipe["steps_per_execution"],
    )
    return model


def epoch_log_callback(job: Job, history_path: Path, initial_epoch: int):
    """Appends one row per finished epoch (with its wall seconds) and stops on NaN/inf loss."""
    import keras

    class EpochLog(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            rows = read_history(history_path)
            # Drop epochs whose checkpoint was not saved before the job was killed.
            write_history(rows[rows["epoch"] <= initial_epoch], history_path)

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch, self.started = epoch, time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            # Called once per `steps_per_execution` steps. The logged loss is the running
            # mean of the epoch, so a NaN/inf in any step of the epoch shows here, at the
            # latest at the epoch's last step.
            self.check_loss((logs or {}).get("loss", 0.0), f" (by batch {batch + 1})")

        def check_loss(self, loss, where=""):
            loss = float(loss)
            if not np.isfinite(loss):
                raise NonFiniteLossError(
                    f"{job.label()}: training loss became {loss} in epoch {self.epoch + 1}"
                    f"{where}; recipe {job.recipe}, precision {job.precision}"
                )

        def on_epoch_end(self, epoch, logs=None):
            self.check_loss(logs.get("loss", 0.0))
            row = {name: float(logs.get(name, np.nan)) for name in HISTORY_COLUMNS[1:5]}
            row.update(epoch=epoch + 1, seconds=time.perf_counter() - self.started)
            rows = pd.concat([read_history(history_path), pd.DataFrame([row])])
            write_history(rows, history_path)
            log.info("%s epoch %d: %s", job.label(), epoch + 1, row)

    return EpochLog()


def read_history(path: Path) -> pd.DataFrame:
    if path.exists():
        return pd.read_csv(path)
    return pd.DataFrame(columns=HISTORY_COLUMNS)


def write_history(rows: pd.DataFrame, path: Path) -> None:
    partial = path.with_suffix(".part")
    rows[HISTORY_COLUMNS].to_csv(partial, index=False)
    partial.replace(path)


def prepare_backup(job: Job, backup_dir: Path) -> bool:
    """Keep a checkpoint only if it belongs to this exact job; return whether one exists."""
    stamp = backup_dir / "job.json"
    if backup_dir.exists():
        same_job = stamp.exists() and json.loads(stamp.read_text())["fingerprint"] == (
            job.fingerprint()
        )
        if same_job and (backup_dir / CHECKPOINT).exists():
            return True
        shutil.rmtree(backup_dir)
    backup_dir.mkdir(parents=True)
    stamp.write_text(json.dumps({"fingerprint": job.fingerprint(), "job": job.__dict__}))
    return False


def early_stopping(settings: dict):
    """Keras's EarlyStopping, whose state (patience used, best value, epoch and weights) a
    checkpoint keeps: `restored` is put back when training begins."""
    import keras

    class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
        restored: dict | None = None

        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            if self.restored is not None:
                vars(self).update(self.restored)

    return ResumableEarlyStopping(**settings)


def checkpoint_callback(path: Path, stopping):
    """After every epoch (and its history row), `save_checkpoint`."""
    import keras

    class Checkpoint(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            save_checkpoint(path, epoch + 1, self.model, stopping)

    return Checkpoint()


def save_checkpoint(path: Path, epoch: int, model, stopping) -> None:
    """Everything a resumed run needs to go on as the uninterrupted one: every variable of
    the model (weights, BatchNorm statistics, dropout seed states) and of its optimizer,
    and early stopping's state. Keras's BackupAndRestore keeps neither the seed states nor
    early stopping's. One file, replaced whole, so a kill leaves this epoch's or the last."""
    arrays = {f"model{i}": v.numpy() for i, v in enumerate(model.variables)}
    arrays |= {f"optimizer{i}": v.numpy() for i, v in enumerate(model.optimizer.variables)}
    meta = {"epoch": epoch, "stopped": bool(model.stop_training), "stopping": None}
    if stopping is not None:
        meta["stopping"] = {name: getattr(stopping, name) for name in STOPPING_STATE}
        meta["stopping"]["best"] = None if stopping.best is None else float(stopping.best)
        for i, weights in enumerate(stopping.best_weights or []):
            arrays[f"best{i}"] = weights
    arrays["meta"] = np.array(json.dumps(meta))
    partial = path.with_suffix(".part")
    with partial.open("wb") as handle:
        np.savez(handle, **arrays)
    partial.replace(path)


def restore_checkpoint(path: Path, model, stopping) -> tuple[int, bool]:
    """Put a checkpoint's state back into `model` (built and compiled as for the run that
    saved it) and `stopping`; return (epochs done, whether early stopping had ended it)."""
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    with np.load(path) as saved:
        meta = json.loads(str(saved["meta"]))
        for prefix, variables in (
            ("model", model.variables),
            ("optimizer", model.optimizer.variables),
        ):
            values = numbered(saved, prefix)
            if [v.shape for v in values] != [tuple(v.shape) for v in variables]:
                raise ValueError(f"{path}: its {prefix} variables are not this model's")
            for variable, value in zip(variables, values, strict=True):
                variable.assign(value)
        if stopping is not None:
            best_weights = numbered(saved, "best") or None
            stopping.restored = meta["stopping"] | {"best_weights": best_weights}
    return meta["epoch"], meta["stopped"]


def numbered(saved, prefix: str) -> list[np.ndarray]:
    """The arrays `{prefix}0`, `{prefix}1`, ... of an .npz, in order."""
    count = sum(1 for key in saved.files if key[len(prefix) :].isdigit() and key.startswith(prefix))
    return [saved[f"{prefix}{i}"] for i in range(count)]


def best_epoch(history: pd.DataFrame, recipe: dict) -> int:
    monitor = (recipe["early_stopping"] or {"monitor": "val_loss"})["monitor"]
    values = history[monitor].to_numpy()
    index = np.nanargmax(values) if monitor.endswith("accuracy") else np.nanargmin(values)
    return int(history["epoch"].iloc[index])


def validation_accuracy(history: pd.DataFrame, recipe: dict) -> float | None:
    """Validation accuracy of the weights the run keeps: the score selections use.

    The best epoch's when early stopping restores it, else the last epoch's. None when
    the recipe validates on the test set: that score is the test score, and a selection
    made on it would be a selection on the test set.
    """
    if recipe["validation"] == "test":
        return None
    stopping = recipe["early_stopping"] or {}
    restored = stopping.get("restore_best_weights", False)
    epoch = best_epoch(history, recipe) if restored else int(history["epoch"].iloc[-1])
    return float(history.loc[history["epoch"] == epoch, "val_accuracy"].iloc[0])


def evaluate_saved(model_path: Path, x: np.ndarray, y: np.ndarray, batch_size: int):
    """Reload the saved model (as a user would) and score the test set."""
    import keras

    model = keras.saving.load_model(model_path, safe_mode=True)
    probabilities = model.predict(x, batch_size=batch_size, verbose=0).astype(np.float32)
    loss = keras.losses.sparse_categorical_crossentropy(y, probabilities)
    predicted = probabilities.argmax(axis=1)
    return probabilities, predicted, float(np.mean(loss)), float(np.mean(predicted == y))


def predictions_table(test_items: np.ndarray, y, predicted, probabilities) -> pd.DataFrame:
    table = pd.DataFrame({"item": test_items, "label": y, "pred": predicted})
    for k in range(probabilities.shape[1]):
        table[f"p{k}"] = probabilities[:, k]
    return table


def num_classes_of(data) -> int:
    return int(max(data["train"][1].max(), data["test"][1].max()) + 1)


def fit(job: Job, model, data, backup_dir: Path, resumed: bool) -> int:
    """`model.fit` with a checkpoint and history in `backup_dir` after every epoch; when
    `resumed`, from its checkpoint on, as the uninterrupted run would have gone on (the
    state, the data order, early stopping's decision). Returns the epochs done before."""
    recipe = job.recipe
    checkpoint = backup_dir / CHECKPOINT
    stopping = early_stopping(recipe["early_stopping"]) if recipe["early_stopping"] else None
    done, stopped = restore_checkpoint(checkpoint, model, stopping) if resumed else (0, False)
    training = make_dataset(*data["train"], recipe["batch_size"], job.seed)
    for _ in range(ITERATORS_PER_EPOCH * done):
        iter(training)  # each iterator draws the next order: skip the epochs trained
    model.fit(
        training,
        validation_data=make_dataset(*data["val"], recipe["batch_size"], None),
        initial_epoch=recipe["epochs"] if stopped else done,
        epochs=recipe["epochs"],
        # In this order: a checkpoint follows its epoch's stopping state and history row.
        callbacks=[
            *[stopping] * (stopping is not None),
            epoch_log_callback(job, backup_dir / "history.csv", done),
            checkpoint_callback(checkpoint, stopping),
        ],
        verbose=2,
    )
    return done


def run(job: Job, outputs: Outputs, model, data, test_items, state: dict, began: float) -> dict:
    """Train one seed on `model` (resuming from a checkpoint of the same job), save,
    reload, evaluate, record."""
    import keras
    import tensorflow as tf

    from attnlab import cost, provenance
    from attnlab.runtime import device_name

    gpu = device_name(job.device)
    if job.device == "gpu" and gpu is None and not os.environ.get("ATTNLAB_ALLOW_NO_GPU"):
        raise RuntimeError(f"{job.label()}: config device is gpu but TensorFlow sees no GPU")
    x_train = data["train"][0]
    recipe = job.recipe
    resumed = prepare_backup(job, outputs.backup_dir)
    started = time.perf_counter()
    done = fit(job, model, data, outputs.backup_dir, resumed)
    fit_seconds = time.perf_counter() - started
    saving = time.perf_counter()
    history = read_history(outputs.backup_dir / "history.csv")
    earlier = history[history["epoch"] <= done]  # trained before the job was killed
    model.save(outputs.model)
    probabilities, predicted, test_loss, test_accuracy = evaluate_saved(
        outputs.model, *data["test"], recipe["batch_size"]
    )
    predictions_table(test_items, data["test"][1], predicted, probabilities).to_parquet(
        outputs.predictions, index=False
    )
    write_history(history, outputs.history)
    if "flops" not in state:  # the same architecture for every seed of the process
        blocks = cost.block_costs(model).values()
        state["flops"] = cost.forward_flops(model), sum(b["flops"] for b in blocks)
    metrics = {
        "dataset": job.dataset,
        "variant": job.variant,
        "family": job.architecture["family"],
        "attention": bool(job.architecture["blocks"]),
        "architecture": job.architecture,
        "seed": job.seed,
        "fold": job.fold,
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
        "test_items": int(len(predicted)),
        "train_seconds": fit_seconds + float(earlier["seconds"].sum()),
        "epochs_run": int(len(history)),
        "best_epoch": best_epoch(history, recipe),
        "validation": recipe["validation"],
        "validation_accuracy": validation_accuracy(history, recipe),
        "params": int(model.count_params()),
        "forward_flops": state["flops"][0],
        "block_flops": state["flops"][1],
        "train_samples": int(len(x_train)),
        "val_samples": int(len(data["val"][1])),
        "threads": job.threads,
        "device": job.device,
        "gpu_name": gpu,
        "precision": job.precision,
        "resumed": resumed,
        "resumed_from_epoch": int(len(earlier)) if resumed else None,
        "order_in_process": state.setdefault("trained", 0) + 1,
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "recipe": recipe,
        "preprocessing": job.preprocessing,
        "code_hash": job.code_hash,
        "inputs": {name: str(path) for name, path in job.inputs.items()},
        "data_seed": job.data_seed,
        "provenance": provenance.collect(gpu, job.precision, job.threads),
    }
    state["trained"] += 1
    partial = outputs.metrics.with_suffix(".part")
    partial.write_text(json.dumps(metrics, indent=2) + "\n")
    partial.replace(outputs.metrics)
    log.info(
        "%s: setup %.1f s, fit %.1f s, save/reload/evaluate %.1f s",
        job.label(),
        started - began,
        fit_seconds,
        time.perf_counter() - saving,
    )
    return metrics
