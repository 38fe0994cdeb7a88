"""Does the study's digit self-attention collapse to chance, how often, and why?

Runs against whichever attnlab is importable, so two commits compare by PYTHONPATH (a
git worktree's src/ for each), on the Reduced MNIST cache of a workflow run:

    # the block's function: same seed, initial weights and outputs of each build
    PYTHONPATH=/work/wt70/src .venv/bin/python benchmarks/collapse.py dump --seed 4 --out a.npz
    PYTHONPATH=src .venv/bin/python benchmarks/collapse.py dump --seed 4 --out b.npz --load a.npz
    .venv/bin/python benchmarks/collapse.py compare a.npz b.npz
    # collapse rate over seeds, with what each run's units and gradients did
    PYTHONPATH=src .venv/bin/python benchmarks/collapse.py train --cache CACHE --seeds 4-13 \
        --out runs.jsonl [--variant self_attention_res]
    .venv/bin/python benchmarks/collapse.py rates a.jsonl b.jsonl

Training is the same for every build: the study's digit recipe (Adam 1e-3, batch 32,
10 epochs, no selection) in a plain `fit`, op determinism on, one thread. A run has
collapsed when its test accuracy is at most 0.2 (chance is 0.1). Per run it records the
accuracy after each epoch, and at initialisation and at the end: the share of the
Dense(128) ReLU units that are dead (zero on all of 512 training images), the gradient
norm reaching conv1 / conv2 / the block / the dense layers on one batch, and the spread of
the block's output tokens.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

# attnlab.collapse.threshold(10), written out: this script also runs against commits that
# predate that module (a test keeps the two equal).
COLLAPSED = 0.2
SHAPE = (28, 28, 1)


def configure():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.experimental.enable_op_determinism()


def build(variant: str, seed: int):
    import keras

    from attnlab import models

    keras.utils.set_random_seed(seed)
    if variant == "self_attention_res":
        from attnlab import registry

        entry = {"name": variant, "block": "self_attention", "residual": True}
        return models.build(registry.resolve("digits", entry), SHAPE)
    return models.build(variant, SHAPE, family="digits")


def weights_by_layer(model) -> dict[str, np.ndarray]:
    """Every weight keyed "<layer>/<index in the layer>" (paths changed between commits)."""
    found = {}
    for layer in model.layers:
        for index, weight in enumerate(layer.weights):
            found[f"{layer.name}/{index}"] = np.asarray(weight)
    return found


def probe_inputs():
    return np.random.default_rng(0).uniform(size=(16, *SHAPE)).astype("float32")


def dump(args):
    model = build(args.variant, args.seed)
    weights = weights_by_layer(model)
    if args.load:
        other = np.load(args.load)
        for layer in model.layers:
            values = [other[f"w:{layer.name}/{i}"] for i in range(len(layer.weights))]
            if values:
                layer.set_weights(values)
    outputs = np.asarray(model(probe_inputs(), training=False))
    np.savez(args.out, outputs=outputs, **{f"w:{k}": v for k, v in weights.items()})


def compare(args):
    first, second = np.load(args.first), np.load(args.second)
    keys = sorted(k for k in first.files if k.startswith("w:"))
    same_shapes = keys == sorted(k for k in second.files if k.startswith("w:")) and all(
        first[k].shape == second[k].shape for k in keys
    )
    equal = [k[2:] for k in keys if same_shapes and np.array_equal(first[k], second[k])]
    gap = float(np.abs(first["outputs"] - second["outputs"]).max())
    print(json.dumps({
        "same_weight_shapes": same_shapes,
        "weights": len(keys),
        "identical_initial_weights": equal,
        "max_output_difference_with_first_weights": gap,
    }, indent=2))  # fmt: skip


def _split(cache: Path, name: str):
    return np.load(cache / f"{name}_x.npy"), np.load(cache / f"{name}_y.npy")


def diagnostics(model, x, y) -> dict:
    """Dead dense units, gradient norms per part, spread of the block's output tokens."""
    import keras
    import tensorflow as tf

    dense = keras.Model(model.input, model.get_layer("dense").output)
    block = keras.Model(model.input, model.get_layer("self_attention").output)
    activations = np.asarray(dense(x[:512], training=False))
    tokens = np.asarray(block(x[:512], training=False))
    with tf.GradientTape() as tape:
        loss = keras.losses.sparse_categorical_crossentropy(y[:32], model(x[:32], training=True))
        loss = tf.reduce_mean(loss)
    variables = model.trainable_variables
    gradients = tape.gradient(loss, variables)
    norms: dict[str, float] = {}
    for variable, gradient in zip(variables, gradients, strict=True):
        part = variable.path.split("/")[0]
        norms[part] = norms.get(part, 0.0) + float(tf.reduce_sum(gradient**2))
    return {
        "loss": float(loss),
        "dead_dense_units": float((activations.max(axis=0) <= 0).mean()),
        "gradient_norm": {part: value**0.5 for part, value in norms.items()},
        "token_std_across_images": float(tokens.std(axis=0).mean()),
    }


