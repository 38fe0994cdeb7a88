"""Before the FSDD stage goes: its preset of audio_folder writes the same bytes."""

from pathlib import Path

import pytest
import yaml

from attnlab import audio, images, raw

STUDY = yaml.safe_load(Path("config/config.yaml").read_text())["datasets"]["fsdd"]["spectrogram"]
CLASSES = [str(d) for d in range(10)]


def tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.png"))}


@pytest.mark.parametrize(("channels", "scale"), [(3, "linear"), (1, "mel")])
@pytest.mark.parametrize("per_class", ["all", 2])
def test_fsdd_preset_gives_the_old_fsdd_stage_bytes(
    tmp_path, write_wav, channels, scale, per_class
):
    folder = tmp_path / "recordings"
    for digit in range(10):
        for speaker, index in [("alice", 0), ("alice", 1), ("bob", 0)]:
            write_wav(
                folder / f"{digit}_{speaker}_{index}.wav", frequency=200 + 90 * digit, seed=index
            )
    (folder / raw.SNAKEMAKE_MARKER).write_text("")
    settings = dict(STUDY, scale=scale)
    old = images.select_recordings(raw.check_recordings(folder, None), per_class, 4)
    images.write_spectrograms(old, tmp_path / "old", (64, 48), channels, settings)
    preset = audio.settings_of({"source": "fsdd"})
    entries = audio.list_recordings(folder, CLASSES, preset["layout"], preset["pattern"])
    chosen = audio.select_per_class(entries, CLASSES, per_class, 4)
    rate, mixdown = preset["sample_rate"], preset["mono_mixdown"]
    audio.write_spectrograms(chosen, tmp_path / "new", (64, 48), channels, settings, rate, mixdown)
    old_tree, new_tree = tree(tmp_path / "old"), tree(tmp_path / "new")
    assert len(old_tree) == (30 if per_class == "all" else 20)
    assert old_tree == new_tree
