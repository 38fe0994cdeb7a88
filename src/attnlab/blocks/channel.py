"""Channel gates without a bottleneck: ECA, its circular form CECA, and effective SE."""

import math

from keras import layers, ops

from attnlab.blocks.base import AttentionBlock, register, scale_channels


def eca_kernel_size(channels, gamma, beta):
    """ECA's adaptive kernel size: |(log2 C + beta) / gamma| rounded down to an odd number.

    Wang et al. 2020, eq. 12 (their code takes int() and adds 1 to an even result).
    """
    size = int(abs((math.log2(channels) + beta) / gamma))
    return size if size % 2 else size + 1


@register
class ECA(AttentionBlock):
    """Efficient Channel Attention (Wang et al. 2020): SE without the bottleneck.

    Global average pool -> 1-D convolution across channels (k weights, no bias, zero
    padding) -> sigmoid -> scale the channels. `kernel_size=None` picks k from C with
    `eca_kernel_size` (k = 3 for 16 or 32 channels, 1 for 6). Adds k parameters.
    """

    OPTIONS = ("kernel_size", "gamma", "beta")
    padding = "same"  # of the 1-D conv

    def kernel_size_for(self, channels):
        return self.kernel_size or eca_kernel_size(channels, self.gamma, self.beta)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.size = self.kernel_size_for(channels)
        self.conv = layers.Conv1D(
            1,
            self.size,
            padding=self.padding,
            use_bias=False,
            dtype=self.dtype_policy,
            name="channel_conv",
        )
        self.conv.build((None, channels, 1))

    def _mix(self, pooled):
        """The 1-D conv across the (N, C, 1) pooled channels."""
        return self.conv(pooled)

    def forward(self, inputs, training=None):
        pooled = ops.mean(inputs, axis=(1, 2))[:, :, None]
        weights = ops.sigmoid(self._mix(pooled)[:, :, 0])
        return scale_channels(inputs, weights), {"channel": weights}


@register
class CECA(ECA):
    """ECA with circular padding (timm's `CecaModule`): the 1-D conv across channels
    wraps around, so the first and last channels see each other instead of zeros.

    Same options and k parameters as ECA; k // 2 may not exceed C.
    """

    padding = "valid"

    def build(self, input_shape):
        reach = self.kernel_size_for(input_shape[-1]) // 2
        if reach > input_shape[-1]:
            raise ValueError(
                f"{self.name}: circular padding of {reach} needs at least as many "
                f"channels, got {input_shape[-1]}"
            )
        super().build(input_shape)

    def _mix(self, pooled):
        reach = self.size // 2
        if reach:
            pooled = ops.concatenate([pooled[:, -reach:], pooled, pooled[:, :reach]], axis=1)
        return self.conv(pooled)


@register
class EffectiveSE(AttentionBlock):
    """Effective Squeeze-and-Excitation (Lee & Park 2020, CenterMask's eSE): SE with one
    full-width 1x1 conv instead of the bottleneck, gated by a hard sigmoid.

    Global average pool -> Dense(C) with bias -> hard sigmoid relu6(x + 3) / 6 -> scale
    the channels. Adds C * C + C parameters.
    """

    def build(self, input_shape):
        channels = input_shape[-1]
        self.fc = layers.Dense(channels, dtype=self.dtype_policy, name="fc")
        self.fc.build((None, channels))

    def forward(self, inputs, training=None):
        weights = ops.relu6(self.fc(ops.mean(inputs, axis=(1, 2))) + 3.0) / 6.0
        return scale_channels(inputs, weights), {"channel": weights}
