"""Triplet attention (Misra et al. 2021): three spatial gates over rotated views."""

from keras import layers, ops

from attnlab.blocks.base import AttentionBlock, register


def z_pool(inputs):
    """Max and mean over the last axis, stacked (max first, as the paper's Z-pool)."""
    return ops.stack([ops.max(inputs, axis=-1), ops.mean(inputs, axis=-1)], axis=-1)


@register
class TripletAttention(AttentionBlock):
    """Triplet attention: cross-dimension interaction at almost no parameters.

    Three branches, each a Z-pool over one axis of (H, W, C), a k x k conv (2 -> 1, no
    bias) with BatchNorm and a sigmoid over the plane of the other two, multiplied onto
    the features; the output is the mean of the three. Branches: "hw" pools over C (a
    gate over positions, as CBAM's), "cw" over H (a gate over channels x columns), "hc"
    over W (rows x channels). Parameters: 3 (2 k^2 + 4). The "spatial" map is the hw
    branch's gate.
    """

    OPTIONS = ("kernel_size",)
    BRANCHES = ("hw", "cw", "hc")

    def build(self, input_shape):
        height, width, channels = input_shape[1:]
        planes = {"hw": (height, width), "cw": (channels, width), "hc": (height, channels)}
        self.convs, self.norms = {}, {}
        for branch in self.BRANCHES:
            conv = layers.Conv2D(
                1,
                self.kernel_size,
                padding="same",
                use_bias=False,
                dtype=self.dtype_policy,
                name=f"{branch}_conv",
            )
            norm = layers.BatchNormalization(dtype=self.dtype_policy, name=f"{branch}_norm")
            conv.build((None, *planes[branch], 2))
            norm.build((None, *planes[branch], 1))
            self.convs[branch], self.norms[branch] = conv, norm

    def _gate(self, branch, pooled, training):
        """sigmoid(BN(conv(pooled))) for a (N, rows, cols, 2) plane -> (N, rows, cols)."""
        logits = self.norms[branch](self.convs[branch](pooled), training=training)
        return ops.sigmoid(logits)[..., 0]

    def forward(self, inputs, training=None):
        hw = self._gate("hw", z_pool(inputs), training)  # (N, H, W)
        over_h = z_pool(ops.transpose(inputs, (0, 3, 2, 1)))  # (N, C, W, 2)
        cw = self._gate("cw", over_h, training)  # (N, C, W)
        hc = self._gate("hc", z_pool(ops.transpose(inputs, (0, 1, 3, 2))), training)  # (N, H, C)
        gate = (hw[..., None] + ops.transpose(cw, (0, 2, 1))[:, None] + hc[:, :, None]) / 3.0
        return inputs * gate, {"spatial": hw}
