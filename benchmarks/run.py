"""Benchmark driver: the pipeline against a plain Keras script, on this machine, in one run.

Sections (all by default, pick with --sections):

- ``matmul``: float32 throughput of a large ``tf.matmul`` (median of repeats) on the
  pipeline's thread count (config ``threads``) and on all cores (what the reference uses).
- ``study``: the whole study for one seed, from nothing. Reference: the data stage
  (``snakemake --cores 2``, cache files only, into an empty folder) and then
  ``benchmarks/reference.py`` training every study model one after another; its
  sequential wall time is the sum. Pipeline: ``snakemake --cores 2`` of the study into
  another empty folder (an overlay lists only the study's variants: 5 digits + 3
  spectrogram models). Per model: the reference's fit seconds vs the pipeline job's
  ``train_seconds`` (fit over all epochs) and the job's wall seconds (Snakemake benchmark
  file: process start, TensorFlow import, fit, save, reload, evaluate), plus both test
  accuracies.
- ``seeds``: the study's models x ``--seeds`` (default 4-8) through the pipeline from an
  empty folder (``snakemake --cores 2``, seeds packed as ``pack_seeds`` says), against the
  reference's wall time for training each model once (the ``study`` section's, or
  ``--reuse-reference``'s). Targets: at most the reference's wall time, so at least
  len(seeds)x faster per trained model; each variant's mean test accuracy over the seeds
  beside the reference's single run.
- ``flops``: the base digit model trained alone by the pipeline (one job, Snakemake, config
  threads) and its achieved FLOP/s against the ``matmul`` throughput on the same threads.
  FLOPs: the run's ``forward_flops`` (``attnlab.cost``: every op of the traced forward
  pass), x3 per training sample (forward + backward w.r.t. activations and weights), x1 per
  validation sample (``cost.training_flops``); divided by the fit seconds.
- ``blocks``: ``benchmarks/blocks.py``: per-step training time of every attention variant
  beside its no-attention twin on one thread, with FLOPs (target 1.3x where the blocks
  add < 2% FLOPs).
- ``dryrun``: ``snakemake -n`` on a 5-seed config (all variants of both datasets), in an
  empty folder and in the finished study's folder.
- ``noop``: ``snakemake --cores 2`` again on the finished study (nothing to do).

Prints each result with its ratio and target, writes a CSV (default
``benchmarks/results/<date>.csv``). ``--only digits|fsdd`` restricts the study to one
dataset; ``--quick`` trains 2 epochs per model (a smoke test; not comparable to targets).

    .venv/bin/python benchmarks/run.py --mirror ../shared/data [--csv out.csv]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from attnlab import config_files, cost, plan, registry

REPO = Path(__file__).resolve().parents[1]
SECTIONS = ["matmul", "blocks", "study", "seeds", "flops", "dryrun", "noop"]
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
FAMILIES = {dataset: entry["family"] for dataset, entry in CONFIG["datasets"].items()}
STUDY_VARIANTS = {dataset: registry.study_variants(family) for dataset, family in FAMILIES.items()}
PLAN = plan.Plan(config_files.load_config([REPO / "config" / "config.yaml"]))
STUDY_SEED = PLAN.first_seeds()[0]  # the study's seed 4
TARGETS = {
    "study_wall_ratio": 0.5,
    "seeds_wall_ratio": 1.0,
    "flops_fraction": 0.40,
    "dryrun_5_seeds_s": 5.0,
    "noop_rerun_s": 10.0,
}
FIELDS = ["metric", "dataset", "variant", "reference", "pipeline", "ratio", "unit", "target"]
FIELDS += ["met", "detail"]

MATMUL_SCRIPT = """
import os, sys, time
threads = int(sys.argv[1]); n = int(sys.argv[2]); repeats = int(sys.argv[3]); dtype = sys.argv[4]
from attnlab import runtime
runtime.configure(threads=threads, device="cpu")
import tensorflow as tf
a = tf.random.normal((n, n), seed=1, dtype=dtype); b = tf.random.normal((n, n), seed=2, dtype=dtype)
matmul = tf.function(tf.matmul)
matmul(a, b).numpy()
rates = []
for _ in range(repeats):
    started = time.perf_counter()
    for _ in range(5):
        c = matmul(a, b)
    c.numpy()
    rates.append(2 * n**3 * 5 / (time.perf_counter() - started))
