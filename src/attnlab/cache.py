"""Caches: validate a class-folder dataset, assign splits, write the manifest and NPY arrays.

Every image is decoded and checked before anything is written; all problems are
reported together (see `attnlab.errors`). Arrays are float32 NHWC in [0, 1]; each is
written with a record of its size and SHA-256 (`{name}.npy.sha256`) that every load
checks, so a truncated or altered array stops the job with the file's name.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from attnlab import raw, splits
from attnlab.errors import raise_if_problems

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff"}
# 8-bit modes only: arrays are scaled by 1/255, so 16-bit or float images are refused.
CHANNELS_OF_MODE = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}


class CacheError(ValueError):
    """A cache array that is missing, truncated or altered since it was written."""


def list_images(root: Path | str, classes: list[str], layout: str) -> tuple[list[dict], list[str]]:
    """Walk `root/{class}` (layout "flat") or `root/{split}/{class}` (layout "folders").

    Returns the entries found and the structural problems (unknown or empty class folders,
    files that are not images, a missing split folder).
    """
    root = Path(root)
    if not root.is_dir():
        return [], [f"{root}: image folder does not exist"]
    if layout == "folders":
        split_dirs = [(split, root / split) for split in ("train", "val", "test")]
        split_dirs = [(s, d) for s, d in split_dirs if d.is_dir()]
        known = {"train", "val", "test", raw.SNAKEMAKE_MARKER}
        extra = sorted(p.name for p in root.iterdir() if p.name not in known)
        problems = [f"{root / name}: not a split folder (train, val, test)" for name in extra]
        if not any(s == "train" for s, _ in split_dirs):
            problems.append(f"{root / 'train'}: missing split folder")
    else:
        split_dirs, problems = [(None, root)], []
    entries = []
    for split, folder in split_dirs:
        found, found_problems = _list_class_folders(folder, classes)
        entries += [dict(entry, split=split) for entry in found]
        problems += found_problems
    return entries, problems


def _list_class_folders(folder: Path, classes: list[str]) -> tuple[list[dict], list[str]]:
    problems, entries = [], []
    for child in sorted(folder.iterdir()):
        if child.name == raw.SNAKEMAKE_MARKER:
            continue
        if not child.is_dir():
            problems.append(f"{child}: file outside any class folder")
        elif child.name not in classes:
            problems.append(f"{child}: class folder {child.name!r} is not a declared class")
    for label, name in enumerate(classes):
        class_dir = folder / name
        files = sorted(class_dir.iterdir()) if class_dir.is_dir() else []
        if not files:
            problems.append(f"{class_dir}: class {name!r} has no images")
        for path in files:
            if path.is_dir():
                problems.append(f"{path}: folder inside a class folder")
            elif path.suffix.lower() not in IMAGE_SUFFIXES:
                problems.append(f"{path}: not an image file (suffix {path.suffix or 'none'})")
            else:
                entries.append({"path": str(path), "label": label, "class_name": name})
    return entries, problems


RESAMPLING = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "lanczos": Image.Resampling.LANCZOS,
}
MODE_OF_CHANNELS = {1: "L", 3: "RGB"}


def check_image(
    path: Path | str,
    size: tuple[int, int],
    channels: int,
    resize: str | None = None,
    convert_channels: bool = False,
) -> str | None:
    """Return the problem with one image file, or None when it decodes and fits.

    With `resize` any size is accepted (it is resampled to `size` on loading); with
    `convert_channels` any 8-bit mode is accepted (converted to `channels`).
    """
    try:
        with Image.open(path) as image:
            image.load()
            mode, (width, height) = image.mode, image.size
            pixels = np.asarray(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        return f"{path}: undecodable or truncated image ({error})"
    problems = []
    if resize is None and (height, width) != tuple(size):
        problems.append(
            f"size {height}x{width}, expected {size[0]}x{size[1]} (or set resize to resample)"
        )
    found = CHANNELS_OF_MODE.get(mode)
    if found is None:
        problems.append(f"mode {mode} is not 8-bit grey or RGB, expected {channels} channel(s)")
    elif found != channels and not convert_channels:
        problems.append(
            f"mode {mode} ({found} channels), expected {channels} channel(s) "
            "(or set convert_channels)"
        )
    if is_constant(pixels):
        problems.append("constant image (every pixel the same colour): blank or broken")
    return f"{path}: " + "; ".join(problems) if problems else None


def is_constant(pixels: np.ndarray) -> bool:
    """True when every pixel has the same value (grey) or the same colour (all channels)."""
    if pixels.size == 0:
        return True
    flat = pixels.reshape(pixels.shape[0] * pixels.shape[1], -1)
    return bool(np.all(flat == flat[0]))


def build_manifest(
    root: Path | str,
    classes: list[str],
    size: tuple[int, int],
    channels: int,
    split: dict,
    seed: int,
    resize: str | None = None,
    convert_channels: bool = False,
    recordings: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Validate every image under `root` and return the manifest (one row per image).

    `recordings` (audio datasets) gives each image's speaker, index and source recording;
    otherwise they are read from FSDD-style file names where present. A group_kfold split
    gives a `fold` column and one role column per fold (`split_column(k)`).
    """
    layout = "folders" if split["method"] == "folders" else "flat"
    entries, problems = list_images(root, classes, layout)
    for entry in entries:
        problem = check_image(entry["path"], size, channels, resize, convert_channels)
        if problem:
            problems.append(problem)
        entry["sha256"] = hashlib.sha256(Path(entry["path"]).read_bytes()).hexdigest()
        entry.update(_recording_fields(Path(entry["path"]).stem))
    raise_if_problems(problems, f"images in {root}")
    manifest = pd.DataFrame(entries)
    if recordings is not None:
        manifest = attach_recordings(manifest, recordings)
    if split["method"] == "group_kfold":
        return _sorted(manifest.join(splits.assign_folds(manifest, split, seed)), "fold", root)
    if layout == "flat":
        manifest["split"] = splits.assign_splits(manifest, split, seed)
    return _sorted(manifest, "split", root)


