"""Raw inputs: fetch the upstream files (or copy them from a mirror) and verify them.

MNIST comes as four gzipped IDX files; we verify the SHA-256 of the *decompressed*
bytes because different mirrors gzip differently. FSDD comes as GitHub's tag archive;
only `recordings/*.wav` is extracted, and every recording's format is checked.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import shutil
import tarfile
import urllib.request
import wave
from pathlib import Path

import numpy as np

from attnlab.errors import DataError, raise_if_problems

MNIST_URLS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
# SHA-256 of the decompressed IDX files, and the array shape each must hold.
MNIST_FILES = {
    "train-images-idx3-ubyte": (
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        (60000, 28, 28),
    ),
    "train-labels-idx1-ubyte": (
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        (60000,),
    ),
    "t10k-images-idx3-ubyte": (
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        (10000, 28, 28),
    ),
    "t10k-labels-idx1-ubyte": (
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        (10000,),
    ),
}

FSDD_TARBALL = "free-spoken-digit-dataset-1.0.10.tar.gz"
FSDD_URL = (
    "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz"
)
FSDD_SHA256 = "c9f5261a1fc167145f40ce2afc98843a67806d183afd2b95bcbc0eab3b8c426a"
FSDD_COUNT = 3000
FSDD_RATE = 8000
FSDD_NAME = re.compile(r"^(?P<class>[0-9])_(?P<speaker>[a-z]+)_(?P<index>[0-9]+)\.wav$")
# Where the fetched recordings go (rule fsdd_raw's output).
FSDD_RECORDINGS = "resources/raw/fsdd/recordings"

IDX_DTYPES = {0x08: np.uint8}
# Snakemake marks finished directory outputs with this file; it is not data.
SNAKEMAKE_MARKER = ".snakemake_timestamp"


def sha256_of(path: Path | str, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def fetch(name: str, dest: Path | str, mirror: Path | str | None, urls: tuple[str, ...]) -> Path:
    """Copy `name` from the mirror folder, or download it from the first URL that answers."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".part")
    if mirror is not None:
        source = Path(mirror) / name
        if not source.is_file():
            raise DataError(f"{source}: not found in the mirror folder {mirror}")
        shutil.copyfile(source, partial)
    else:
        _download(urls, partial)
    partial.replace(dest)
    return dest


def _download(urls: tuple[str, ...], dest: Path) -> None:
    failures = []
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as out:
                shutil.copyfileobj(response, out)
            return
        except OSError as error:
            failures.append(f"{url}: {error}")
    raise DataError("download failed from every source:\n  " + "\n  ".join(failures))


def fetch_mnist(name: str, dest: Path | str, mirror: Path | str | None) -> Path:
    """Fetch `{name}.gz`, decompress it to `dest` and verify its checksum and IDX header."""
    dest = Path(dest)
    gz_path = dest.with_name(dest.name + ".gz")
    mirror_dir = None if mirror is None else Path(mirror) / "mnist"
    fetch(f"{name}.gz", gz_path, mirror_dir, tuple(url + f"{name}.gz" for url in MNIST_URLS))
    partial = dest.with_name(dest.name + ".part")
    try:
        with gzip.open(gz_path, "rb") as source, open(partial, "wb") as out:
            shutil.copyfileobj(source, out)
    except (OSError, EOFError) as error:
        partial.unlink(missing_ok=True)
        raise DataError(f"{gz_path}: corrupt or truncated gzip file ({error})") from error
    finally:
        gz_path.unlink(missing_ok=True)
    expected_sha, expected_shape = MNIST_FILES[name]
    verify_sha256(partial, expected_sha, label=f"{name} (decompressed)")
    read_idx(partial, expected_shape)
    partial.replace(dest)
    return dest


def verify_sha256(path: Path | str, expected: str, label: str | None = None) -> None:
    actual = sha256_of(path)
    if actual != expected:
        raise DataError(
            f"{label or path}: SHA-256 mismatch (file {path}): expected {expected}, got {actual}"
        )


