"""No selection on the test set: the validation score a run records for selections."""

import pandas as pd
import pytest

from attnlab import folds, train

HISTORY = pd.DataFrame(
    {"epoch": [1, 2, 3], "val_loss": [0.9, 0.5, 0.7], "val_accuracy": [0.6, 0.8, 0.7]}
)


def recipe(validation="val", early_stopping=None):
    return {"validation": validation, "early_stopping": early_stopping}


def test_the_kept_weights_give_the_validation_score():
    assert train.validation_accuracy(HISTORY, recipe()) == 0.7  # last epoch's weights
    restored = {"monitor": "val_loss", "patience": 1, "restore_best_weights": True}
    assert train.validation_accuracy(HISTORY, recipe(early_stopping=restored)) == 0.8
    kept = {"monitor": "val_loss", "patience": 1}
    assert train.validation_accuracy(HISTORY, recipe(early_stopping=kept)) == 0.7


def test_validating_on_the_test_set_gives_no_validation_score():
    assert train.validation_accuracy(HISTORY, recipe("test")) is None


def test_pooled_folds_weigh_validation_by_its_size():
    base = {"dataset": "d", "variant": "v", "seed": 4, "test_loss": 0.1, "train_seconds": 1.0}
    base |= {"epochs_run": 1, "best_epoch": 1, "train_samples": 10, "resumed": False}
    base |= {"inputs": {}, "test_accuracy": 1.0}
    runs = [
        base | {"fold": 1, "test_items": 1, "val_samples": 30, "validation_accuracy": 0.5},
        base | {"fold": 2, "test_items": 1, "val_samples": 10, "validation_accuracy": 0.9},
    ]
    predictions = [pd.DataFrame({"item": [k], "label": [0], "pred": [0]}) for k in (0, 1)]
    pooled, _ = folds.pool_runs(runs, predictions)
    assert pooled["validation_accuracy"] == pytest.approx(0.6)
    runs[1]["validation_accuracy"] = None
    assert folds.pool_runs(runs, predictions)[0]["validation_accuracy"] is None
