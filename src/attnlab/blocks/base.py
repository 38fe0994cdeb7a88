"""What every attention block shares: the base class and small tensor helpers."""

import keras
from keras import layers, ops

PACKAGE = "attnlab"


def register(cls):
    """Register a block class with Keras under the package "attnlab"."""
    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)


def reduced_units(channels, ratio):
    """Width of a squeeze layer: channels // ratio, at least 1.

    The spectrogram models have a 6-channel first conv, where 6 // 8 = 0 would
    leave the bottleneck empty; one unit is the smallest working bottleneck.
    """
    return max(1, channels // ratio)


class AttentionBlock(layers.Layer):
    """Base class of the blocks: a layer whose attention maps can be read out.

    Subclasses implement `forward(inputs, training) -> (outputs, maps)`; options they
    take as keyword arguments are listed in `OPTIONS`, which `get_config` saves.
    """

    OPTIONS: tuple[str, ...] = ()

    def __init__(self, **kwargs):
        missing = [name for name in self.OPTIONS if name not in kwargs]
        if missing:
            raise TypeError(f"{type(self).__name__} needs the option(s) {', '.join(missing)}")
        options = {name: kwargs.pop(name) for name in self.OPTIONS}
        super().__init__(**kwargs)
        for name, value in options.items():
            setattr(self, name, value)

    def attention_maps(self, inputs):
        """Return a dict kind -> tensor of this block's maps for `inputs`."""
        return self.forward(inputs, training=False)[1]

    def forward(self, inputs, training=None):
        """Return (outputs, maps); subclasses implement this."""
        raise NotImplementedError

    def call(self, inputs, training=None):
        return self.forward(inputs, training=training)[0]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({name: getattr(self, name) for name in self.OPTIONS})
        return config


def scale_channels(inputs, weights):
    """Multiply (N, C) channel weights onto (N, H, W, C) features."""
    return inputs * weights[:, None, None, :]


def channel_pools(inputs):
    """Channel-wise mean and max, concatenated: (N, H, W, C) -> (N, H, W, 2)."""
    mean = ops.mean(inputs, axis=-1, keepdims=True)
    maximum = ops.max(inputs, axis=-1, keepdims=True)
    return ops.concatenate([mean, maximum], axis=-1)
