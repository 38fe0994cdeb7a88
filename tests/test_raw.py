"""Raw inputs: IDX parsing, checksums, fetching from a mirror, safe FSDD extraction, WAVs."""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest

from attnlab import raw
from attnlab.errors import MAX_LISTED, DataError


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes: magic 0x0000 08 NN, big-endian int32 dims, payload."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def all_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir()}


# --- IDX parsing -----------------------------------------------------------------------


def test_read_idx_round_trip(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(idx_bytes(images))
    parsed = raw.read_idx(path, expected_shape=(2, 3, 4))
    assert parsed.dtype == np.uint8
    np.testing.assert_array_equal(parsed, images)
    labels = tmp_path / "labels-idx1-ubyte"
    labels.write_bytes(idx_bytes(np.array([7, 0, 9])))
    np.testing.assert_array_equal(raw.read_idx(labels), [7, 0, 9])


@pytest.mark.parametrize(
    "magic",
    [b"\x00\x01\x08\x01", b"\x00\x00\x0d\x01", b"\x1f\x8b\x08\x00", b"\x00\x00"],
    ids=["nonzero-prefix", "float-dtype", "gzip-bytes", "too-short"],
)
def test_read_idx_rejects_bad_magic(tmp_path, magic):
    path = tmp_path / "bad-idx"
    path.write_bytes(magic + struct.pack(">i", 3) + b"\x01\x02\x03")
    with pytest.raises(DataError, match="not an IDX file") as error:
        raw.read_idx(path)
    assert str(path) in str(error.value)


def test_read_idx_rejects_wrong_shape(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.zeros(5)))
    with pytest.raises(DataError, match=r"shape \(5,\), expected \(6,\)") as error:
        raw.read_idx(path, expected_shape=(6,))
    assert str(path) in str(error.value)


@pytest.mark.parametrize("delta", [-1, -7, +3], ids=["one-short", "truncated", "too-long"])
def test_read_idx_rejects_wrong_payload_size(tmp_path, delta):
    data = idx_bytes(np.ones((2, 4, 4)))
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(data[:delta] if delta < 0 else data + b"\x00" * delta)
    with pytest.raises(DataError, match="payload") as error:
        raw.read_idx(path, expected_shape=(2, 4, 4))
    assert str(path) in str(error.value)


def test_read_idx_rejects_truncated_header(tmp_path):
    # A file cut inside its dimension header (3 dims announced, 1.5 present).
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.ones((2, 4, 4)))[:10])
    with pytest.raises(DataError) as error:
        raw.read_idx(path)
    assert str(path) in str(error.value)


# --- MNIST: fetch, decompress, verify ----------------------------------------------------


@pytest.fixture
def fake_mnist_entry(monkeypatch):
    """Register a small IDX file `tiny-labels-idx1-ubyte` (content, sha256) in MNIST_FILES."""
    labels = np.array([3, 1, 4, 1, 5, 9, 2, 6], dtype=np.uint8)
    content = idx_bytes(labels)
    digest = hashlib.sha256(content).hexdigest()
    name = "tiny-labels-idx1-ubyte"
    monkeypatch.setitem(raw.MNIST_FILES, name, (digest, labels.shape))
    return name, content, digest


def write_mirror_file(mirror: Path, name: str, content: bytes) -> Path:
    path = mirror / "mnist" / f"{name}.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(content))
    return path


def test_fetch_mnist_from_fake_mirror(tmp_path, fake_mnist_entry):
    name, content, _ = fake_mnist_entry
    write_mirror_file(tmp_path / "mirror", name, content)
    dest = tmp_path / "raw" / name
    assert raw.fetch_mnist(name, dest, tmp_path / "mirror") == dest
    assert dest.read_bytes() == content
    assert all_files(tmp_path / "raw") == {name}  # no .gz or .part left behind


def test_checksum_mismatch_names_file_expected_and_actual(tmp_path, fake_mnist_entry):
    name, content, expected = fake_mnist_entry
    corrupted = content[:-1] + b"\x07"
    actual = hashlib.sha256(corrupted).hexdigest()
    write_mirror_file(tmp_path / "mirror", name, corrupted)
    dest = tmp_path / "raw" / name
    with pytest.raises(DataError, match="SHA-256 mismatch") as error:
        raw.fetch_mnist(name, dest, tmp_path / "mirror")
    message = str(error.value)
    assert name in message and expected in message and actual in message
    assert not dest.exists()