def read_idx(path: Path | str, expected_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Parse an IDX file (the MNIST format): magic 0x0000TTNN, NN big-endian int32 dims."""
    data = Path(path).read_bytes()
    if len(data) < 4 or data[0:2] != b"\x00\x00" or data[2] not in IDX_DTYPES:
        raise DataError(f"{path}: not an IDX file of unsigned bytes (magic {data[:4].hex()})")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated IDX header ({len(data)} bytes, needs {header})")
    shape = tuple(int(d) for d in np.frombuffer(data[4:header], dtype=">i4"))
    if expected_shape is not None and shape != tuple(expected_shape):
        raise DataError(f"{path}: IDX shape {shape}, expected {tuple(expected_shape)}")
    count = int(np.prod(shape))
    if len(data) - header != count:
        raise DataError(f"{path}: IDX payload is {len(data) - header} bytes, shape needs {count}")
    return np.frombuffer(data, dtype=IDX_DTYPES[data[2]], offset=header).reshape(shape)


def load_mnist(raw_dir: Path | str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Return {"train": (images, labels), "test": (images, labels)} from verified IDX files."""
    raw_dir = Path(raw_dir)
    parts = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images_name, labels_name = f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"
        images = read_idx(raw_dir / images_name, MNIST_FILES[images_name][1])
        labels = read_idx(raw_dir / labels_name, MNIST_FILES[labels_name][1])
        parts[split] = (images, labels)
    return parts


def fetch_fsdd(dest: Path | str, mirror: Path | str | None) -> Path:
    dest = Path(dest)
    mirror_dir = None if mirror is None else Path(mirror) / "fsdd"
    fetch(FSDD_TARBALL, dest, mirror_dir, (FSDD_URL,))
    verify_sha256(dest, FSDD_SHA256, label=FSDD_TARBALL)
    return dest


def extract_recordings(tarball: Path | str, out_dir: Path | str) -> list[Path]:
    """Extract only `*/recordings/*.wav`, through tarfile's `data` filter (no path traversal)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            parts = Path(member.name).parts
            if not (member.isfile() and len(parts) >= 2 and parts[-2] == "recordings"):
                continue
            if not parts[-1].endswith(".wav"):
                continue
            member.name = parts[-1]
            archive.extract(member, out_dir, filter="data")
            written.append(out_dir / parts[-1])
    return sorted(written)


def parse_recording_name(name: str) -> dict | None:
    match = FSDD_NAME.match(name)
    if match is None:
        return None
    return {
        "digit": int(match["class"]),
        "speaker": match["speaker"],
        "index": int(match["index"]),
    }


def read_pcm(path: Path | str) -> tuple[int, int, int, bytes, list[str]]:
    """(channels, sample width, rate, frames, problems) of a WAV; DataError if unreadable.

    `problems` lists what every reader refuses: no frames, or fewer than the header says.
    """
    try:
        with wave.open(str(path), "rb") as handle:
            channels, width, framerate = (
                handle.getnchannels(),
                handle.getsampwidth(),
                handle.getframerate(),
            )
            declared = handle.getnframes()
            frames = handle.readframes(declared)
    except (wave.Error, EOFError, OSError) as error:
        reason = str(error) or f"{type(error).__name__}: not a WAV file, or its header is cut"
        raise DataError(f"{path}: unreadable WAV ({reason})") from error
    problems = []
    if not frames:
        problems.append("no audio frames (empty recording)")
    elif len(frames) != declared * channels * width:
        problems.append(
            f"truncated: {len(frames)} bytes of audio, header declares {declared} frames"
        )
    return channels, width, framerate, frames, problems


def fsdd_format_problems(path: Path | str, rate: int = FSDD_RATE) -> list[str]:
    """What keeps a WAV from being an FSDD recording: mono 16-bit PCM at `rate` Hz with
    all its frames (DataError if it cannot be read at all). `attnlab.audio` decodes it."""
    channels, width, framerate, _, problems = read_pcm(path)
    if channels != 1:
        problems.append(f"{channels} channels, expected mono")
    if width != 2:
        problems.append(f"{8 * width}-bit samples, expected 16-bit PCM")
    if framerate != rate:
        problems.append(f"{framerate} Hz, expected {rate} Hz")
    return problems


def check_recordings(folder: Path | str, expected_count: int | None = FSDD_COUNT) -> list[Path]:
    """Check every WAV in `folder`: name pattern, format, non-empty; return them sorted."""
    folder = Path(folder)
    paths = sorted(p for p in folder.iterdir() if p.name != SNAKEMAKE_MARKER)
    problems = []
    for path in paths:
        if parse_recording_name(path.name) is None:
            problems.append(f"{path}: name does not match {{digit}}_{{speaker}}_{{index}}.wav")
            continue
        try:
            found = fsdd_format_problems(path)
        except DataError as error:
            problems.append(str(error))
            continue
        if found:
            problems.append(f"{path}: " + "; ".join(found))
    if expected_count is not None and len(paths) != expected_count:
        problems.append(f"{folder}: {len(paths)} recordings, expected {expected_count}")
    raise_if_problems(problems, f"FSDD recordings in {folder}")
    return paths
