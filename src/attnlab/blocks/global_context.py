"""Global context (Cao et al. 2019): one attention-pooled context vector added to every
position."""

from keras import layers, ops

from attnlab.blocks.base import AttentionBlock, reduced_units, register


@register
class GlobalContext(AttentionBlock):
    """Global Context block (Cao et al. 2019), with the paper's channel-add fusion.

    Context: a 1x1 conv (C -> 1) gives one logit per position, softmax over positions,
    the softmax-weighted sum of the features is one C-vector. Transform: 1x1 convs
    C -> R = max(1, C // ratio) -> LayerNorm -> ReLU -> C. The result is added to every
    position. Parameters: (C + 1) + (C + 1) R + 2 R + (R + 1) C. The "spatial" map is
    the softmax over positions divided by its peak, so that it spans [0, 1] as gates do.
    """

    OPTIONS = ("ratio",)

    def build(self, input_shape):
        channels = input_shape[-1]
        hidden = reduced_units(channels, self.ratio)
        policy = self.dtype_policy
        self.mask = layers.Conv2D(1, 1, dtype=policy, name="context_mask")
        self.squeeze = layers.Dense(hidden, dtype=policy, name="squeeze")
        self.norm = layers.LayerNormalization(dtype=policy, name="norm")
        self.excite = layers.Dense(channels, dtype=policy, name="excite")
        self.mask.build(input_shape)
        self.squeeze.build((None, channels))
        self.norm.build((None, hidden))
        self.excite.build((None, hidden))

    def forward(self, inputs, training=None):
        height, width, channels = inputs.shape[1:]
        logits = ops.reshape(self.mask(inputs), (-1, height * width))
        weights = ops.softmax(logits, axis=-1)
        tokens = ops.reshape(inputs, (-1, height * width, channels))
        context = ops.einsum("nl,nlc->nc", weights, tokens)
        transform = self.excite(ops.relu(self.norm(self.squeeze(context))))
        outputs = inputs + transform[:, None, None, :]
        relative = weights / ops.max(weights, axis=-1, keepdims=True)
        return outputs, {"spatial": ops.reshape(relative, (-1, height, width))}