def _sorted(manifest: pd.DataFrame, part: str, root) -> pd.DataFrame:
    """Refuse an image shared by two parts (splits or folds); order by part, label, path."""
    raise_if_problems(splits.cross_part_duplicates(manifest, part), f"images in {root}")
    order = manifest[part].map(splits.SPLIT_ORDER) if part == "split" else manifest[part]
    manifest = manifest.assign(_order=order).sort_values(["_order", "label", "path"])
    return manifest.drop(columns="_order").reset_index(drop=True)


def attach_recordings(manifest: pd.DataFrame, recordings: pd.DataFrame) -> pd.DataFrame:
    """Speaker, index and source recording of each spectrogram image (audio datasets)."""
    by_image = recordings.set_index("image")
    missing = sorted(set(manifest["path"]) - set(by_image.index))
    raise_if_problems([f"{p}: not in the recordings table" for p in missing], "spectrograms")
    fields = by_image.loc[manifest["path"], ["speaker", "index", "recording"]]
    return manifest.assign(
        speaker=fields["speaker"].to_numpy(),
        index=pd.array(fields["index"].to_numpy(), dtype="Int64"),
        recording=fields["recording"].to_numpy(),
    )


def _recording_fields(stem: str) -> dict:
    """Speaker and recording index for FSDD-style names, missing values otherwise."""
    parsed = raw.parse_recording_name(stem + ".wav")
    if parsed is None:
        return {"speaker": None, "index": pd.NA}
    return {"speaker": parsed["speaker"], "index": parsed["index"]}


def prepare_image(
    image: Image.Image,
    size: tuple[int, int],
    channels: int,
    resize: str | None = None,
    convert_channels: bool = False,
) -> np.ndarray:
    """One image as float32 HWC in [0, 1]: converted to `channels` and resampled to
    `size` where asked (the same for the caches and for `attnlab predict`)."""
    if convert_channels and CHANNELS_OF_MODE.get(image.mode) != channels:
        image = image.convert(MODE_OF_CHANNELS[channels])
    if resize is not None and image.size != (size[1], size[0]):
        image = image.resize((size[1], size[0]), RESAMPLING[resize])
    pixels = np.asarray(image, dtype=np.float32)
    return pixels.reshape(pixels.shape[0], pixels.shape[1], channels) / np.float32(255.0)


