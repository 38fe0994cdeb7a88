"""What the per-epoch checkpoint costs: `attnlab.train.save_checkpoint` (every model and
optimizer variable, dropout seed states, early stopping's best weights) beside Keras's
`BackupAndRestore` save (weights and optimizer; double checkpoint, as attnlab used it
before), for the study's models at their input shapes, one TensorFlow thread.

Rounds alternate the two saves, so slow phases of a shared machine hit both; the table
gives medians, and the size of each checkpoint.

    .venv/bin/python benchmarks/checkpoint.py [--variants digits/base spectrogram/cbam]
        [--rounds 9] [--csv out.csv]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from blocks import report  # this script's folder: benchmarks/

from attnlab import registry, runtime

FIELDS = ["variant", "family", "params", "attnlab_ms", "keras_ms", "attnlab_mb", "keras_mb"]


def study_model(variant: registry.Variant):
    from attnlab import train

    recipe = {"learning_rate": 1e-3, "clipnorm": None, "steps_per_execution": 1}
    job = train.Job(
        dataset="bench", variant=variant.name, architecture=variant.to_dict(), seed=4, recipe=recipe
    )
    model = train.compile_model(job, registry.family(variant.family).input_shape, 10)
    model.optimizer.build(model.trainable_variables)
    return model


def timed(save) -> float:
    started = time.perf_counter()
    save()
    return 1e3 * (time.perf_counter() - started)


def measure(variant: registry.Variant, rounds: int) -> dict:
    import keras

    from attnlab import train

    model = study_model(variant)
    stopping = train.early_stopping({"monitor": "val_loss", "restore_best_weights": True})
    stopping.set_model(model)
    stopping.on_train_begin()
    stopping.best, stopping.best_weights = 0.5, model.get_weights()
    folder = Path(tempfile.mkdtemp())
    ours = folder / train.CHECKPOINT
    keras_backup = keras.callbacks.BackupAndRestore(
        str(folder / "keras"), double_checkpoint=True, delete_checkpoint=False
    )
    keras_backup.set_model(model)
    keras_backup._current_epoch, keras_backup._last_batch_seen = 1, 0
    times = {"attnlab": [], "keras": []}
    for _ in range(rounds):
        times["attnlab"].append(timed(lambda: train.save_checkpoint(ours, 1, model, stopping)))
        times["keras"].append(timed(keras_backup._save_model))
    keras_bytes = sum(f.stat().st_size for f in (folder / "keras").iterdir())
    return {
        "variant": variant.name,
        "family": variant.family,
        "params": model.count_params(),
        "attnlab_ms": round(statistics.median(times["attnlab"]), 1),
        "keras_ms": round(statistics.median(times["keras"]), 1),
        "attnlab_mb": round(ours.stat().st_size / 1e6, 1),
        "keras_mb": round(keras_bytes / 1e6, 1),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--variants",
        nargs="+",
        default=["digits/base", "digits/cbam", "spectrogram/lenet", "spectrogram/cbam"],
        help="family/variant of attnlab's registry",
    )
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--csv", type=Path)
    args = parser.parse_args(argv)
    runtime.configure(threads=1)
    chosen = [registry.builtin(*entry.split("/")) for entry in args.variants]
    rows = [measure(variant, args.rounds) for variant in chosen]
    report(rows, FIELDS, args.csv)


if __name__ == "__main__":
    main()
