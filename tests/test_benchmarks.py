"""The benchmark scripts: FLOP counting, the driver's bookkeeping, the reference script."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO_ROOT

from attnlab import collapse as attnlab_collapse

BENCHMARKS = REPO_ROOT / "benchmarks"


def load_driver():
    spec = importlib.util.spec_from_file_location("bench_run", BENCHMARKS / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_blocks_twin_is_the_skeleton_without_blocks():
    spec = importlib.util.spec_from_file_location("bench_blocks", BENCHMARKS / "blocks.py")
    blocks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(blocks)
    from attnlab import registry

    cbam = registry.builtin("spectrogram", "cbam")
    twin = blocks.twin_of(cbam)
    assert twin.placements == () and twin.skeleton == cbam.skeleton
    assert (
        twin.to_dict()["skeleton"]
        == registry.builtin("spectrogram", "lenet_bn").to_dict()["skeleton"]
    )


def test_precision_times_one_model_at_float32_and_bfloat16(tmp_path):
    out = tmp_path / "precision.csv"
    command = [sys.executable, str(BENCHMARKS / "precision.py"), "--families", "digits"]
    command += ["--variants", "base", "--steps", "1", "--rounds", "1", "--csv", str(out)]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    (row,) = out.read_text().splitlines()[1:]
    family, variant, batch, steps, rounds, f32_ms, bf16_ms, ratio, _ = row.split(",")
    assert (family, variant, batch, steps, rounds) == ("digits", "base", "32", "4", "1")
    assert float(ratio) == pytest.approx(float(bf16_ms) / float(f32_ms), abs=0.01)


def test_checkpoint_times_attnlabs_save_beside_keras_backup(tmp_path):
    out = tmp_path / "checkpoint.csv"
    command = [sys.executable, str(BENCHMARKS / "checkpoint.py"), "--variants", "digits/base"]
    command += ["--rounds", "1", "--csv", str(out)]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    (row,) = pd.read_csv(out).to_dict("records")
    assert (row["variant"], row["family"], row["params"]) == ("base", "digits", 225034)
    assert row["attnlab_ms"] > 0 and row["keras_ms"] > 0
    # Ours holds weights, Adam's two moments and early stopping's best weights: 4 copies.
    assert row["attnlab_mb"] == pytest.approx(4 * 4 * 225034 / 1e6, rel=0.05)


def test_step_ops_counts_what_a_block_adds_to_a_training_step():
    spec = importlib.util.spec_from_file_location("bench_ops", BENCHMARKS / "step_ops.py")
    step_ops = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(step_ops)
    base, se = (step_ops.step_ops(name, "digits") for name in ("base", "se"))
    # SE adds two Dense layers (4 variables, each with gradients and Adam's update).
    assert 100 < base < se


def test_record_ratio_and_target_direction(tmp_path):
    driver = load_driver()
    args = SimpleNamespace(workdir=str(tmp_path), only=None, set=None)
    bench = driver.Bench(args)
    bench.record("study_wall", 100.0, 40.0, target=0.45, on="ratio")
    bench.record("study_wall", 100.0, 50.0, target=0.45, on="ratio")
    bench.record("flops_fraction", 100.0, 39.0, target=0.4, on="ratio", at_least=True)
    bench.record("noop_rerun", pipeline=2.0, target=10.0)
    assert [row["ratio"] for row in bench.rows[:3]] == [0.4, 0.5, 0.39]
    assert [row["met"] for row in bench.rows] == [True, False, False, True]
    bench.write(tmp_path / "out.csv")
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0].startswith("metric,dataset,variant,reference,pipeline,ratio")
    assert len(lines) == 5


def test_set_sends_config_keys_to_the_top_and_the_rest_to_the_recipes(tmp_path):
    driver = load_driver()
    levers = ["pack_seeds=1", "precision=mixed_bfloat16", "steps_per_execution=1"]
    args = SimpleNamespace(workdir=str(tmp_path), only="reduced_mnist", set=levers, quick=False)
    bench = driver.Bench(args)
    assert bench.top_settings == {"pack_seeds": 1, "precision": "mixed_bfloat16"}
    assert bench.recipe_settings == {"steps_per_execution": 1}
    overlay = yaml.safe_load(bench.overlay(tmp_path / "w", seeds=[4, 5]).read_text())
    assert overlay["pack_seeds"] == 1 and overlay["seeds"] == [4, 5]
    assert overlay["datasets"] == {
        "reduced_mnist": {
            "variants": driver.STUDY_VARIANTS["reduced_mnist"],
            "recipe": {"steps_per_execution": 1},
        }
    }


def write_tiny_caches(results):
    rng = np.random.default_rng(0)
    shapes = {"reduced_mnist": (28, 28, 1), "fsdd": (32, 32, 3)}
    splits = {"reduced_mnist": ["train", "test"], "fsdd": ["train", "val", "test"]}
    for dataset, shape in shapes.items():
        cache = results / dataset / "cache"
        cache.mkdir(parents=True)
        for split in splits[dataset]:
            np.save(cache / f"{split}_x.npy", rng.random((20, *shape), dtype=np.float32))
            np.save(cache / f"{split}_y.npy", np.arange(20) % 10)
        if dataset == "fsdd":
            np.save(cache / "train_noisy_x.npy", rng.random((20, *shape), dtype=np.float32))


@pytest.mark.slow
def test_reference_script_trains_every_study_model(tmp_path):
    write_tiny_caches(tmp_path / "results")
    out = tmp_path / "reference.json"
    command = [sys.executable, str(BENCHMARKS / "reference.py")]
    command += ["--results", str(tmp_path / "results"), "--epochs", "1", "--json", str(out)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    models = json.loads(out.read_text())["models"]
    trained = [(row["dataset"], row["variant"]) for row in models]
    assert trained == [
        ("reduced_mnist", "base"),
        ("reduced_mnist", "spatial"),
        ("reduced_mnist", "self_attention"),
        ("reduced_mnist", "cbam"),
        ("reduced_mnist", "se"),
        ("fsdd", "lenet"),
        ("fsdd", "cbam"),
        ("fsdd", "hybrid"),
    ]
    for row in models:
        assert row["epochs_run"] == 1
        assert row["seconds"] > 0
        assert 0.0 <= row["test_accuracy"] <= 1.0


@pytest.mark.parametrize(
    "family, variant",
    [("digits", v) for v in ("base", "spatial", "self_attention", "cbam", "se")]
    + [("spectrogram", v) for v in ("lenet", "cbam", "hybrid")],
)
def test_reference_models_are_independent_and_the_same_size(family, variant):
    from attnlab.models import build

    spec = importlib.util.spec_from_file_location("reference", BENCHMARKS / "reference.py")
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    shape = (28, 28, 1) if family == "digits" else (128, 128, 3)
    ours = build(variant, shape, family=family)
    theirs = reference.build(variant, shape, family)
    assert theirs.count_params() == ours.count_params()
    assert "attnlab" not in (BENCHMARKS / "reference.py").read_text().split('"""')[2]