rates.sort()
print(rates[len(rates) // 2], rates[-1])
"""


def now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def load_average() -> float:
    return os.getloadavg()[0]


class Bench:
    """Runs the sections and collects CSV rows."""

    def __init__(self, args):
        self.args = args
        self.rows: list[dict] = []
        self.root = Path(args.workdir or tempfile.mkdtemp(prefix="attnlab-bench-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.config = CONFIG
        self.threads = int(self.config["threads"])
        self.datasets = [args.only] if args.only else list(STUDY_VARIANTS)
        self.env = dict(os.environ)
        self.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}"
        self.env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(REPO), str(REPO / "src"), self.env.get("PYTHONPATH")])
        )
        self.matmul = {}
        self.matmul_bf16 = {}
        self.study_dir = self.root / "pipeline"
        # --set KEY=VALUE: recipe keys go into both datasets' recipes, others to the top.
        self.recipe_settings, self.top_settings = {}, {}
        for item in args.set or []:
            key, _, value = item.partition("=")
            key = key.removeprefix("recipe.")
            top_level = key in PLAN.config and key != "datasets"
            target = self.top_settings if top_level else self.recipe_settings
            target[key] = yaml.safe_load(value)
        if "threads" in self.top_settings:
            self.threads = int(self.top_settings["threads"])
        self.label = ", ".join(args.set or []) or "default config"

    # --- helpers -----------------------------------------------------------------
    def record(self, metric, reference=None, pipeline=None, unit="s", target=None, **extra):
        """One CSV row; ratio = pipeline / reference. A target is checked against the ratio
        when `extra["on"] == "ratio"`, else against the pipeline value (<=, or >= when
        `extra["at_least"]`)."""
        ratio = None
        if reference not in (None, 0) and pipeline is not None:
            ratio = pipeline / reference
        met = ""
        if target is not None:
            value = ratio if extra.get("on") == "ratio" else pipeline
            met = value >= target if extra.get("at_least") else value <= target
        row = {
            "metric": metric,
            "dataset": extra.get("dataset", ""),
            "variant": extra.get("variant", ""),
            "reference": _round(reference),
            "pipeline": _round(pipeline),
            "ratio": _round(ratio),
            "unit": unit,
            "target": "" if target is None else target,
            "met": met,
            "detail": extra.get("detail", ""),
        }
        self.rows.append(row)
        shown = {k: v for k, v in row.items() if v not in ("", None)}
        print("  " + ", ".join(f"{k}={v}" for k, v in shown.items()), flush=True)

    def snakemake(self, workdir: Path, *args: str, configfiles=(), check=True) -> float:
        command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile")]
        command += ["--directory", str(workdir), *args]
        command += ["--config", f"mirror={self.args.mirror}"]
        command += ["--configfile", str(REPO / "config" / "config.yaml"), *map(str, configfiles)]
        workdir.mkdir(parents=True, exist_ok=True)
        log = workdir / "snakemake-bench.log"
        started = time.perf_counter()
        with log.open("a") as out:
            out.write(f"\n$ {' '.join(command)}\n")
            out.flush()
            result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=self.env)
        seconds = time.perf_counter() - started
        if check and result.returncode != 0:
            raise RuntimeError(f"snakemake failed (exit {result.returncode}), see {log}")
        return seconds

    def overlay(self, workdir: Path, seeds=None, variants=STUDY_VARIANTS, settings=True) -> Path:
        """Config overlay: the study's variants only (or all), quick epochs, seeds, --set."""
        datasets = {}
        for dataset in self.datasets:
            entry = {"variants": list(variants[dataset])} if variants else {}
            recipe = dict(self.recipe_settings) if settings else {}
            if self.args.quick:
                recipe["epochs"] = self.args.quick_epochs
            if recipe:
                entry["recipe"] = recipe
            datasets[dataset] = entry
        content = {"datasets": datasets, **(self.top_settings if settings else {})}
        if seeds:
            content["seeds"] = seeds
        path = workdir / ("overlay-seeds.yaml" if seeds else "overlay.yaml")
        workdir.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(content))
        return path

    def cache_targets(self, datasets=None) -> list[str]:
        """The cache files the study's variants read (attnlab.plan knows which)."""
        targets = []
        for dataset in datasets or self.datasets:
            for variant in STUDY_VARIANTS[dataset]:
                inputs = PLAN.train_inputs(dataset, variant).values()
                targets += [path for path in inputs if not path.endswith(".sha256")]
        return list(dict.fromkeys(targets))

    def run_file(self, dataset: str, variant: str, name: str) -> str:
        return PLAN.training_file(
            {"dataset": dataset, "variant": variant, "seed": STUDY_SEED}, name
        )

    def study_targets(self) -> list[str]:
        return [
            self.run_file(dataset, variant, "metrics.json")
            for dataset in self.datasets
            for variant in STUDY_VARIANTS[dataset]
        ]

    def fresh(self, name: str) -> Path:
        folder = self.root / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder

    # --- sections ----------------------------------------------------------------
    def run_matmul(self):
        """float32 and bfloat16 matmul rates, per thread count: the FLOP rows' peaks."""
        print(f"[matmul] {now()} load {load_average():.2f}", flush=True)
        for dtype, rates in (("float32", self.matmul), ("bfloat16", self.matmul_bf16)):
            for threads in sorted({self.threads, os.cpu_count() or 1}):
                script = [MATMUL_SCRIPT, str(threads), "2048", "9", dtype]
                output = subprocess.run(
                    [sys.executable, "-c", *script],
                    capture_output=True,
                    text=True,
                    env=self.env,
                    check=True,
                ).stdout.split()
                median, best = float(output[-2]), float(output[-1])
                rates[threads] = median
                self.record(
                    f"matmul_{dtype}",
                    pipeline=median / 1e9,
                    unit="GFLOP/s",
                    detail=f"threads={threads}, 2048x2048, median of 9 (best {best / 1e9:.1f})",
                )

    def run_reference(self) -> Path:
        """Data stage into an empty folder, then reference.py on its caches."""
        reference_dir = self.fresh("reference")
        overlay = self.overlay(reference_dir, settings=False)
        data_seconds = self.snakemake(
            reference_dir, "--cores", "2", *self.cache_targets(), configfiles=[overlay]
        )
        print(f"  reference data stage {data_seconds:.1f} s", flush=True)
        command = [sys.executable, str(REPO / "benchmarks" / "reference.py")]
        command += ["--results", str(reference_dir / "results")]
        command += ["--json", str(reference_dir / "reference.json")]
        if self.args.only:
            command += ["--only", FAMILIES[self.args.only]]
        if self.args.quick:
            command += ["--epochs", str(self.args.quick_epochs)]
        load_before = load_average()
        started = time.perf_counter()
        with (reference_dir / "reference.log").open("w") as out:
            subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=self.env, check=True)
        reference_seconds = time.perf_counter() - started
        timing = {
            "data_seconds": data_seconds,
            "reference_seconds": reference_seconds,
            "load_before": load_before,
            "load_after": load_average(),
            "when": now(),
        }
        (reference_dir / "timing.json").write_text(json.dumps(timing, indent=2))
        print(
            f"  reference training {reference_seconds:.1f} s (load {load_before:.2f} before, "
            f"{timing['load_after']:.2f} after)",
            flush=True,
        )
        return reference_dir

    def run_study(self):
        print(f"[study] {now()} load {load_average():.2f}", flush=True)
        epochs_note = f"; quick: {self.args.quick_epochs} epochs" if self.args.quick else ""
        if self.args.reuse_reference:
            reference_dir = Path(self.args.reuse_reference) / "reference"
            print(f"  reusing the reference measured in {reference_dir}", flush=True)
        else:
            reference_dir = self.run_reference()
        timing = json.loads((reference_dir / "timing.json").read_text())
        reference = json.loads((reference_dir / "reference.json").read_text())
        data_seconds, reference_seconds = timing["data_seconds"], timing["reference_seconds"]
        # Pipeline: the whole study from an empty folder.
        self.study_dir = self.fresh("pipeline")
        overlay = self.overlay(self.study_dir)
        load_before = load_average()
        pipeline_seconds = self.snakemake(
            self.study_dir, "--cores", "2", *self.study_targets(), configfiles=[overlay]
        )
        load_after = load_average()
        print(
            f"  pipeline study {pipeline_seconds:.1f} s (load {load_before:.2f} before, "
            f"{load_after:.2f} after; {self.label})",
            flush=True,
        )
        job_seconds_sum, study_flops = 0.0, 0
        for model in reference["models"]:
            dataset, variant = model["dataset"], model["variant"]
            metrics = json.loads(
                (self.study_dir / self.run_file(dataset, variant, "metrics.json")).read_text()
            )
            bench = (
                self.study_dir
                / f"results/benchmarks/train/{dataset}/{variant}/seed{STUDY_SEED}.tsv"
            )
            job_seconds = float(bench.read_text().splitlines()[1].split("\t")[0])
            job_seconds_sum += job_seconds
            study_flops += cost.training_flops(
                metrics["forward_flops"],
                metrics["train_samples"],
                metrics["val_samples"],
                metrics["epochs_run"],
            )
            epochs = f"epochs ref {model['epochs_run']} / pipeline {metrics['epochs_run']}"
            self.record(
                "model_fit",
                model["seconds"],
                metrics["train_seconds"],
                dataset=dataset,
                variant=variant,
                detail=f"{epochs}; pipeline {metrics['threads']} thread(s) per job, jobs "
                f"in parallel; {self.label}{epochs_note}",
            )
            self.record(
                "model_job",
                model["seconds"],
                job_seconds,
                dataset=dataset,
                variant=variant,
                detail="pipeline: whole job process (start, import, fit, save, reload, evaluate)",
            )
            self.record(
                "test_accuracy",
                model["test_accuracy"],
                metrics["test_accuracy"],
                unit="fraction",
                dataset=dataset,
                variant=variant,
                detail=f"{self.label}",
            )
        self.record("reference_data_stage", pipeline=data_seconds, detail="snakemake --cores 2")
        self.record(
            "reference_training",
            pipeline=reference_seconds,
            detail=f"reference.py process wall; load {timing['load_before']:.2f} before, "
            f"{timing['load_after']:.2f} after",
        )
        cores = os.cpu_count() or 1
        if not self.matmul.get(cores):
            self.run_matmul()
        for suffix, dtype, rates in (
            ("", "float32", self.matmul),
            ("_bf16", "bfloat16", self.matmul_bf16),
        ):
            self.record(
                f"study_flops_fraction{suffix}",
                rates[cores] / 1e9,
                study_flops / pipeline_seconds / 1e9,
                unit="GFLOP/s",
                on="ratio",
                detail=f"training FLOPs of the study's runs ({study_flops / 1e12:.2f} TFLOP, "
                f"attnlab.cost) / the pipeline's wall time ({self.label}), vs {dtype} matmul "
                f"on {cores} cores",
            )
        self.record(
            "pipeline_job_seconds_sum",
            pipeline=job_seconds_sum,
            detail="sum of the training jobs' wall seconds (Snakemake benchmark files)",
        )
        self.record(
            "study_wall",
            data_seconds + reference_seconds,
            pipeline_seconds,
            target=None if self.args.quick or self.args.only else TARGETS["study_wall_ratio"],
            on="ratio",
            detail=f"reference = data stage + reference.py; pipeline = snakemake --cores 2 "
            f"from empty; {len(reference['models'])} models; {self.label}; pipeline load "
            f"{load_before:.2f} before, {load_after:.2f} after{epochs_note}",
        )

    def run_seeds(self):
        """The study's models x --seeds through the pipeline, against the reference's one
        run of each model (its wall time: data stage + reference.py)."""
        print(f"[seeds] {now()} load {load_average():.2f}", flush=True)
        reference_dir = Path(self.args.reuse_reference or self.root) / "reference"
        if not (reference_dir / "timing.json").exists():
            reference_dir = self.run_reference()
        timing = json.loads((reference_dir / "timing.json").read_text())
        models = json.loads((reference_dir / "reference.json").read_text())["models"]
        reference_seconds = timing["data_seconds"] + timing["reference_seconds"]
        folder = self.fresh("seeds")
        targets = [
            PLAN.training_file({"dataset": d, "variant": v, "seed": seed}, "metrics.json")
            for d in self.datasets
            for v in STUDY_VARIANTS[d]
            for seed in self.args.seeds
        ]
        overlay = self.overlay(folder, seeds=self.args.seeds)
        load_before = load_average()
        seconds = self.snakemake(folder, "--cores", "2", *targets, configfiles=[overlay])
        pack = self.top_settings.get("pack_seeds", PLAN.config["pack_seeds"])
        setting = f"{len(targets)} trainings, pack_seeds {pack}; {self.label}"
        self.record(
            "seeds_wall",
            reference_seconds,
            seconds,
            target=None if self.args.quick else TARGETS["seeds_wall_ratio"],
            on="ratio",
            detail=f"reference: data stage + reference.py, {len(models)} models once; pipeline: "
            f"snakemake --cores 2 from empty, {setting}; load {load_before:.2f} before, "
            f"{load_average():.2f} after",
        )
        self.record(
            "seconds_per_trained_model",
            reference_seconds / len(models),
            seconds / len(targets),
            target=None if self.args.quick else 1 / len(self.args.seeds),
            on="ratio",
            detail=f"wall seconds / trained models; {setting}",
        )
        runs = [json.loads((folder / target).read_text()) for target in targets]
        for model in models:
            key = (model["dataset"], model["variant"])
            accuracies = [r["test_accuracy"] for r in runs if (r["dataset"], r["variant"]) == key]
            self.record(
                "seeds_test_accuracy",
                model["test_accuracy"],
                statistics.mean(accuracies),
                unit="fraction",
                dataset=key[0],
                variant=key[1],
                detail=f"pipeline: mean of {len(accuracies)} seeds (min {min(accuracies):.4f}, "
                f"max {max(accuracies):.4f}); reference: one run",
            )

    def run_flops(self):
        if not self.matmul.get(self.threads):
            self.run_matmul()
        print(f"[flops] {now()} load {load_average():.2f}", flush=True)
        folder = self.root / "flops"
        if not (folder / PLAN.cache_file("reduced_mnist", "train_x.npy")).exists():
            folder = self.fresh("flops")
        overlay = self.overlay(folder)
        target = self.run_file("reduced_mnist", "base", "metrics.json")
        data = self.cache_targets(["reduced_mnist"])
        self.snakemake(folder, "--cores", "2", *data, configfiles=[overlay])
        self.snakemake(folder, target, "--cores", "2", "--forcerun", "train", configfiles=[overlay])
        metrics = json.loads((folder / target).read_text())
        # FLOPs as the run recorded them: attnlab.cost over every op of the forward pass.
        forward, epochs = metrics["forward_flops"], metrics["epochs_run"]
        n_train, n_val = metrics["train_samples"], metrics["val_samples"]
        flops = cost.training_flops(forward, n_train, n_val, epochs)
        achieved = flops / metrics["train_seconds"]
        peak = self.matmul[self.threads]
        self.record(
            "flops_fraction",
            peak / 1e9,
            achieved / 1e9,
            unit="GFLOP/s",
            target=TARGETS["flops_fraction"],
            on="ratio",
            at_least=True,
            dataset="reduced_mnist",
            variant="base",
            detail=f"forward {forward / 1e6:.3f} MFLOP/sample; x3 train ({n_train}) + x1 val "
            f"({n_val}) per epoch; {epochs} epochs in {metrics['train_seconds']:.2f} s; "
            f"{metrics['threads']} thread(s), job alone",
        )
        print(f"  achieved {achieved / peak:.1%} of matmul", flush=True)
        # The reference's base model (plain model.fit, all cores) on the same count.
        reference = Path(self.args.reuse_reference or self.root) / "reference" / "reference.json"
        cores = os.cpu_count() or 1
        if reference.exists() and self.matmul.get(cores) and not self.args.quick:
            models = json.loads(reference.read_text())["models"]
            base = next((m for m in models if m["variant"] == "base"), None)
            if base:
                reached = cost.training_flops(forward, n_train, n_val, base["epochs_run"])
                reached /= base["seconds"]
                self.record(
                    "flops_fraction_reference",
                    self.matmul[cores] / 1e9,
                    reached / 1e9,
                    unit="GFLOP/s",
                    dataset="reduced_mnist",
                    variant="base",
                    detail=f"reference.py model.fit, {base['seconds']:.2f} s for "
                    f"{base['epochs_run']} epochs (study section), vs matmul on {cores} threads",
                )

    def run_dryrun(self):
        print(f"[dryrun] {now()} load {load_average():.2f}", flush=True)
        seeds = [4, 5, 6, 7, 8]
        empty = self.fresh("dryrun")
        overlay = self.overlay(empty, seeds=seeds, variants=None)
        best = min(
            self.snakemake(empty, "-n", "--cores", "2", configfiles=[overlay]) for _ in range(3)
        )
        self.record(
            "dryrun_5_seeds",
            pipeline=best,
            target=TARGETS["dryrun_5_seeds_s"],
            detail="snakemake -n, empty folder, all variants x 5 seeds, best of 3",
        )
        if (self.study_dir / "results").exists():
            overlay = self.overlay(self.study_dir, seeds=seeds, variants=None)
            best = min(
                self.snakemake(self.study_dir, "-n", "--cores", "2", configfiles=[overlay])
                for _ in range(3)
            )
            self.record(
                "dryrun_5_seeds_finished",
                pipeline=best,
                target=TARGETS["dryrun_5_seeds_s"],
                detail="snakemake -n, folder with the finished 1-seed study, best of 3",
            )

    def run_blocks(self):
        """Every attention variant's step time beside its twin (benchmarks/blocks.py)."""
        print(f"[blocks] {now()} load {load_average():.2f}", flush=True)
        out = self.root / "blocks.csv"
        command = [sys.executable, str(REPO / "benchmarks" / "blocks.py"), "--csv", str(out)]
        if self.args.quick:
            command += ["--steps", "4", "--rounds", "1"]
        subprocess.run(command, check=True, env=self.env, cwd=REPO, stdout=subprocess.DEVNULL)
        with out.open() as handle:
            for row in csv.DictReader(handle):
                self.record(
                    "step_vs_twin",
                    float(row["twin_ms"]),
                    float(row["variant_ms"]),
                    unit="ms",
                    target=float(row["target"]) if row["target"] else None,
                    on="ratio",
                    dataset=row["family"],
                    variant=row["variant"],
                    detail=f"twin {row['twin']}; FLOPs +{row['flop_overhead_pct']}%; "
                    f"batch {row['batch']}, {row['steps']} steps, 1 thread",
                )

    def run_noop(self):
        print(f"[noop] {now()} load {load_average():.2f}", flush=True)
        if not (self.study_dir / "results").exists():
            print("  skipped: needs the study section in this run or --workdir", flush=True)
            return
        overlay = self.overlay(self.study_dir)
        times = [
            self.snakemake(
                self.study_dir, "--cores", "2", *self.study_targets(), configfiles=[overlay]
            )
            for _ in range(3)
        ]
        log = (self.study_dir / "snakemake-bench.log").read_text()
        self.record(
            "noop_rerun",
            pipeline=min(times),
            target=TARGETS["noop_rerun_s"],
            detail=f"snakemake --cores 2 on the finished study, best of 3 "
            f"(all: {', '.join(f'{t:.2f}' for t in times)}); "
            f"nothing to do: {'Nothing to be done' in log}",
        )

    def write(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(self.rows)
        print(f"wrote {path}")


def _round(value):
    return None if value is None else round(float(value), 4)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=SECTIONS)
    parser.add_argument("--only", choices=list(STUDY_VARIANTS), help="one dataset only")
    parser.add_argument("--quick", action="store_true", help="few epochs (smoke test)")
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[4, 5, 6, 7, 8], help="seeds section's seeds"
    )
    parser.add_argument("--quick-epochs", type=int, default=2)
    parser.add_argument("--mirror", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--workdir", help="where the runs go (default: a new temp folder)")
    parser.add_argument("--csv", help="default benchmarks/results/<date>.csv")
    parser.add_argument(
        "--set",
        nargs="+",
        metavar="KEY=VALUE",
        help="pipeline config for this run (a lever): a top-level key (threads=2, "
        "precision=mixed_bfloat16) or a recipe key for both datasets (steps_per_execution=1)",
    )
    parser.add_argument(
        "--reuse-reference",
        metavar="WORKDIR",
        help="take the reference timings from an earlier run's --workdir instead of rerunning",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    bench = Bench(args)
    print(f"workdir {bench.root}; cpus {os.cpu_count()}; load {load_average():.2f}", flush=True)
    started = time.perf_counter()
    for section in SECTIONS:
        if section in args.sections:
            getattr(bench, f"run_{section}")()
    bench.record("load_1min_end", pipeline=load_average(), unit="load")
    bench.record("benchmark_wall", pipeline=time.perf_counter() - started)
    default = REPO / "benchmarks" / "results" / f"{dt.date.today().isoformat()}.csv"
    bench.write(Path(args.csv) if args.csv else default)


if __name__ == "__main__":
    main()