def load_images(
    paths: list[str],
    channels: int,
    size: tuple[int, int] | None = None,
    resize: str | None = None,
    convert_channels: bool = False,
    sha256: list[str] | None = None,
) -> np.ndarray:
    """Decode images as float32 NHWC scaled to [0, 1] (divide by 255).

    With `sha256` (the manifest's), every image must still have the bytes the manifest
    recorded: all that changed since are reported together, by name.
    """
    arrays, problems = [], []
    for i, path in enumerate(paths):
        data = Path(path).read_bytes()
        if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256[i]:
            problems.append(f"{path}: changed since the manifest recorded it (sha256 differs)")
            continue
        with Image.open(io.BytesIO(data)) as image:
            arrays.append(prepare_image(image, size, channels, resize, convert_channels))
    raise_if_problems(problems, "images of the manifest (rebuild it: snakemake -R manifest)")
    return np.stack(arrays)


def write_split(
    manifest: pd.DataFrame,
    split: str,
    channels: int,
    x_out,
    y_out,
    size: tuple[int, int] | None = None,
    resize: str | None = None,
    convert_channels: bool = False,
    fold: int | None = None,
) -> int:
    """Write `{split}_x.npy` / `{split}_y.npy` for the manifest's rows of that split
    (of fold `fold` for a group_kfold manifest), each image checked against the SHA-256
    the manifest recorded."""
    rows = manifest[manifest[splits.split_column(fold)] == split]
    if rows.empty:
        where = "" if fold is None else f" in fold {fold}"
        raise ValueError(f"the manifest has no {split!r} images{where}")
    paths, recorded = rows["path"].tolist(), rows["sha256"].tolist()
    x = load_images(paths, channels, size, resize, convert_channels, recorded)
    save_array(x_out, x)
    save_array(y_out, rows["label"].to_numpy(dtype=np.int64))
    return len(rows)


def add_noise(x: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """Gaussian noise N(0, sigma) added to every pixel, clipped back to [0, 1]."""
    rng = np.random.default_rng(seed)
    noisy = x + rng.normal(0.0, sigma, size=x.shape).astype(np.float32)
    return np.clip(noisy, 0.0, 1.0, out=noisy)


def checksum_path(path: Path | str) -> Path:
    """The record written beside a cache array: `{name}.npy.sha256` (JSON)."""
    return Path(f"{path}.sha256")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def save_array(path: Path | str, array: np.ndarray) -> None:
    """Write `array` as NPY and its record (bytes, SHA-256, shape, dtype) beside it."""
    path = Path(path)
    np.save(path, array, allow_pickle=False)
    record = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
    record |= {"shape": list(array.shape), "dtype": str(array.dtype)}
    checksum_path(path).write_text(json.dumps(record) + "\n")


def verify_array(path: Path | str) -> dict:
    """Check a cache array against its record; raise CacheError naming what is wrong."""
    path, record_path = Path(path), checksum_path(path)
    if not record_path.is_file():
        raise CacheError(f"{path}: no checksum record {record_path.name}; rebuild the cache")
    if not path.is_file():
        raise CacheError(f"{path}: missing (its checksum record exists)")
    record = json.loads(record_path.read_text())
    size = path.stat().st_size
    if size != record["bytes"]:
        raise CacheError(
            f"{path}: {size} bytes, but {record['bytes']} were written "
            f"({'truncated' if size < record['bytes'] else 'grown'}); delete it to rebuild"
        )
    actual = _sha256(path)
    if actual != record["sha256"]:
        raise CacheError(
            f"{path}: SHA-256 {actual[:12]}... differs from {record['sha256'][:12]}... recorded "
            "when it was written (altered); delete it to rebuild"
        )
    return record


def load_array(path: Path | str, mmap: bool = False) -> np.ndarray:
    """Load a cache array after checking it against the record written with it."""
    record = verify_array(path)
    array = np.load(path, allow_pickle=False, mmap_mode="r" if mmap else None)
    if list(array.shape) != record["shape"] or str(array.dtype) != record["dtype"]:
        raise CacheError(
            f"{path}: holds {array.dtype}{list(array.shape)}, record says "
            f"{record['dtype']}{record['shape']}"
        )
    return array