def train_one(variant, seed, data, epochs) -> dict:
    import keras
    import tensorflow as tf

    model = build(variant, seed)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=32,
    )
    (x, y), (x_test, y_test) = data["train"], data["test"]
    start = diagnostics(model, x, y)
    order = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed)
    history = model.fit(order.batch(32), epochs=epochs, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    return {
        "variant": variant,
        "seed": seed,
        "test_accuracy": float(accuracy),
        "collapsed": bool(accuracy <= COLLAPSED),
        "train_accuracy": [float(a) for a in history.history["accuracy"]],
        "at_init": start,
        "at_end": diagnostics(model, x, y),
    }


def seeds(text: str) -> list[int]:
    low, _, high = text.partition("-")
    return list(range(int(low), int(high or low) + 1))


def train(args):
    cache = Path(args.cache)
    data = {name: _split(cache, name) for name in ("train", "test")}
    with open(args.out, "a") as out:
        for seed in seeds(args.seeds):
            row = train_one(args.variant, seed, data, args.epochs)
            out.write(json.dumps(row) + "\n")
            out.flush()
            print(seed, row["test_accuracy"], file=sys.stderr)


def rates(args):
    from scipy.stats import fisher_exact
    from statsmodels.stats.proportion import proportion_confint

    table = []
    for path in args.files:
        rows = [json.loads(line) for line in Path(path).read_text().splitlines()]
        collapsed = sum(r["collapsed"] for r in rows)
        low, high = proportion_confint(collapsed, len(rows), method="wilson")
        table.append((collapsed, len(rows) - collapsed))
        print(f"{path}: {collapsed}/{len(rows)} collapsed, 95% Wilson CI [{low:.2f}, {high:.2f}]")
    if len(table) == 2:
        print(f"Fisher's exact test: p = {fisher_exact(table).pvalue:.3g}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("dump")
    one.add_argument("--seed", type=int, default=4)
    one.add_argument("--variant", default="self_attention")
    one.add_argument("--out", required=True)
    one.add_argument("--load", help="set these weights (a dump's) before the outputs")
    pair = commands.add_parser("compare")
    pair.add_argument("first")
    pair.add_argument("second")
    many = commands.add_parser("train")
    many.add_argument("--cache", required=True, help="results/reduced_mnist/cache of a run")
    many.add_argument("--seeds", default="4-13")
    many.add_argument("--variant", default="self_attention")
    many.add_argument("--epochs", type=int, default=10)
    many.add_argument("--out", required=True)
    summary = commands.add_parser("rates")
    summary.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    if args.command in ("dump", "train"):
        configure()
    {"dump": dump, "compare": compare, "train": train, "rates": rates}[args.command](args)


if __name__ == "__main__":
    main()
