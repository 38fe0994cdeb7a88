"""The SLURM profiles: cluster jobs on a real one-node SLURM, and GPU routing.

The ``slurm`` tests bring up SLURM on this machine (tests/slurm/slurm_cluster.py;
needs root, installs slurm-wlm + munge with apt when missing) and are skipped
with the reason where that is not possible.  Set ATTNLAB_REQUIRE_SLURM=1 to turn
that skip into a failure (CI that must exercise SLURM).

To run another workflow through SLURM in a test (the fixture ``slurm`` is
session-scoped: every test shares one cluster)::

    @pytest.mark.slurm
    def test_tiny_study_on_slurm(slurm, tmp_path):
        config = tmp_path / "config.yaml"   # a complete config: see tests/test_train.py
        ...
        run_snakemake_on_slurm(slurm, tmp_path, REPO / "Snakefile", configfiles=[config],
                               extra_args=["results/reduced_mnist/base/seed4/metrics.json"])
        assert (tmp_path / "results" / ...).exists()

It raises AssertionError with snakemake's output, the jobs' SLURM logs and the
daemons' logs when snakemake fails (``check=False`` returns the result instead).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "slurm"))

import slurm_cluster  # noqa: E402
from conftest import (  # noqa: E402
    SNAKEFILE,
    describe_failure,
    digits_overlay,
    run_snakemake,
    write_digits_config,
)
from slurm_cluster import run_snakemake_on_slurm  # noqa: E402

# A workflow that needs nothing but snakemake: one plain job, one asking for a GPU
# under the rule name the study's training rule has.
TINY_SNAKEFILE = textwrap.dedent(
    """\
    rule all:
        input:
            "plain.txt",
            "gpu.txt",


    rule plain:
        output:
            "plain.txt",
        shell:
            "echo SLURM_JOB_ID=${{SLURM_JOB_ID:-}} > {output}; "
            "echo CUDA_VISIBLE_DEVICES=${{CUDA_VISIBLE_DEVICES:-}} >> {output}"


    rule train:
        output:
            "gpu.txt",
        resources:
            gpu=1,
            mem_mb=1000,
        shell:
            "echo SLURM_JOB_ID=${{SLURM_JOB_ID:-}} > {output}; "
            "echo CUDA_VISIBLE_DEVICES=${{CUDA_VISIBLE_DEVICES:-}} >> {output}"
    """
)


@pytest.fixture(scope="session")
def slurm():
    """A running one-node SLURM cluster (slurm_cluster.SlurmCluster), stopped at the end."""
    try:
        cluster = slurm_cluster.start_cluster()
    except slurm_cluster.ClusterUnavailable as exc:
        if os.environ.get("ATTNLAB_REQUIRE_SLURM"):
            pytest.fail(f"ATTNLAB_REQUIRE_SLURM is set but SLURM cannot run here: {exc}")
        pytest.skip(f"cannot bring up a local SLURM cluster: {exc}")
    # A CI timeout sends SIGTERM, which would end pytest without teardown and
    # leave the daemons running: make it a KeyboardInterrupt, which pytest
    # answers by running the finalizers (this one included).
    try:
        previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        yield cluster
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        cluster.stop()


def _read_vars(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def _job_record(cluster, job_id: str) -> str:
    """scontrol's one-line record of a job (finished jobs stay for MinJobAge=300s)."""
    proc = cluster.run("scontrol", "-o", "show", "job", job_id)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.slurm
