"""The study's self-attention over the positions of a feature map."""

from keras import layers, ops

from attnlab.blocks.base import AttentionBlock, register


@register
class PatchSelfAttention(AttentionBlock):
    """Self-attention over the positions of a feature map.

    (N, H, W, C) features become H*W tokens of C, go through
    MultiHeadAttention(heads, key_dim) and LayerNormalization, and are
    reshaped back to (N, H, W, C). The study used 4 heads with key_dim 64 on
    5x5x64 features and no residual connection (`residual=False`); with
    `residual=True` the block normalises tokens + attention output instead.
    """

    OPTIONS = ("heads", "key_dim", "residual")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.mha = layers.MultiHeadAttention(
            num_heads=self.heads, key_dim=self.key_dim, dtype=self.dtype_policy, name="mha"
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