def test_checksum_mismatch_on_a_real_file_name(tmp_path):
    # A corrupted copy of a real MNIST file in a fake mirror: the canonical hash is named.
    name = "t10k-labels-idx1-ubyte"
    content = idx_bytes(np.zeros(10000))
    write_mirror_file(tmp_path / "mirror", name, content)
    with pytest.raises(DataError) as error:
        raw.fetch_mnist(name, tmp_path / "raw" / name, tmp_path / "mirror")
    message = str(error.value)
    assert name in message
    assert raw.MNIST_FILES[name][0] in message
    assert hashlib.sha256(content).hexdigest() in message


def test_fetch_mnist_checks_the_idx_shape(tmp_path, monkeypatch, fake_mnist_entry):
    name, content, digest = fake_mnist_entry
    monkeypatch.setitem(raw.MNIST_FILES, name, (digest, (9,)))
    write_mirror_file(tmp_path / "mirror", name, content)
    with pytest.raises(DataError, match="shape"):
        raw.fetch_mnist(name, tmp_path / "raw" / name, tmp_path / "mirror")
    assert not (tmp_path / "raw" / name).exists()


@pytest.mark.parametrize(
    "payload",
    [b"not gzip at all", gzip.compress(b"\0" * 500, mtime=0)[:20]],
    ids=["not-gzip", "truncated-gzip"],
)
def test_fetch_mnist_corrupt_gzip_is_a_data_error(tmp_path, fake_mnist_entry, payload):
    # A damaged or partially downloaded archive must give a DataError naming the file.
    name, _, _ = fake_mnist_entry
    source = tmp_path / "mirror" / "mnist" / f"{name}.gz"
    source.parent.mkdir(parents=True)
    source.write_bytes(payload)
    with pytest.raises(DataError) as error:
        raw.fetch_mnist(name, tmp_path / "raw" / name, tmp_path / "mirror")
    assert name in str(error.value)


def test_fetch_mnist_missing_file_in_mirror(tmp_path):
    (tmp_path / "mirror" / "mnist").mkdir(parents=True)
    name = "train-labels-idx1-ubyte"
    with pytest.raises(DataError, match="not found in the mirror") as error:
        raw.fetch_mnist(name, tmp_path / "raw" / name, tmp_path / "mirror")
    assert f"{name}.gz" in str(error.value)
    assert not (tmp_path / "raw" / name).exists()


def test_fetch_copies_from_mirror_folder(tmp_path):
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "file.bin").write_bytes(b"payload")
    dest = raw.fetch("file.bin", tmp_path / "out" / "sub" / "file.bin", tmp_path / "mirror", ())
    assert dest.read_bytes() == b"payload"
    assert all_files(tmp_path / "out") == {"sub/file.bin"}


def test_fetch_mnist_labels_from_real_mirror(tmp_path, mirror):
    name = "t10k-labels-idx1-ubyte"
    dest = raw.fetch_mnist(name, tmp_path / name, mirror)
    assert raw.sha256_of(dest) == raw.MNIST_FILES[name][0]
    labels = raw.read_idx(dest, (10000,))
    assert set(np.unique(labels)) == set(range(10))


def test_load_mnist_reads_both_splits(mnist_raw_dir):
    parts = raw.load_mnist(mnist_raw_dir)
    assert parts["train"][0].shape == (60000, 28, 28)
    assert parts["train"][1].shape == (60000,)
    assert parts["test"][0].shape == (10000, 28, 28)
    assert parts["test"][1].shape == (10000,)


def test_fetch_fsdd_from_real_mirror_verifies_checksum(tmp_path, mirror):
    dest = raw.fetch_fsdd(tmp_path / raw.FSDD_TARBALL, mirror)
    assert raw.sha256_of(dest) == raw.FSDD_SHA256


def test_fetch_fsdd_checksum_mismatch(tmp_path):
    fake = tmp_path / "mirror" / "fsdd" / raw.FSDD_TARBALL
    fake.parent.mkdir(parents=True)
    fake.write_bytes(b"not the FSDD archive")
    with pytest.raises(DataError) as error:
        raw.fetch_fsdd(tmp_path / "raw" / raw.FSDD_TARBALL, tmp_path / "mirror")
    message = str(error.value)
    assert raw.FSDD_TARBALL in message and raw.FSDD_SHA256 in message
    assert hashlib.sha256(b"not the FSDD archive").hexdigest() in message


