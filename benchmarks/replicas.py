"""Replicas in one graph: R copies of a model trained by one `fit` step, per replica.

The lever issue 23 proposed first for packed seeds: R seeds' models as one Keras model
with R inputs and R outputs (the sum of their losses, so each replica's gradients are its
own). Per training step, synthetic data of the study's shapes and batch, one thread by
default; R = 1 is the plain model. Prints ms per step and per replica (median of 3 timed
epochs after a warm-up epoch) for each R, twice, in the order given.

    .venv/bin/python benchmarks/replicas.py --variant base --family digits --replicas 1 3 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from attnlab import runtime

STEPS = 64


def packed_model(keras, models, variant, shape, replicas: int):
    built = []
    for index in range(replicas):
        keras.utils.set_random_seed(4 + index)
        model = models.build(variant, shape, 10)
        model.name = f"{model.name}_{index}"  # names in one graph must differ
        built.append(model)
    inputs = [keras.Input(shape) for _ in built]
    outputs = {f"r{i}": model(x) for i, (model, x) in enumerate(zip(built, inputs, strict=True))}
    packed = keras.Model(inputs, outputs)
    packed.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss={name: "sparse_categorical_crossentropy" for name in outputs},
        steps_per_execution=32,
    )
    return packed


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="base")
    parser.add_argument("--family", default="digits")
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 3, 5])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    runtime.configure(threads=args.threads)
    import keras
    import tensorflow as tf

    from attnlab import models

    variant = models.as_variant(args.variant, family=args.family)
    shape = models.default_input_shape(variant.family)
    batch = 32 if variant.family == "digits" else 16
    rng = np.random.default_rng(0)
    x = rng.random((STEPS * batch, *shape), dtype=np.float32)
    y = rng.integers(0, 10, STEPS * batch)
    for replicas in [*args.replicas, *args.replicas]:
        model = packed_model(keras, models, variant, shape, replicas)
        labels = {f"r{i}": y for i in range(replicas)}
        data = tf.data.Dataset.from_tensor_slices(((x,) * replicas, labels)).batch(batch)
        model.fit(data, epochs=1, verbose=0)
        seconds = []
        for _ in range(3):
            began = time.perf_counter()
            model.fit(data, epochs=1, verbose=0)
            seconds.append(time.perf_counter() - began)
        step_ms = 1e3 * statistics.median(seconds) / STEPS
        print(
            f"{args.family}/{args.variant} replicas={replicas} threads={args.threads}: "
            f"{step_ms:.2f} ms/step, {step_ms / replicas:.2f} ms/step/replica",
            flush=True,
        )


if __name__ == "__main__":
    main()
