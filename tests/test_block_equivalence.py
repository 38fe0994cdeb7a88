"""Every attention block against a NumPy transcription of its paper's formula.

The layers are written for speed (e.g. CBAM's 7x7 spatial convolution runs as a
depthwise convolution with the batch folded into the channels, and its element-wise
passes on large maps through XLA); these tests hold them to
the plain formula: random weights (BatchNorm statistics included), random inputs, outputs
equal within 1e-5. They also pin determinism: the same seed gives bit-identical outputs
and gradients in two fresh builds.
"""

import numpy as np
import pytest

from attnlab import registry

keras = pytest.importorskip("keras")

SHAPE = (3, 11, 13, 8)  # odd, unequal sides catch transposed axes
EPS = 1e-3  # Keras' BatchNormalization and LayerNormalization epsilon


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def relu(x):
    return np.maximum(x, 0)


def dense(x, layer):
    out = x @ np.asarray(layer.kernel)
    return out + np.asarray(layer.bias) if layer.use_bias else out


def batch_norm(x, layer):
    mean, var = np.asarray(layer.moving_mean), np.asarray(layer.moving_variance)
    return (x - mean) / np.sqrt(var + EPS) * np.asarray(layer.gamma) + np.asarray(layer.beta)


def layer_norm(x, layer):
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * np.asarray(layer.gamma) + np.asarray(layer.beta)


def conv2d_same(x, layer):
    """Stride-1 "same" convolution (with dilation) by summing shifted copies."""
    kernel = np.asarray(layer.kernel)
    size, dilation = kernel.shape[0], layer.dilation_rate[0]
    reach = dilation * (size - 1) // 2
    padded = np.pad(x, [(0, 0), (reach, reach), (reach, reach), (0, 0)])
    height, width = x.shape[1:3]
    out = 0.0
    for i in range(size):
        for j in range(size):
            window = padded[
                :, i * dilation : i * dilation + height, j * dilation : j * dilation + width
            ]
            out = out + window @ kernel[i, j]
    return out + np.asarray(layer.bias) if layer.use_bias else out


def spatial(block, x):
    return x * sigmoid(conv2d_same(x, block.conv))


def se(block, x):
    weights = sigmoid(dense(relu(dense(x.mean((1, 2)), block.squeeze)), block.excite))
    return x * weights[:, None, None]


def channel_pools(x):
    return np.stack([x.mean(-1), x.max(-1)], axis=-1)


def cbam(block, x):
    features = se(block, x)
    return features * sigmoid(conv2d_same(channel_pools(features), block.spatial_conv))


def cbam_original(block, x):
    def mlp(descriptor):
        return dense(relu(dense(descriptor, block.squeeze)), block.excite)

    features = x * sigmoid(mlp(x.mean((1, 2))) + mlp(x.max((1, 2))))[:, None, None]
    logits = conv2d_same(channel_pools(features), block.spatial_conv)
    return features * sigmoid(batch_norm(logits, block.spatial_norm))


def channel_attention(block, x):
    gate = sigmoid(dense(sigmoid(dense(x.mean((1, 2)), block.squeeze)), block.excite))
    return x * layer_norm(gate, block.weight_norm)[:, None, None]


def eca(block, x):
    kernel = np.asarray(block.conv.kernel)[:, 0, 0]
    reach = len(kernel) // 2
    pooled = np.pad(x.mean((1, 2)), [(0, 0), (reach, reach)])
    channels = x.shape[-1]
    mixed = sum(kernel[j] * pooled[:, j : j + channels] for j in range(len(kernel)))
    return x * sigmoid(mixed)[:, None, None]


def hard_swish(x):
    return x * np.clip(x + 3, 0, 6) / 6


def coord_attention(block, x):
    height = x.shape[1]
    rows, cols = x.mean(2), x.mean(1)  # (N, H, C), (N, W, C)
    squeeze = np.asarray(block.squeeze.kernel)[0, 0]
    both = np.concatenate([rows, cols], axis=1) @ squeeze + np.asarray(block.squeeze.bias)
    mixed = hard_swish(batch_norm(both, block.norm))

    def gate(part, conv):
        return sigmoid(part @ np.asarray(conv.kernel)[0, 0] + np.asarray(conv.bias))

    row_gate, col_gate = gate(mixed[:, :height], block.rows), gate(mixed[:, height:], block.cols)
    return x * row_gate[:, :, None] * col_gate[:, None]


def gc(block, x):
    n, h, w, c = x.shape
    logits = (x @ np.asarray(block.mask.kernel)[0, 0] + np.asarray(block.mask.bias))[..., 0]
    logits = logits.reshape(n, h * w)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    context = np.einsum("nl,nlc->nc", weights, x.reshape(n, h * w, c))
    hidden = relu(layer_norm(dense(context, block.squeeze), block.norm))
    return x + dense(hidden, block.excite)[:, None, None]


def bam(block, x):
    channel = dense(
        relu(batch_norm(dense(x.mean((1, 2)), block.squeeze), block.squeeze_norm)), block.excite
    )
    feature = x
    for conv, norm in zip(block.spatial, block.spatial_norms, strict=True):
        feature = relu(batch_norm(conv2d_same(feature, conv), norm))
    spatial_logit = conv2d_same(feature, block.spatial_out)
    return x * (1 + sigmoid(channel[:, None, None] + spatial_logit))


