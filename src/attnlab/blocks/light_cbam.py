"""LCBAM: CBAM's light form, as timm's `LightCbamModule`."""

from keras import layers, ops

from attnlab.blocks.base import AttentionBlock, reduced_units, register, scale_channels


@register
class LightCBAM(AttentionBlock):
    """CBAM (Woo et al. 2018) with its pooled descriptors averaged instead of kept apart.

    Channel gate: (GAP(x) + GMP(x)) / 2 -> Dense(R, relu) -> Dense(C) (no biases) ->
    sigmoid, R = max(1, C // ratio): one pass through the MLP instead of two. Spatial
    gate: (channel mean + channel max) / 2, one map instead of two -> k x k conv 1 -> 1
    without bias -> BatchNorm -> sigmoid. Parameters: 2 C R + k^2 + 4.
    """

    OPTIONS = ("ratio", "kernel_size")

    def build(self, input_shape):
        channels = input_shape[-1]
        policy = self.dtype_policy
        hidden = reduced_units(channels, self.ratio)
        self.squeeze = layers.Dense(
            hidden, activation="relu", use_bias=False, dtype=policy, name="squeeze"
        )
        self.excite = layers.Dense(channels, use_bias=False, dtype=policy, name="excite")
        self.spatial_conv = layers.Conv2D(
            1, self.kernel_size, padding="same", use_bias=False, dtype=policy, name="spatial_conv"
        )
        self.spatial_norm = layers.BatchNormalization(dtype=policy, name="spatial_norm")
        self.squeeze.build((None, channels))
        self.excite.build((None, hidden))
        self.spatial_conv.build((*input_shape[:-1], 1))
        self.spatial_norm.build((*input_shape[:-1], 1))

    def forward(self, inputs, training=None):
        pooled = 0.5 * ops.mean(inputs, axis=(1, 2)) + 0.5 * ops.max(inputs, axis=(1, 2))
        channel = ops.sigmoid(self.excite(self.squeeze(pooled)))
        features = scale_channels(inputs, channel)
        mixed = 0.5 * ops.mean(features, axis=-1, keepdims=True)
        mixed = mixed + 0.5 * ops.max(features, axis=-1, keepdims=True)
        logits = self.spatial_norm(self.spatial_conv(mixed), training=training)
        spatial = ops.sigmoid(logits)
        return features * spatial, {"channel": channel, "spatial": spatial[..., 0]}
