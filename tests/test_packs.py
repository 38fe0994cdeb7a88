"""Seeds packed into one job (config pack_seeds): the plan, the restore of finished seeds,
and a packed seed trained bit for bit as its own job."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import MIRROR, REPO_ROOT, STUDY_CONFIG, TINY_CONFIG

from attnlab import config_files, packs, plan, train

FILES = ["model.keras", "history.csv", "metrics.json", "predictions.parquet"]


@pytest.fixture(scope="module")
def study():
    return config_files.load_config([STUDY_CONFIG])


def planned(config, overlay):
    return plan.Plan(config_files.merge(copy.deepcopy(config), overlay))


def test_the_first_seeds_train_in_packs_of_pack_seeds(study):
    packed = planned(study, {"seeds": [4, 5, 6, 7, 8, 9, 10]})
    assert packed.seed_packs == [[4, 5, 6, 7, 8], [9, 10]]
    assert packed.single_seeds == []
    assert "pack_seeds: seeds 9, 10 of each variant train in one job" in packed.summary()
    # A group of one trains as a single job.
    assert planned(study, {"seeds": [4, 5, 6], "pack_seeds": 2}).seed_packs == [[4, 5]]
    assert planned(study, {"seeds": [4, 5, 6], "pack_seeds": 2}).single_seeds == ["6"]
    assert planned(study, {"seeds": [4, 5, 6], "pack_seeds": 1}).seed_packs == []
    assert planned(study, {}).seed_packs == []  # the study's one seed


def test_decision_rounds_add_single_seeds_and_sweeps_train_the_first_seeds(study):
    sequential = {"sequential": {"min_seeds": 3, "max_seeds": 5}}
    sweep = {"dataset": "reduced_mnist", "variant": "se", "options": {"ratio": [8, 16]}}
    overlay = sequential | {"sweeps": {"r": sweep}}
    packed = planned(study, overlay)
    assert packed.seed_packs == [[4, 5, 6]]
    assert packed.single_seeds == ["7", "8"]
    assert {run["seed"] for run in packed.sweep_runs("r")} == {4, 5, 6}


def test_data_seeds_train_one_job_per_seed_and_say_so(study):
    redrawn = planned(study, {"seeds": [4, 5], "data_seeds": True})
    assert redrawn.seed_packs == [] and redrawn.single_seeds == ["4", "5"]
    assert any(note.startswith("pack_seeds:") for note in redrawn.notes)


def test_pack_outputs_are_each_seeds_run_files_in_order():
    assert plan.Plan.pack_outputs([4, 5])[:5] == [
        *(f"results/{{dataset}}/{{variant}}/seed4/{name}" for name in FILES),
        "results/{dataset}/{variant}/seed5/model.keras",
    ]


def job(seed: int, **changes) -> train.Job:
    fields = {"dataset": "d", "variant": "v", "architecture": {}, "seed": seed, "recipe": {}}
    return train.Job(**(fields | changes))


def test_one_process_trains_only_seeds_of_the_same_job():
    packs.check_pack([job(4), job(5)])
    with pytest.raises(ValueError, match=r"d/v/seed5: cannot train with d/v/seed4: \['recipe'\]"):
        packs.check_pack([job(4), job(5, recipe={"epochs": 2})])


def outputs_in(folder, seed) -> train.Outputs:
    run_dir = folder / f"seed{seed}"
    run_dir.mkdir(parents=True)
    return train.Outputs(*(run_dir / name for name in FILES))


def finish(outputs: train.Outputs, fingerprint_of: train.Job) -> None:
    """What a finished seed leaves behind: its files and a backup of the same job."""
    train.prepare_backup(fingerprint_of, outputs.backup_dir)
    (outputs.backup_dir / train.CHECKPOINT).write_text("a checkpoint")
    for name in FILES:
        (outputs.run_dir / name).write_text(f"{name} of {outputs.run_dir.name}")
    packs.keep_finished(outputs)
    for name in FILES:
        (outputs.run_dir / name).unlink()  # as Snakemake does after a failed job


def test_a_seed_finished_by_a_failed_try_is_restored_not_retrained(tmp_path):
    done, other = outputs_in(tmp_path, 4), outputs_in(tmp_path, 5)
    finish(done, job(4))
    assert packs.restore_finished(job(4), done)
    assert done.metrics.read_text() == "metrics.json of seed4"
    # A backup of another job (here: another recipe) is not this seed's work.
    finish(other, job(5, recipe={"epochs": 2}))
    assert not packs.restore_finished(job(5), other)
    assert not other.metrics.exists() and not (other.backup_dir / "finished").exists()


@pytest.mark.slow
@pytest.mark.skipif(not MIRROR.is_dir(), reason=f"offline data mirror {MIRROR} not found")
def test_a_packed_seed_trains_bit_for_bit_as_its_own_job(tmp_path, copy_tiny_data):
    """Two seeds of `se` (tiny digits) in one job and in one job each: the same histories
    (but the seconds), predictions and weights."""
    targets = [f"results/reduced_mnist/se/seed{seed}/metrics.json" for seed in (4, 5)]
    for pack_seeds in (2, 1):
        overlay = tmp_path / f"pack{pack_seeds}.yaml"
        config = {"seeds": [4, 5], "pack_seeds": pack_seeds, "run_datasets": ["reduced_mnist"]}
        overlay.write_text(yaml.safe_dump(config | {"mirror": str(MIRROR)}))
        copy_tiny_data(tmp_path / f"pack{pack_seeds}")
        command = [sys.executable, "-m", "snakemake", "-s", str(REPO_ROOT / "Snakefile")]
        command += ["--cores", "2", "--directory", str(tmp_path / f"pack{pack_seeds}")]
        command += ["--configfile", str(STUDY_CONFIG), str(TINY_CONFIG)]
        command += [str(overlay), "--", *targets]
        result = subprocess.run(command, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-3000:]
        jobs = "train_seeds_4_5" if pack_seeds == 2 else "train"
        assert f"rule {jobs}:" in result.stderr
    import attnlab

    for seed in (4, 5):
        packed, alone = (tmp_path / f"pack{k}/results/reduced_mnist/se/seed{seed}" for k in (2, 1))
        histories = [
            pd.read_csv(d / "history.csv").drop(columns="seconds") for d in (packed, alone)
        ]
        pd.testing.assert_frame_equal(*histories)
        pd.testing.assert_frame_equal(
            *(pd.read_parquet(d / "predictions.parquet") for d in (packed, alone))
        )
        weights = [attnlab.load_model(d / "model.keras").get_weights() for d in (packed, alone)]
        assert all(np.array_equal(a, b) for a, b in zip(*weights, strict=True))
        order = json.loads((packed / "metrics.json").read_text())["order_in_process"]
        assert order == seed - 3  # seed 5 reused the model seed 4 traced
        assert not (packed / "backup").exists()
