"""BAM (Park et al. 2018): channel and spatial branches summed, one sigmoid, residual."""

from keras import layers, ops

from attnlab.blocks.base import AttentionBlock, reduced_units, register


@register
class BAM(AttentionBlock):
    """Bottleneck Attention Module (Park et al. 2018).

    Channel branch: global average pool -> Dense(R) -> BatchNorm -> ReLU -> Dense(C).
    Spatial branch: 1x1 conv C -> R -> BatchNorm -> ReLU, `dilated_convs` times a 3x3
    conv R -> R with `dilation` -> BatchNorm -> ReLU, then a 1x1 conv R -> 1. With
    R = max(1, C // ratio), the attention is M = sigmoid(channel + spatial) (broadcast
    sum, as the paper chose) and the output x * (1 + M). The maps are the sigmoids of
    each branch alone: "channel" (N, C) and "spatial" (N, H, W).
    """

    OPTIONS = ("ratio", "dilation", "dilated_convs")

    def build(self, input_shape):
        channels = input_shape[-1]
        hidden = reduced_units(channels, self.ratio)
        policy = self.dtype_policy
        feature_shape = (*input_shape[:-1], hidden)
        self.squeeze = layers.Dense(hidden, dtype=policy, name="channel_squeeze")
        self.squeeze_norm = layers.BatchNormalization(dtype=policy, name="channel_norm")
        self.excite = layers.Dense(channels, dtype=policy, name="channel_excite")
        self.squeeze.build((None, channels))
        self.squeeze_norm.build((None, hidden))
        self.excite.build((None, hidden))
        self.spatial = [layers.Conv2D(hidden, 1, dtype=policy, name="spatial_reduce")]
        self.spatial[0].build(input_shape)
        for index in range(self.dilated_convs):
            conv = layers.Conv2D(
                hidden,
                3,
                padding="same",
                dilation_rate=self.dilation,
                dtype=policy,
                name=f"spatial_dilated{index + 1}",
            )
            conv.build(feature_shape)
            self.spatial.append(conv)
        self.spatial_norms = []
        for index in range(len(self.spatial)):
            norm = layers.BatchNormalization(dtype=policy, name=f"spatial_norm{index + 1}")
            norm.build(feature_shape)
            self.spatial_norms.append(norm)
        self.spatial_out = layers.Conv2D(1, 1, dtype=policy, name="spatial_out")
        self.spatial_out.build(feature_shape)

    def forward(self, inputs, training=None):
        hidden = self.squeeze_norm(self.squeeze(ops.mean(inputs, axis=(1, 2))), training=training)
        channel = self.excite(ops.relu(hidden))
        x = inputs
        for conv, norm in zip(self.spatial, self.spatial_norms, strict=True):
            x = ops.relu(norm(conv(x), training=training))
        spatial = self.spatial_out(x)
        gate = ops.sigmoid(channel[:, None, None, :] + spatial)
        maps = {"channel": ops.sigmoid(channel), "spatial": ops.sigmoid(spatial[..., 0])}
        return inputs * (1.0 + gate), maps
