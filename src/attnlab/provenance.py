"""Where a run came from: the code's commit, the packages and the machine.

`collect()` is written into every run's `metrics.json` under "provenance", so a run folder
says which code, packages and hardware produced it; `summary_lines(runs)` states it in
`results/summary.md`. Importing this module does not import TensorFlow.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from attnlab.plan_paths import PAGE_OUTPUTS

PACKAGES = ("tensorflow", "tensorflow-cpu", "keras", "numpy", "snakemake", "attnlab")
# The CPU features that decide which kernels TensorFlow's oneDNN can use.
CPU_FEATURES = ("avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx_vnni", "amx_bf16", "amx_tile")


def git_state(folder: Path, exclude: Sequence[str] = PAGE_OUTPUTS) -> dict:
    """{"commit": sha or None, "dirty": bool or None} of the git checkout holding `folder`.

    Dirty means tracked files differ from the commit (untracked files do not count, as
    results/ and resources/ are ignored but other scratch files may lie around), except
    the paths in `exclude` (relative to the checkout's top): by default the results page
    the workflow itself writes, so a page made before a run does not mark the run.
    """

    def git(*args):
        return subprocess.run(
            ["git", "-C", str(folder), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    pathspec = [f":(top,exclude){path}" for path in exclude]
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", ":/", *pathspec))
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def package_versions(names=PACKAGES) -> dict[str, str]:
    """Installed versions of `names` (those not installed are left out)."""
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def cpu_info(cpuinfo: Path = Path("/proc/cpuinfo")) -> dict:
    """CPU model, logical cores and which of `CPU_FEATURES` it has (Linux: /proc/cpuinfo)."""
    model, flags = platform.processor() or platform.machine(), set()
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                model = value.strip()
            elif key.strip() in ("flags", "Features"):
                flags = set(value.split())
            if model and flags:
                break
    features = [feature for feature in CPU_FEATURES if feature in flags]
    return {"cpu": model, "cpu_count": os.cpu_count(), "cpu_features": features}


def collect(gpu_name: str | None = None, precision: str = "", threads: int | None = None) -> dict:
    """Provenance of a run made now by this process (see the module docstring)."""
    return {
        **git_state(Path(__file__).resolve().parent),
        "packages": package_versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        **cpu_info(),
        "gpu": gpu_name,
        "precision": precision,
        "threads": threads,
    }


def describe(record: Mapping) -> str:
    """One line for a provenance record: commit (dirty), machine, packages."""
    commit = (record.get("commit") or "unknown commit")[:10]
    if record.get("dirty"):
        commit += " with uncommitted changes"
    machine = record.get("gpu") or record.get("cpu") or "unknown CPU"
    features = "/".join(record.get("cpu_features") or []) or "none listed"
    packages = ", ".join(f"{k} {v}" for k, v in sorted(record.get("packages", {}).items()))
    return (
        f"commit {commit}; {machine} ({record.get('cpu_count')} cores, features {features}); "
        f"{record.get('precision')}, {record.get('threads')} thread(s); {packages}"
    )


def summary_lines(records) -> list[str]:
    """Markdown lines: each distinct provenance among `records` with its number of runs;
    runs made before provenance was recorded are counted as such."""
    counts: dict[str, int] = {}
    for record in records:
        line = describe(record) if isinstance(record, Mapping) else "not recorded"
        counts[line] = counts.get(line, 0) + 1
    lines = [f"- {n} run(s): {line}" for line, n in sorted(counts.items(), key=lambda i: -i[1])]
    if len(counts) > 1:
        lines.insert(0, "**The runs come from more than one commit, machine or setup.**")
    return lines
