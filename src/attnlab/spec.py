"""Light facts derived from a validated dataset config (no numpy, pandas or TensorFlow,
so the workflow can import them at start-up).

- `recipe_arrays`: which cache arrays a training recipe reads;
- `preprocessing_of`: what the data stage does to one input, recorded with each run so
  that `attnlab predict` can repeat it.
"""

from __future__ import annotations


def recipe_arrays(recipe: dict) -> dict[str, str]:
    """The cache arrays a training recipe reads: role -> file stem in the dataset's cache.

    Roles train_x, train_y, test_x, test_y, plus val_x, val_y when the recipe validates
    on the val split; a noisy recipe trains on train_noisy_x.
    """
    arrays = {
        "train_x": "train_noisy_x" if recipe["noisy_train"] else "train_x",
        "train_y": "train_y",
        "test_x": "test_x",
        "test_y": "test_y",
    }
    if recipe["validation"] == "val":
        arrays |= {"val_x": "val_x", "val_y": "val_y"}
    return arrays


def preprocessing_of(dataset_config: dict) -> dict:
    """What the data stage does to one input of a dataset (from its validated config)."""
    record = {
        "classes": list(dataset_config["classes"]),
        "image_size": list(dataset_config["image_size"]),
        "channels": dataset_config["channels"],
    }
    source = dataset_config["source"]
    if source in ("fsdd", "audio_folder"):
        from attnlab.audio import FSDD_PRESET

        audio = FSDD_PRESET if source == "fsdd" else dataset_config
        return record | {
            "kind": "recording",
            "reader": source,
            "sample_rate": audio["sample_rate"],
            "mono_mixdown": audio["mono_mixdown"],
            "spectrogram": dict(dataset_config["spectrogram"]),
        }
    return record | {
        "kind": "image",
        "resize": dataset_config["resize"],
        "convert_channels": dataset_config["convert_channels"],
    }