def self_attention(block, x):
    n, h, w, c = x.shape
    tokens = x.reshape(n, h * w, c)
    mha = block.mha

    def project(dense_layer):
        return np.einsum("nlc,chd->nlhd", tokens, np.asarray(dense_layer.kernel)) + np.asarray(
            dense_layer.bias
        )

    query, key, value = (project(d) for d in (mha._query_dense, mha._key_dense, mha._value_dense))
    scores = np.einsum("nqhd,nkhd->nhqk", query, key) / np.sqrt(block.key_dim)
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    scores /= scores.sum(-1, keepdims=True)
    attended = np.einsum("nhqk,nkhd->nqhd", scores, value)
    out = np.einsum("nqhd,hdc->nqc", attended, np.asarray(mha._output_dense.kernel))
    out = out + np.asarray(mha._output_dense.bias)
    if block.residual:
        out = out + tokens
    return layer_norm(out, block.norm).reshape(n, h, w, c)


FORMULAS = {
    "spatial": spatial,
    "self_attention": self_attention,
    "se": se,
    "cbam": cbam,
    "cbam_original": cbam_original,
    "channel_attention": channel_attention,
    "eca": eca,
    "coord_attention": coord_attention,
    "gc": gc,
    "bam": bam,
}


def test_every_registered_block_has_a_formula_here():
    assert set(registry.BLOCKS) <= set(FORMULAS), set(registry.BLOCKS) - set(FORMULAS)


def built_block(name, options=None, seed=0):
    """The block with its registry defaults, every weight random (variances positive)."""
    spec = registry.BLOCKS[name]
    block = spec.layer_class()(**spec.settle(options or {}, f"test block {name}"))
    block.build(SHAPE)
    rng = np.random.default_rng(seed)
    for variable in block.weights:
        values = rng.normal(0, 0.5, variable.shape)
        if "variance" in variable.path:
            values = rng.uniform(0.5, 2.0, variable.shape)
        variable.assign(values.astype("float32"))
    return block


# BAM's default ratio leaves one hidden channel at C = 8, which random weights can switch
# off behind its ReLUs; ratio 2 keeps the spatial branch in play.
CASES = [(name, {}) for name in FORMULAS] + [
    ("self_attention", {"residual": True, "heads": 2, "key_dim": 4}),
    ("cbam", {"kernel_size": 3}),
    ("eca", {"kernel_size": 5}),
    ("bam", {"ratio": 2}),
    ("bam", {"ratio": 2, "dilation": 2, "dilated_convs": 1}),
]


@pytest.mark.parametrize(("name", "options"), CASES, ids=[f"{n}{o or ''}" for n, o in CASES])
def test_block_equals_its_formula(name, options):
    block = built_block(name, options)
    x = np.random.default_rng(1).normal(0, 1, SHAPE).astype("float32")
    got = np.asarray(block(x, training=False))
    want = FORMULAS[name](block, x.astype("float64"))
    scale = max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * scale)


@pytest.mark.parametrize("filters", [1, 3])
def test_narrow_conv_matches_the_conv_layer_with_gradients(filters):
    """The depthwise form of a narrow conv equals Keras' Conv2D, with gradients."""
    import tensorflow as tf

    from attnlab.layers import narrow_conv

    conv = keras.layers.Conv2D(filters, 7, padding="same", activation="sigmoid")
    conv.build((None, *SHAPE[1:3], 2))
    shape = (*SHAPE[:3], conv.kernel.shape[2])
    maps = tf.constant(np.random.default_rng(2).normal(0, 1, shape), tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(maps)
        fast, plain = narrow_conv(conv, maps), conv(maps)
        fast_loss, plain_loss = tf.reduce_sum(fast**2), tf.reduce_sum(plain**2)
    np.testing.assert_allclose(fast, plain, atol=1e-5)
    for fast_grad, plain_grad in zip(
        tape.gradient(fast_loss, [maps, *conv.trainable_variables]),
        tape.gradient(plain_loss, [maps, *conv.trainable_variables]),
        strict=True,
    ):
        np.testing.assert_allclose(fast_grad, plain_grad, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["cbam", "cbam_original"])
def test_xla_fused_passes_equal_the_plain_ones_with_gradients(name, monkeypatch):
    """CBAM's element-wise passes through XLA on large maps give the plain ops' outputs
    and gradients (the formula test above runs the plain path: its maps are small), the
    same bits every time."""
    import tensorflow as tf

    from attnlab import layers

    block = built_block(name)
    x = tf.constant(np.random.default_rng(5).normal(0, 1, SHAPE), tf.float32)

    def outputs_and_gradients(fuse_elements):
        monkeypatch.setattr(layers, "FUSE_ELEMENTS", fuse_elements)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = block(x, training=True)
            loss = tf.reduce_sum(y**2)
        return [y, *tape.gradient(loss, [x, *block.trainable_variables])]

    plain, fused = outputs_and_gradients(10**9), outputs_and_gradients(0)
    for want, got, again in zip(plain, fused, outputs_and_gradients(0), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(got, again)


@pytest.mark.parametrize("name", ["cbam", "bam", "coord_attention"])
def test_same_seed_gives_identical_outputs_and_gradients(name):
    import tensorflow as tf

    def run():
        keras.utils.set_random_seed(7)
        block = built_block(name, seed=3)
        x = tf.constant(np.random.default_rng(4).normal(0, 1, SHAPE), tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = block(x, training=True)
            loss = tf.reduce_sum(y**2)
        return [y, *tape.gradient(loss, [x, *block.trainable_variables])]

    for first, second in zip(run(), run(), strict=True):
        np.testing.assert_array_equal(first, second)
