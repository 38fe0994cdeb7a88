"""Audio class folders: any WAV collection -> checked, resampled recordings -> spectrograms.

A dataset with `source: audio_folder` has its recordings either in class folders
(`{path}/{class}/*.wav`, `layout: folders`) or in one folder with names that carry the
class (`layout: flat`, e.g. FSDD's `{class}_{speaker}_{index}.wav`). A `pattern` (a
regular expression with a `class` group and, optionally, `speaker` and `index` groups)
reads names; in class folders it is optional and only supplies speaker and index.

`source: fsdd` is a preset of this (`settings_of`): FSDD's fetched recordings, flat,
named `{digit}_{speaker}_{index}.wav`, at 8 kHz. `recordings_per_class` draws a seeded
subset per class (tiny configs).

Recordings at another rate than `sample_rate` are resampled (soxr, through librosa);
recordings with more than one channel are refused unless `mono_mixdown` asks to
average them. Every defect of every file is reported in one message.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from attnlab import images, raw
from attnlab.errors import DataError, raise_if_problems

_DTYPES = {1: np.uint8, 2: np.dtype("<i2"), 4: np.dtype("<i4")}
FSDD_PRESET = {
    "path": raw.FSDD_RECORDINGS,
    "layout": "flat",
    "pattern": raw.FSDD_NAME.pattern,
    "sample_rate": raw.FSDD_RATE,
    "mono_mixdown": False,
}
AUDIO_KEYS = tuple(FSDD_PRESET)


def settings_of(dataset_config: dict) -> dict:
    """Where a recordings dataset's WAVs are and how to read them: its config's keys
    (`audio_folder`), or the FSDD preset (`fsdd`)."""
    if dataset_config["source"] == "fsdd":
        return dict(FSDD_PRESET)
    return {key: dataset_config[key] for key in AUDIO_KEYS}


def select_per_class(entries: list[dict], classes: list[str], per_class, seed: int) -> list:
    """All entries, or a seeded draw of `per_class` of each class (in listing order)."""
    labels = np.array([classes.index(entry["class_name"]) for entry in entries])
    chosen = images.sample_per_class(labels, per_class, seed, num_classes=len(classes))
    return [entries[i] for i in chosen]


def list_recordings(
    root: Path | str, classes: list[str], layout: str, pattern: str | None
) -> list[dict]:
    """One entry per WAV: path, class_name, speaker, index; DataError listing problems."""
    root, problems, entries = Path(root), [], []
    regex = re.compile(pattern) if pattern else None
    if layout == "folders":
        candidates = [(p, p.parent.name) for p in sorted(root.glob("*/*")) if p.is_file()]
        extra = [p for p in sorted(root.iterdir()) if p.is_dir() and p.name not in classes]
        problems += [f"{p}: folder is not one of the classes {classes}" for p in extra]
    else:
        listed = sorted(p for p in root.iterdir() if p.name != raw.SNAKEMAKE_MARKER)
        candidates = [(p, None) for p in listed if p.is_file()]
    for path, folder_class in candidates:
        if path.suffix.lower() != ".wav":
            problems.append(f"{path}: not a .wav file")
            continue
        match = regex.match(path.name) if regex else None
        if folder_class is None and match is None:
            problems.append(f"{path}: name does not match the pattern {pattern}")
            continue
        fields = match.groupdict() if match else {}
        class_name = folder_class if folder_class is not None else fields.get("class")
        if class_name not in classes:
            problems.append(f"{path}: class {class_name!r} is not one of {classes}")
            continue
        index = fields.get("index")
        entries.append(
            {
                "path": str(path),
                "class_name": class_name,
                "speaker": fields.get("speaker"),
                "index": int(index) if index is not None else None,
            }
        )
    missing = sorted(set(classes) - {e["class_name"] for e in entries})
    problems += [f"{root}: no recordings of class {c!r}" for c in missing]
    raise_if_problems(problems, f"recordings in {root}")
    return entries


def read_audio(path: Path | str, sample_rate: int, mono_mixdown: bool) -> np.ndarray:
    """A PCM WAV (8, 16 or 32-bit) as float32 mono in [-1, 1] at `sample_rate`."""
    channels, width, rate, frames, read_problems = raw.read_pcm(path)
    problems = []
    if width not in _DTYPES:
        problems.append(f"{8 * width}-bit samples, expected 8, 16 or 32-bit PCM")
    if channels > 1 and not mono_mixdown:
        problems.append(f"{channels} channels, expected mono (or set mono_mixdown)")
    problems += read_problems
    if problems:
        raise DataError(f"{path}: " + "; ".join(problems))
    samples = np.frombuffer(frames, dtype=_DTYPES[width]).astype(np.float32)
    samples = (samples - 128) / 128 if width == 1 else samples / float(2 ** (8 * width - 1))
    samples = samples.reshape(-1, channels).mean(axis=1)
    if rate != sample_rate:
        import librosa

        samples = librosa.resample(samples, orig_sr=rate, target_sr=sample_rate, res_type="soxr_hq")
    return samples.astype(np.float32)


def image_name(entry: dict) -> str:
    """The spectrogram's file name: FSDD-style when speaker and index are known."""
    if entry["speaker"] is not None and entry["index"] is not None:
        return f"{entry['class_name']}_{entry['speaker']}_{entry['index']}.png"
    return Path(entry["path"]).stem + ".png"


def write_spectrograms(
    entries: list[dict],
    out_dir: Path | str,
    size: tuple[int, int],
    channels: int,
    settings: dict,
    sample_rate: int,
    mono_mixdown: bool,
) -> pd.DataFrame:
    """Write `{out_dir}/{class}/{name}.png` per recording (all checked first); return the
    recordings table: image path, recording path, class, speaker, index."""
    out_dir = Path(out_dir)
    signals, problems = [], []
    for entry in entries:
        try:
            signals.append(read_audio(entry["path"], sample_rate, mono_mixdown))
        except DataError as error:
            problems.append(str(error))
    raise_if_problems(problems, "recordings")
    rows = []
    for entry, samples in zip(entries, signals, strict=True):
        normalized = images.spectrogram(samples, sample_rate, settings)
        pixels = images.spectrogram_image(normalized, size, channels, settings["colormap"])
        target = out_dir / entry["class_name"] / image_name(entry)
        images.write_png(pixels, target)
        rows.append({"image": str(target), "recording": entry["path"], **entry})
    return pd.DataFrame(rows).drop(columns="path")
