"""Attention blocks for small CNNs, as registered Keras layers.

Every block is a `keras.layers.Layer` subclass registered under the package
"attnlab", with a `get_config` and no `Lambda` layers, so a model saved as a
`.keras` file reloads in a fresh process with `safe_mode=True` once this module
has been imported.

Options have no defaults here: `attnlab.registry` holds them (one source of truth)
and `attnlab.models` passes every option.

Every block is an `AttentionBlock`: besides its normal call it has
`attention_maps(inputs)`, which runs the block on `inputs` (the tensor the block
receives inside the model) and returns its attention maps by kind:

- `"spatial"`: a sigmoid map over positions, shape (N, H, W), in [0, 1];
- `"channel"`: the weights multiplied onto the channels, shape (N, C), in [0, 1]
  except for `ChannelAttention`, whose weights are layer-normalised;
- `"scores"`: self-attention scores, shape (N, heads, H*W, H*W), rows sum to 1.

`attnlab.attention.maps` collects these for every block of a model.
"""

import contextlib
import contextvars
import functools
import math

import keras
import tensorflow as tf
from keras import layers, ops

from attnlab.blocks.base import (
    PACKAGE,
    AttentionBlock,
    channel_pools,
    reduced_units,
    scale_channels,
)
from attnlab.blocks.channel import CECA, ECA, EffectiveSE, eca_kernel_size
from attnlab.blocks.gather_excite import GatherExcite
from attnlab.blocks.light_cbam import LightCBAM
from attnlab.blocks.multibranch import SelectiveKernel, SplitAttention
from attnlab.blocks.nonlocal_block import NonLocal
from attnlab.blocks.simam import SimAM
from attnlab.blocks.triplet import TripletAttention

# The blocks in `attnlab.blocks` are re-exported: this module is the one namespace the
# registry resolves layer names in, and importing it registers every block with Keras.
__all__ = [
    "CECA",
    "ECA",
    "EffectiveSE",
    "GatherExcite",
    "LightCBAM",
    "NonLocal",
    "SelectiveKernel",
    "SimAM",
    "SplitAttention",
    "TripletAttention",
    "eca_kernel_size",
]


def narrow_conv(conv, inputs):
    """`conv` (a built Conv2D with "same" padding, stride 1, no dilation) applied to
    `inputs`, computed as one depthwise convolution with the batch folded into the
    channels.

    For convolutions with a few input and output channels (CBAM's 7x7 conv from 2 maps
    to 1) oneDNN's direct kernels run at under 1 GFLOP/s on CPU; the depthwise kernel
    over N x C_in channels (C_out per channel, summed over C_in afterwards) vectorises:
    6.6x faster forward + backward for CBAM's gate on 16x124x124 maps (BENCHMARKS.md).
    The same sums in another order: the layer keeps its weights, so parameter counts and
    saved models are unchanged.
    """
    if tuple(conv.dilation_rate) != (1, 1) or tuple(conv.strides) != (1, 1):
        # TensorFlow's dilated depthwise conv needs a static channel count, and the
        # folded batch is dynamic.
        raise ValueError(f"narrow_conv: {conv.name} is dilated or strided")
    height, width, channels = inputs.shape[1:]
    kernel = ops.cast(conv.kernel, inputs.dtype)  # (k, k, C_in, C_out)
    filters = kernel.shape[-1]
    folded = ops.reshape(ops.transpose(inputs, (1, 2, 0, 3)), (1, height, width, -1))
    tiled = ops.tile(kernel, (1, 1, ops.shape(inputs)[0], 1))
    summed = ops.depthwise_conv(folded, tiled, strides=1, padding="same")
    summed = ops.sum(ops.reshape(summed, (height, width, -1, channels, filters)), axis=-2)
    outputs = ops.transpose(summed, (2, 0, 1, 3))
    if conv.use_bias:
        outputs = outputs + ops.cast(conv.bias, inputs.dtype)
    return conv.activation(outputs)


# Per-sample size from which `_gated_pools` and `_apply_spatial` run through XLA: it fuses
# each into one loop over the features, forward and backward, where TensorFlow alone makes
# a pass over memory per op. Below it (the digits' 13x13x32) XLA's launch costs more than
# the passes save (BENCHMARKS.md). Only element-wise ops and reductions go in: XLA's CPU
# convolutions are slower than oneDNN's.
FUSE_ELEMENTS = 2**15


_unfused = contextvars.ContextVar("unfused", default=False)


