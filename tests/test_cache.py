"""Caches: image validation (every bad-input case), split assignment, NPY arrays, noise."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from attnlab import cache
from attnlab.errors import MAX_LISTED, DataError

CLASSES = ["0", "1", "2"]
SIZE = (28, 28)
RANDOM = {"method": "random", "fractions": {"train": 0.6, "val": 0.2, "test": 0.2}}
SCHEMA = Path(__file__).resolve().parents[1] / "workflow/schemas/config.schema.yaml"


def with_schema_defaults(split: dict) -> dict:
    """`split` with the defaults the config schema fills in (fractions, speaker)."""
    properties = yaml.safe_load(SCHEMA.read_text())["$defs"]["split"]["properties"]
    defaults = {k: v["default"] for k, v in properties.items() if "default" in v}
    return defaults | split


FOLDERS = {"method": "folders"}


def build(root, split=RANDOM, classes=CLASSES, size=SIZE, channels=1, seed=4) -> pd.DataFrame:
    return cache.build_manifest(root, classes, size, channels, split, seed)


def problem_message(root, **kwargs) -> str:
    with pytest.raises(DataError) as error:
        build(root, **kwargs)
    return str(error.value)


def save(path: Path, pixels: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture
def dataset(tmp_path, write_image_folder) -> Path:
    """Flat layout: 3 classes of 5 random 28x28 grey PNGs."""
    return write_image_folder(tmp_path / "data", CLASSES, per_class=5)


# --- a good dataset ------------------------------------------------------------------------


def test_manifest_of_a_good_folder(dataset):
    manifest = build(dataset)
    assert len(manifest) == 15
    assert {"path", "label", "class_name", "split", "sha256", "speaker", "index"} <= set(
        manifest.columns
    )
    for row in manifest.itertuples():
        assert Path(row.path).parent.name == row.class_name == CLASSES[row.label]
        assert row.sha256 == hashlib.sha256(Path(row.path).read_bytes()).hexdigest()
    assert manifest["speaker"].isna().all()
    # Rows ordered by split (train, val, test), then label, then path.
    order = manifest["split"].map({"train": 0, "val": 1, "test": 2})
    assert order.is_monotonic_increasing


def test_manifest_of_split_folders(tmp_path, write_image_folder):
    root = write_image_folder(tmp_path / "data", CLASSES, per_class={"train": 4, "test": 2})
    (root / ".snakemake_timestamp").touch()  # Snakemake's directory marker is ignored
    manifest = build(root, split=FOLDERS)
    counts = manifest.groupby(["split", "label"]).size()
    assert counts["train"].tolist() == [4, 4, 4] and counts["test"].tolist() == [2, 2, 2]
    assert all(f"/{row.split}/" in row.path for row in manifest.itertuples())


def test_manifest_of_rgb_images(tmp_path, write_image_folder):
    root = write_image_folder(tmp_path / "data", CLASSES, per_class=3, size=(16, 12), channels=3)
    assert len(build(root, size=(16, 12), channels=3)) == 9


# --- bad input: one DataError naming each offending file -----------------------------------


def make_undecodable(root: Path) -> Path:
    path = root / "0" / "garbage.png"
    path.write_bytes(b"this is not a PNG")
    return path


def make_truncated(root: Path) -> Path:
    path = root / "0" / "0_000.png"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def make_wrong_size(root: Path) -> Path:
    pixels = np.random.default_rng(1).integers(0, 256, (28, 30), dtype=np.uint8)
    return save(root / "1" / "wide.png", pixels)


def make_wrong_channels(root: Path) -> Path:
    pixels = np.random.default_rng(1).integers(0, 256, (28, 28, 3), dtype=np.uint8)
    return save(root / "1" / "colour.png", pixels)


def make_black(root: Path) -> Path:
    return save(root / "2" / "black.png", np.zeros((28, 28), np.uint8))


def make_one_value(root: Path) -> Path:
    return save(root / "2" / "grey.png", np.full((28, 28), 117, np.uint8))


def make_undeclared_class(root: Path) -> Path:
    folder = root / "7"
    save(folder / "seven.png", np.random.default_rng(1).integers(0, 256, SIZE, dtype=np.uint8))
    return folder


def make_empty_class(root: Path) -> Path:
    folder = root / "2"
    shutil.rmtree(folder)
    folder.mkdir()
    return folder


def make_missing_class(root: Path) -> Path:
    folder = root / "2"
    shutil.rmtree(folder)
    return folder


def make_non_image(root: Path) -> Path:
    path = root / "1" / "notes.txt"
    path.write_text("not an image")
    return path


def make_stray_file(root: Path) -> Path:
    path = root / "labels.csv"
    path.write_text("a,b")
    return path


BAD_CASES = {
    "undecodable": (make_undecodable, "undecodable"),
    "truncated": (make_truncated, "truncated"),
    "wrong-size": (make_wrong_size, "size 28x30, expected 28x28"),
    "wrong-channels": (make_wrong_channels, "expected 1 channel"),
    "all-black": (make_black, "constant image"),
    "all-one-value": (make_one_value, "constant image"),
    "undeclared-class": (make_undeclared_class, "not a declared class"),
    "empty-class": (make_empty_class, "has no images"),
    "missing-class": (make_missing_class, "has no images"),
    "non-image-file": (make_non_image, "not an image file"),
    "file-outside-classes": (make_stray_file, "outside any class folder"),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_is_named(dataset, case):
    make, reason = BAD_CASES[case]
    offender = make(dataset)
    message = problem_message(dataset)
    assert "1 problem(s)" in message
    line = next(line for line in message.splitlines() if str(offender) in line)
    assert reason in line


def test_every_problem_in_one_error(dataset):
    offenders = {
        case: make(dataset) for case, (make, _) in BAD_CASES.items() if "class" not in case
    }
    message = problem_message(dataset)
    assert f"{len(offenders)} problem(s)" in message
    for case, offender in offenders.items():
        assert str(offender) in message, case


def test_constant_colour_image_is_rejected(tmp_path, write_image_folder):
    # "All one value" for colour images: every pixel the same colour (e.g. pure red, or the
    # colour-mapped spectrogram of a silent recording), not only min == max over all values.
    root = write_image_folder(tmp_path / "data", CLASSES, per_class=3, channels=3)
    red = np.zeros((28, 28, 3), np.uint8)
    red[..., 0] = 255
    offender = save(root / "0" / "red.png", red)
    message = problem_message(root, channels=3)
    assert str(offender) in message and "constant" in message


def test_rgb_image_in_grey_dataset_and_back(tmp_path, write_image_folder):
    grey = write_image_folder(tmp_path / "grey", CLASSES, per_class=2, channels=1)
    message = problem_message(grey, channels=3)
    assert message.count("expected 3 channel(s)") == 6


@pytest.mark.parametrize("mode", ["LA", "RGBA", "P", "1"])
def test_other_image_modes_are_rejected(dataset, mode):
    pixels = np.random.default_rng(1).integers(0, 256, (28, 28, 3), dtype=np.uint8)
    image = Image.fromarray(pixels).convert(mode)
    offender = dataset / "0" / f"mode_{mode}.png"
    image.save(offender)
    message = problem_message(dataset)
    assert str(offender) in message and "expected 1 channel(s)" in message


def test_sixteen_bit_png_is_rejected_or_scaled_to_unit_range(tmp_path, write_image_folder):
    # A 16-bit grey PNG (PIL mode I;16) must not end up in the cache with values > 1.
    root = write_image_folder(tmp_path / "data", CLASSES, per_class=3)
    wide = (np.random.default_rng(2).integers(0, 65536, SIZE)).astype(np.uint16)
    offender = save(root / "0" / "deep.png", wide)
    try:
        manifest = build(root)
    except DataError as error:
        assert str(offender) in str(error)
        return
    split = manifest.loc[manifest.path == str(offender), "split"].item()
    x_path, y_path = tmp_path / "x.npy", tmp_path / "y.npy"
    cache.write_split(manifest, split, 1, x_path, y_path)
    x = np.load(x_path)
    assert 0.0 <= x.min() and x.max() <= 1.0


def test_split_arrays_refuse_an_image_changed_since_the_manifest(dataset, tmp_path):
    manifest = build(dataset)
    train = manifest[manifest["split"] == "train"]
    changed = [Path(p) for p in train["path"].iloc[:2]]
    for path in changed:
        save(path, np.random.default_rng(9).integers(0, 256, SIZE, dtype=np.uint8))
    with pytest.raises(DataError) as caught:
        cache.write_split(manifest, "train", 1, tmp_path / "x.npy", tmp_path / "y.npy")
    message = str(caught.value)
    assert "2 problem(s)" in message and "snakemake -R manifest" in message
    assert all(f"{path}: changed since the manifest recorded it" in message for path in changed)
    assert not (tmp_path / "x.npy").exists()


def test_folder_inside_a_class_folder_is_not_silently_skipped(dataset):
    nested = dataset / "0" / "more"
    save(nested / "extra.png", np.random.default_rng(3).integers(0, 256, SIZE, dtype=np.uint8))
    with pytest.raises(DataError) as error:
        build(dataset)
    assert str(nested) in str(error.value)


def test_missing_root_folder(tmp_path):
    message = problem_message(tmp_path / "nowhere")
    assert "does not exist" in message and str(tmp_path / "nowhere") in message


def test_split_folders_layout_problems(tmp_path, write_image_folder):
    root = write_image_folder(tmp_path / "data", CLASSES, per_class={"test": 2})
    (root / "extra").mkdir()
    message = problem_message(root, split=FOLDERS)
    assert f"{root / 'train'}: missing split folder" in message
    assert f"{root / 'extra'}: not a split folder" in message


def test_same_image_in_two_splits(tmp_path, write_image_folder):
    root = write_image_folder(tmp_path / "data", CLASSES, per_class={"train": 3, "test": 2})
    source = root / "train" / "1" / "1_002.png"
    copy = root / "test" / "1" / "leaked.png"
    shutil.copyfile(source, copy)
    # The same bytes twice in one split are not a leak.
    shutil.copyfile(root / "train" / "2" / "2_000.png", root / "train" / "2" / "twin.png")
    message = problem_message(root, split=FOLDERS)
    assert str(source) in message and str(copy) in message
    assert "same image" in message
    assert "twin.png" not in message
    assert "2 problem(s)" in message


def test_many_problems_list_first_twenty_and_count(dataset):
    offenders = [
        save(dataset / "1" / f"black_{i:02d}.png", np.zeros(SIZE, np.uint8)) for i in range(25)
    ]
    message = problem_message(dataset)
    assert "25 problem(s)" in message
    assert "... and 5 more" in message
    listed = [path for path in offenders if str(path) in message]
    assert len(listed) == MAX_LISTED
    assert message.count("constant image") == MAX_LISTED


# --- splits --------------------------------------------------------------------------------


def split_counts(manifest: pd.DataFrame) -> dict[str, list[int]]:
    counts = manifest.groupby(["split", "label"]).size().unstack(fill_value=0)
    return {split: counts.loc[split].tolist() for split in counts.index}


def test_random_split_is_stratified_by_fractions(tmp_path, write_image_folder):
    root = write_image_folder(tmp_path / "data", CLASSES, per_class=10)
    default = build(root, split=with_schema_defaults({"method": "random"}))
    assert split_counts(default) == {"train": [8] * 3, "val": [1] * 3, "test": [1] * 3}
    half = {"method": "random", "fractions": {"train": 0.5, "val": 0.3, "test": 0.2}}
    assert split_counts(build(root, split=half)) == {
        "train": [5] * 3,
        "val": [3] * 3,
        "test": [2] * 3,
    }
    # Fractions are relative: 5/3/2 is the same as 0.5/0.3/0.2.
    relative = {"method": "random", "fractions": {"train": 5, "val": 3, "test": 2}}
    assert split_counts(build(root, split=relative)) == split_counts(build(root, split=half))
    no_val = {"method": "random", "fractions": {"train": 0.8, "val": 0, "test": 0.2}}
    assert split_counts(build(root, split=no_val)) == {"train": [8] * 3, "test": [2] * 3}


def test_random_split_is_seeded(tmp_path, write_image_folder):
    root = write_image_folder(tmp_path / "data", CLASSES, per_class=20)
    first = build(root, seed=4)
    pd.testing.assert_frame_equal(first, build(root, seed=4))
    other = build(root, seed=5)
    assert set(first.loc[first.split == "test", "path"]) != set(
        other.loc[other.split == "test", "path"]
    )


def fsdd_names(speakers=("alice", "bob", "carl"), indices=range(8)):
    """FSDD-style file names: 8 recordings per (digit, speaker)."""
    pairs = [(s, i) for s in speakers for i in indices]
    return lambda cls, n: f"{cls}_{pairs[n][0]}_{pairs[n][1]}.png"


def test_official_split_puts_indices_0_to_4_in_test(tmp_path, write_image_folder):
    root = write_image_folder(tmp_path / "data", CLASSES, per_class=24, filename=fsdd_names())
    official = {"method": "official", "fractions": {"train": 0.9, "val": 0.1, "test": 0.1}}
    manifest = build(root, split=official)
    assert set(manifest.speaker) == {"alice", "bob", "carl"}
    index = manifest["index"].astype(int)
    assert (manifest.split[index < 5] == "test").all()
    assert (manifest.split[index >= 5] != "test").all()
    # The rest (3 speakers x 3 indices = 9 per class) is split train/val per class.
    assert split_counts(manifest) == {"train": [8] * 3, "val": [1] * 3, "test": [15] * 3}


def test_speaker_split_holds_one_speaker_out(tmp_path, write_image_folder):
    root = write_image_folder(tmp_path / "data", CLASSES, per_class=24, filename=fsdd_names())
    split = {"method": "speaker", "speaker": "bob", "fractions": RANDOM["fractions"]}
    manifest = build(root, split=split)
    assert (manifest.split[manifest.speaker == "bob"] == "test").all()
    assert (manifest.split[manifest.speaker != "bob"] != "test").all()
    assert split_counts(manifest)["test"] == [8] * 3


def test_speaker_split_needs_a_known_speaker(tmp_path, write_image_folder):
    root = write_image_folder(tmp_path / "data", CLASSES, per_class=24, filename=fsdd_names())
    with pytest.raises(ValueError, match="'zoe' is not among"):
        build(root, split=with_schema_defaults({"method": "speaker", "speaker": "zoe"}))


@pytest.mark.parametrize("method", ["official", "speaker"])
def test_recording_splits_need_recording_names(dataset, method):
    with pytest.raises(ValueError, match="digit.*speaker.*index"):
        build(dataset, split=with_schema_defaults({"method": method, "speaker": "alice"}))


def test_no_image_in_two_splits_after_random_split(tmp_path, write_image_folder):
    root = write_image_folder(tmp_path / "data", CLASSES, per_class=10)
    manifest = build(root)
    assert manifest["path"].is_unique
    assert manifest.groupby("sha256")["split"].nunique().max() == 1


# --- arrays and noise ----------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 3])
def test_write_split_arrays(tmp_path, write_image_folder, channels):
    root = write_image_folder(
        tmp_path / "data", CLASSES, per_class=5, size=(12, 10), channels=channels
    )
    manifest = build(root, size=(12, 10), channels=channels)
    for split in ("train", "val", "test"):
        x_path, y_path = tmp_path / f"{split}_x.npy", tmp_path / f"{split}_y.npy"
        count = cache.write_split(manifest, split, channels, x_path, y_path)
        rows = manifest[manifest.split == split]
        x = cache.load_array(x_path)
        y = cache.load_array(y_path)
        assert count == len(rows) == len(x) == len(y)
        assert x.dtype == np.float32 and x.shape == (len(rows), 12, 10, channels)
        assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.5
        assert np.issubdtype(y.dtype, np.integer)
        np.testing.assert_array_equal(y, rows.label.to_numpy())
        first = np.asarray(Image.open(rows.path.iloc[0]), dtype=np.float32) / 255
        np.testing.assert_allclose(x[0], first.reshape(12, 10, channels), atol=1e-7)
        mapped = cache.load_array(x_path, mmap=True)
        assert isinstance(mapped, np.memmap)
        np.testing.assert_array_equal(mapped, x)


def test_write_split_refuses_an_empty_split(tmp_path, dataset):
    manifest = build(
        dataset, split={"method": "random", "fractions": {"train": 0.6, "val": 0, "test": 0.4}}
    )
    with pytest.raises(ValueError, match="no 'val' images"):
        cache.write_split(manifest, "val", 1, tmp_path / "x.npy", tmp_path / "y.npy")


def test_arrays_are_saved_without_pickle(tmp_path, dataset):
    manifest = build(dataset)
    cache.write_split(manifest, "train", 1, tmp_path / "x.npy", tmp_path / "y.npy")
    for name in ("x.npy", "y.npy"):
        np.load(tmp_path / name, allow_pickle=False)


def test_add_noise_is_seeded_clipped_and_sized():
    x = np.random.default_rng(0).random((6, 8, 8, 1), dtype=np.float32)
    x[0] = 0.0
    x[1] = 1.0
    noisy = cache.add_noise(x, 0.02, seed=4)
    assert noisy.dtype == np.float32 and noisy.shape == x.shape
    assert 0.0 <= noisy.min() and noisy.max() <= 1.0
    assert noisy[0].max() > 0 and noisy[1].min() < 1  # the noise shows at both edges
    np.testing.assert_array_equal(noisy, cache.add_noise(x, 0.02, seed=4))
    assert not np.array_equal(noisy, cache.add_noise(x, 0.02, seed=5))
    middle = np.full((50, 16, 16, 1), 0.5, np.float32)
    assert np.std(cache.add_noise(middle, 0.02, seed=1) - middle) == pytest.approx(0.02, rel=0.05)
    np.testing.assert_array_equal(cache.add_noise(x, 0.0, seed=4), x)
    assert np.array_equal(x[0], np.zeros_like(x[0]))  # the input is left unchanged


# --- cache arrays carry a checksum record that every load checks --------------------------


@pytest.fixture
def saved_array(tmp_path):
    path = tmp_path / "test_x.npy"
    cache.save_array(path, np.arange(4000, dtype=np.float32).reshape(10, 20, 20, 1))
    return path


def test_a_saved_array_loads_and_its_record_says_what_was_written(saved_array):
    record = json.loads(cache.checksum_path(saved_array).read_text())
    assert record["shape"] == [10, 20, 20, 1] and record["dtype"] == "float32"
    assert record["bytes"] == saved_array.stat().st_size
    assert cache.load_array(saved_array).sum() == sum(range(4000))


def test_a_truncated_array_is_named(saved_array):
    data = saved_array.read_bytes()
    saved_array.write_bytes(data[: len(data) // 2])
    with pytest.raises(cache.CacheError, match=r"test_x\.npy: \d+ bytes, but \d+ were written"):
        cache.load_array(saved_array)
    with pytest.raises(cache.CacheError, match="truncated"):
        cache.load_array(saved_array, mmap=True)


def test_an_altered_array_is_named(saved_array):
    data = bytearray(saved_array.read_bytes())
    data[-1] ^= 0xFF
    saved_array.write_bytes(bytes(data))
    with pytest.raises(cache.CacheError, match=r"test_x\.npy: SHA-256 .* \(altered\)"):
        cache.load_array(saved_array)


def test_an_array_without_its_record_is_refused(tmp_path):
    path = tmp_path / "train_x.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(cache.CacheError, match=r"train_x\.npy: no checksum record"):
        cache.load_array(path)


@pytest.mark.parametrize("method", ["nearest", "bilinear", "lanczos"])
def test_prepare_image_resizes_and_converts_only_when_asked(method):
    rgb = Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 40, 3), dtype=np.uint8))
    x = cache.prepare_image(rgb, (8, 10), 1, resize=method, convert_channels=True)
    assert x.shape == (8, 10, 1) and x.dtype == np.float32 and 0 <= x.min() <= x.max() <= 1
    expected = np.asarray(rgb.convert("L").resize((10, 8), cache.RESAMPLING[method])) / 255
    np.testing.assert_allclose(x[..., 0], expected, atol=1e-6)
    same = cache.prepare_image(rgb, (32, 40), 3)
    np.testing.assert_allclose(same, np.asarray(rgb) / 255, atol=1e-6)