def test_fetch_fsdd_missing_in_mirror(tmp_path):
    (tmp_path / "mirror" / "fsdd").mkdir(parents=True)
    with pytest.raises(DataError, match="not found in the mirror") as error:
        raw.fetch_fsdd(tmp_path / "raw" / raw.FSDD_TARBALL, tmp_path / "mirror")
    assert raw.FSDD_TARBALL in str(error.value)


# --- FSDD extraction ---------------------------------------------------------------------


def add_member(archive: tarfile.TarFile, name: str, data: bytes = b"", **fields) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in fields.items():
        setattr(info, key, value)
    archive.addfile(info, io.BytesIO(data) if data else None)


def test_extract_recordings_takes_only_recordings_and_refuses_traversal(tmp_path, write_wav):
    good = write_wav(tmp_path / "source.wav").read_bytes()
    top = "free-spoken-digit-dataset-1.0.10"
    outside = tmp_path / "outside"
    tarball = tmp_path / "archive.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        add_member(archive, f"{top}/recordings/0_alice_0.wav", good)
        add_member(archive, f"{top}/recordings/7_bob_12.wav", good)
        add_member(archive, f"{top}/README.md", b"docs")
        add_member(archive, f"{top}/utils/spectrogram.wav", good)  # not under recordings/
        add_member(archive, f"{top}/recordings/notes.txt", b"text")  # not a .wav
        add_member(archive, f"{top}/recordings/sub/1_carl_1.wav", good)  # nested deeper
        add_member(archive, "../evil.wav", good)
        add_member(archive, f"{top}/recordings/../../evil2.wav", good)
        add_member(archive, f"{outside}/recordings/abs.wav", good)  # absolute path
        add_member(archive, f"{top}/recordings/link.wav", type=tarfile.SYMTYPE, linkname="/etc")
        add_member(archive, f"{top}/recordings/hard.wav", type=tarfile.LNKTYPE, linkname="x")
    work = tmp_path / "a" / "b"
    out_dir = work / "recordings"
    before = all_files(tmp_path)

    written = raw.extract_recordings(tarball, out_dir)

    names = {path.name for path in written}
    assert {"0_alice_0.wav", "7_bob_12.wav"} <= names
    assert not names & {"notes.txt", "spectrogram.wav", "1_carl_1.wav", "link.wav", "hard.wav"}
    assert all(path.parent == out_dir for path in written)
    # Nothing outside the output folder changed; inside it, only the written files.
    after = all_files(tmp_path)
    created = after - before
    assert created == {str(path.relative_to(tmp_path)) for path in written}
    assert not outside.exists()
    assert not any((out_dir / name).is_symlink() for name in ("link.wav", "hard.wav"))
    assert (out_dir / "0_alice_0.wav").read_bytes() == good


def test_extract_and_check_real_recordings(tmp_path, mirror):
    tarball = mirror / "fsdd" / raw.FSDD_TARBALL
    written = raw.extract_recordings(tarball, tmp_path / "recordings")
    assert len(written) == raw.FSDD_COUNT
    checked = raw.check_recordings(tmp_path / "recordings")
    assert checked == written
    speakers = {raw.parse_recording_name(p.name)["speaker"] for p in checked}
    assert speakers == {"george", "jackson", "lucas", "nicolas", "theo", "yweweler"}


# --- WAV checks ----------------------------------------------------------------------------


def test_parse_recording_name():
    assert raw.parse_recording_name("3_theo_42.wav") == {
        "digit": 3,
        "speaker": "theo",
        "index": 42,
    }
    for bad in ("3_theo.wav", "10_theo_1.wav", "3_Theo_1.wav", "3_theo_1.mp3", "x_theo_1.wav"):
        assert raw.parse_recording_name(bad) is None, bad


