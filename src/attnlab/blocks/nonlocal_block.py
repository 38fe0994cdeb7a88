"""The non-local block (Wang et al. 2018), embedded-Gaussian form."""

from keras import layers, ops

from attnlab.blocks.base import AttentionBlock, register


@register
class NonLocal(AttentionBlock):
    """Non-local block: every position attends to every position, added back residually.

    theta, phi, g: 1x1 convs C -> C' = max(1, C // reduction) with bias; scores
    f = softmax_j(theta_i . phi_j) (the embedded Gaussian, no scaling); y = f g;
    z = BN(W y) + x with W a 1x1 conv C' -> C (bias) and BatchNorm's scale starting at
    zero, so that the block starts as the identity (the paper's initialisation).
    `sub_sample` max-pools phi and g 2x2 ("same"), a quarter of the keys. Parameters:
    3 (C C' + C') + (C' C + C) + 4 C. The "scores" map is f, (N, 1, H W, keys).
    """

    OPTIONS = ("reduction", "sub_sample")

    def build(self, input_shape):
        channels = input_shape[-1]
        inner = max(1, channels // self.reduction)
        policy = self.dtype_policy
        self.theta, self.phi, self.g = (
            layers.Conv2D(inner, 1, dtype=policy, name=name) for name in ("theta", "phi", "g")
        )
        self.out = layers.Conv2D(channels, 1, dtype=policy, name="out")
        self.norm = layers.BatchNormalization(
            gamma_initializer="zeros", dtype=policy, name="out_norm"
        )
        for conv in (self.theta, self.phi, self.g):
            conv.build(input_shape)
        self.out.build((*input_shape[:-1], inner))
        self.norm.build(input_shape)

    def _keys(self, conv, inputs):
        """(N, keys, C') from a 1x1 conv, max-pooled 2x2 with `sub_sample`."""
        x = conv(inputs)
        if self.sub_sample:
            x = ops.max_pool(x, 2, strides=2, padding="same")
        return ops.reshape(x, (-1, x.shape[1] * x.shape[2], x.shape[3]))

    def forward(self, inputs, training=None):
        height, width = inputs.shape[1:3]
        queries = ops.reshape(self.theta(inputs), (-1, height * width, self.theta.filters))
        keys, values = self._keys(self.phi, inputs), self._keys(self.g, inputs)
        scores = ops.softmax(ops.einsum("nqc,nkc->nqk", queries, keys), axis=-1)
        attended = ops.reshape(
            ops.einsum("nqk,nkc->nqc", scores, values), (-1, height, width, self.g.filters)
        )
        outputs = inputs + self.norm(self.out(attended), training=training)
        return outputs, {"scores": scores[:, None]}
