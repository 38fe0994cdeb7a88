"""Seeds packed into one job against one job per seed, side by side (config pack_seeds).

Builds one dataset's cache once, then trains the same runs (the study's models of that
dataset x the given seeds, full data) in two arms, each `snakemake --cores 2` from a copy
of that folder: `pack_seeds` = the number of seeds (one job per variant) and
`pack_seeds: 1` (one job per seed). Arms alternate over `--rounds`, the order flipping
each round, so a slow phase of a shared machine hits both. Prints each arm's wall
seconds and their ratio, the per-seed fit seconds of the first and the later seeds of a
pack (the trace the later ones skip), and checks that every run's history (but its
seconds) and predictions are identical between the arms. Run it with nothing else on
the machine:

    .venv/bin/python benchmarks/packing.py --mirror ../shared/data --seeds 4 5 6 7 8 \
        --csv benchmarks/results/packing.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from attnlab import config_files, plan, provenance, registry

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "config" / "config.yaml"
FIELDS = ["round", "arm", "pack_seeds", "jobs", "trainings", "wall_s", "cpu"]


def snakemake(workdir: Path, overlay: dict, mirror: str, *targets: str) -> float:
    """Wall seconds of `snakemake --cores 2` with the study config and `overlay`."""
    overlay_file = workdir / "overlay.yaml"
    overlay_file.write_text(yaml.safe_dump(overlay))
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile")]
    command += ["--cores", "2", "--directory", str(workdir)]
    command += ["--configfile", str(STUDY), str(overlay_file), "--config", f"mirror={mirror}"]
    command += ["--", *targets]
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    began = time.perf_counter()
    subprocess.run(command, check=True, env=env, capture_output=True)
    return time.perf_counter() - began


def same_results(arms: dict[str, Path], files: list[str]) -> list[str]:
    """The run files whose history (but seconds) or predictions differ between arms."""
    differ = []
    for file in files:
        folders = [root / Path(file).parent for root in arms.values()]
        histories = [pd.read_csv(f / "history.csv").drop(columns="seconds") for f in folders]
        predictions = [pd.read_parquet(f / "predictions.parquet") for f in folders]
        if not (histories[0].equals(histories[1]) and predictions[0].equals(predictions[1])):
            differ.append(str(Path(file).parent))
    return differ


def fit_seconds(root: Path, files: list[str]) -> pd.DataFrame:
    rows = [json.loads((root / file).read_text()) for file in files]
    return pd.DataFrame(rows)[["variant", "seed", "train_seconds", "order_in_process"]]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", required=True)
    parser.add_argument("--dataset", default="reduced_mnist")
    parser.add_argument("--seeds", type=int, nargs="+", default=[4, 5, 6, 7, 8])
    parser.add_argument("--variants", nargs="+", help="default: the study's")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--csv", type=Path)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args(argv)
    planned = plan.Plan(config_files.load_config([STUDY]))
    variants = args.variants or registry.study_variants(planned.dataset(args.dataset)["family"])
    root = args.workdir or Path(tempfile.mkdtemp(prefix="attnlab-packing-"))
    base = root / "cache"
    base.mkdir(parents=True, exist_ok=True)
    overlay = {"run_datasets": [args.dataset], "seeds": args.seeds}
    overlay["datasets"] = {args.dataset: {"variants": variants}}
    cache = {p for v in variants for p in planned.train_inputs(args.dataset, v).values()}
    snakemake(base, overlay, args.mirror, *sorted(p for p in cache if "sha256" not in p))
    runs = [
        {"dataset": args.dataset, "variant": v, "seed": s} for v in variants for s in args.seeds
    ]
    files = [planned.training_file(run, "metrics.json") for run in runs]
    sizes = {"packed": len(args.seeds), "single": 1}
    rows, arms = [], {}
    for round_ in range(args.rounds):
        order = list(sizes) if round_ % 2 == 0 else list(reversed(sizes))
        for arm in order:
            workdir = root / f"{arm}{round_}"
            shutil.rmtree(workdir, ignore_errors=True)
            shutil.copytree(base, workdir, copy_function=os.link)
            shutil.rmtree(workdir / ".snakemake")
            shutil.copytree(base / ".snakemake", workdir / ".snakemake")
            wall = snakemake(workdir, overlay | {"pack_seeds": sizes[arm]}, args.mirror, *files)
            arms[arm] = workdir
            rows.append(
                {
                    "round": round_,
                    "arm": arm,
                    "pack_seeds": sizes[arm],
                    "jobs": len(variants) * (1 if sizes[arm] > 1 else len(args.seeds)),
                    "trainings": len(runs),
                    "wall_s": round(wall, 1),
                    "cpu": provenance.cpu_info()["cpu"],
                }
            )
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows, columns=FIELDS)
    walls = table.groupby("arm")["wall_s"].median()
    print(table.to_markdown(index=False))
    print(f"packed / single wall time: {walls['packed'] / walls['single']:.3f}")
    seconds = fit_seconds(arms["packed"], files)
    later = seconds["order_in_process"] > 1
    print("fit seconds per seed, packed arm: first of a pack (traces) vs the later ones")
    print(seconds.groupby(["variant", later])["train_seconds"].median().unstack().to_markdown())
    differ = same_results(arms, files)
    print(f"runs that differ between arms: {differ or 'none'} (of {len(files)})")
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.csv, index=False, quoting=csv.QUOTE_MINIMAL)
        seconds.to_csv(args.csv.with_suffix(".seeds.csv"), index=False)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
