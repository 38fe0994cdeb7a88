"""Attention maps and Grad-CAM for every variant."""

import keras
import numpy as np
import pytest

from attnlab import attention, models

SMALL_SHAPES = {"digits": (28, 28, 1), "spectrogram": (32, 32, 3)}

# Map key -> shape without the batch dimension, on SMALL_SHAPES.
DIGIT_SPATIAL = (13, 13)
EXPECTED_MAPS = {
    ("digits", "base"): {},
    ("digits", "spatial"): {"spatial_gate/spatial": DIGIT_SPATIAL},
    ("digits", "self_attention"): {"self_attention/scores": (4, 25, 25)},
    ("digits", "cbam"): {"cbam/channel": (32,), "cbam/spatial": DIGIT_SPATIAL},
    ("digits", "se"): {"se/channel": (32,)},
    ("digits", "se_spatial"): {"se/channel": (32,), "spatial_gate/spatial": DIGIT_SPATIAL},
    ("digits", "cbam_original"): {
        "cbam_original/channel": (32,),
        "cbam_original/spatial": DIGIT_SPATIAL,
    },
    ("digits", "eca"): {"eca/channel": (32,)},
    ("digits", "coord_attention"): {"coord_attention/spatial": DIGIT_SPATIAL},
    ("digits", "gc"): {"gc/spatial": DIGIT_SPATIAL},
    ("digits", "bam"): {"bam/channel": (32,), "bam/spatial": DIGIT_SPATIAL},
    ("digits", "ceca"): {"ceca/channel": (32,)},
    ("digits", "ese"): {"ese/channel": (32,)},
    ("digits", "simam"): {"simam/spatial": DIGIT_SPATIAL},
    ("digits", "triplet"): {"triplet/spatial": DIGIT_SPATIAL},
    ("digits", "lcbam"): {"lcbam/channel": (32,), "lcbam/spatial": DIGIT_SPATIAL},
    ("digits", "sk"): {"sk/channel": (32,)},
    ("digits", "splat"): {"splat/channel": (32,)},
    ("digits", "gather_excite"): {"gather_excite/channel": (32,)},
    ("digits", "gather_excite_param"): {"gather_excite/channel": (32,)},
    ("digits", "nonlocal"): {"nonlocal/scores": (1, 169, 169)},
    ("spectrogram", "ceca"): {"ceca_1/channel": (6,), "ceca_2/channel": (16,)},
    ("spectrogram", "ese"): {"ese_1/channel": (6,), "ese_2/channel": (16,)},
    ("spectrogram", "simam"): {"simam_1/spatial": (28, 28), "simam_2/spatial": (10, 10)},
    ("spectrogram", "triplet"): {"triplet_1/spatial": (28, 28), "triplet_2/spatial": (10, 10)},
    ("spectrogram", "lcbam"): {
        "lcbam_1/channel": (6,),
        "lcbam_1/spatial": (28, 28),
        "lcbam_2/channel": (16,),
        "lcbam_2/spatial": (10, 10),
    },
    ("spectrogram", "sk"): {"sk_1/channel": (6,), "sk_2/channel": (16,)},
    ("spectrogram", "splat"): {"splat_1/channel": (6,), "splat_2/channel": (16,)},
    ("spectrogram", "gather_excite"): {
        "gather_excite_1/channel": (6,),
        "gather_excite_2/channel": (16,),
    },
    ("spectrogram", "gather_excite_param"): {
        "gather_excite_1/channel": (6,),
        "gather_excite_2/channel": (16,),
    },
    ("spectrogram", "nonlocal"): {"nonlocal_2/scores": (1, 100, 25)},
    ("spectrogram", "eca"): {"eca_1/channel": (6,), "eca_2/channel": (16,)},
    ("spectrogram", "coord_attention"): {
        "coord_attention_1/spatial": (28, 28),
        "coord_attention_2/spatial": (10, 10),
    },
    ("spectrogram", "gc"): {"gc_1/spatial": (28, 28), "gc_2/spatial": (10, 10)},
    ("spectrogram", "bam"): {
        "bam_1/channel": (6,),
        "bam_1/spatial": (28, 28),
        "bam_2/channel": (16,),
        "bam_2/spatial": (10, 10),
    },
    ("spectrogram", "lenet"): {},
    ("spectrogram", "lenet_bn"): {},
    ("spectrogram", "cbam"): {
        "cbam_1/channel": (6,),
        "cbam_1/spatial": (28, 28),
        "cbam_2/channel": (16,),
        "cbam_2/spatial": (10, 10),
    },
    ("spectrogram", "hybrid"): {
        "channel_attention_1/channel": (6,),
        "channel_attention_2/channel": (16,),
    },
    ("spectrogram", "se"): {"se_1/channel": (6,), "se_2/channel": (16,)},
    ("spectrogram", "cbam_original"): {
        "cbam_original_1/channel": (6,),
        "cbam_original_1/spatial": (28, 28),
        "cbam_original_2/channel": (16,),
        "cbam_original_2/spatial": (10, 10),
    },
}

