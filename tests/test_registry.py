"""The registry: blocks and variants by name, config-defined variants, hand-counted parameters."""

import math
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from keras import layers, ops

from attnlab import attention, block_records, models, registry
from attnlab.layers import AttentionBlock

SMALL_DIGITS = (28, 28, 1)


# --------------------------------------------- parameter counts worked out from the papers
def eca_params(c):
    """Wang et al. 2020: one 1-D conv of k weights, k = odd(|(log2 C + 1) / 2|), no bias."""
    k = int(abs((math.log2(c) + 1) / 2))
    return k if k % 2 else k + 1


def coord_params(c):
    """Hou et al. 2021: 1x1 conv C->M (+bias), BatchNorm(M) (4 M with its statistics),
    two 1x1 convs M->C (+bias); M = max(8, C // 32)."""
    m = max(8, c // 32)
    return (c * m + m) + 4 * m + 2 * (m * c + c)


def gc_params(c):
    """Cao et al. 2019: mask conv C->1 (+bias), transform C->R (+bias), LayerNorm(R)
    (gamma, beta), R->C (+bias); R = max(1, C // 16)."""
    r = max(1, c // 16)
    return (c + 1) + (c * r + r) + 2 * r + (r * c + c)


def bam_params(c):
    """Park et al. 2018: channel MLP C->R (+bias), BatchNorm(R), R->C (+bias); spatial
    1x1 C->R, two dilated 3x3 R->R, each with bias and BatchNorm(R), 1x1 R->1 (+bias)."""
    r = max(1, c // 16)
    channel = (c * r + r) + 4 * r + (r * c + c)
    spatial = (c * r + r) + 4 * r + 2 * (9 * r * r + r + 4 * r) + (r + 1)
    return channel + spatial


def ese_params(c):
    """Lee & Park 2020: one 1x1 conv C->C with bias."""
    return c * c + c


def triplet_params(c):
    """Misra et al. 2021: three 7x7 convs 2->1 without bias, each with BatchNorm(1)."""
    return 3 * (2 * 7 * 7 + 4)


def lcbam_params(c):
    """timm's light CBAM: MLP C->R->C without biases, a 7x7 conv 1->1 without bias and
    BatchNorm(1); R = max(1, C // 8)."""
    r = max(1, c // 8)
    return 2 * c * r + 7 * 7 + 4


def sk_params(c):
    """Li et al. 2019, M = 2, G = 1: two 3x3 convs C->C without bias, each with
    BatchNorm(C); fuse C->d without bias and BatchNorm(d); select d->C per branch;
    d = max(C // 16, 32)."""
    d = max(c // 16, 32)
    return 2 * (9 * c * c + 4 * c) + (c * d + 4 * d) + 2 * d * c


def splat_params(c):
    """Zhang et al. 2020, R = 2, one cardinal group: a 3x3 conv C->2C in 2 groups without
    bias, BatchNorm(2C); fc1 C->d (+bias), BatchNorm(d), fc2 d->2C (+bias);
    d = max(2C // 4, 32)."""
    d = max(2 * c // 4, 32)
    return 9 * (c // 2) * 2 * c + 4 * 2 * c + (c * d + d) + 4 * d + (d * 2 * c + 2 * c)


def nonlocal_params(c):
    """Wang et al. 2018: theta, phi, g 1x1 convs C->C/2 (+bias), W_z C/2->C (+bias),
    BatchNorm(C)."""
    inner = c // 2
    return 3 * (c * inner + inner) + (inner * c + c) + 4 * c


def parameter_free(c):
    """SimAM (Yang et al. 2021) and GE-theta-minus (Hu et al. 2018) add none."""
    return 0


HAND_COUNTS = {"eca": eca_params, "coord_attention": coord_params, "gc": gc_params}
HAND_COUNTS |= {"bam": bam_params, "ceca": eca_params, "ese": ese_params}
HAND_COUNTS |= {"triplet": triplet_params, "lcbam": lcbam_params, "sk": sk_params}
HAND_COUNTS |= {"splat": splat_params, "simam": parameter_free, "gather_excite": parameter_free}


@pytest.mark.parametrize("block", list(HAND_COUNTS))
def test_new_blocks_add_the_parameters_of_their_papers(block):
    count = HAND_COUNTS[block]
    # digits: after the first pool, 32 channels; spectrograms: after both convs, 6 and 16.
    assert models.block_params(block, family="digits") == count(32)
    assert models.block_params(block, family="spectrogram") == count(6) + count(16)


def test_blocks_at_one_stage_add_the_parameters_of_their_papers():
    # The non-local block goes after LeNet's second conv only (16 channels).
    assert models.block_params("nonlocal", family="digits") == nonlocal_params(32)
    assert models.block_params("nonlocal", family="spectrogram") == nonlocal_params(16)
    # GE-theta's global depthwise kernel covers the map: H W C, and BatchNorm(C).
    assert models.block_params("gather_excite_param", family="digits") == 13 * 13 * 32 + 4 * 32
    spectrogram = 124 * 124 * 6 + 4 * 6 + 58 * 58 * 16 + 4 * 16
    assert models.block_params("gather_excite_param", family="spectrogram") == spectrogram


def test_hand_counts_at_wider_inputs():
    assert (eca_params(32), eca_params(64), eca_params(256)) == (3, 3, 5)
    assert (coord_params(32), gc_params(64), bam_params(64)) == (872, 653, 1205)
    assert (sk_params(64), splat_params(64), nonlocal_params(64)) == (80512, 43808, 8608)
    wider = [(block, 64) for block in ("coord_attention", "gc", "bam", "sk", "splat", "lcbam")]
    for block, channels in wider:
        spec = registry.BLOCKS[block]
        layer = spec.layer_class()(**spec.settle({}, block))
        layer(np.zeros((1, 12, 12, channels), "float32"))
        assert layer.count_params() == HAND_COUNTS[block](channels)


def test_self_attention_with_residual_and_eight_heads_from_the_config():
    spec = registry.resolve(
        "digits", {"name": "mhsa_h8_res", "block": "self_attention", "heads": 8, "residual": True}
    )
    assert spec.placements[0].stage == 2  # the study put self-attention after block 2
    assert spec.placements[0].options == {"heads": 8, "key_dim": 64, "residual": True}
    # q, k, v: 64 -> 8 x 64 each with bias; output 8 x 64 -> 64 with bias; LayerNorm(64).
    mha = 3 * (64 * 8 * 64 + 8 * 64) + (8 * 64 * 64 + 64) + 2 * 64
    assert models.build(spec).count_params() == 225_034 + mha
    model = models.build(spec, SMALL_DIGITS)
    assert model.get_layer("self_attention").get_config()["residual"] is True


# ------------------------------------------------------------- config-defined variants
def test_a_mapping_defines_a_variant_with_every_option_filled_in():
    spec = registry.resolve("digits", {"name": "se_r16", "block": "se", "ratio": 16})
    assert spec.to_dict() == {
        "name": "se_r16",
        "family": "digits",
        "blocks": [{"stage": 1, "block": "se", "options": {"ratio": 16}}],
        "skeleton": {},
    }
    assert registry.Variant.from_dict(spec.to_dict()) == spec
    assert spec.has_attention and not spec.is_study
    assert models.build(spec).count_params() == 225_034 + (32 * 2 + 2) + (2 * 32 + 32)


def test_blocks_list_stages_and_skeleton_options():
    entry = {
        "name": "double_se_bn",
        "blocks": [{"block": "se", "ratio": 2}, {"block": "se"}],
        "stages": [2],
        "batch_norm": True,
        "head_dropout": 0.25,
    }
    spec = registry.resolve("spectrogram", entry)
    assert [(p.stage, p.block, p.options["ratio"]) for p in spec.placements] == [
        (2, "se", 2),
        (2, "se", 8),
    ]
    assert spec.skeleton == {
        "batch_norm": True,
        "conv_dropout": 0.0,
        "head_l2": 0.0,
        "head_dropout": 0.25,
    }
    assert registry.layer_names(spec) == ["se_2", "se_2_2"]
    model = models.build(spec, (32, 32, 3))
    assert {"se_2", "se_2_2", "bn1", "fc1_dropout"} <= {layer.name for layer in model.layers}


def test_digit_names_get_a_stage_only_when_they_repeat():
    spec = registry.resolve("digits", {"name": "se_both", "block": "se", "stages": [1, 2]})
    assert registry.layer_names(spec) == ["se_1", "se_2"]
    assert registry.layer_names(registry.builtin("digits", "se_spatial")) == ["se", "spatial_gate"]


BAD_ENTRIES = {
    "unknown block": (
        {"name": "x", "block": "triplet_v9"},
        "unknown block 'triplet_v9'; known: spatial, self_attention, se, cbam",
    ),
    "unknown option": ({"name": "x", "block": "se", "reduction": 4}, "unknown option(s) reduction"),
    "wrong type": ({"name": "x", "block": "se", "ratio": "8"}, "'8' is not a int"),
    "bool is no int": ({"name": "x", "block": "se", "ratio": True}, "True is not a int"),
    "below minimum": ({"name": "x", "block": "se", "ratio": 0}, "0 is below the minimum 1"),
    "even kernel": ({"name": "x", "block": "eca", "kernel_size": 4}, "4 must be odd"),
    "not a choice": (
        {"name": "x", "block": "gather_excite", "extent": 3},
        "3 is not one of 0, 2, 4, 8",
    ),
    "radix must divide the channels": (
        {"name": "x", "block": "splat", "radix": 3},
        "radix=3 does not divide the 32 channels at digits stage 1",
    ),
    "groups must divide the channels": (
        {"name": "x", "block": "sk", "groups": 5, "stages": [2]},
        "groups=5 does not divide the 64 channels at digits stage 2",
    ),
    "bad stage": ({"name": "x", "block": "se", "stages": [3]}, "stages [3] not all in"),
    "block and blocks": (
        {"name": "x", "block": "se", "blocks": [{"block": "se"}]},
        "either block or blocks",
    ),
    "built-in name": ({"name": "cbam", "block": "cbam"}, "'cbam' is a built-in digits variant"),
    "bad name": ({"name": "Has Space", "block": "se"}, "must be a string matching"),
    "unknown skeleton option on digits": (
        {"name": "x", "block": "se", "batch_norm": True},
        "unknown option(s) batch_norm; known: ratio",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ENTRIES))
def test_bad_entries_fail_naming_the_problem(case):
    entry, message = BAD_ENTRIES[case]
    with pytest.raises(registry.RegistryError, match="config here") as caught:
        registry.resolve("digits", entry, where="config here")
    assert message in str(caught.value)


def test_duplicate_names_in_one_dataset():
    entries = ["base", {"name": "se8", "block": "se"}, {"name": "se8", "block": "se", "ratio": 4}]
    with pytest.raises(registry.RegistryError, match=r"duplicate \['se8'\]"):
        registry.resolve_dataset_variants("digits_set", "digits", entries)


# --------------------------------------------- a new block: its class and one entry
@keras.saving.register_keras_serializable(package="attnlab_tests")
class ScaledChannelGate(AttentionBlock):
    """A toy block for the test: sigmoid(w * mean + b) per channel, times `scale`."""

    def __init__(self, *, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def build(self, input_shape):
        self.gate = layers.Dense(input_shape[-1], activation="sigmoid", name="gate")
        self.gate.build((None, input_shape[-1]))

    def forward(self, inputs, training=None):
        weights = self.gate(ops.mean(inputs, axis=(1, 2)))
        return inputs * (self.scale * weights)[:, None, None, :], {"channel": weights}

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@pytest.fixture
def new_block():
    block = block_records.Block(
        "scaled_gate",
        ScaledChannelGate,
        {"scale": registry.Option(1.0, float, "factor on the gate", minimum=0.0)},
        ("channel",),
        "a test block",
    )
    block_records.register_block(block)
    yield block
    del registry.BLOCKS[block.name]


def test_a_new_block_needs_only_its_class_and_one_registry_entry(new_block, tmp_path):
    spec = registry.resolve("digits", {"name": "toy", "block": "scaled_gate", "scale": 2})
    assert spec.placements[0].options == {"scale": 2.0}
    model = models.build(spec, SMALL_DIGITS)
    assert models.block_params(spec) == 32 * 32 + 32
    assert set(attention.maps(model, np.zeros((2, *SMALL_DIGITS), "float32"))) == {
        "scaled_gate/channel"
    }
    table = models.param_table([spec])
    assert table.loc[0, "blocks"] == "scaled_gate(scale=2.0)@1" and table.loc[0, "attention"]
    assert "scaled_gate" in set(models.block_table()["block"])
    path = tmp_path / "toy.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    x = np.random.default_rng(0).uniform(size=(2, *SMALL_DIGITS)).astype("float32")
    np.testing.assert_allclose(reloaded(x), model(x), rtol=1e-6)
    with pytest.raises(registry.RegistryError, match="already registered"):
        block_records.register_block(new_block)


# ------------------------------------------------------------------ registry facts
def test_study_numbers_and_attention_live_in_the_records():
    se = registry.builtin("digits", "se")
    assert (se.study.accuracy, se.study.gain_pts, se.study.params) == (0.9855, 0.45, "base + ~500")
    hybrid = registry.builtin("spectrogram", "hybrid")
    assert hybrid.skeleton == {
        "batch_norm": True,
        "conv_dropout": 0.1,
        "head_l2": 0.001,
        "head_dropout": 0.5,
    }
    without = {
        (f, n)
        for f in models.families()
        for n in models.names(f)
        if not registry.builtin(f, n).has_attention
    }
    assert without == {("digits", "base"), ("spectrogram", "lenet"), ("spectrogram", "lenet_bn")}


def test_registry_imports_without_tensorflow():
    code = textwrap.dedent(
        """
        import sys
        from attnlab import registry
        registry.resolve("digits", {"name": "x", "block": "bam"})
        assert "tensorflow" not in sys.modules and "keras" not in sys.modules
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)
