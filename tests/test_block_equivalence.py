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


def conv2d_same(x, layer, dilation=None):
    """Stride-1 "same" convolution (with dilation, the layer's unless given) by summing
    shifted copies."""
    kernel = np.asarray(layer.kernel)
    size, dilation = kernel.shape[0], dilation or layer.dilation_rate[0]
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


def grouped_conv(x, convs, dilation=None):
    """A grouped convolution: group g's conv on the g-th slice of the channels."""
    width = x.shape[-1] // len(convs)
    return np.concatenate(
        [
            conv2d_same(x[..., g * width : (g + 1) * width], conv, dilation)
            for g, conv in enumerate(convs)
        ],
        axis=-1,
    )


def softmax(x, axis):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


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


# ---------------------------------------------------------------- the zoo's blocks
def ceca(block, x):
    kernel = np.asarray(block.conv.kernel)[:, 0, 0]
    reach = len(kernel) // 2
    pooled = x.mean((1, 2))
    channels = x.shape[-1]
    # channel c - reach + j, wrapping around
    mixed = sum(
        kernel[j] * pooled[:, (np.arange(channels) - reach + j) % channels]
        for j in range(len(kernel))
    )
    return x * sigmoid(mixed)[:, None, None]


def ese(block, x):
    return x * (np.clip(dense(x.mean((1, 2)), block.fc) + 3, 0, 6) / 6)[:, None, None]


def simam(block, x):
    """Yang et al. 2021, eq. 5: e_t^-1 = (t - mu)^2 / (4 (sigma^2 + lambda)) + 1/2 with
    sigma^2 over the other n = H W - 1 neurons of the channel."""
    n = x.shape[1] * x.shape[2] - 1
    d = (x - x.mean((1, 2), keepdims=True)) ** 2
    variance = d.sum((1, 2), keepdims=True) / n
    return x * sigmoid(d / (4 * (variance + block.lam)) + 0.5)


def triplet(block, x):
    """Misra et al. 2021: three Z-pool -> conv -> BN -> sigmoid gates, averaged."""

    def gate(branch, plane):  # plane (N, rows, cols, 2), max first
        return sigmoid(batch_norm(conv2d_same(plane, block.convs[branch]), block.norms[branch]))[
            ..., 0
        ]

    def z_pool(axis):
        return np.stack([x.max(axis), x.mean(axis)], axis=-1)

    hw = gate("hw", z_pool(3))  # over channels: (N, H, W)
    cw = gate("cw", z_pool(1).transpose(0, 2, 1, 3))  # over rows: (N, C, W)
    hc = gate("hc", z_pool(2))  # over columns: (N, H, C)
    n, h, w, c = x.shape
    out = np.zeros_like(x)
    for i in range(h):
        for j in range(w):
            for k in range(c):
                out[:, i, j, k] = x[:, i, j, k] * (hw[:, i, j] + cw[:, k, j] + hc[:, i, k]) / 3
    return out


