"""attnlab: a reproducible workflow for studying attention blocks in small CNNs.

Importing the package is cheap: TensorFlow is imported only by the modules
that build or run models (`attnlab.layers`, `attnlab.models`, `attnlab.attention`),
so the workflow's start-up and its table jobs do not pay for it. `load_model` (or
importing `attnlab.models`) registers every block with Keras first.
"""

__version__ = "0.1.0"


def load_model(path, safe_mode: bool = True):
    """A trained run's `model.keras`, every attnlab block registered, `safe_mode` on."""
    import keras

    import attnlab.layers  # noqa: F401  (registers the blocks with Keras)

    return keras.saving.load_model(path, safe_mode=safe_mode)