def test_an_fsdd_recording_has_no_format_problems(tmp_path, write_wav):
    path = write_wav(tmp_path / "0_alice_0.wav", seconds=0.5)
    assert raw.fsdd_format_problems(path) == []


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"rate": 16000}, "16000 Hz, expected 8000 Hz"),
        ({"channels": 2}, "2 channels, expected mono"),
        ({"width": 1}, "8-bit samples, expected 16-bit"),
        ({"seconds": 0}, "empty"),
    ],
    ids=["wrong-rate", "stereo", "8-bit", "empty"],
)
def test_fsdd_format_problems_are_named(tmp_path, write_wav, fields, reason):
    path = write_wav(tmp_path / "recordings" / "0_alice_0.wav", **fields)
    with pytest.raises(DataError, match=reason) as error:
        raw.check_recordings(path.parent, expected_count=None)
    assert str(path) in str(error.value)


@pytest.mark.parametrize(
    "content",
    [b"", b"this is not a wav file", b"RIFF\x10\x00\x00\x00WAVEfmt "],
    ids=["zero-bytes", "text", "cut-header"],
)
def test_an_unreadable_wav_is_named(tmp_path, content):
    path = tmp_path / "0_alice_0.wav"
    path.write_bytes(content)
    with pytest.raises(DataError, match="unreadable") as error:
        raw.fsdd_format_problems(path)
    assert str(path) in str(error.value)
    assert "()" not in str(error.value)  # the reason is always given


def test_a_truncated_wav_is_refused(tmp_path, write_wav):
    # A download cut in the middle of a sample: the data chunk ends on an odd byte.
    path = write_wav(tmp_path / "0_alice_0.wav")
    path.write_bytes(path.read_bytes()[:-1])
    assert any("truncated" in p for p in raw.fsdd_format_problems(path))


def test_check_recordings_accepts_good_folder(tmp_path, write_wav):
    folder = tmp_path / "recordings"
    paths = [write_wav(folder / f"{d}_alice_{i}.wav", seed=i) for d in (0, 1) for i in (0, 1)]
    (folder / raw.SNAKEMAKE_MARKER).touch()  # Snakemake's marker is not a recording
    assert raw.check_recordings(folder, expected_count=4) == sorted(paths)
    assert raw.check_recordings(folder, expected_count=None) == sorted(paths)


def test_check_recordings_lists_every_bad_file(tmp_path, write_wav):
    folder = tmp_path / "recordings"
    write_wav(folder / "0_alice_0.wav")
    bad = {
        "1_alice_0.wav": write_wav(folder / "1_alice_0.wav", rate=44100),
        "2_alice_0.wav": write_wav(folder / "2_alice_0.wav", channels=2),
        "3_alice_0.wav": write_wav(folder / "3_alice_0.wav", width=1),
        "4_alice_0.wav": write_wav(folder / "4_alice_0.wav", seconds=0),
        "hello.wav": write_wav(folder / "hello.wav"),
        "5_Alice_0.wav": write_wav(folder / "5_Alice_0.wav"),
    }
    (folder / "6_alice_0.wav").write_bytes(b"garbage")
    bad["6_alice_0.wav"] = folder / "6_alice_0.wav"
    with pytest.raises(DataError) as error:
        raw.check_recordings(folder, expected_count=None)
    message = str(error.value)
    assert f"{len(bad)} problem(s)" in message
    for path in bad.values():
        assert str(path) in message
    assert str(folder / "0_alice_0.wav") not in message
    assert "does not match" in message


def test_check_recordings_expected_count(tmp_path, write_wav):
    folder = tmp_path / "recordings"
    for index in range(3):
        write_wav(folder / f"0_alice_{index}.wav")
    with pytest.raises(DataError, match="3 recordings, expected 3000"):
        raw.check_recordings(folder)
    with pytest.raises(DataError, match="3 recordings, expected 4") as error:
        raw.check_recordings(folder, expected_count=4)
    assert str(folder) in str(error.value)
    assert len(raw.check_recordings(folder, expected_count=3)) == 3


def test_check_recordings_lists_first_twenty_and_count(tmp_path):
    folder = tmp_path / "recordings"
    folder.mkdir()
    for index in range(MAX_LISTED + 5):
        (folder / f"0_alice_{index:02d}.wav").write_bytes(b"junk")
    with pytest.raises(DataError) as error:
        raw.check_recordings(folder, expected_count=None)
    message = str(error.value)
    assert f"{MAX_LISTED + 5} problem(s)" in message
    assert "... and 5 more" in message
    assert message.count("unreadable WAV") == MAX_LISTED