def gathered_average(x, extent):
    """Cell (a, b): mean over the positions within extent - 1 of (a e, b e)."""
    n, h, w, c = x.shape
    cells = np.zeros((n, -(-h // extent), -(-w // extent), c))
    for a in range(cells.shape[1]):
        for b in range(cells.shape[2]):
            rows = slice(max(0, a * extent - extent + 1), a * extent + extent)
            cols = slice(max(0, b * extent - extent + 1), b * extent + extent)
            cells[:, a, b] = x[:, rows, cols].mean((1, 2))
    return cells


def depthwise_same_stride2(x, conv):
    """TensorFlow's "same" 3x3 depthwise conv with stride 2 (padding after first)."""
    kernel = np.asarray(conv.kernel)[..., 0]  # (3, 3, C)
    n, h, w, c = x.shape
    out_h, out_w = -(-h // 2), -(-w // 2)
    top, left = max((out_h - 1) * 2 + 3 - h, 0) // 2, max((out_w - 1) * 2 + 3 - w, 0) // 2
    padded = np.pad(x, [(0, 0), (top, 3), (left, 3), (0, 0)])
    out = np.zeros((n, out_h, out_w, c))
    for a in range(out_h):
        for b in range(out_w):
            window = padded[:, 2 * a : 2 * a + 3, 2 * b : 2 * b + 3]
            out[:, a, b] = (window * kernel).sum((1, 2))
    return out


def gather_excite(block, x):
    """Hu et al. 2018: y = x * sigmoid(interp(gather(x))), nearest-neighbour interp."""
    n, h, w, c = x.shape
    if not block.parametric:
        gathered = x.mean((1, 2), keepdims=True) if block.extent == 0 else None
        gathered = gathered if gathered is not None else gathered_average(x, block.extent)
    elif block.extent == 0:
        kernel = np.asarray(block.convs[0].kernel)[..., 0]  # (H, W, C)
        gathered = batch_norm((x * kernel).sum((1, 2)), block.norms[0])[:, None, None]
    else:
        gathered = x
        for index, (conv, norm) in enumerate(zip(block.convs, block.norms, strict=True)):
            gathered = batch_norm(depthwise_same_stride2(gathered, conv), norm)
            if index < len(block.convs) - 1:
                gathered = relu(gathered)
    gate = sigmoid(gathered)
    if block.extent:
        rows, cols = np.arange(h) // block.extent, np.arange(w) // block.extent
        gate = gate[:, rows][:, :, cols]
    return x * gate


def lcbam(block, x):
    pooled = 0.5 * x.mean((1, 2)) + 0.5 * x.max((1, 2))
    channel = sigmoid(dense(relu(dense(pooled, block.squeeze)), block.excite))
    features = x * channel[:, None, None]
    mixed = 0.5 * features.mean(-1, keepdims=True) + 0.5 * features.max(-1, keepdims=True)
    logits = batch_norm(conv2d_same(mixed, block.spatial_conv), block.spatial_norm)
    return features * sigmoid(logits)


def sk(block, x):
    """Li et al. 2019, eqs. 1-6: split, fuse (s = GAP(U), z = ReLU(BN(W s))), select."""
    paths = [  # branch m: a 3x3 conv with dilation m + 1
        relu(batch_norm(grouped_conv(x, convs, dilation=m + 1), norm))
        for m, (convs, norm) in enumerate(block.paths)
    ]
    s = sum(paths).mean((1, 2))
    z = relu(batch_norm(dense(s, block.fuse), block.fuse_norm))
    logits = dense(z, block.select).reshape(len(x), len(paths), x.shape[-1])
    weights = softmax(logits, axis=1)
    return sum(weights[:, m, None, None] * path for m, path in enumerate(paths))


def splat(block, x):
    """Zhang et al. 2020: grouped conv into R splits, r-softmax over splits per channel."""
    n, h, w, c = x.shape
    splits = relu(batch_norm(grouped_conv(x, block.convs), block.norm))
    splits = [splits[..., r * c : (r + 1) * c] for r in range(block.radix)]
    context = sum(splits).mean((1, 2))
    hidden = relu(batch_norm(dense(context, block.fc1), block.fc1_norm))
    weights = softmax(dense(hidden, block.fc2).reshape(n, block.radix, c), axis=1)
    return sum(weights[:, r, None, None] * split for r, split in enumerate(splits))


def max_pool_same_2x2(x):
    n, h, w, c = x.shape
    out = np.zeros((n, -(-h // 2), -(-w // 2), c))
    for a in range(out.shape[1]):
        for b in range(out.shape[2]):
            out[:, a, b] = x[:, 2 * a : 2 * a + 2, 2 * b : 2 * b + 2].max((1, 2))
    return out


def nonlocal_block(block, x):
    """Wang et al. 2018, eqs. 1, 3, 6: z = BN(W_z y) + x, y_i = sum_j softmax_j(theta_i .
    phi_j) g_j."""
    n, h, w, c = x.shape

    def conv1x1(a, conv):
        return a @ np.asarray(conv.kernel)[0, 0] + np.asarray(conv.bias)

    def tokens(a):
        return a.reshape(n, -1, a.shape[-1])

    keys, values = conv1x1(x, block.phi), conv1x1(x, block.g)
    if block.sub_sample:
        keys, values = max_pool_same_2x2(keys), max_pool_same_2x2(values)
    scores = softmax(np.einsum("nqc,nkc->nqk", tokens(conv1x1(x, block.theta)), tokens(keys)), -1)
    attended = np.einsum("nqk,nkc->nqc", scores, tokens(values)).reshape(n, h, w, -1)
    return x + batch_norm(conv1x1(attended, block.out), block.norm)


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
    "ceca": ceca,
    "ese": ese,
    "simam": simam,
    "triplet": triplet,
    "gather_excite": gather_excite,
    "lcbam": lcbam,
    "sk": sk,
    "splat": splat,
    "nonlocal": nonlocal_block,
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
    ("ceca", {"kernel_size": 5}),
    ("simam", {"lam": 0.5}),
    ("triplet", {"kernel_size": 3}),
    ("gather_excite", {"extent": 2}),
    ("gather_excite", {"extent": 4}),
    ("gather_excite", {"parametric": True}),
    ("gather_excite", {"parametric": True, "extent": 2}),
    ("gather_excite", {"parametric": True, "extent": 4}),
    ("sk", {"branches": 3, "groups": 2, "min_units": 4}),
    ("splat", {"radix": 4, "kernel_size": 1, "min_units": 4}),
    ("nonlocal", {"sub_sample": True}),
    ("nonlocal", {"reduction": 8}),
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
