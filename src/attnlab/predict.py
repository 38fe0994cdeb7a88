"""Classify new images or recordings with a trained run (`attnlab predict`).

A run folder is self-describing: its `metrics.json` records, under `preprocessing`,
exactly what its dataset's data stage did to the inputs (image size, channels, resizing,
channel conversion, or for recordings the sample rate and spectrogram settings) and the
class names (`attnlab.spec.preprocessing_of` makes the record). `prepare` applies the
same steps to a new file, with the data stage's checks and messages; `classify` returns
class probabilities; `explain` writes an overlay per input: the model's spatial
attention map where it has one, Grad-CAM otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from attnlab import audio, cache, images, raw
from attnlab.errors import DataError, raise_if_problems

AUDIO_SUFFIXES = {".wav"}


def run_files(run_or_model: str | Path) -> tuple[Path, Path]:
    """(model.keras, metrics.json) of a run folder or of a model file inside one."""
    path = Path(run_or_model)
    model = path / "model.keras" if path.is_dir() else path
    metrics = model.parent / "metrics.json"
    for needed in (model, metrics):
        if not needed.is_file():
            raise FileNotFoundError(f"{needed}: missing; give a run folder or its model.keras")
    return model, metrics


def input_files(paths) -> list[Path]:
    """Files given directly, and the image / WAV files of given folders (sorted)."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            suffixes = cache.IMAGE_SUFFIXES | AUDIO_SUFFIXES
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in suffixes)
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    if not found:
        raise FileNotFoundError(f"no image or WAV files in {', '.join(map(str, paths))}")
    return found


def prepare(path: Path, pre: dict) -> np.ndarray:
    """One file as the model's input (float32 HWC in [0, 1]); DataError naming the file."""
    size, channels = tuple(pre["image_size"]), pre["channels"]
    if pre["kind"] == "recording":
        if path.suffix.lower() not in AUDIO_SUFFIXES:
            raise DataError(f"{path}: this run classifies WAV recordings, not {path.suffix!r}")
        if pre["reader"] == "fsdd":
            # The FSDD stage refuses, rather than converts, recordings not in its format.
            problems = raw.fsdd_format_problems(path, pre["sample_rate"])
            if problems:
                raise DataError(f"{path}: " + "; ".join(problems))
        samples = audio.read_audio(path, pre["sample_rate"], pre["mono_mixdown"])
        normalized = images.spectrogram(samples, pre["sample_rate"], pre["spectrogram"])
        colormap = pre["spectrogram"]["colormap"]
        pixels = images.spectrogram_image(normalized, size, channels, colormap)
        return pixels.reshape(*size, channels).astype(np.float32) / np.float32(255.0)
    if path.suffix.lower() not in cache.IMAGE_SUFFIXES:
        raise DataError(f"{path}: this run classifies images, not {path.suffix!r}")
    problem = cache.check_image(path, size, channels, pre["resize"], pre["convert_channels"])
    if problem:
        raise DataError(problem)
    try:
        with Image.open(path) as image:
            return cache.prepare_image(
                image, size, channels, pre["resize"], pre["convert_channels"]
            )
    except (UnidentifiedImageError, OSError) as error:
        raise DataError(f"{path}: undecodable image ({error})") from error


def prepare_all(paths: list[Path], pre: dict) -> np.ndarray:
    """Every file prepared; all problems reported together."""
    arrays, problems = [], []
    for path in paths:
        try:
            arrays.append(prepare(path, pre))
        except DataError as error:
            problems.append(str(error))
    raise_if_problems(problems, "inputs to predict")
    return np.stack(arrays)


def load(run_or_model):
    """(model, preprocessing record) of a run; the model loaded with safe_mode=True."""
    import keras

    import attnlab.layers  # noqa: F401  (registers the attention blocks)

    model_path, metrics_path = run_files(run_or_model)
    metrics = json.loads(metrics_path.read_text())
    if "preprocessing" not in metrics:
        raise ValueError(f"{metrics_path}: no preprocessing record; retrain the run")
    return keras.saving.load_model(model_path, safe_mode=True), metrics["preprocessing"]


def classify(model, x: np.ndarray, paths: list[Path], classes: list[str]) -> pd.DataFrame:
    """One row per input: file, predicted class, its probability, then p(class) columns."""
    probabilities = np.asarray(model.predict(x, verbose=0), dtype=np.float64)
    best = probabilities.argmax(axis=1)
    table = pd.DataFrame(
        {
            "file": [str(p) for p in paths],
            "predicted": [classes[k] for k in best],
            "probability": probabilities[np.arange(len(best)), best],
        }
    )
    columns = pd.DataFrame(probabilities, columns=[f"p_{c}" for c in classes])
    return pd.concat([table, columns], axis=1)


def explanation_maps(model, x: np.ndarray) -> tuple[str, np.ndarray]:
    """The model's last spatial attention map, or Grad-CAM where it has none: (name, N x h x w)."""
    from attnlab import attention

    spatial = {k: v for k, v in attention.maps(model, x).items() if k.endswith("/spatial")}
    if spatial:
        name = list(spatial)[-1]
        return f"attention {name}", spatial[name]
    return "Grad-CAM", attention.grad_cam(model, x)


def explain(model, x: np.ndarray, paths: list[Path], table: pd.DataFrame, out_dir) -> list[Path]:
    """Write `{out_dir}/{file stem}.png` per input: the input and its map overlaid."""
    from attnlab import figures, map_figures

    name, maps = explanation_maps(model, x)
    out_dir = Path(out_dir)
    written = []
    for i, path in enumerate(paths):
        row = table.iloc[i]
        title = f"{path.name}: {row['predicted']} ({row['probability']:.2f})"
        fig = map_figures.overlay_figure(x[i : i + 1], {name: maps[i : i + 1]}, None, title)
        written.append(figures.save_figure(fig, out_dir / f"{path.stem}.png"))
    return written