# Maps that are sigmoid outputs; the hybrid's channel weights are layer-normalised.
UNBOUNDED_MAPS = {"channel_attention_1/channel", "channel_attention_2/channel"}

VARIANTS = sorted(EXPECTED_MAPS)


def test_every_variant_has_expected_maps():
    registered = {(family, name) for family in models.families() for name in models.names(family)}
    assert registered == set(EXPECTED_MAPS)


def images(family, size, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(size, *SMALL_SHAPES[family])).astype("float32")


@pytest.fixture(scope="module")
def zoo():
    """Every variant on its small input, seeded.

    The squeeze kernels are made positive: the pooled features they see are
    positive, so a freshly initialised bottleneck of one unit (6 channels // 8)
    is dead for about half the seeds, and its gate would not depend on the input.
    """
    keras.utils.set_random_seed(7)
    built = {}
    for family, variant in VARIANTS:
        model = models.build(variant, SMALL_SHAPES[family], family=family)
        for weight in model.weights:
            if weight.path.endswith("squeeze/kernel"):
                weight.assign(np.abs(weight.numpy()))
        built[family, variant] = model
    return built


@pytest.mark.parametrize("case", VARIANTS, ids="/".join)
def test_maps_shapes_and_ranges(zoo, case):
    family, _ = case
    found = attention.maps(zoo[case], images(family, 3, seed=0))
    assert {key: value.shape[1:] for key, value in found.items()} == EXPECTED_MAPS[case]
    for key, value in found.items():
        assert value.shape[0] == 3
        assert value.dtype == np.float32
        assert np.isfinite(value).all(), key
        if key not in UNBOUNDED_MAPS:
            assert value.min() >= 0.0 and value.max() <= 1.0, key
        if key.endswith("/scores"):
            np.testing.assert_allclose(value.sum(axis=-1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("case", [case for case in VARIANTS if EXPECTED_MAPS[case]], ids="/".join)
def test_maps_differ_between_inputs(zoo, case):
    family, _ = case
    first = attention.maps(zoo[case], images(family, 2, seed=1))
    second = attention.maps(zoo[case], images(family, 2, seed=2))
    for key in first:
        assert not np.allclose(first[key], second[key]), key


def test_maps_are_batched_consistently(zoo):
    model = zoo["digits", "cbam"]
    batch = images("digits", 5, seed=3)
    whole = attention.maps(model, batch)
    in_pieces = attention.maps(model, batch, batch_size=2)
    for key in whole:
        np.testing.assert_allclose(whole[key], in_pieces[key], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", VARIANTS, ids="/".join)
def test_grad_cam_shape_and_range(zoo, case):
    family, _ = case
    model = zoo[case]
    assert attention.last_conv_layer(model).name == "conv2"
    heat = attention.grad_cam(model, images(family, 2, seed=4))
    assert heat.shape == (2, *SMALL_SHAPES[family][:2])
    assert heat.dtype == np.float32
    assert heat.min() >= 0.0 and heat.max() <= 1.0


def test_grad_cam_on_a_chosen_layer(zoo):
    model = zoo["digits", "spatial"]
    batch = images("digits", 2, seed=5)
    by_name = attention.grad_cam(model, batch, layer="conv1")
    by_layer = attention.grad_cam(model, batch, layer=model.get_layer("conv1"))
    assert by_name.shape == (2, 28, 28)
    np.testing.assert_allclose(by_name, by_layer)
    assert by_name.max() > 0.0
