"""Image folders: stratified sampling, Reduced MNIST PNGs, FSDD spectrogram PNGs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from attnlab import audio, images, raw


@pytest.fixture(scope="module")
def labels() -> np.ndarray:
    """Unbalanced, shuffled labels: class k has 20 + k items."""
    rng = np.random.default_rng(0)
    return rng.permutation(np.repeat(np.arange(10), np.arange(20, 30)))


@pytest.fixture(scope="module")
def settings(repo_root) -> dict:
    """The study's spectrogram settings (config/config.yaml)."""
    config = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())
    return dict(config["datasets"]["fsdd"]["spectrogram"])


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.png"))}


# --- stratified sampling -------------------------------------------------------------------


def test_sample_per_class_counts_and_no_replacement(labels):
    chosen = images.sample_per_class(labels, 7, seed=4)
    assert len(chosen) == 70
    assert len(np.unique(chosen)) == 70  # without replacement
    assert np.all(np.diff(chosen) > 0)  # sorted
    np.testing.assert_array_equal(np.bincount(labels[chosen], minlength=10), [7] * 10)


def test_sample_per_class_is_seeded(labels):
    first = images.sample_per_class(labels, 5, seed=4)
    np.testing.assert_array_equal(first, images.sample_per_class(labels, 5, seed=4))
    assert not np.array_equal(first, images.sample_per_class(labels, 5, seed=5))


def test_sample_per_class_whole_class_and_all(labels):
    # As many as the smallest class has: every item of class 0 is drawn.
    chosen = images.sample_per_class(labels, 20, seed=1)
    assert set(np.flatnonzero(labels == 0)) <= set(chosen)
    np.testing.assert_array_equal(images.sample_per_class(labels, "all", 1), np.arange(len(labels)))


def test_sample_per_class_too_many_requested(labels):
    with pytest.raises(ValueError, match="class 0 has 20 images, 21 requested"):
        images.sample_per_class(labels, 21, seed=1)


def test_sample_per_class_other_class_count():
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2])
    chosen = images.sample_per_class(labels, 2, seed=0, num_classes=3)
    np.testing.assert_array_equal(np.bincount(labels[chosen]), [2, 2, 2])


def test_select_per_class():
    classes = [str(d) for d in range(10)]
    entries = [{"class_name": c, "n": n} for c in classes for n in range(4)]
    chosen = audio.select_per_class(entries, classes, 3, seed=4)
    assert sorted(e["class_name"] for e in chosen) == sorted(classes * 3)
    assert chosen == audio.select_per_class(entries, classes, 3, seed=4)
    assert audio.select_per_class(entries, classes, "all", seed=4) == entries


# --- Reduced MNIST -------------------------------------------------------------------------


def test_write_reduced_mnist(tmp_path, mnist_raw_dir):
    out = tmp_path / "reduced_mnist"
    counts = images.write_reduced_mnist(mnist_raw_dir, out, 3, 2, seed=4)
    assert counts == {"train": 30, "test": 20}
    parts = raw.load_mnist(mnist_raw_dir)
    for split, per_class in (("train", 3), ("test", 2)):
        source_images, source_labels = parts[split]
        for digit in range(10):
            files = sorted((out / split / str(digit)).glob("*.png"))
            assert len(files) == per_class, (split, digit)
            for path in files:
                index = int(path.stem.split("_")[1])
                assert path.stem == f"{split}_{index:05d}"
                assert source_labels[index] == digit
                with Image.open(path) as image:
                    assert image.mode == "L" and image.size == (28, 28)
                    np.testing.assert_array_equal(np.asarray(image), source_images[index])
    assert sorted(p.name for p in out.iterdir()) == ["test", "train"]


def test_write_reduced_mnist_is_deterministic(tmp_path, mnist_raw_dir):
    first = tree_of(tmp_path / "a", mnist_raw_dir, 2, 1, seed=4)
    assert tree_of(tmp_path / "b", mnist_raw_dir, 2, 1, seed=4) == first
    other = tree_of(tmp_path / "c", mnist_raw_dir, 2, 1, seed=5)
    assert set(other) != set(first)
    # The test draw does not depend on how many training images are drawn.
    more_train = tree_of(tmp_path / "d", mnist_raw_dir, 4, 1, seed=4)
    assert {k for k in more_train if k.startswith("test")} == {
        k for k in first if k.startswith("test")
    }


def tree_of(out: Path, raw_dir: Path, train: int, test: int, seed: int) -> dict[str, bytes]:
    images.write_reduced_mnist(raw_dir, out, train, test, seed)
    return tree(out)


# --- spectrograms --------------------------------------------------------------------------


