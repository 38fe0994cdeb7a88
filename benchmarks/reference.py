"""The study as a student would run it: one plain Keras script, every model one after another.

It loads the pipeline's NPY caches (the same arrays the training jobs read), builds
the same architectures with `attnlab.models.build` (imported, not redefined, so the
layers and parameter counts are identical), and trains each with `model.fit` on numpy
arrays with the study's recipe:

- digits (Reduced MNIST): Adam (Keras defaults), 10 epochs, batch 32, the test set
  as validation data;
- spectrograms (FSDD): Adam(1e-4, clipnorm=1), up to 15 epochs with early stopping on
  val_loss (patience 3, best weights restored), batch 16, validation on the val split;
  `hybrid` trains on the noisy training cache.

TensorFlow keeps its default thread pools (all cores), GPUs are hidden as in the study,
float32. Prints one line per model and, with --json, writes the per-model results.

    python benchmarks/reference.py --results WORKDIR/results [--only digits] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from attnlab.registry import study_variants

DATASETS = {"digits": "reduced_mnist", "spectrogram": "fsdd"}
STUDY = {family: (DATASETS[family], study_variants(family)) for family in DATASETS}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", required=True, help="folder holding {dataset}/cache/*.npy")
    parser.add_argument("--only", choices=list(STUDY), help="one family (default: both)")
    parser.add_argument("--variants", nargs="+", help="subset of the family's variants")
    parser.add_argument("--epochs", type=int, help="override the epochs (quick runs)")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--json", help="write the per-model results here")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    os.environ["CUDA_VISIBLE_DEVICES"] = ""  # CPU only, as the study
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    started = time.perf_counter()
    import keras
    import numpy as np

    from attnlab.models import build

    def load(dataset, name):
        return np.load(Path(args.results) / dataset / "cache" / f"{name}.npy")

    rows = []
    for family, (dataset, variants) in STUDY.items():
        if args.only and family != args.only:
            continue
        test = load(dataset, "test_x"), load(dataset, "test_y")
        if family == "digits":
            train, val = (load(dataset, "train_x"), load(dataset, "train_y")), test
        else:
            train_y = load(dataset, "train_y")
            val = load(dataset, "val_x"), load(dataset, "val_y")
        for variant in args.variants or variants:
            if variant not in variants:
                continue
            keras.utils.set_random_seed(args.seed)
            if family == "digits":
                optimizer, epochs, batch, callbacks = keras.optimizers.Adam(), 10, 32, []
            else:
                name = "train_noisy_x" if variant == "hybrid" else "train_x"
                train = load(dataset, name), train_y
                optimizer = keras.optimizers.Adam(learning_rate=1e-4, clipnorm=1.0)
                epochs, batch = 15, 16
                callbacks = [
                    keras.callbacks.EarlyStopping(
                        monitor="val_loss", patience=3, restore_best_weights=True
                    )
                ]
            model = build(variant, train[0].shape[1:], 10, family=family)
            model.compile(
                optimizer=optimizer,
                loss="sparse_categorical_crossentropy",
                metrics=["accuracy"],
            )
            fit_started = time.perf_counter()
            history = model.fit(
                *train,
                batch_size=batch,
                epochs=args.epochs or epochs,
                validation_data=val,
                callbacks=callbacks,
                verbose=0,
            )
            seconds = time.perf_counter() - fit_started
            _, accuracy = model.evaluate(*test, batch_size=batch, verbose=0)
            row = {
                "dataset": dataset,
                "variant": variant,
                "seconds": seconds,
                "epochs_run": len(history.history["loss"]),
                "test_accuracy": float(accuracy),
                "params": int(model.count_params()),
            }
            rows.append(row)
            print(
                f"{dataset}/{variant}: {seconds:.2f} s, {row['epochs_run']} epochs, "
                f"test accuracy {accuracy:.4f}",
                flush=True,
            )
    total = time.perf_counter() - started
    print(f"total: {total:.2f} s (imports, loading, training and evaluation)", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"models": rows, "total_seconds": total}, indent=2))


if __name__ == "__main__":
    main()
