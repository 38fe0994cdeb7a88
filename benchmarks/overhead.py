"""Where a training job's wall time goes, outside `fit` (issue: throughput, item 3).

Trains the study's models of one dataset once (seed 4) through Snakemake into a fresh
folder whose cache is built first, then splits each job's wall seconds (its Snakemake
benchmark file) into:

- `start`: a fresh Python importing TensorFlow, Keras and `attnlab.train`, timed alone in
  the same way (median of 3), so it is the import cost every job process pays;
- `setup`: load the cache arrays, build and compile the model (the job's log line);
- `trace`: the first epoch's seconds minus the median of the other epochs (graph tracing
  and the first call's warm-up; the history's per-epoch seconds);
- `steps`: the rest of `fit`;
- `finish`: save, reload and evaluate the saved model (the job's log line);
- `other`: what remains (Snakemake's script wrapper, the FLOP count, provenance).

Prints a Markdown table and writes a CSV. Run it with nothing else on the machine:

    .venv/bin/python benchmarks/overhead.py --mirror ../shared/data --csv out.csv
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from attnlab import config_files, plan, registry

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "config" / "config.yaml"
LOG_LINE = re.compile(r"setup ([\d.]+) s, fit ([\d.]+) s, save/reload/evaluate ([\d.]+) s")
IMPORTS = "import tensorflow, keras, attnlab.train, attnlab.models"


def snakemake(workdir: Path, overlay: Path, mirror: str, *targets: str) -> None:
    command = [sys.executable, "-m", "snakemake", *targets, "-s", str(REPO / "Snakefile")]
    command += ["--cores", "2", "--directory", str(workdir)]
    command += ["--configfile", str(STUDY), str(overlay), "--config", f"mirror={mirror}"]
    # Snakemake runs scripts with the `python` on PATH: this interpreter's.
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    subprocess.run(command, check=True, env=env, capture_output=True)


def start_seconds(repeats: int = 3) -> float:
    """A fresh interpreter importing what a training job imports (median of `repeats`)."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", IMPORTS], check=True, capture_output=True)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def split_job(workdir: Path, planned: plan.Plan, dataset: str, variant: str, start: float):
    run = {"dataset": dataset, "variant": variant, "seed": planned.first_seeds()[0]}
    bench = workdir / f"results/benchmarks/train/{dataset}/{variant}/seed{run['seed']}.tsv"
    wall = float(bench.read_text().splitlines()[1].split("\t")[0])
    log = (workdir / f"results/logs/train/{dataset}/{variant}/seed{run['seed']}.log").read_text()
    setup, fit, finish = map(float, LOG_LINE.search(log).groups())
    epochs = pd.read_csv(workdir / planned.training_file(run, "history.csv"))["seconds"]
    trace = max(0.0, epochs.iloc[0] - epochs.iloc[1:].median()) if len(epochs) > 1 else 0.0
    parts = {"start": start, "setup": setup, "trace": trace, "steps": fit - trace}
    parts["finish"] = finish
    parts["other"] = wall - sum(parts.values())
    return {"dataset": dataset, "variant": variant, "wall_s": wall} | {
        f"{k}_s": round(v, 2) for k, v in parts.items()
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", required=True)
    parser.add_argument("--dataset", default="reduced_mnist")
    parser.add_argument("--csv", type=Path)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args(argv)
    planned = plan.Plan(config_files.load_config([STUDY]))
    family = planned.dataset(args.dataset)["family"]
    variants = registry.study_variants(family)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="attnlab-overhead-"))
    overlay = workdir / "overlay.yaml"
    workdir.mkdir(parents=True, exist_ok=True)
    overlay.write_text(yaml.safe_dump({"datasets": {args.dataset: {"variants": variants}}}))
    cache = {p for v in variants for p in planned.train_inputs(args.dataset, v).values()}
    snakemake(workdir, overlay, args.mirror, *sorted(p for p in cache if "sha256" not in p))
    runs = [
        planned.training_file(
            {"dataset": args.dataset, "variant": v, "seed": planned.first_seeds()[0]},
            "metrics.json",
        )
        for v in variants
    ]
    snakemake(workdir, overlay, args.mirror, *runs)
    start = start_seconds()
    rows = [split_job(workdir, planned, args.dataset, v, start) for v in variants]
    table = pd.DataFrame(rows)
    print(table.to_markdown(index=False))
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.csv, index=False, quoting=csv.QUOTE_MINIMAL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