def test_tiny_workflow_runs_as_slurm_jobs(slurm, tmp_path):
    snakefile = tmp_path / "Snakefile"
    snakefile.write_text(TINY_SNAKEFILE)
    workdir = tmp_path / "work"

    proc = run_snakemake_on_slurm(slurm, workdir, snakefile)

    plain = _read_vars(workdir / "plain.txt")
    gpu = _read_vars(workdir / "gpu.txt")
    # Both ran inside SLURM jobs, different ones, that SLURM knows and finished.
    assert plain["SLURM_JOB_ID"].isdigit(), plain
    assert gpu["SLURM_JOB_ID"].isdigit(), gpu
    assert plain["SLURM_JOB_ID"] != gpu["SLURM_JOB_ID"]
    for job_id in (plain["SLURM_JOB_ID"], gpu["SLURM_JOB_ID"]):
        record = _job_record(slurm, job_id)
        assert "JobState=COMPLETED" in record, record
        assert f"Partition={slurm.partition}" in record, record
    assert "SLURM run ID" in proc.stdout

    # The GPU job asked SLURM for a GPU (sbatch --gpus=1) and got the fake one;
    # the plain job got none.
    gpu_record = _job_record(slurm, gpu["SLURM_JOB_ID"])
    assert re.search(r"TresPerJob=\S*gres:gpu:1", gpu_record), gpu_record
    assert gpu["CUDA_VISIBLE_DEVICES"] == "0", gpu
    assert "gres" not in _job_record(slurm, plain["SLURM_JOB_ID"]).replace("GresEnforceBind", "")
    assert plain["CUDA_VISIBLE_DEVICES"] == "", plain

    # The executor plugin kept each job's SLURM log (slurm-keep-successful-logs).
    logs = workdir / ".snakemake" / "slurm_logs"
    assert list((logs / "rule_plain").rglob(f"*{plain['SLURM_JOB_ID']}.log")), list(logs.rglob("*"))
    assert list((logs / "rule_train").rglob(f"*{gpu['SLURM_JOB_ID']}.log")), list(logs.rglob("*"))

    # A second run finds nothing to do: outputs and metadata were recorded normally.
    again = run_snakemake_on_slurm(slurm, workdir, snakefile)
    assert "Nothing to be done" in again.stdout, again.stdout


@pytest.mark.slurm
def test_users_slurm_profile_submits_to_slurm(slurm, tmp_path):
    """profiles/slurm as shipped, with only what this cluster needs changed."""
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.v8+.yaml").read_text())
    profile["default-resources"]["slurm_partition"] = slurm.partition
    # No accounting here: see tests/slurm/profile.
    profile["slurm-status-command"] = "squeue"
    profile["slurm-init-seconds-before-status-checks"] = 1
    profile["slurm-keep-successful-logs"] = True
    profile_dir = tmp_path / "profile"
    profile_dir.mkdir()
    (profile_dir / "config.v8+.yaml").write_text(yaml.safe_dump(profile))
    snakefile = tmp_path / "Snakefile"
    snakefile.write_text(TINY_SNAKEFILE)
    workdir = tmp_path / "work"

    run_snakemake_on_slurm(slurm, workdir, snakefile, profile=profile_dir)

    gpu = _read_vars(workdir / "gpu.txt")
    assert gpu["CUDA_VISIBLE_DEVICES"] == "0", gpu
    record = _job_record(slurm, gpu["SLURM_JOB_ID"])
    assert "JobState=COMPLETED" in record, record
    assert re.search(r"TresPerJob=\S*gres:gpu:1", record), record
    # set-threads train: 2 -> --cpus-per-task=2; set-resources runtime -> -t; the
    # rule's own mem_mb -> --mem (the profile leaves it alone).
    assert "NumCPUs=2" in record, record
    assert "TimeLimit=04:00:00" in record, record
    assert "MinMemoryNode=1000M" in record, record
    plain = _read_vars(workdir / "plain.txt")
    record = _job_record(slurm, plain["SLURM_JOB_ID"])
    assert "MinMemoryNode=2000M" in record, record
    assert "TimeLimit=00:30:00" in record, record


