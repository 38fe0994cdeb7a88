"""Multi-branch attention: selective kernel (Li et al. 2019) and split attention (ResNeSt).

Both add convolutions of their own (the papers use them in place of a ResNet block's
3x3 conv; here they follow a stage's conv, keeping its C channels), then mix the
branches with a softmax over branches per channel, computed from the global context.
"""

from keras import layers, ops

from attnlab.blocks.base import AttentionBlock, register


def _grouped_conv_norm(block, filters, groups, name, shape, **conv_options):
    """A grouped "same" conv without bias (`groups` Conv2Ds, each from C / groups input
    channels to filters / groups) and a BatchNorm over its output.

    Separate convs rather than Conv2D(groups=...): Keras runs a grouped conv on CPU
    through XLA, which TensorFlow's profiler cannot count (`attnlab.cost`).
    """
    if shape[-1] % groups:
        raise ValueError(f"{block.name}: {groups} groups must divide {shape[-1]} channels")
    part = (*shape[:-1], shape[-1] // groups)
    convs = []
    for group in range(groups):
        conv = layers.Conv2D(
            filters // groups,
            padding="same",
            use_bias=False,
            dtype=block.dtype_policy,
            name=f"{name}_{group + 1}" if groups > 1 else name,
            **conv_options,
        )
        conv.build(part)
        convs.append(conv)
    norm = layers.BatchNormalization(dtype=block.dtype_policy, name=f"{name}_norm")
    norm.build((*shape[:-1], filters))
    return convs, norm


def grouped(convs, inputs):
    """Apply group g's conv to the g-th slice of the channels and concatenate."""
    if len(convs) == 1:
        return convs[0](inputs)
    width = inputs.shape[-1] // len(convs)
    parts = [conv(inputs[..., g * width : (g + 1) * width]) for g, conv in enumerate(convs)]
    return ops.concatenate(parts, axis=-1)


def _dense_norm(block, units, name, inputs):
    """A built Dense(units) without bias and a BatchNorm over it."""
    dense = layers.Dense(units, use_bias=False, dtype=block.dtype_policy, name=name)
    dense.build((None, inputs))
    norm = layers.BatchNormalization(dtype=block.dtype_policy, name=f"{name}_norm")
    norm.build((None, units))
    return dense, norm


@register
class SelectiveKernel(AttentionBlock):
    """Selective Kernel (Li et al. 2019), M branches of growing receptive field.

    Split: branch m is a 3x3 conv with dilation m + 1 (3x3, then "5x5" as the paper's
    dilated 3x3, ...), C -> C in `groups` groups, no bias, BatchNorm, ReLU. Fuse:
    s = GAP(sum of branches), z = ReLU(BN(W s)) with d = max(C // ratio, min_units)
    units. Select: one C-vector of logits per branch from z (no bias), softmax across
    branches per channel, output = sum_m a_m * branch_m. Parameters:
    M (9 C^2 / G + 4 C) + (C d + 4 d) + M d C. The "channel" map is the first (3x3)
    branch's weights a_0.
    """

    OPTIONS = ("branches", "groups", "ratio", "min_units")

    def build(self, input_shape):
        channels = input_shape[-1]
        self.paths = [
            _grouped_conv_norm(
                self,
                channels,
                self.groups,
                f"branch{m + 1}",
                input_shape,
                kernel_size=3,
                dilation_rate=m + 1,
            )
            for m in range(self.branches)
        ]
        units = max(channels // self.ratio, self.min_units)
        self.fuse, self.fuse_norm = _dense_norm(self, units, "fuse", channels)
        self.select = layers.Dense(
            self.branches * channels, use_bias=False, dtype=self.dtype_policy, name="select"
        )
        self.select.build((None, units))

    def forward(self, inputs, training=None):
        channels = inputs.shape[-1]
        paths = ops.stack(
            [
                ops.relu(norm(grouped(convs, inputs), training=training))
                for convs, norm in self.paths
            ],
            axis=1,
        )  # (N, M, H, W, C)
        context = ops.mean(ops.sum(paths, axis=1), axis=(1, 2))
        z = ops.relu(self.fuse_norm(self.fuse(context), training=training))
        logits = ops.reshape(self.select(z), (-1, self.branches, channels))
        weights = ops.softmax(logits, axis=1)
        outputs = ops.sum(paths * weights[:, :, None, None, :], axis=1)
        return outputs, {"channel": weights[:, 0]}


@register
class SplitAttention(AttentionBlock):
    """Split attention (Zhang et al. 2020, ResNeSt's SplAtConv2d), one cardinal group.

    A k x k conv C -> R C in R groups (each split sees C / R input channels; no bias)
    -> BatchNorm -> ReLU gives R splits; their sum, globally pooled, goes through
    Dense(d) -> BatchNorm -> ReLU -> Dense(R C) (both with bias) with
    d = max(R C // reduction, min_units); a softmax across the R splits per channel
    (the r-softmax) weights them, output = sum_r a_r * split_r. Parameters:
    k^2 C^2 + 4 R C + (C d + d) + 4 d + (d R C + R C). The "channel" map is the first
    split's weights a_0.
    """

    OPTIONS = ("radix", "kernel_size", "reduction", "min_units")

    def build(self, input_shape):
        channels = input_shape[-1]
        self.convs, self.norm = _grouped_conv_norm(
            self,
            self.radix * channels,
            self.radix,
            "splits",
            input_shape,
            kernel_size=self.kernel_size,
        )
        units = max(self.radix * channels // self.reduction, self.min_units)
        policy = self.dtype_policy
        self.fc1 = layers.Dense(units, dtype=policy, name="fc1")
        self.fc1_norm = layers.BatchNormalization(dtype=policy, name="fc1_norm")
        self.fc2 = layers.Dense(self.radix * channels, dtype=policy, name="fc2")
        self.fc1.build((None, channels))
        self.fc1_norm.build((None, units))
        self.fc2.build((None, units))

    def forward(self, inputs, training=None):
        channels = inputs.shape[-1]
        x = ops.relu(self.norm(grouped(self.convs, inputs), training=training))
        height, width = x.shape[1:3]
        splits = ops.reshape(x, (-1, height, width, self.radix, channels))
        context = ops.mean(ops.sum(splits, axis=3), axis=(1, 2))
        hidden = ops.relu(self.fc1_norm(self.fc1(context), training=training))
        logits = ops.reshape(self.fc2(hidden), (-1, self.radix, channels))
        weights = ops.softmax(logits, axis=1)
        outputs = ops.sum(splits * weights[:, None, None], axis=3)
        return outputs, {"channel": weights[:, 0]}
