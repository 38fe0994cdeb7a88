"""Image folders, one folder per class: Reduced MNIST PNGs, and the spectrogram images of
recordings (`attnlab.audio` writes those)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from attnlab import raw


def sample_per_class(
    labels: np.ndarray, per_class: int | str, seed: int, num_classes: int = 10
) -> np.ndarray:
    """Stratified draw without replacement: `per_class` indices of each class, sorted.

    `per_class="all"` keeps every index.
    """
    if per_class == "all":
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    chosen = []
    for label in range(num_classes):
        candidates = np.flatnonzero(labels == label)
        if len(candidates) < per_class:
            raise ValueError(f"class {label} has {len(candidates)} images, {per_class} requested")
        chosen.append(rng.choice(candidates, size=per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def write_png(array: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format="PNG", optimize=False)


def write_reduced_mnist(
    raw_dir: Path | str,
    out_dir: Path | str,
    train_per_class: int | str,
    test_per_class: int | str,
    seed: int,
) -> dict[str, int]:
    """Write `{out_dir}/{train,test}/{digit}/{split}_{source index}.png`; return counts."""
    out_dir = Path(out_dir)
    parts = raw.load_mnist(raw_dir)
    counts = {}
    # Distinct seeds per split so the two draws are independent of each other's size.
    for offset, (split, per_class) in enumerate(
        (("train", train_per_class), ("test", test_per_class))
    ):
        images, labels = parts[split]
        chosen = sample_per_class(labels, per_class, seed + offset)
        for index in chosen:
            write_png(
                images[index], out_dir / split / str(labels[index]) / f"{split}_{index:05d}.png"
            )
        counts[split] = len(chosen)
    return counts


def spectrogram(samples: np.ndarray, rate: int, settings: dict) -> np.ndarray:
    """Log-power spectrogram normalized per recording to [0, 1], low frequencies last row."""
    import librosa

    stft = dict(n_fft=settings["n_fft"], hop_length=settings["hop_length"])
    stft["window"] = settings["window"]
    if settings["scale"] == "mel":
        power = librosa.feature.melspectrogram(
            y=samples, sr=rate, n_mels=settings["n_mels"], power=2.0, **stft
        )
    else:
        power = np.abs(librosa.stft(samples, **stft)) ** 2
    top_db = settings["top_db"]
    decibels = librosa.power_to_db(power, ref=np.max, top_db=top_db)
    normalized = (decibels + top_db) / top_db
    return np.flipud(np.clip(normalized, 0.0, 1.0))


def spectrogram_image(
    normalized: np.ndarray, size: tuple[int, int], channels: int, colormap: str
) -> np.ndarray:
    """Colour-map (3 channels) or keep grey (1 channel), then resize to `size` (H, W)."""
    if channels == 3:
        from matplotlib import colormaps

        rgb = colormaps[colormap](normalized)[..., :3]
        image = Image.fromarray(np.round(rgb * 255).astype(np.uint8), mode="RGB")
    elif channels == 1:
        image = Image.fromarray(np.round(normalized * 255).astype(np.uint8), mode="L")
    else:
        raise ValueError(f"spectrogram images have 1 or 3 channels, not {channels}")
    height, width = size
    return np.asarray(image.resize((width, height), Image.Resampling.BILINEAR))