def tone(frequency: float, seconds: float = 0.5, rate: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    noise = 0.01 * np.random.default_rng(0).standard_normal(t.size)
    return (0.5 * np.sin(2 * np.pi * frequency * t) + noise).astype(np.float32)


def test_spectrogram_shape_and_range(settings):
    normalized = images.spectrogram(tone(440), 8000, settings)
    frames = 1 + 4000 // settings["hop_length"]
    assert normalized.shape == (settings["n_fft"] // 2 + 1, frames)
    assert normalized.min() >= 0.0 and normalized.max() == pytest.approx(1.0)
    assert normalized.std() > 0.05


def test_spectrogram_low_frequencies_last(settings):
    rows = settings["n_fft"] // 2 + 1
    low = images.spectrogram(tone(200), 8000, settings).mean(axis=1).argmax()
    high = images.spectrogram(tone(3500), 8000, settings).mean(axis=1).argmax()
    assert low > 0.8 * rows and high < 0.3 * rows


def test_spectrogram_mel_scale(settings):
    mel = dict(settings, scale="mel", n_mels=40)
    normalized = images.spectrogram(tone(440), 8000, mel)
    assert normalized.shape == (40, 1 + 4000 // settings["hop_length"])
    assert 0.0 <= normalized.min() and normalized.max() == pytest.approx(1.0)


def test_spectrogram_settings_change_the_result(settings):
    samples = tone(440)
    base = images.spectrogram(samples, 8000, settings)
    hop = images.spectrogram(samples, 8000, dict(settings, hop_length=128))
    assert hop.shape[1] < base.shape[1]
    small = images.spectrogram(samples, 8000, dict(settings, n_fft=128))
    assert small.shape[0] == 65
    hamming = images.spectrogram(samples, 8000, dict(settings, window="hamming"))
    assert hamming.shape == base.shape and not np.allclose(hamming, base)


@pytest.mark.parametrize("size", [(32, 32), (16, 40)])
def test_spectrogram_image_colour_and_grey(settings, size):
    normalized = images.spectrogram(tone(440), 8000, settings)
    rgb = images.spectrogram_image(normalized, size, 3, "viridis")
    assert rgb.shape == (*size, 3) and rgb.dtype == np.uint8
    grey = images.spectrogram_image(normalized, size, 1, "viridis")
    assert grey.shape == size and grey.dtype == np.uint8
    assert grey.max() > grey.min()
    with pytest.raises(ValueError, match="1 or 3 channels"):
        images.spectrogram_image(normalized, size, 2, "viridis")


def write_recordings(folder: Path, write_wav) -> list[dict]:
    """Six FSDD-named tones and a Snakemake marker, listed as the FSDD preset lists them."""
    for digit in (0, 1, 2):
        for index in (0, 1):
            write_wav(
                folder / f"{digit}_alice_{index}.wav", frequency=300 + 200 * digit, seed=index
            )
    (folder / raw.SNAKEMAKE_MARKER).write_text("")
    preset = audio.settings_of({"source": "fsdd"})
    return audio.list_recordings(folder, ["0", "1", "2"], preset["layout"], preset["pattern"])


def spectrograms(entries, out, size, channels, settings):
    return audio.write_spectrograms(entries, out, size, channels, settings, raw.FSDD_RATE, False)


def test_write_spectrograms_layout_and_determinism(tmp_path, settings, write_wav):
    recordings = write_recordings(tmp_path / "recordings", write_wav)
    table = spectrograms(recordings, tmp_path / "a", (32, 32), 3, settings)
    assert len(table) == 6 and set(table["speaker"]) == {"alice"}
    first = tree(tmp_path / "a")
    expected = {f"{d}/{d}_alice_{i}.png" for d in (0, 1, 2) for i in (0, 1)}
    assert set(first) == expected
    for name in expected:
        with Image.open(tmp_path / "a" / name) as image:
            assert image.mode == "RGB" and image.size == (32, 32)
    # Same input, same bytes.
    spectrograms(recordings, tmp_path / "b", (32, 32), 3, settings)
    assert tree(tmp_path / "b") == first


def test_write_spectrograms_grey_and_mel(tmp_path, settings, write_wav):
    recordings = write_recordings(tmp_path / "recordings", write_wav)
    spectrograms(recordings, tmp_path / "grey", (24, 20), 1, settings)
    mel = dict(settings, scale="mel")
    spectrograms(recordings, tmp_path / "mel", (24, 20), 1, mel)
    grey, mel_tree = tree(tmp_path / "grey"), tree(tmp_path / "mel")
    assert set(grey) == set(mel_tree)
    assert all(grey[name] != mel_tree[name] for name in grey)
    with Image.open(tmp_path / "grey" / "0" / "0_alice_0.png") as image:
        assert image.mode == "L" and image.size == (20, 24)


def test_write_spectrograms_rejects_bad_wav(tmp_path, settings, write_wav):
    bad = write_wav(tmp_path / "0_alice_0.wav", channels=2)
    entry = {"path": str(bad), "class_name": "0", "speaker": "alice", "index": 0}
    with pytest.raises(raw.DataError, match="2 channels"):
        spectrograms([entry], tmp_path / "out", (32, 32), 3, settings)
