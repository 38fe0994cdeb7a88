"""Shared fixtures: paths, the offline mirror, running Snakemake, synthetic inputs.

Fixtures (all documented below):
- `repo_root`: the project's root folder (computed from this file's location).
- `mirror`: the offline data mirror `<repo>/../shared/data`; skips the test when missing.
- `snakemake_cmd(workdir, *targets, configfiles=..., config=..., args=...)`: runs the
  workflow in `workdir` and returns the `subprocess.CompletedProcess` (stdout and stderr
  merged in `.stdout`).
- `tiny_data`: a folder where the data stage of the tiny config ran once per session
  (both datasets' manifests, split arrays and noisy training arrays). Read it; a test that
  adds outputs (training) may run more targets in it, but must not change its data files.
- `copy_tiny_data(dest)`: makes `dest` a workdir whose tiny data stage is done (a copy of
  `tiny_data`), so a test with the tiny data settings trains without redoing it.
- `mnist_raw_dir`: a folder with the four verified, decompressed MNIST IDX files.
- `write_image_folder(root, ...)`: writes a small synthetic class-folder PNG dataset.
- `write_wav(path, ...)`: writes a small WAV file (a tone plus noise) in any PCM format.

Plain helpers: `planned_jobs(result)` parses a dry run's job counts per rule and
`trainings_planned(jobs)` turns them into trained runs (a `train_seeds_4_5_6` job trains
three); `digits_overlay(**recipe)` and `write_digits_config(workdir, overlay)` make a
complete config with Reduced MNIST only (a few images per class, variants base and se).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import wave
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO_ROOT / "Snakefile"
STUDY_CONFIG = REPO_ROOT / "config" / "config.yaml"
TINY_CONFIG = REPO_ROOT / "tests" / "config" / "tiny.yaml"
MIRROR = REPO_ROOT.parent / "shared" / "data"
MIRROR_FILES = (
    "mnist/train-images-idx3-ubyte.gz",
    "mnist/train-labels-idx1-ubyte.gz",
    "mnist/t10k-images-idx3-ubyte.gz",
    "mnist/t10k-labels-idx1-ubyte.gz",
    "fsdd/free-spoken-digit-dataset-1.0.10.tar.gz",
)

# The data stage of the tiny config: every cache file of both datasets.
TINY_SPLITS = {"reduced_mnist": ("train", "test"), "fsdd": ("train", "val", "test")}
TINY_DATA_TARGETS = tuple(
    f"results/{dataset}/cache/{name}"
    for dataset, splits in TINY_SPLITS.items()
    for name in (
        ["manifest.parquet", "train_noisy_x.npy"]
        + [f"{split}_{kind}.npy" for split in splits for kind in ("x", "y")]
    )
)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The project's root folder (holds the Snakefile)."""
    return REPO_ROOT


