"""A training killed after any epoch and resumed from its checkpoint ends as the
uninterrupted one, bit for bit (in process, a small dense model with dropout and early
stopping; tests/test_train.py kills a real job)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attnlab import train

RECIPE = {
    "epochs": 12,
    "batch_size": 16,
    "early_stopping": {"monitor": "val_loss", "patience": 2, "restore_best_weights": True},
}
JOB = train.Job(dataset="d", variant="v", architecture={}, seed=4, recipe=RECIPE)


class Killed(Exception):
    """What SIGKILL does to a job between two epochs."""


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)
    # Validation labels partly at random: its loss turns up early, so early stopping
    # counts patience (and keeps best weights) while the run is killed.
    y_val = np.where(rng.random(48) < 0.4, rng.integers(0, 3, 48), y[:48])
    return {"train": (x, y), "val": (x[:48], y_val)}


def build():
    import keras

    keras.utils.set_random_seed(JOB.seed)
    inputs = keras.Input((8,))
    hidden = keras.layers.Dropout(0.3)(keras.layers.Dense(32, activation="relu")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(hidden))
    model.compile(keras.optimizers.Adam(3e-2), "sparse_categorical_crossentropy")
    return model


def fit_to_the_end(data, folder, resumed=False):
    model = build()
    done = train.fit(JOB, model, data, folder, resumed)
    history = train.read_history(folder / "history.csv").drop(columns="seconds")
    return done, model.get_weights(), history


@pytest.fixture(scope="module")
def uninterrupted(data, tmp_path_factory):
    _, weights, history = fit_to_the_end(data, tmp_path_factory.mktemp("whole"))
    assert 2 < len(history) < RECIPE["epochs"], "early stopping should end this run"
    return weights, history


@pytest.mark.parametrize("killed_after", [1, 2, 3, "last"])
def test_a_run_killed_after_any_epoch_resumes_as_if_never_killed(
    data, uninterrupted, tmp_path, monkeypatch, killed_after
):
    weights, history = uninterrupted
    killed_after = len(history) if killed_after == "last" else killed_after
    save = train.save_checkpoint

    def save_then_die(path, epoch, model, stopping):
        save(path, epoch, model, stopping)
        if epoch == killed_after:
            raise Killed

    monkeypatch.setattr(train, "save_checkpoint", save_then_die)
    with pytest.raises(Killed):
        fit_to_the_end(data, tmp_path)
    monkeypatch.undo()
    done, resumed_weights, resumed_history = fit_to_the_end(data, tmp_path, resumed=True)
    assert done == killed_after
    pd.testing.assert_frame_equal(resumed_history, history)
    assert all(np.array_equal(a, b) for a, b in zip(resumed_weights, weights, strict=True))


def test_a_checkpoint_of_another_model_is_refused(data, tmp_path):
    import keras

    fit_to_the_end(data, tmp_path)
    other = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3)])
    other.compile("adam", "mse")
    with pytest.raises(ValueError, match="checkpoint.npz: its model variables are not"):
        train.restore_checkpoint(tmp_path / train.CHECKPOINT, other, None)
