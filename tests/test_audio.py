"""Audio class folders: listing, reading, resampling, and the workflow from WAVs to a model."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import STUDY_CONFIG, describe_failure, run_snakemake

from attnlab import audio
from attnlab.errors import DataError

FSDD_PATTERN = r"^(?P<class>[^_]+)_(?P<speaker>[^_]+)_(?P<index>[0-9]+)\.wav$"
CLASSES = ["low", "high"]
TONES = {"low": 300.0, "high": 2400.0}


def write_tone_set(
    root, write_wav, layout="flat", rate=16000, per_class=6, speakers=("bob", "ann")
):
    """Tones per class, recordings taken by the speakers in turn; every other one stereo."""
    for class_name in CLASSES:
        for index in range(per_class):
            speaker = speakers[index % len(speakers)]
            name = f"{class_name}_{speaker}_{index}.wav"
            path = root / name if layout == "flat" else root / class_name / name
            write_wav(
                path,
                seconds=0.3,
                rate=rate,
                channels=1 + index % 2,
                frequency=TONES[class_name] * (1 + 0.05 * index),
                seed=index,
            )
    return root


def test_flat_names_give_class_speaker_and_index(tmp_path, write_wav):
    root = write_tone_set(tmp_path / "tones", write_wav)
    entries = audio.list_recordings(root, CLASSES, "flat", FSDD_PATTERN)
    assert len(entries) == 12
    first = next(e for e in entries if e["path"].endswith("high_ann_1.wav"))
    assert (first["class_name"], first["speaker"], first["index"]) == ("high", "ann", 1)


def test_listing_reports_every_problem_at_once(tmp_path, write_wav):
    root = write_tone_set(tmp_path / "tones", write_wav)
    (root / "notes.txt").write_text("x")
    write_wav(root / "middle_bob_1.wav")
    write_wav(root / "badname.wav")
    with pytest.raises(DataError) as caught:
        audio.list_recordings(root, CLASSES, "flat", FSDD_PATTERN)
    message = str(caught.value)
    assert "notes.txt: not a .wav file" in message
    assert "middle_bob_1.wav: class 'middle' is not one of ['low', 'high']" in message
    assert "badname.wav: name does not match the pattern" in message


def test_class_folders_need_no_pattern(tmp_path, write_wav):
    root = write_tone_set(tmp_path / "tones", write_wav, layout="folders")
    (root / "other").mkdir()
    with pytest.raises(DataError, match="other: folder is not one of the classes"):
        audio.list_recordings(root, CLASSES, "folders", None)
    (root / "other").rmdir()
    entries = audio.list_recordings(root, CLASSES, "folders", None)
    assert {e["speaker"] for e in entries} == {None}


def test_stereo_is_refused_unless_mixed_down_and_rates_are_resampled(tmp_path, write_wav):
    stereo = write_wav(tmp_path / "s.wav", seconds=0.5, rate=16000, channels=2)
    with pytest.raises(
        DataError, match=r"s\.wav: 2 channels, expected mono \(or set mono_mixdown\)"
    ):
        audio.read_audio(stereo, 8000, mono_mixdown=False)
    samples = audio.read_audio(stereo, 8000, mono_mixdown=True)
    assert samples.dtype == np.float32 and abs(len(samples) - 4000) <= 2
    byte = write_wav(tmp_path / "b.wav", seconds=0.25, rate=8000, width=1)
    assert len(audio.read_audio(byte, 8000, False)) == 2000
    (tmp_path / "n.wav").write_bytes(b"not a wav")
    with pytest.raises(DataError, match=r"n\.wav: unreadable WAV \(.+\)"):
        audio.read_audio(tmp_path / "n.wav", 8000, False)


def test_a_resampled_tone_keeps_its_pitch(tmp_path, write_wav):
    path = write_wav(tmp_path / "t.wav", seconds=1.0, rate=16000, frequency=1000.0)
    samples = audio.read_audio(path, 8000, False)
    spectrum = np.abs(np.fft.rfft(samples))
    assert np.argmax(spectrum) * 8000 / len(samples) == pytest.approx(1000, abs=2)


def tones_dataset(root, split):
    return {
        "source": "audio_folder",
        "path": str(root),
        "layout": "flat",
        "sample_rate": 8000,
        "mono_mixdown": True,
        "family": "spectrogram",
        "image_size": [16, 16],
        "channels": 1,
        "spectrogram": {"n_fft": 128, "hop_length": 32},
        "classes": CLASSES,
        "split": split,
        "baseline": "lenet",
        "variants": ["lenet"],
        "recipe": {
            "learning_rate": 0.003,
            "epochs": 6,
            "batch_size": 4,
            "noisy_train": False,
            "validation": "val",
        },
    }


SPEAKERS = ("bob", "ann", "cy")
GROUPED = "results/tables/by_speaker"


@pytest.fixture(scope="module")
def tone_study(tmp_path_factory, write_wav):
    """Tones of three speakers as two datasets over seeds 4 and 5: a random split, and
    three grouped folds (leave-one-speaker-out) set beside it."""
    tmp_path = tmp_path_factory.mktemp("tones")
    root = write_tone_set(tmp_path / "tones", write_wav, per_class=18, speakers=SPEAKERS)
    config = yaml.safe_load(STUDY_CONFIG.read_text())
    fractions = {"train": 0.5, "val": 0.25, "test": 0.25}
    grouped = {"method": "group_kfold", "folds": 3, "compare_with": "tones"}
    config["seeds"] = [4, 5]
    config["datasets"] = {
        "tones": tones_dataset(root, {"method": "random", "fractions": fractions}),
        "by_speaker": tones_dataset(root, grouped | {"fractions": fractions}),
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    workdir = tmp_path / "work"
    targets = [
        "results/tones/lenet/seed4/metrics.json",
        *(f"{GROUPED}/{name}.csv" for name in ("folds", "speakers", "random_vs_grouped")),
        "results/tables/verdicts.csv",
    ]
    result = run_snakemake(workdir, *targets, configfiles=[path])
    assert result.returncode == 0, describe_failure(result, workdir)
    return workdir


@pytest.mark.slow
def test_audio_folder_through_the_workflow(tone_study):
    manifest = pd.read_parquet(tone_study / "results/tones/cache/manifest.parquet")
    assert len(manifest) == 36 and set(manifest["speaker"]) == set(SPEAKERS)
    assert manifest["recording"].str.endswith(".wav").all()
    assert sorted(manifest["index"].dropna().unique()) == list(range(18))
    metrics = json.loads((tone_study / "results/tones/lenet/seed4/metrics.json").read_text())
    assert metrics["preprocessing"]["sample_rate"] == 8000
    assert np.load(tone_study / "results/tones/cache/train_x.npy").shape[1:] == (16, 16, 1)


@pytest.mark.slow
def test_grouped_folds_hold_out_each_speaker_once(tone_study):
    manifest = pd.read_parquet(tone_study / "results/by_speaker/cache/manifest.parquet")
    assert manifest.groupby("fold")["speaker"].nunique().eq(1).all()
    assert manifest.groupby("speaker")["fold"].nunique().eq(1).all()
    for fold in (1, 2, 3):
        roles = manifest[f"split_fold{fold}"]
        assert set(roles[manifest["fold"] == fold]) == {"test"}
        assert set(roles[manifest["fold"] != fold]) == {"train", "val"}
        test_y = np.load(tone_study / f"results/by_speaker/cache/fold{fold}/test_y.npy")
        assert len(test_y) == (manifest["fold"] == fold).sum()
        run = tone_study / f"results/by_speaker/lenet/seed5/fold{fold}"
        fold_metrics = json.loads((run / "metrics.json").read_text())
        assert (fold_metrics["fold"], fold_metrics["test_items"]) == (fold, len(test_y))


@pytest.mark.slow
def test_fold_runs_pool_into_one_prediction_per_recording(tone_study):
    run = tone_study / "results/by_speaker/lenet/seed4"
    pooled = json.loads((run / "metrics.json").read_text())
    predictions = pd.read_parquet(run / "predictions.parquet")
    assert sorted(predictions["item"]) == list(range(36)) and pooled["test_items"] == 36
    correct = predictions["pred"] == predictions["label"]
    assert pooled["test_accuracy"] == pytest.approx(correct.mean())
    folds = pd.DataFrame(pooled["folds"])
    assert list(folds["fold"]) == [1, 2, 3]
    assert pooled["train_seconds"] == pytest.approx(folds["train_seconds"].sum())
    # Each held-out speaker is a unit of analysis: its fold, items and accuracy.
    groups = pd.DataFrame(pooled["groups"]).set_index("group")
    assert pooled["group_by"] == "speaker" and set(groups.index) == set(SPEAKERS)
    assert (groups["items"] == 12).all()
    manifest = pd.read_parquet(tone_study / "results/by_speaker/cache/manifest.parquet")
    assert (predictions["group"] == manifest["speaker"].to_numpy()[predictions["item"]]).all()
    for speaker, group in groups.iterrows():
        assert group["accuracy"] == pytest.approx(correct[predictions["group"] == speaker].mean())


@pytest.mark.slow
def test_fold_speaker_and_split_gap_tables(tone_study):
    by_fold = pd.read_csv(tone_study / f"{GROUPED}/folds.csv")
    (row,) = by_fold.itertuples()
    assert (row.variant, row.n_seeds, row.n_folds) == ("lenet", 2, 3)
    assert row.unit == "3 speakers x 2 seeds"
    fold_means = [getattr(row, f"fold{k}_pts") for k in (1, 2, 3)]
    assert row.mean_pts == pytest.approx(np.mean(fold_means))
    assert row.ci_low <= row.mean_pts <= row.ci_high
    speakers = pd.read_csv(tone_study / f"{GROUPED}/speakers.csv")
    assert set(speakers["speaker"]) == set(SPEAKERS) and (speakers["items"] == 12).all()
    # Leave-one-speaker-out: each speaker is its fold, so the two tables agree.
    fold_of = pd.read_parquet(tone_study / "results/by_speaker/cache/manifest.parquet")
    fold_of = fold_of.groupby("speaker")["fold"].first()
    for r in speakers.itertuples():
        assert r.accuracy_pts == pytest.approx(getattr(row, f"fold{fold_of[r.speaker]}_pts"))
    gap = pd.read_csv(tone_study / f"{GROUPED}/random_vs_grouped.csv")
    (g,) = gap.itertuples()
    assert g.overstatement_pts == pytest.approx(g.random_pts - g.grouped_pts)
    text = (tone_study / f"{GROUPED}/random_vs_grouped.md").read_text()
    assert "tones: random split (%)" in text and "by_speaker: unseen speakers (%)" in text
    # The summary (and so docs/results.md) carries both views of the grouped dataset.
    summary = (tone_study / "results/summary.md").read_text()
    section = summary.split("## by_speaker: unseen speakers")[1].split("\n## ")[0]
    assert text.strip() in section
    assert (tone_study / f"{GROUPED}/speakers.md").read_text().strip() in section
    assert "over 2 seeds" in section


def test_predict_records_what_each_kind_of_dataset_does():
    from attnlab import spec

    config = yaml.safe_load(STUDY_CONFIG.read_text())["datasets"]["fsdd"]
    fsdd = spec.preprocessing_of(config)
    assert (fsdd["kind"], fsdd["reader"], fsdd["sample_rate"]) == ("recording", "fsdd", 8000)
    tones = config | {"source": "audio_folder", "sample_rate": 16000, "mono_mixdown": True}
    assert spec.preprocessing_of(tones)["mono_mixdown"] is True
    digits = yaml.safe_load(STUDY_CONFIG.read_text())["datasets"]["reduced_mnist"]
    digits |= {"resize": None, "convert_channels": False}
    assert spec.preprocessing_of(digits)["kind"] == "image"