def mirror_or_skip() -> Path:
    """The offline mirror folder, or skip the calling test when it (or a file) is missing."""
    missing = [name for name in MIRROR_FILES if not (MIRROR / name).is_file()]
    if missing:
        pytest.skip(f"offline data mirror {MIRROR} is missing {', '.join(missing)}")
    return MIRROR


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The offline data mirror (`<repo>/../shared/data`); skips the test when missing."""
    return mirror_or_skip()


def planned_jobs(result: subprocess.CompletedProcess) -> dict[str, int]:
    """The job count per rule in a dry run's table ("rule count" lines), from stdout and,
    where it was captured apart, stderr."""
    text = result.stdout + (result.stderr or "")
    return {rule: int(count) for rule, count in re.findall(r"^(\w+)\s+(\d+)$", text, re.M)}


def trainings_planned(jobs: Mapping[str, int]) -> int:
    """Trained (dataset, variant, seed) runs in `planned_jobs`: single-seed `train` jobs plus
    every seed of each packed `train_seeds_{a}_{b}...` job."""
    packed = {rule: len(rule.split("_")) - 2 for rule in jobs if rule.startswith("train_seeds_")}
    return jobs.get("train", 0) + sum(jobs[rule] * seeds for rule, seeds in packed.items())


def digits_overlay(**recipe) -> dict:
    """Only Reduced MNIST, a few images per class, variants base and se, these recipe keys."""
    return {
        "mirror": str(MIRROR),
        "datasets": {
            "reduced_mnist": {
                "train_per_class": 6,
                "test_per_class": 3,
                "variants": ["base", "se"],
                "recipe": {"epochs": 1, **recipe},
            }
        },
    }


def write_digits_config(workdir: Path | str, overlay: dict) -> Path:
    """Write `workdir/config.yaml`: the study config without fsdd, `overlay` merged on top.

    A complete file rather than an overlay, since overlays cannot remove a dataset.
    """
    config = yaml.safe_load(STUDY_CONFIG.read_text())
    del config["datasets"]["fsdd"]
    digits = config["datasets"]["reduced_mnist"]
    for key, value in overlay["datasets"]["reduced_mnist"].items():
        digits[key] = {**digits[key], **value} if isinstance(value, dict) else value
    config.update({key: value for key, value in overlay.items() if key != "datasets"})
    path = Path(workdir) / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config))
    return path


def run_snakemake(
    workdir: Path | str,
    *targets: str,
    configfiles: Iterable[Path | str] = (STUDY_CONFIG, TINY_CONFIG),
    config: Mapping[str, object] | None = None,
    args: Iterable[str] = (),
    cores: int = 2,
    timeout: float = 900,
) -> subprocess.CompletedProcess:
    """Run the workflow with `workdir` as its working directory and return the process.

    `configfiles` are merged in order (the default: the study config with the tiny overlay);
    `config` becomes `--config key=value ...` (e.g. `{"mirror": mirror}`); `args` are extra
    command-line options such as `("-n",)` or `("--lint",)`. Snakemake runs with this
    interpreter (`python -m snakemake`), with its folder first on PATH so that the rules'
    scripts use the same environment. stdout and stderr are merged in `.stdout`.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    # Targets first: --configfile and --config take every value that follows them.
    command = [sys.executable, "-m", "snakemake", *targets, "-s", str(SNAKEFILE)]
    command += ["--directory", str(workdir), "--cores", str(cores)]
    configfiles = [str(path) for path in configfiles]
    if configfiles:
        command += ["--configfile", *configfiles]
    if config:
        command += ["--config", *(f"{key}={value}" for key, value in config.items())]
    command += list(args)
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return subprocess.run(
        command,
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def snakemake_cmd() -> Callable[..., subprocess.CompletedProcess]:
    """`run_snakemake` (see there): `snakemake_cmd(workdir, *targets, configfiles=...,
    config={...}, args=(...))` -> CompletedProcess."""
    return run_snakemake


def describe_failure(result: subprocess.CompletedProcess, workdir: Path | str) -> str:
    """Snakemake's output tail plus every job log of `workdir`, for assertion messages."""
    logs = sorted(Path(workdir).glob("results/logs/**/*.log"))
    parts = [f"snakemake exited {result.returncode}:\n{result.stdout[-6000:]}"]
    parts += [f"--- {log}:\n{log.read_text()[-3000:]}" for log in logs]
    return "\n".join(parts)


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory, mirror) -> Path:
    """Workdir where the tiny config's data stage ran once: `resources/` (raw files, image
    folders) and `results/{reduced_mnist,fsdd}/cache/` (manifest, `{split}_{x,y}.npy`,
    `train_noisy_x.npy`). Shared by the whole session: do not modify its files."""
    workdir = tmp_path_factory.mktemp("tiny_data")
    result = run_snakemake(workdir, *TINY_DATA_TARGETS, config={"mirror": mirror})
    if result.returncode != 0:
        pytest.fail("tiny data stage failed\n" + describe_failure(result, workdir))
    return workdir


