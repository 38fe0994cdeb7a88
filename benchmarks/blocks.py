"""Per-step training time of attention variants against their no-attention twins.

Each variant is timed beside its twin: the same family and skeleton options without the
blocks (`lenet_bn` for the spectrogram blocks after BatchNorm, `lenet` for hybrid, `base`
for digits). Both train with the workflow's own code (`attnlab.train.compile_model` and
`make_dataset`, the dataset's recipe) on synthetic data of the study's shapes, one
TensorFlow thread by default. Rounds alternate variant and twin, each a `fit` of two
epochs whose second epoch is timed (the first compiles and warms up), so slow phases of a
shared machine hit both; the ratio is of the medians. FLOPs per sample come from
`attnlab.cost` (every op of the traced forward pass).

    .venv/bin/python benchmarks/blocks.py [--variants cbam se] [--csv out.csv]

Target (issue 13): a variant whose blocks add < 2% FLOPs trains within 1.3x of its twin.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from attnlab import registry, runtime

REPO = Path(__file__).resolve().parents[1]
DATASET_OF = {"spectrogram": "fsdd", "digits": "reduced_mnist"}
FLOP_LIMIT = 0.02
TARGET = 1.3
FIELDS = ["family", "variant", "twin", "batch", "steps", "rounds", "variant_ms", "twin_ms"]
FIELDS += ["ratio", "forward_mflops", "twin_mflops", "flop_overhead_pct", "target", "met"]


def twin_of(variant: registry.Variant) -> registry.Variant:
    """The variant's skeleton without its blocks."""
    return dataclasses.replace(variant, name=f"{variant.name}_twin", placements=(), study=None)


def recipe_of(family: str) -> dict:
    """The study dataset's recipe of the family (batch size, optimizer, steps per call)."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    return config["datasets"][DATASET_OF[family]]["recipe"]


class EpochTimer:
    def __init__(self):
        import keras

        timer = self

        class Callback(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                timer.started = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                timer.seconds.append(time.perf_counter() - timer.started)

        self.callback = Callback()
        self.seconds: list[float] = []


def trainer(
    variant: registry.Variant, recipe: dict, shape, x, y, threads: int, precision="float32"
):
    """A compiled model and a function that trains it for two epochs, timing the second."""
    from attnlab import train

    job = train.Job(
        dataset="bench",
        variant=variant.name,
        architecture=variant.to_dict(),
        seed=4,
        recipe=recipe | {"epochs": 2},
        precision=precision,
        threads=threads,
    )
    model = train.compile_model(job, shape, 10)
    data = train.make_dataset(x, y, recipe["batch_size"], seed=4)
    timer = EpochTimer()

    def timed_epoch() -> float:
        model.fit(data, epochs=2, verbose=0, callbacks=[timer.callback])
        return timer.seconds[-1]

    return model, timed_epoch


def measure(variant, recipe, steps, rounds, threads) -> dict:
    from attnlab import cost

    shape = registry.family(variant.family).input_shape
    batch = recipe["batch_size"]
    rng = np.random.default_rng(0)
    x = rng.random((steps * batch, *shape), dtype=np.float32)
    y = rng.integers(0, 10, steps * batch)
    twin = twin_of(variant)
    model, run_variant = trainer(variant, recipe, shape, x, y, threads)
    twin_model, run_twin = trainer(twin, recipe, shape, x, y, threads)
    times = {"variant": [], "twin": []}
    for _ in range(rounds):
        times["variant"].append(run_variant())
        times["twin"].append(run_twin())
    variant_ms = 1e3 * statistics.median(times["variant"]) / steps
    twin_ms = 1e3 * statistics.median(times["twin"]) / steps
    flops, twin_flops = cost.forward_flops(model), cost.forward_flops(twin_model)
    overhead = flops / twin_flops - 1
    applies = overhead < FLOP_LIMIT
    return {
        "family": variant.family,
        "variant": variant.name,
        "twin": "+".join(f"{k}={v}" for k, v in twin.skeleton.items() if v) or "plain",
        "batch": batch,
        "steps": steps,
        "rounds": rounds,
        "variant_ms": round(variant_ms, 2),
        "twin_ms": round(twin_ms, 2),
        "ratio": round(variant_ms / twin_ms, 3),
        "forward_mflops": round(flops / 1e6, 3),
        "twin_mflops": round(twin_flops / 1e6, 3),
        "flop_overhead_pct": round(100 * overhead, 2),
        "target": TARGET if applies else "",
        "met": (variant_ms / twin_ms <= TARGET) if applies else "",
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", choices=list(DATASET_OF), default=list(DATASET_OF))
    parser.add_argument("--variants", nargs="+", help="built-in names (default: all with blocks)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=64, help="timed spectrogram steps")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--csv", help="also write the rows here")
    return parser.parse_args(argv)


def chosen_variants(families, names):
    for family in families:
        for variant in registry.VARIANTS[family].values():
            if variant.has_attention and (names is None or variant.name in names):
                yield variant


def timed_steps(family: str, steps: int) -> int:
    """Digit steps are ~10x shorter: time 4x as many so fit's own overhead stays small."""
    return steps * (1 if family == "spectrogram" else 4)


def report(rows, fields, csv_path=None) -> None:
    """Print each row as CSV on stdout as it is measured, then write all to `csv_path`."""
    done, writer = [], csv.DictWriter(sys.stdout, fields)
    writer.writeheader()
    for row in rows:
        done.append(row)
        writer.writerow(row)
        sys.stdout.flush()
    if csv_path:
        with open(csv_path, "w", newline="") as handle:
            out = csv.DictWriter(handle, fields)
            out.writeheader()
            out.writerows(done)


def main(argv=None):
    args = parse_args(argv)
    runtime.configure(threads=args.threads, device="cpu")
    rows = (
        measure(
            variant,
            recipe_of(variant.family),
            timed_steps(variant.family, args.steps),
            args.rounds,
            args.threads,
        )
        for variant in chosen_variants(args.families, args.variants)
    )
    report(rows, FIELDS, args.csv)


if __name__ == "__main__":
    main()
