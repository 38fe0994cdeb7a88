"""Attention blocks for small CNNs, as registered Keras layers.

Every block is a `keras.layers.Layer` subclass registered under the package
"attnlab", with a `get_config` and no `Lambda` layers, so a model saved as a
`.keras` file reloads in a fresh process with `safe_mode=True` once this module
has been imported.

Every block is an `AttentionBlock`: besides its normal call it has
`attention_maps(inputs)`, which runs the block on `inputs` (the tensor the block
receives inside the model) and returns its attention maps by kind:

- `"spatial"`: a sigmoid map over positions, shape (N, H, W), in [0, 1];
- `"channel"`: the weights multiplied onto the channels, shape (N, C), in [0, 1]
  except for `ChannelAttention`, whose weights are layer-normalised;
- `"scores"`: self-attention scores, shape (N, heads, H*W, H*W), rows sum to 1.

`attnlab.attention.maps` collects these for every block of a model.
"""

import keras
from keras import layers, ops

PACKAGE = "attnlab"


def reduced_units(channels, ratio):
    """Width of a squeeze layer: channels // ratio, at least 1.

    The spectrogram models have a 6-channel first conv, where 6 // 8 = 0 would
    leave the bottleneck empty; one unit is the smallest working bottleneck.
    """
    return max(1, channels // ratio)


class AttentionBlock(layers.Layer):
    """Base class of the blocks: a layer whose attention maps can be read out."""

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


def _channel_pools(inputs):
    """Channel-wise mean and max, concatenated: (N, H, W, C) -> (N, H, W, 2)."""
    mean = ops.mean(inputs, axis=-1, keepdims=True)
    maximum = ops.max(inputs, axis=-1, keepdims=True)
    return ops.concatenate([mean, maximum], axis=-1)


def _scale_channels(inputs, weights):
    """Multiply (N, C) channel weights onto (N, H, W, C) features."""
    return inputs * weights[:, None, None, :]


@keras.saving.register_keras_serializable(package=PACKAGE)
class SpatialGate(AttentionBlock):
    """The study's "spatial attention": a 1x1 conv to one sigmoid map, multiplied on.

    For C input channels it adds C + 1 parameters (33 on the digits' 32 channels).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = layers.Conv2D(
            1, 1, activation="sigmoid", dtype=self.dtype_policy, name="map_conv"
        )

    def build(self, input_shape):
        self.conv.build(input_shape)

    def forward(self, inputs, training=None):
        spatial = self.conv(inputs)
        return inputs * spatial, {"spatial": spatial[..., 0]}


@keras.saving.register_keras_serializable(package=PACKAGE)
class PatchSelfAttention(AttentionBlock):
    """Self-attention over the positions of a feature map.

    (N, H, W, C) features become H*W tokens of C, go through
    MultiHeadAttention(num_heads, key_dim) and LayerNormalization, and are
    reshaped back to (N, H, W, C). The study used 4 heads with key_dim 64 on
    5x5x64 features and no residual connection (`residual=False`); with
    `residual=True` the block normalises tokens + attention output instead.
    """

    def __init__(self, num_heads=4, key_dim=64, residual=False, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.residual = residual
        self.mha = layers.MultiHeadAttention(
            num_heads=num_heads, key_dim=key_dim, dtype=self.dtype_policy, name="mha"
        )
        self.norm = layers.LayerNormalization(dtype=self.dtype_policy, name="norm")

    def build(self, input_shape):
        height, width, channels = input_shape[1:]
        tokens_shape = (input_shape[0], height * width, channels)
        self.mha.build(tokens_shape, tokens_shape)
        self.norm.build(tokens_shape)

    def forward(self, inputs, training=None):
        height, width, channels = inputs.shape[1:]
        tokens = ops.reshape(inputs, (-1, height * width, channels))
        attended, scores = self.mha(tokens, tokens, return_attention_scores=True, training=training)
        if self.residual:
            attended = attended + tokens
        outputs = ops.reshape(self.norm(attended), (-1, height, width, channels))
        return outputs, {"scores": scores}

    def get_config(self):
        config = super().get_config()
        config.update(num_heads=self.num_heads, key_dim=self.key_dim, residual=self.residual)
        return config


class _ChannelGateBlock(AttentionBlock):
    """Shared parts of the blocks with a GAP -> Dense -> Dense channel gate."""

    def __init__(self, ratio=8, **kwargs):
        super().__init__(**kwargs)
        self.ratio = ratio

    def _make_gate(self, channels, hidden_activation="relu", gate_activation="sigmoid"):
        """Create and build `squeeze` (C -> C / ratio) and `excite` (-> C)."""
        self.squeeze = layers.Dense(
            reduced_units(channels, self.ratio),
            activation=hidden_activation,
            dtype=self.dtype_policy,
            name="squeeze",
        )
        self.excite = layers.Dense(
            channels, activation=gate_activation, dtype=self.dtype_policy, name="excite"
        )
        self.squeeze.build((None, channels))
        self.excite.build((None, self.squeeze.units))

    def _gate(self, inputs):
        return self.excite(self.squeeze(ops.mean(inputs, axis=(1, 2))))

    def get_config(self):
        config = super().get_config()
        config.update(ratio=self.ratio)
        return config


@keras.saving.register_keras_serializable(package=PACKAGE)
class SqueezeExcite(_ChannelGateBlock):
    """Squeeze-and-excitation (Hu et al. 2018): channel weights from global context.

    Global average pool -> Dense(C / ratio, relu) -> Dense(C, sigmoid) -> scale
    the channels. The study used ratio 8, i.e. Dense(4) for 32 channels.
    """

    def build(self, input_shape):
        self._make_gate(input_shape[-1])

    def forward(self, inputs, training=None):
        weights = self._gate(inputs)
        return _scale_channels(inputs, weights), {"channel": weights}


@keras.saving.register_keras_serializable(package=PACKAGE)
class CBAM(_ChannelGateBlock):
    """CBAM as the study built it: a simplified version of Woo et al. 2018.

    Channel gate from the global *average* pool only (Dense(C / ratio, relu) ->
    Dense(C, sigmoid)), then a spatial gate: channel-wise mean and max,
    concatenated -> Conv2D(1, 7x7, same, sigmoid, with bias). Both gates are
    multiplied onto the features. `CBAMOriginal` is the published block.
    """

    def __init__(self, ratio=8, kernel_size=7, **kwargs):
        super().__init__(ratio=ratio, **kwargs)
        self.kernel_size = kernel_size
        self.spatial_conv = layers.Conv2D(
            1,
            kernel_size,
            padding="same",
            activation="sigmoid",
            dtype=self.dtype_policy,
            name="spatial_conv",
        )

    def build(self, input_shape):
        self._make_gate(input_shape[-1])
        self.spatial_conv.build((*input_shape[:-1], 2))

    def forward(self, inputs, training=None):
        channel = self._gate(inputs)
        features = _scale_channels(inputs, channel)
        spatial = self.spatial_conv(_channel_pools(features))
        return features * spatial, {"channel": channel, "spatial": spatial[..., 0]}

    def get_config(self):
        config = super().get_config()
        config.update(kernel_size=self.kernel_size)
        return config


@keras.saving.register_keras_serializable(package=PACKAGE)
class CBAMOriginal(_ChannelGateBlock):
    """CBAM as Woo et al. 2018 published it.

    Differences from the study's `CBAM`: the channel gate passes both the
    average- and the max-pooled descriptor through one shared MLP
    (Dense(C / ratio, relu) -> Dense(C)), sums them and only then applies the
    sigmoid; the spatial gate's 7x7 conv has no bias and is followed by
    BatchNormalization before the sigmoid.
    """

    def __init__(self, ratio=8, kernel_size=7, **kwargs):
        super().__init__(ratio=ratio, **kwargs)
        self.kernel_size = kernel_size
        self.spatial_conv = layers.Conv2D(
            1,
            kernel_size,
            padding="same",
            use_bias=False,
            dtype=self.dtype_policy,
            name="spatial_conv",
        )
        self.spatial_norm = layers.BatchNormalization(dtype=self.dtype_policy, name="spatial_norm")

    def build(self, input_shape):
        # The sigmoid comes after summing the two descriptors' MLP outputs.
        self._make_gate(input_shape[-1], gate_activation=None)
        self.spatial_conv.build((*input_shape[:-1], 2))
        self.spatial_norm.build((*input_shape[:-1], 1))

    def _shared_mlp(self, descriptor):
        return self.excite(self.squeeze(descriptor))

    def forward(self, inputs, training=None):
        average = self._shared_mlp(ops.mean(inputs, axis=(1, 2)))
        maximum = self._shared_mlp(ops.max(inputs, axis=(1, 2)))
        channel = ops.sigmoid(average + maximum)
        features = _scale_channels(inputs, channel)
        logits = self.spatial_norm(self.spatial_conv(_channel_pools(features)), training=training)
        spatial = ops.sigmoid(logits)
        return features * spatial, {"channel": channel, "spatial": spatial[..., 0]}

    def get_config(self):
        config = super().get_config()
        config.update(kernel_size=self.kernel_size)
        return config


@keras.saving.register_keras_serializable(package=PACKAGE)
class ChannelAttention(_ChannelGateBlock):
    """The study's "hybrid" channel attention.

    Global average pool -> Dense(C / ratio, sigmoid) -> Dense(C, sigmoid) ->
    LayerNormalization of the weights -> scale the channels. Because of the
    normalisation the applied weights (the "channel" map) are not bounded to
    [0, 1] and can be negative; the study's block did exactly this.
    """

    def build(self, input_shape):
        channels = input_shape[-1]
        self._make_gate(channels, hidden_activation="sigmoid")
        self.weight_norm = layers.LayerNormalization(dtype=self.dtype_policy, name="weight_norm")
        self.weight_norm.build((None, channels))

    def forward(self, inputs, training=None):
        weights = self.weight_norm(self._gate(inputs))
        return _scale_channels(inputs, weights), {"channel": weights}
