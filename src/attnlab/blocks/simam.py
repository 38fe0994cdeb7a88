"""SimAM (Yang et al. 2021): a parameter-free attention from a neuron energy function."""

from keras import ops

from attnlab.blocks.base import AttentionBlock, register


@register
class SimAM(AttentionBlock):
    """SimAM: every activation weighted by how much it stands out in its channel.

    Per channel over the n + 1 = H * W positions: d = (x - mean)^2, v = sum(d) / n,
    inverse energy e = d / (4 (v + lam)) + 1/2, output x * sigmoid(e) (Yang et al. 2021,
    eq. 5 and their reference code). No parameters. The "spatial" map is the channel
    mean of sigmoid(e), in [0.5, 1].
    """

    OPTIONS = ("lam",)

    def build(self, input_shape):
        if input_shape[1] * input_shape[2] < 2:
            raise ValueError(f"{self.name}: SimAM needs at least 2 positions, got 1x1 maps")

    def forward(self, inputs, training=None):
        positions = inputs.shape[1] * inputs.shape[2]
        squared = ops.square(inputs - ops.mean(inputs, axis=(1, 2), keepdims=True))
        variance = ops.sum(squared, axis=(1, 2), keepdims=True) / (positions - 1)
        gate = ops.sigmoid(squared / (4.0 * (variance + self.lam)) + 0.5)
        return inputs * gate, {"spatial": ops.mean(gate, axis=-1)}