@contextlib.contextmanager
def unfused():
    """Inside it, blocks make the plain TensorFlow ops instead of XLA-fused calls, as
    `attnlab.cost` needs: TensorFlow's profiler does not count inside a compiled call."""
    token = _unfused.set(True)
    try:
        yield
    finally:
        _unfused.reset(token)


@functools.cache
def _on_gpu():
    return bool(tf.config.list_logical_devices("GPU"))


def _fuse(tensor):
    """Fuse on large maps on CPU, where it was measured; TensorFlow's GPU kernels are not
    the bottleneck this works around."""
    if _unfused.get() or _on_gpu():
        return False
    return math.prod(tensor.shape[1:]) >= FUSE_ELEMENTS


def _fusable(fn):
    """`fn(features, ...)` through XLA when `_fuse(features)`, else as plain ops."""
    fused = tf.function(fn, jit_compile=True)

    @functools.wraps(fn)
    def call(features, *args):
        return (fused if _fuse(features) else fn)(features, *args)

    return call


@_fusable
def _gated_pools(inputs, channel):
    """Features scaled by (N, C) channel weights, and their channel pools."""
    features = scale_channels(inputs, channel)
    return features, channel_pools(features)


@_fusable
def _apply_spatial(features, spatial):
    """Features times an (N, H, W, 1) spatial map."""
    return features * spatial


