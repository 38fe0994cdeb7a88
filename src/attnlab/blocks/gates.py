"""Blocks built on a GAP -> Dense -> Dense channel gate: SE, CBAM (both forms), and the
hybrid's channel attention."""

from keras import layers, ops

from attnlab.blocks.base import AttentionBlock, reduced_units, register, scale_channels
from attnlab.blocks.kernels import apply_spatial, gated_pools, narrow_conv


class _ChannelGateBlock(AttentionBlock):
    """Shared parts of the blocks with a GAP -> Dense -> Dense channel gate."""

    OPTIONS = ("ratio",)

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


@register
class SqueezeExcite(_ChannelGateBlock):
    """Squeeze-and-excitation (Hu et al. 2018): channel weights from global context.

    Global average pool -> Dense(C / ratio, relu) -> Dense(C, sigmoid) -> scale
    the channels. The study used ratio 8, i.e. Dense(4) for 32 channels.
    """

    def build(self, input_shape):
        self._make_gate(input_shape[-1])

    def forward(self, inputs, training=None):
        weights = self._gate(inputs)
        return scale_channels(inputs, weights), {"channel": weights}


class _CBAMBlock(_ChannelGateBlock):
    """What both CBAMs share: the kernel size of the spatial gate's conv over the channel
    pools of the gated features, and how the two gates are applied."""

    OPTIONS = ("ratio", "kernel_size")

    def _spatial_conv(self, **options):
        return layers.Conv2D(
            1,
            self.kernel_size,
            padding="same",
            dtype=self.dtype_policy,
            name="spatial_conv",
            **options,
        )

    def _gates(self, inputs, channel, spatial_of):
        """Channel weights onto the features, then the spatial map `spatial_of` makes
        from the conv of their pools."""
        features, pools = gated_pools(inputs, channel)
        spatial = spatial_of(narrow_conv(self.spatial_conv, pools))
        return apply_spatial(features, spatial), {"channel": channel, "spatial": spatial[..., 0]}


@register
class CBAM(_CBAMBlock):
    """CBAM as the study built it: a simplified version of Woo et al. 2018.

    Channel gate from the global *average* pool only (Dense(C / ratio, relu) ->
    Dense(C, sigmoid)), then a spatial gate: channel-wise mean and max,
    concatenated -> Conv2D(1, 7x7, same, sigmoid, with bias). Both gates are
    multiplied onto the features. `CBAMOriginal` is the published block.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.spatial_conv = self._spatial_conv(activation="sigmoid")

    def build(self, input_shape):
        self._make_gate(input_shape[-1])
        self.spatial_conv.build((*input_shape[:-1], 2))

    def forward(self, inputs, training=None):
        return self._gates(inputs, self._gate(inputs), lambda spatial: spatial)


@register
class CBAMOriginal(_CBAMBlock):
    """CBAM as Woo et al. 2018 published it.

    Differences from the study's `CBAM`: the channel gate passes both the
    average- and the max-pooled descriptor through one shared MLP
    (Dense(C / ratio, relu) -> Dense(C)), sums them and only then applies the
    sigmoid; the spatial gate's 7x7 conv has no bias and is followed by
    BatchNormalization before the sigmoid.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.spatial_conv = self._spatial_conv(use_bias=False)
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

        def spatial_of(logits):
            return ops.sigmoid(self.spatial_norm(logits, training=training))

        return self._gates(inputs, channel, spatial_of)


@register
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
        return scale_channels(inputs, weights), {"channel": weights}