def load_collapse():
    spec = importlib.util.spec_from_file_location("bench_collapse", BENCHMARKS / "collapse.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_collapse_rates_and_fisher_test(tmp_path, capsys):
    collapse = load_collapse()
    assert collapse.COLLAPSED == attnlab_collapse.threshold(10)
    assert collapse.seeds("4-7") == [4, 5, 6, 7] and collapse.seeds("9") == [9]
    for name, flags in (("a", [True] * 5 + [False] * 5), ("b", [False] * 10)):
        rows = [json.dumps({"seed": s, "collapsed": f}) for s, f in enumerate(flags)]
        (tmp_path / f"{name}.jsonl").write_text("\n".join(rows) + "\n")
    collapse.rates(SimpleNamespace(files=[str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]))
    out = capsys.readouterr().out
    assert "a.jsonl: 5/10 collapsed, 95% Wilson CI [0.24, 0.76]" in out
    assert "b.jsonl: 0/10 collapsed, 95% Wilson CI [0.00, 0.28]" in out
    assert "Fisher's exact test: p = 0.0325" in out


def test_collapse_compare_tells_weights_from_function(tmp_path, capsys):
    collapse = load_collapse()
    weights = {"w:conv1/0": np.ones((3, 3)), "w:dense/0": np.zeros(2)}
    np.savez(tmp_path / "a.npz", outputs=np.ones(4), **weights)
    other = weights | {"w:conv1/0": np.full((3, 3), 2.0)}
    np.savez(tmp_path / "b.npz", outputs=np.ones(4) + 0.5, **other)
    collapse.compare(SimpleNamespace(first=tmp_path / "a.npz", second=tmp_path / "b.npz"))
    found = json.loads(capsys.readouterr().out)
    assert found["same_weight_shapes"] and found["identical_initial_weights"] == ["dense/0"]
    assert found["max_output_difference_with_first_weights"] == 0.5


def test_overhead_splits_a_job_into_its_parts(tmp_path):
    spec = importlib.util.spec_from_file_location("overhead", BENCHMARKS / "overhead.py")
    overhead = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(overhead)
    from attnlab import config_files, plan

    planned = plan.Plan(config_files.load_config([REPO_ROOT / "config" / "config.yaml"]))
    bench = tmp_path / "results/benchmarks/train/reduced_mnist/se/seed4.tsv"
    log = tmp_path / "results/logs/train/reduced_mnist/se/seed4.log"
    history = tmp_path / "results/reduced_mnist/se/seed4/history.csv"
    for path in (bench, log, history):
        path.parent.mkdir(parents=True, exist_ok=True)
    bench.write_text("s\th:m:s\n30.0\t0:00:30\n")
    log.write_text(
        "INFO reduced_mnist/se/seed4: setup 0.5 s, fit 20.0 s, save/reload/evaluate 2.0 s\n"
    )
    history.write_text("epoch,seconds\n1,5.0\n2,3.0\n3,3.0\n4,3.5\n")
    row = overhead.split_job(tmp_path, planned, "reduced_mnist", "se", start=4.0)
    assert row["trace_s"] == 2.0 and row["steps_s"] == 18.0  # epoch 1 minus the median 3.0
    assert row["other_s"] == pytest.approx(30.0 - 4.0 - 0.5 - 20.0 - 2.0)


@pytest.fixture(scope="module")
def fidelity():
    spec = importlib.util.spec_from_file_location(
        "bench_fidelity", BENCHMARKS / "precision_fidelity.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_precision_fidelity_pairs_two_settings_by_seed(tmp_path, fidelity):
    for folder, precision, shift in (("a", "float32", 0.0), ("b", "mixed_bfloat16", -0.05)):
        for seed, accuracy in zip((4, 5, 6), (0.97, 0.98, 0.975), strict=True):
            run = tmp_path / folder / f"results/d/v/seed{seed}"
            run.mkdir(parents=True)
            metrics = {"test_accuracy": accuracy + shift, "test_items": 1000}
            metrics["train_seconds"] = 10.0 if folder == "a" else 6.0
            metrics |= {"precision": precision, "provenance": {"commit": "c" * 40}}
            metrics["preprocessing"] = {"classes": list("0123456789")}
            (run / "metrics.json").write_text(json.dumps(metrics))
            # b is wrong on 50 more of the 1000 items than a, right on none a gets wrong.
            wrong = np.arange(1000) >= round(1000 * (accuracy + shift))
            predictions = {"item": np.arange(1000), "label": 0, "pred": wrong.astype(int)}
            pd.DataFrame(predictions).to_parquet(run / "predictions.parquet")
    (row,) = fidelity.compare(tmp_path / "a", tmp_path / "b", "d", ["v"], [4, 5, 6]).itertuples()
    assert (row.a, row.b) == ("float32 @ ccccccc", "mixed_bfloat16 @ ccccccc")
    assert row.diff_pts == pytest.approx(-5.0) and row.n_units == 3
    assert row.sd_floored and row.p_worse > 0.95 and row.decision == "worse"
    assert (row.a_collapsed, row.b_collapsed) == (0, 0) and (row.a_fit_s, row.b_fit_s) == (10, 6)
    # 50 discordant items of 1000, all one way: var = (50 - 50**2 / 1000) / 1000**2.
    assert row.paired_floor_pts == pytest.approx(100 * (47.5e-6) ** 0.5)
    assert row.decision_paired == "worse"


def test_precision_fidelity_counts_collapsed_runs(fidelity):
    ten = {"classes": list("0123456789")}
    runs = [{"test_accuracy": a, "preprocessing": ten} for a in (0.1, 0.95, 0.1, 0.96, 0.1, 0.1)]
    found = fidelity.collapses(runs[:2] * 3, runs[2:])
    assert (found["a_collapsed"], found["b_collapsed"]) == (3, 3)
    assert 0.5 < found["collapse_fisher_p"] < 1.0


def test_matmul_rate_script_measures_float32_and_bfloat16():
    driver = load_driver()
    for dtype in ("float32", "bfloat16"):
        command = [sys.executable, "-c", driver.MATMUL_SCRIPT, "1", "64", "3", dtype]
        median, best = map(
            float,
            subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()[-2:],
        )
        assert 0 < median <= best
