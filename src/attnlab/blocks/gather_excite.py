"""Gather-Excite (Hu et al. 2018): context gathered over an extent, spread back as a gate."""

import math

from keras import layers, ops

from attnlab.blocks.base import AttentionBlock, register


def upsample(gathered, factor, height, width):
    """Nearest-neighbour upsampling: position (i, j) takes cell (i // factor, j // factor)."""
    repeated = ops.repeat(ops.repeat(gathered, factor, axis=1), factor, axis=2)
    return repeated[:, :height, :width]


def average_pool_excluding_padding(inputs, extent):
    """Average pool of window 2e - 1, stride e, e - 1 zeros each side not counted: cell
    (a, b) averages the positions within e - 1 of (a e, b e); ceil(H / e) cells a side."""
    window, reach = 2 * extent - 1, extent - 1
    padding = [(0, 0), (reach, reach), (reach, reach), (0, 0)]
    padded = ops.pad(inputs, padding)
    ones = ops.pad(ops.ones_like(inputs[:1, :, :, :1]), padding)
    sums = ops.average_pool(padded, window, strides=extent, padding="valid")
    counts = ops.average_pool(ones, window, strides=extent, padding="valid")
    return sums / counts


@register
class GatherExcite(AttentionBlock):
    """Gather-Excite: x * sigmoid(upsample(gather(x))), per channel.

    `extent` 0 gathers over the whole map, e > 0 over windows with stride e.
    - GE-theta-minus (`parametric=False`, no parameters): gather is an average; with the
      global extent this is x * sigmoid(GAP(x)).
    - GE-theta (`parametric=True`): gather is a depthwise conv with a kernel the size of
      the map (global: H W C weights) or log2(e) depthwise 3x3 stride-2 convs (ReLU
      between them, 9 C weights each), each conv without bias and followed by
      BatchNorm (4 C with its statistics).
    The gathered map is spread back by nearest-neighbour upsampling. The "channel" map
    is the gate averaged over positions (the gate itself with the global extent).
    """

    OPTIONS = ("extent", "parametric")

    def build(self, input_shape):
        height, width, channels = input_shape[1:]
        self.convs, self.norms = [], []
        if not self.parametric:
            return
        if self.extent == 0:
            specs = [((height, width), 1, "valid")]
        else:
            specs = [(3, 2, "same")] * int(math.log2(self.extent))
        shape = input_shape
        for index, (kernel, stride, padding) in enumerate(specs):
            conv = layers.DepthwiseConv2D(
                kernel,
                strides=stride,
                padding=padding,
                use_bias=False,
                dtype=self.dtype_policy,
                name=f"gather_conv{index + 1}",
            )
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
            norm = layers.BatchNormalization(
                dtype=self.dtype_policy, name=f"gather_norm{index + 1}"
            )
            norm.build(shape)
            self.convs.append(conv)
            self.norms.append(norm)

    def gather(self, inputs, training=None):
        if not self.parametric:
            if self.extent == 0:
                return ops.mean(inputs, axis=(1, 2), keepdims=True)
            return average_pool_excluding_padding(inputs, self.extent)
        if self.extent == 0:
            # The map-sized depthwise conv as a weighted sum: the same numbers, where
            # oneDNN's depthwise kernel takes 25x the twin's step on 124x124 maps.
            kernel = ops.cast(self.convs[0].kernel[..., 0], inputs.dtype)
            pooled = ops.sum(inputs * kernel, axis=(1, 2), keepdims=True)
            return self.norms[0](pooled, training=training)
        x = inputs
        for index, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            x = norm(conv(x), training=training)
            if index < len(self.convs) - 1:
                x = ops.relu(x)
        return x

    def forward(self, inputs, training=None):
        gate = ops.sigmoid(self.gather(inputs, training=training))
        if self.extent:
            gate = upsample(gate, self.extent, inputs.shape[1], inputs.shape[2])
        return inputs * gate, {"channel": ops.mean(gate, axis=(1, 2))}