@keras.saving.register_keras_serializable(package=PACKAGE)
class SpatialGate(AttentionBlock):
    """The study's "spatial attention": a 1x1 conv to one sigmoid map, multiplied on.

    For C input channels it adds C + 1 parameters (33 on the digits' 32 channels).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = layers.Conv2D(
            1, 1, activation="sigmoid", dtype=self.dtype_policy, name="map_conv"
        )

    def build(self, input_shape):
        self.conv.build(input_shape)

    def forward(self, inputs, training=None):
        spatial = self.conv(inputs)
        return inputs * spatial, {"spatial": spatial[..., 0]}


@keras.saving.register_keras_serializable(package=PACKAGE)
class PatchSelfAttention(AttentionBlock):
    """Self-attention over the positions of a feature map.

    (N, H, W, C) features become H*W tokens of C, go through
    MultiHeadAttention(heads, key_dim) and LayerNormalization, and are
    reshaped back to (N, H, W, C). The study used 4 heads with key_dim 64 on
    5x5x64 features and no residual connection (`residual=False`); with
    `residual=True` the block normalises tokens + attention output instead.
    """

    def __init__(self, *, heads, key_dim, residual, **kwargs):
        super().__init__(**kwargs)
        self.heads = heads
        self.key_dim = key_dim
        self.residual = residual
        self.mha = layers.MultiHeadAttention(
            num_heads=heads, key_dim=key_dim, dtype=self.dtype_policy, name="mha"
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

    def get_config(self):
        config = super().get_config()
        config.update(heads=self.heads, key_dim=self.key_dim, residual=self.residual)
        return config


class _ChannelGateBlock(AttentionBlock):
    """Shared parts of the blocks with a GAP -> Dense -> Dense channel gate."""

    def __init__(self, *, ratio, **kwargs):
        super().__init__(**kwargs)
        self.ratio = ratio

    def _make_gate(self, channels, hidden_activation="relu", gate_activation="sigmoid"):
        """Create and build `squeeze` (C -> C / ratio) and `excite` (-> C)."""
        self.squeeze = layers.Dense(
            reduced_units(channels, self.ratio),
            activation=hidden_activation,
            dtype=self.dtype_policy,
            name="squeeze",
        )
        self.excite = layers.Dense(
            channels, activation=gate_activation, dtype=self.dtype_policy, name="excite"
        )
        self.squeeze.build((None, channels))
        self.excite.build((None, self.squeeze.units))

    def _gate(self, inputs):
        return self.excite(self.squeeze(ops.mean(inputs, axis=(1, 2))))

    def get_config(self):
        config = super().get_config()
        config.update(ratio=self.ratio)
        return config


@keras.saving.register_keras_serializable(package=PACKAGE)
class SqueezeExcite(_ChannelGateBlock):
    """Squeeze-and-excitation (Hu et al. 2018): channel weights from global context.

    Global average pool -> Dense(C / ratio, relu) -> Dense(C, sigmoid) -> scale
    the channels. The study used ratio 8, i.e. Dense(4) for 32 channels.
    """

    def build(self, input_shape):
        self._make_gate(input_shape[-1])

    def forward(self, inputs, training=None):
        weights = self._gate(inputs)
        return scale_channels(inputs, weights), {"channel": weights}


@keras.saving.register_keras_serializable(package=PACKAGE)
class CBAM(_ChannelGateBlock):
    """CBAM as the study built it: a simplified version of Woo et al. 2018.

    Channel gate from the global *average* pool only (Dense(C / ratio, relu) ->
    Dense(C, sigmoid)), then a spatial gate: channel-wise mean and max,
    concatenated -> Conv2D(1, 7x7, same, sigmoid, with bias). Both gates are
    multiplied onto the features. `CBAMOriginal` is the published block.
    """

    def __init__(self, *, ratio, kernel_size, **kwargs):
        super().__init__(ratio=ratio, **kwargs)
        self.kernel_size = kernel_size
        self.spatial_conv = layers.Conv2D(
            1,
            kernel_size,
            padding="same",
            activation="sigmoid",
            dtype=self.dtype_policy,
            name="spatial_conv",
        )

    def build(self, input_shape):
        self._make_gate(input_shape[-1])
        self.spatial_conv.build((*input_shape[:-1], 2))

    def forward(self, inputs, training=None):
        channel = self._gate(inputs)
        features, pools = _gated_pools(inputs, channel)
        spatial = narrow_conv(self.spatial_conv, pools)
        return _apply_spatial(features, spatial), {"channel": channel, "spatial": spatial[..., 0]}

    def get_config(self):
        config = super().get_config()
        config.update(kernel_size=self.kernel_size)
        return config


@keras.saving.register_keras_serializable(package=PACKAGE)
class CBAMOriginal(_ChannelGateBlock):
    """CBAM as Woo et al. 2018 published it.

    Differences from the study's `CBAM`: the channel gate passes both the
    average- and the max-pooled descriptor through one shared MLP
    (Dense(C / ratio, relu) -> Dense(C)), sums them and only then applies the
    sigmoid; the spatial gate's 7x7 conv has no bias and is followed by
    BatchNormalization before the sigmoid.
    """

    def __init__(self, *, ratio, kernel_size, **kwargs):
        super().__init__(ratio=ratio, **kwargs)
        self.kernel_size = kernel_size
        self.spatial_conv = layers.Conv2D(
            1,
            kernel_size,
            padding="same",
            use_bias=False,
            dtype=self.dtype_policy,
            name="spatial_conv",
        )
        self.spatial_norm = layers.BatchNormalization(dtype=self.dtype_policy, name="spatial_norm")

    def build(self, input_shape):
        # The sigmoid comes after summing the two descriptors' MLP outputs.
        self._make_gate(input_shape[-1], gate_activation=None)
        self.spatial_conv.build((*input_shape[:-1], 2))
        self.spatial_norm.build((*input_shape[:-1], 1))

    def _shared_mlp(self, descriptor):
        return self.excite(self.squeeze(descriptor))

    def forward(self, inputs, training=None):
        average = self._shared_mlp(ops.mean(inputs, axis=(1, 2)))
        maximum = self._shared_mlp(ops.max(inputs, axis=(1, 2)))
        channel = ops.sigmoid(average + maximum)
        features, pools = _gated_pools(inputs, channel)
        logits = narrow_conv(self.spatial_conv, pools)
        logits = self.spatial_norm(logits, training=training)
        spatial = ops.sigmoid(logits)
        return _apply_spatial(features, spatial), {"channel": channel, "spatial": spatial[..., 0]}

    def get_config(self):
        config = super().get_config()
        config.update(kernel_size=self.kernel_size)
        return config


@keras.saving.register_keras_serializable(package=PACKAGE)
class ChannelAttention(_ChannelGateBlock):
    """The study's "hybrid" channel attention.

    Global average pool -> Dense(C / ratio, sigmoid) -> Dense(C, sigmoid) ->
    LayerNormalization of the weights -> scale the channels. Because of the
    normalisation the applied weights (the "channel" map) are not bounded to
    [0, 1] and can be negative; the study's block did exactly this.
    """

    def build(self, input_shape):
        channels = input_shape[-1]
        self._make_gate(channels, hidden_activation="sigmoid")
        self.weight_norm = layers.LayerNormalization(dtype=self.dtype_policy, name="weight_norm")
        self.weight_norm.build((None, channels))

    def forward(self, inputs, training=None):
        weights = self.weight_norm(self._gate(inputs))
        return scale_channels(inputs, weights), {"channel": weights}


def hard_swish(x):
    """x * ReLU6(x + 3) / 6, the activation Coordinate Attention uses."""
    return x * ops.relu6(x + 3.0) / 6.0


@keras.saving.register_keras_serializable(package=PACKAGE)
class CoordinateAttention(AttentionBlock):
    """Coordinate Attention (Hou et al. 2021): channel attention that keeps positions.

    Average-pool along the width (one C-vector per row) and along the height (one per
    column), concatenate the H + W vectors -> 1x1 conv to M = max(min_channels,
    C // reduction) channels -> BatchNorm -> hard swish; split back into rows and
    columns -> a 1x1 conv (M -> C, sigmoid) each. The output is x * a_rows * a_cols.
    Parameters: (C + 1) M + 4 M (BatchNorm) + 2 (M + 1) C. The "spatial" map is the
    channel mean of a_rows * a_cols.
    """

    def __init__(self, *, reduction, min_channels, **kwargs):
        super().__init__(**kwargs)
        self.reduction, self.min_channels = reduction, min_channels

    def build(self, input_shape):
        height, width, channels = input_shape[1:]
        hidden = max(self.min_channels, channels // self.reduction)
        policy = self.dtype_policy
        self.squeeze = layers.Conv2D(hidden, 1, dtype=policy, name="squeeze")
        self.norm = layers.BatchNormalization(dtype=policy, name="norm")
        self.rows = layers.Conv2D(channels, 1, activation="sigmoid", dtype=policy, name="rows")
        self.cols = layers.Conv2D(channels, 1, activation="sigmoid", dtype=policy, name="cols")
        self.squeeze.build((None, height + width, 1, channels))
        self.norm.build((None, height + width, 1, hidden))
        self.rows.build((None, height, 1, hidden))
        self.cols.build((None, width, 1, hidden))

    def forward(self, inputs, training=None):
        height = inputs.shape[1]
        rows = ops.mean(inputs, axis=2, keepdims=True)  # (N, H, 1, C)
        cols = ops.transpose(ops.mean(inputs, axis=1, keepdims=True), (0, 2, 1, 3))  # (N, W, 1, C)
        mixed = hard_swish(
            self.norm(self.squeeze(ops.concatenate([rows, cols], axis=1)), training=training)
        )
        row_gate = self.rows(mixed[:, :height])  # (N, H, 1, C)
        col_gate = ops.transpose(self.cols(mixed[:, height:]), (0, 2, 1, 3))  # (N, 1, W, C)
        gate = row_gate * col_gate
        return inputs * gate, {"spatial": ops.mean(gate, axis=-1)}

    def get_config(self):
        config = super().get_config()
        config.update(reduction=self.reduction, min_channels=self.min_channels)
        return config


@keras.saving.register_keras_serializable(package=PACKAGE)
class GlobalContext(AttentionBlock):
    """Global Context block (Cao et al. 2019), with the paper's channel-add fusion.

    Context: a 1x1 conv (C -> 1) gives one logit per position, softmax over positions,
    the softmax-weighted sum of the features is one C-vector. Transform: 1x1 convs
    C -> R = max(1, C // ratio) -> LayerNorm -> ReLU -> C. The result is added to every
    position. Parameters: (C + 1) + (C + 1) R + 2 R + (R + 1) C. The "spatial" map is
    the softmax over positions divided by its peak, so that it spans [0, 1] as gates do.
    """

    def __init__(self, *, ratio, **kwargs):
        super().__init__(**kwargs)
        self.ratio = ratio

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

    def get_config(self):
        config = super().get_config()
        config.update(ratio=self.ratio)
        return config


@keras.saving.register_keras_serializable(package=PACKAGE)
class BAM(AttentionBlock):
    """Bottleneck Attention Module (Park et al. 2018).

    Channel branch: global average pool -> Dense(R) -> BatchNorm -> ReLU -> Dense(C).
    Spatial branch: 1x1 conv C -> R -> BatchNorm -> ReLU, `dilated_convs` times a 3x3
    conv R -> R with `dilation` -> BatchNorm -> ReLU, then a 1x1 conv R -> 1. With
    R = max(1, C // ratio), the attention is M = sigmoid(channel + spatial) (broadcast
    sum, as the paper chose) and the output x * (1 + M). The maps are the sigmoids of
    each branch alone: "channel" (N, C) and "spatial" (N, H, W).
    """

    def __init__(self, *, ratio, dilation, dilated_convs, **kwargs):
        super().__init__(**kwargs)
        self.ratio, self.dilation, self.dilated_convs = ratio, dilation, dilated_convs

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

    def get_config(self):
        config = super().get_config()
        config.update(ratio=self.ratio, dilation=self.dilation, dilated_convs=self.dilated_convs)
        return config
