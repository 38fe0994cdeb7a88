"""The study as a student would run it: one plain Keras script, every model one after another.

It loads the pipeline's NPY caches (the same arrays the training jobs read), defines the
study's eight models itself with plain Keras layers and `keras.ops` (no attnlab import:
a speed-up of attnlab's blocks does not speed up this script; a test checks that the
parameter counts equal attnlab's), and trains each with `model.fit` on numpy arrays
with the study's recipe:

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

DATASETS = {"digits": "reduced_mnist", "spectrogram": "fsdd"}
STUDY = {
    "digits": ("reduced_mnist", ["base", "spatial", "self_attention", "cbam", "se"]),
    "spectrogram": ("fsdd", ["lenet", "cbam", "hybrid"]),
}


# ------------------------------------------------------------------ the models
def channel_gate(x, hidden_activation="relu", normalise=False):
    """GAP -> Dense(C // 8, at least 1) -> Dense(C, sigmoid) [-> LayerNorm] -> scale."""
    from keras import layers

    channels = x.shape[-1]
    weights = layers.GlobalAveragePooling2D()(x)
    weights = layers.Dense(max(1, channels // 8), activation=hidden_activation)(weights)
    weights = layers.Dense(channels, activation="sigmoid")(weights)
    if normalise:
        weights = layers.LayerNormalization()(weights)
    return layers.Multiply()([x, layers.Reshape((1, 1, channels))(weights)])


def cbam(x):
    """The study's CBAM: the channel gate, then a 7x7 conv over channel mean and max."""
    from keras import layers, ops

    x = channel_gate(x)
    pooled = layers.Concatenate()(
        [ops.mean(x, axis=-1, keepdims=True), ops.max(x, axis=-1, keepdims=True)]
    )
    spatial = layers.Conv2D(1, 7, padding="same", activation="sigmoid")(pooled)
    return layers.Multiply()([x, spatial])


def digits_model(variant, input_shape, classes=10):
    import keras
    from keras import layers

    inputs = keras.Input(input_shape)
    x = layers.MaxPooling2D()(layers.Conv2D(32, 3, activation="relu")(inputs))
    if variant == "spatial":
        x = layers.Multiply()([x, layers.Conv2D(1, 1, activation="sigmoid")(x)])
    elif variant == "cbam":
        x = cbam(x)
    elif variant == "se":
        x = channel_gate(x)
    x = layers.MaxPooling2D()(layers.Conv2D(64, 3, activation="relu")(x))
    if variant == "self_attention":
        height, width, channels = x.shape[1:]
        tokens = layers.Reshape((height * width, channels))(x)
        tokens = layers.MultiHeadAttention(num_heads=4, key_dim=64)(tokens, tokens)
        x = layers.Reshape((height, width, channels))(layers.LayerNormalization()(tokens))
    x = layers.Dropout(0.3)(layers.Dense(128, activation="relu")(layers.Flatten()(x)))
    return keras.Model(inputs, layers.Dense(classes, activation="softmax")(x))


def lenet_model(variant, input_shape, classes=10):
    import keras
    from keras import layers

    hybrid = variant == "hybrid"
    inputs = keras.Input(input_shape)
    x = inputs
    for filters in (6, 16):
        x = layers.Conv2D(filters, 5, activation="relu")(x)
        if variant != "lenet":
            x = layers.BatchNormalization()(x)
        if variant == "cbam":
            x = cbam(x)
        if hybrid:
            x = layers.Dropout(0.1)(channel_gate(x, "sigmoid", normalise=True))
        x = layers.AveragePooling2D(2)(x)
    x = layers.Flatten()(x)
    for units in (120, 84):
        regularizer = keras.regularizers.L2(0.001) if hybrid else None
        x = layers.Dense(units, activation="relu", kernel_regularizer=regularizer)(x)
        if hybrid:
            x = layers.Dropout(0.5)(x)
    return keras.Model(inputs, layers.Dense(classes, activation="softmax")(x))


def build(variant, input_shape, family):
    return (digits_model if family == "digits" else lenet_model)(variant, input_shape)


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
            model = build(variant, train[0].shape[1:], family)
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
