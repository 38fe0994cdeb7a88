"""Per-step training time of the study's models at float32 and at mixed bfloat16.

Both precisions train the same model with the workflow's own code (`blocks.trainer`:
`attnlab.train.compile_model` and `make_dataset`, the dataset's recipe) on synthetic data
of the study's shapes, one TensorFlow thread by default. Rounds alternate the two, each a
`fit` of two epochs whose second is timed, so slow phases of a shared machine hit both;
the ratio is of the medians. It measures speed only: whether bfloat16 keeps the accuracy
is a question for trained runs (issue 23). The CPU's bfloat16 support (AVX512_BF16, AMX)
is in the output, from `attnlab.provenance`.

    .venv/bin/python benchmarks/precision.py [--variants base cbam] [--csv out.csv]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
from pathlib import Path

import numpy as np

from attnlab import provenance, registry, runtime

HERE = Path(__file__).resolve().parent
STUDY = {"digits": ["base", "spatial", "self_attention", "cbam", "se"]}
STUDY["spectrogram"] = ["lenet", "cbam", "hybrid"]
FAST = "mixed_bfloat16"
FIELDS = ["family", "variant", "batch", "steps", "rounds", "float32_ms", "bf16_ms"]
FIELDS += ["bf16_over_float32", "cpu_features"]


def _blocks():
    spec = importlib.util.spec_from_file_location("bench_blocks", HERE / "blocks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(blocks, variant: registry.Variant, steps: int, rounds: int, threads: int) -> dict:
    shape = registry.family(variant.family).input_shape
    recipe = blocks.recipe_of(variant.family)
    batch = recipe["batch_size"]
    rng = np.random.default_rng(0)
    x = rng.random((steps * batch, *shape), dtype=np.float32)
    y = rng.integers(0, 10, steps * batch)
    runs = {
        precision: blocks.trainer(variant, recipe, shape, x, y, threads, precision)[1]
        for precision in ("float32", FAST)
    }
    seconds = {precision: [] for precision in runs}
    for _ in range(rounds):
        for precision, run in runs.items():
            seconds[precision].append(run())
    float32_ms, bf16_ms = (1e3 * statistics.median(seconds[p]) / steps for p in runs)
    features = provenance.cpu_info()["cpu_features"]
    return {
        "family": variant.family,
        "variant": variant.name,
        "batch": batch,
        "steps": steps,
        "rounds": rounds,
        "float32_ms": round(float32_ms, 2),
        "bf16_ms": round(bf16_ms, 2),
        "bf16_over_float32": round(bf16_ms / float32_ms, 3),
        "cpu_features": " ".join(f for f in features if "bf16" in f or "amx" in f) or "none",
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", choices=list(STUDY), default=list(STUDY))
    parser.add_argument("--variants", nargs="+", help="built-in names (default: the study's)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=32, help="timed spectrogram steps")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--csv", help="also write the rows here")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    runtime.configure(threads=args.threads, device="cpu")
    blocks = _blocks()
    rows = (
        measure(
            blocks,
            registry.VARIANTS[family][name],
            blocks.timed_steps(family, args.steps),
            args.rounds,
            args.threads,
        )
        for family in args.families
        for name in args.variants or STUDY[family]
    )
    blocks.report(rows, FIELDS, args.csv)


if __name__ == "__main__":
    main()
