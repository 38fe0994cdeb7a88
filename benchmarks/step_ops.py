"""Ops in one training step of each variant: forward, loss, gradients and Adam's update.

On a fast CPU a small block's cost is the number of ops it adds, each a few microseconds of
dispatch whatever its size (BENCHMARKS.md); this counts them in the traced step graph
(constants, identities, placeholders and variable reads left out).

    .venv/bin/python benchmarks/step_ops.py --family digits base se cbam bam
"""

from __future__ import annotations

import argparse

from attnlab import runtime

BATCH = {"digits": 32, "spectrogram": 16}
NOT_COUNTED = {"Const", "Identity", "NoOp", "Placeholder", "ReadVariableOp", "VarHandleOp"}


def step_ops(name: str, family: str) -> int:
    import keras
    import tensorflow as tf

    from attnlab import models

    model = models.build(name, family=family)
    optimizer = keras.optimizers.Adam(1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    batch = BATCH[family]
    images = tf.TensorSpec((batch, *models.default_input_shape(family)))
    graph = step.get_concrete_function(images, tf.TensorSpec((batch,), tf.int32)).graph
    return sum(op.type not in NOT_COUNTED for op in graph.get_operations())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=list(BATCH), default="digits")
    parser.add_argument("variants", nargs="+")
    args = parser.parse_args(argv)
    runtime.configure(threads=1, device="cpu")
    for name in args.variants:
        print(f"{args.family},{name},{step_ops(name, args.family)}")


if __name__ == "__main__":
    main()