@pytest.fixture(scope="session")
def copy_tiny_data(tiny_data) -> Callable[[Path], Path]:
    """`copy_tiny_data(dest)` -> `dest`: a new workdir holding `tiny_data`'s files as hard
    links (Snakemake replaces an output, never writes into it) and a copy of its Snakemake
    records, so configs with the tiny data settings (the tiny overlay, `digits_overlay()`)
    find their data stage done."""

    def copy(dest: Path) -> Path:
        records = shutil.ignore_patterns(".snakemake")
        shutil.copytree(tiny_data, dest, copy_function=os.link, ignore=records)
        shutil.copytree(
            tiny_data / ".snakemake", dest / ".snakemake", ignore=shutil.ignore_patterns("locks")
        )
        return dest

    return copy


@pytest.fixture(scope="session")
def mnist_raw_dir(tmp_path_factory, mirror) -> Path:
    """A folder with the four MNIST IDX files, fetched from the mirror and verified."""
    from attnlab import raw

    folder = tmp_path_factory.mktemp("mnist_raw")
    for name in raw.MNIST_FILES:
        raw.fetch_mnist(name, folder / name, mirror)
    return folder


def random_image(rng: np.random.Generator, size: tuple[int, int], channels: int) -> np.ndarray:
    """Random non-constant uint8 pixels, shape (H, W) or (H, W, 3)."""
    shape = tuple(size) if channels == 1 else (*size, channels)
    return rng.integers(0, 256, size=shape, dtype=np.uint8)


def default_filename(class_name: str, index: int) -> str:
    return f"{class_name}_{index:03d}.png"


def _write_image_folder(
    root: Path | str,
    classes: Iterable[str] = ("0", "1", "2"),
    per_class: int | Mapping[str, int] = 4,
    size: tuple[int, int] = (28, 28),
    channels: int = 1,
    seed: int = 0,
    filename: Callable[[str, int], str] = default_filename,
) -> Path:
    """Write a class-folder dataset of random (distinct, non-constant) PNG images.

    `per_class` as an int: flat layout `root/{class}/{filename}`; as a mapping
    `{split: count}`: split folders `root/{split}/{class}/{filename}`. `filename(class, i)`
    names the i-th image of a class (e.g. FSDD-style `f"{cls}_alice_{i}.png"`).
    Returns `root`.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    layout = per_class.items() if isinstance(per_class, Mapping) else [(None, per_class)]
    for split, count in layout:
        base = root if split is None else root / split
        for class_name in classes:
            folder = base / class_name
            folder.mkdir(parents=True, exist_ok=True)
            for index in range(count):
                pixels = random_image(rng, size, channels)
                Image.fromarray(pixels).save(folder / filename(class_name, index))
    return root


@pytest.fixture(scope="session")
def write_image_folder() -> Callable[..., Path]:
    """`write_image_folder(root, classes=("0", "1", "2"), per_class=4, size=(28, 28),
    channels=1, seed=0, filename=...)` writes random PNGs in class folders (see
    `_write_image_folder`) and returns `root`."""
    return _write_image_folder


def _write_wav(
    path: Path | str,
    seconds: float = 0.25,
    rate: int = 8000,
    channels: int = 1,
    width: int = 2,
    frequency: float = 440.0,
    seed: int = 0,
) -> Path:
    """Write a PCM WAV (tone plus a little noise) with the given format; returns the path.

    `width` is bytes per sample: 1 (unsigned 8-bit) or 2 (signed 16-bit).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    signal = 0.5 * np.sin(2 * np.pi * frequency * t) + 0.05 * rng.standard_normal(t.size)
    signal = np.clip(np.repeat(signal[:, None], channels, axis=1), -1, 1)
    if width == 1:
        frames = np.round((signal + 1) * 127.5).astype(np.uint8).tobytes()
    else:
        frames = np.round(signal * 32767).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(width)
        handle.setframerate(rate)
        handle.writeframes(frames)
    return path


@pytest.fixture(scope="session")
def write_wav() -> Callable[..., Path]:
    """`write_wav(path, seconds=0.25, rate=8000, channels=1, width=2, frequency=440.0,
    seed=0)` writes a PCM WAV file and returns its path (see `_write_wav`)."""
    return _write_wav
