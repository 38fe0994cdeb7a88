"""CPU kernels the blocks use where Keras' plain ops are slow on small CPUs.

`narrow_conv` computes a few-channel convolution as one depthwise convolution; the
`_fusable` functions run element-wise work through XLA on large maps. `unfused` turns
the fusion off for `attnlab.cost`, whose profiler cannot see inside a compiled call.
"""

import contextlib
import contextvars
import functools
import math

import tensorflow as tf
from keras import ops

from attnlab.blocks.base import channel_pools, scale_channels


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


# Per-sample size from which `gated_pools` and `apply_spatial` run through XLA: it fuses
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
def gated_pools(inputs, channel):
    """Features scaled by (N, C) channel weights, and their channel pools."""
    features = scale_channels(inputs, channel)
    return features, channel_pools(features)


@_fusable
def apply_spatial(features, spatial):
    """Features times an (N, H, W, 1) spatial map."""
    return features * spatial