# The users' profiles must parse and route resources as documented; no cluster needed.
def _snakemake(tmp_path: Path, snakefile_text: str, *args: str) -> str:
    snakefile = tmp_path / "Snakefile"
    snakefile.write_text(snakefile_text)
    env = {k: v for k, v in os.environ.items() if k != "SNAKEMAKE_PROFILE"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            str(snakefile),
            "--directory",
            str(tmp_path),
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def test_slurm_profile_sets_resources(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    out = _snakemake(
        tmp_path,
        TINY_SNAKEFILE,
        *("--profile", str(REPO / "profiles" / "slurm"), "--dry-run"),
        # A dry run executes locally and scales threads down to --cores.
        *("--cores", "4"),
    )
    assert f"Using profile {REPO / 'profiles' / 'slurm'}" in out, out
    train = out[out.index("rule train:") :]
    train = train[: train.index("\n\n")]
    # The workflow's gpu=1 survives the profile (the plugin maps it to --gpus=1) ...
    assert re.search(r"resources: .*gpu=1", train), train
    # ... the profile's set-resources/set-threads apply, the rule's mem_mb stays...
    assert re.search(r"resources: .*mem_mb=1000,", train), train
    assert re.search(r"resources: .*runtime=240", train), train
    assert re.search(r"resources: .*slurm_partition=", train), train
    assert "threads: 2" in train, train


GPU_JOBS_SNAKEFILE = textwrap.dedent(
    """\
    rule all:
        input:
            expand("t{i}.txt", i=[1, 2]),


    rule train:
        output:
            "t{i}.txt",
        resources:
            gpu=1,
        shell:
            "date +%s.%N > {output}; sleep 1; date +%s.%N >> {output}"
    """
)


def _overlap(workdir: Path) -> bool:
    (a0, a1), (b0, b1) = (
        [float(x) for x in (workdir / f"t{i}.txt").read_text().split()] for i in (1, 2)
    )
    return a0 < b1 and b0 < a1


def test_local_gpu_profile_caps_gpu_jobs(tmp_path):
    profile = ["--profile", str(REPO / "profiles" / "local-gpu"), "--cores", "2"]
    capped = tmp_path / "capped"
    capped.mkdir()
    out = _snakemake(capped, GPU_JOBS_SNAKEFILE, *profile)
    assert f"Using profile {REPO / 'profiles' / 'local-gpu'}" in out, out
    assert not _overlap(capped), "two gpu=1 jobs ran at once under profiles/local-gpu"
    # Control: with room for two GPUs the same jobs do run side by side.
    uncapped = tmp_path / "uncapped"
    uncapped.mkdir()
    _snakemake(uncapped, GPU_JOBS_SNAKEFILE, *profile, "--resources", "gpu=2")
    assert _overlap(uncapped), "control run did not run the two jobs at once"


@pytest.mark.slurm
@pytest.mark.slow
def test_tiny_study_through_slurm_matches_a_local_run(slurm, tmp_path, monkeypatch, copy_tiny_data):
    """The real workflow on the cluster with device gpu: training jobs ask SLURM for a GPU,
    and their results equal a local run's (the fake GPU is /dev/null, so TensorFlow is
    allowed to fall back to the CPU here). Both start from the tiny data stage (the data
    rules' SLURM jobs are test_tiny_workflow_runs_as_slurm_jobs's)."""
    monkeypatch.setenv("ATTNLAB_ALLOW_NO_GPU", "1")
    overlay = {**digits_overlay(), "device": "gpu"}
    config = write_digits_config(tmp_path, overlay)
    targets = [f"results/reduced_mnist/{v}/seed4/metrics.json" for v in ("base", "se")]
    on_slurm, local = (copy_tiny_data(tmp_path / name) for name in ("slurm", "local"))
    run_snakemake_on_slurm(slurm, on_slurm, SNAKEFILE, configfiles=[config], extra_args=targets)
    result = run_snakemake(local, *targets, configfiles=[config])
    assert result.returncode == 0, describe_failure(result, local)

    train_logs = sorted((on_slurm / ".snakemake/slurm_logs/rule_train").rglob("*.log"))
    assert len(train_logs) == 2, train_logs
    for log in train_logs:
        record = _job_record(slurm, log.stem)
        assert "JobState=COMPLETED" in record and re.search(r"gres:gpu:1", record), record
    for target in targets:
        ours, theirs = (json.loads((root / target).read_text()) for root in (on_slurm, local))
        for key in ("test_accuracy", "test_loss", "params", "epochs_run", "device"):
            assert ours[key] == theirs[key], (target, key)
