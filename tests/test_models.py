"""The model zoo: registry, exact parameter counts, forward passes, precision, saving."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from attnlab import layers as blocks
from attnlab import models, registry

# model.count_params() on the default input shapes (BatchNorm statistics included).
EXPECTED_PARAMS = {
    ("digits", "base"): 225_034,
    ("digits", "spatial"): 225_067,
    ("digits", "self_attention"): 291_530,
    ("digits", "cbam"): 225_425,
    ("digits", "se"): 225_326,
    ("digits", "se_spatial"): 225_359,
    ("digits", "cbam_original"): 225_428,
    ("digits", "eca"): 225_037,
    ("digits", "coord_attention"): 225_906,
    ("digits", "gc"): 225_233,
    ("digits", "bam"): 225_373,
    ("digits", "ceca"): 225_037,
    ("digits", "ese"): 226_090,
    ("digits", "simam"): 225_034,
    ("digits", "triplet"): 225_340,
    ("digits", "lcbam"): 225_343,
    ("digits", "sk"): 246_922,
    ("digits", "splat"): 237_802,
    ("digits", "gather_excite"): 225_034,
    ("digits", "gather_excite_param"): 230_570,
    ("digits", "nonlocal"): 227_290,
    ("spectrogram", "lenet"): 1_628_726,
    ("spectrogram", "cbam"): 1_629_113,
    ("spectrogram", "hybrid"): 1_628_959,
    ("spectrogram", "lenet_bn"): 1_628_814,
    ("spectrogram", "se"): 1_628_915,
    ("spectrogram", "cbam_original"): 1_629_119,
    ("spectrogram", "eca"): 1_628_818,
    ("spectrogram", "coord_attention"): 1_629_466,
    ("spectrogram", "gc"): 1_628_910,
    ("spectrogram", "bam"): 1_628_982,
    ("spectrogram", "ceca"): 1_628_818,
    ("spectrogram", "ese"): 1_629_128,
    ("spectrogram", "simam"): 1_628_814,
    ("spectrogram", "triplet"): 1_629_426,
    ("spectrogram", "lcbam"): 1_628_996,
    ("spectrogram", "sk"): 1_636_614,
    ("spectrogram", "splat"): 1_634_094,
    ("spectrogram", "gather_excite"): 1_628_814,
    ("spectrogram", "gather_excite_param"): 1_774_982,
    ("spectrogram", "nonlocal"): 1_629_430,
}

# Small inputs keep the tests fast (the digits' own 28x28 is small already).
SMALL_SHAPES = {"digits": (28, 28, 1), "spectrogram": (32, 32, 3)}

ADDED_BLOCKS = ["eca", "coord_attention", "gc", "bam"]
ZOO = ["ceca", "ese", "simam", "triplet", "lcbam", "sk", "splat", "gather_excite"]
ZOO += ["gather_excite_param", "nonlocal"]
VARIANTS = [(family, variant) for family in models.families() for variant in models.names(family)]


def variant_id(case):
    return "/".join(case)


def small_batch(family, size=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(size, *SMALL_SHAPES[family])).astype("float32")


def build_small(family, variant, num_classes=10):
    return models.build(variant, SMALL_SHAPES[family], num_classes, family=family)


@pytest.fixture
def policy():
    """Set a global dtype policy for one test, and always reset it to float32."""
    yield keras.mixed_precision.set_global_policy
    keras.mixed_precision.set_global_policy("float32")


def test_registry_lists_every_variant():
    assert models.families() == ["digits", "spectrogram"]
    assert models.names("digits") == [
        "base",
        "spatial",
        "self_attention",
        "cbam",
        "se",
        "se_spatial",
        "cbam_original",
        *ADDED_BLOCKS,
        *ZOO,
    ]
    assert models.names("spectrogram") == [
        "lenet",
        "cbam",
        "hybrid",
        "lenet_bn",
        "se",
        "cbam_original",
        *ADDED_BLOCKS,
        *ZOO,
    ]
    assert registry.study_variants("digits") == ["base", "spatial", "self_attention", "cbam", "se"]
    assert registry.study_variants("spectrogram") == ["lenet", "cbam", "hybrid"]
    assert models.default_input_shape("digits") == (28, 28, 1)
    assert models.default_input_shape("spectrogram") == (128, 128, 3)


def test_family_is_inferred_only_when_the_name_is_unique():
    assert models.build("self_attention", (28, 28, 1)).name == "digits_self_attention"
    assert models.build("hybrid", (32, 32, 3)).name == "spectrogram_hybrid"
    with pytest.raises(ValueError, match="family"):
        models.build("cbam", (28, 28, 1))
    with pytest.raises(ValueError, match="Unknown"):
        models.build("resnet", (28, 28, 1))
    with pytest.raises(ValueError, match="unknown digits variant 'lenet'; known: base, "):
        models.build("lenet", (28, 28, 1), family="digits")
    with pytest.raises(ValueError, match="unknown model family 'audio'"):
        models.names("audio")


def test_param_table_pins_exact_counts():
    table = models.param_table()
    assert list(table.columns) == [
        "family",
        "variant",
        "blocks",
        "attention",
        "params",
        "block_params",
        "forward_flops",
        "block_flops",
        "block_bytes",
        "reported",
        "study_variant",
    ]
    counts = {(row.family, row.variant): row.params for row in table.itertuples()}
    assert counts == EXPECTED_PARAMS
    study = table[table.study_variant]
    assert set(zip(study.family, study.variant, strict=True)) == {
        (family, variant)
        for family in models.families()
        for variant in registry.study_variants(family)
    }
    assert set(table.loc[~table.attention, "variant"]) == {"base", "lenet", "lenet_bn"}
    # What is left without the blocks is the skeleton: digits, lenet, or lenet with BatchNorm.
    skeleton = table.family.map({"digits": 225_034, "spectrogram": 1_628_814})
    skeleton[table.variant == "lenet"] = 1_628_726
    assert (table.params - table.block_params == skeleton).all()
    assert (study.reported != "").all()
    assert (table[~table.study_variant].reported == "").all()


@pytest.mark.parametrize("case", VARIANTS, ids=variant_id)
def test_forward_pass_gives_probabilities(case):
    family, variant = case
    model = build_small(family, variant)
    probabilities = model(small_batch(family), training=False)
    assert probabilities.shape == (3, 10)
    assert probabilities.dtype == "float32"
    np.testing.assert_allclose(np.sum(probabilities, axis=1), 1.0, rtol=1e-5)
    assert model.get_layer("predictions").dtype_policy.name == "float32"


@pytest.mark.parametrize("case", VARIANTS, ids=variant_id)
def test_every_weight_gets_a_gradient(case):
    family, variant = case
    model = build_small(family, variant)
    with tf.GradientTape() as tape:
        probabilities = model(small_batch(family), training=True)
        loss = keras.losses.sparse_categorical_crossentropy(np.arange(3), probabilities)
    gradients = tape.gradient(loss, model.trainable_weights)
    missing = [w.path for w, g in zip(model.trainable_weights, gradients, strict=True) if g is None]
    assert not missing


@pytest.mark.parametrize("shape", [(32, 32, 3), (64, 48, 3), (128, 128, 1)])
def test_spectrogram_models_take_any_input_size(shape):
    x = np.zeros((2, *shape), dtype="float32")
    for variant in models.names("spectrogram"):
        model = models.build(variant, shape, num_classes=5, family="spectrogram")
        assert model(x).shape == (2, 5)


@pytest.mark.parametrize("precision", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_forward_pass(policy, precision):
    policy(precision)
    for family, variant in VARIANTS:
        model = build_small(family, variant)
        assert model.get_layer("conv1").compute_dtype != "float32"
        probabilities = np.asarray(model(small_batch(family), training=False))
        assert probabilities.dtype == np.float32, (family, variant)
        assert np.isfinite(probabilities).all(), (family, variant)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-3)
        full_size = models.build(variant, models.default_input_shape(family), family=family)
        assert full_size.count_params() == EXPECTED_PARAMS[family, variant]


@pytest.mark.parametrize(
    "block",
    [
        blocks.SpatialGate(),
        blocks.PatchSelfAttention(heads=2, key_dim=8, residual=True),
        blocks.SqueezeExcite(ratio=4),
        blocks.CBAM(ratio=4, kernel_size=3),
        blocks.CBAMOriginal(ratio=4, kernel_size=5),
        blocks.ChannelAttention(ratio=2),
        blocks.ECA(kernel_size=None, gamma=2, beta=1),
        blocks.CoordinateAttention(reduction=4, min_channels=2),
        blocks.GlobalContext(ratio=4),
        blocks.BAM(ratio=4, dilation=2, dilated_convs=1),
        blocks.CECA(kernel_size=3, gamma=2, beta=1),
        blocks.EffectiveSE(),
        blocks.SimAM(lam=0.01),
        blocks.TripletAttention(kernel_size=3),
        blocks.GatherExcite(extent=2, parametric=True),
        blocks.LightCBAM(ratio=4, kernel_size=5),
        blocks.SelectiveKernel(branches=3, groups=2, ratio=4, min_units=8),
        blocks.SplitAttention(radix=4, kernel_size=3, reduction=2, min_units=8),
        blocks.NonLocal(reduction=4, sub_sample=True),
    ],
    ids=lambda block: type(block).__name__,
)
def test_blocks_keep_shape_and_round_trip_their_config(block):
    x = np.random.default_rng(1).uniform(size=(2, 6, 6, 16)).astype("float32")
    assert block(x).shape == x.shape
    clone = type(block).from_config(block.get_config())
    assert clone.get_config() == block.get_config()
    assert keras.saving.get_registered_name(type(block)) == f"attnlab>{type(block).__name__}"


def randomize_weights(model, seed):
    """Move every weight (BatchNorm statistics too) away from its initial value."""
    rng = np.random.default_rng(seed)
    model.set_weights(
        [w + rng.uniform(0.0, 0.1, size=w.shape).astype(w.dtype) for w in model.get_weights()]
    )


LOAD_AND_PREDICT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import keras
    import attnlab.layers  # registers the blocks; nothing else is imported

    failures = []
    for entry in json.loads(sys.argv[1]):
        model = keras.saving.load_model(entry["model"], safe_mode=True)
        expected = np.load(entry["expected"])
        actual = np.asarray(model(np.load(entry["inputs"]), training=False))
        if not np.array_equal(actual, expected):
            failures.append((entry["model"], float(np.abs(actual - expected).max())))
    print(json.dumps(failures))
    """
)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # from inside model.save
def test_saved_models_reload_in_a_fresh_process(tmp_path):
    entries = []
    for index, (family, variant) in enumerate(VARIANTS):
        model = build_small(family, variant)
        randomize_weights(model, seed=index)
        inputs = small_batch(family, size=2, seed=index)
        stem = tmp_path / f"{family}_{variant}"
        model.save(f"{stem}.keras")
        np.save(f"{stem}_inputs.npy", inputs)
        np.save(f"{stem}_expected.npy", np.asarray(model(inputs, training=False)))
        entries.append(
            {
                "model": f"{stem}.keras",
                "inputs": f"{stem}_inputs.npy",
                "expected": f"{stem}_expected.npy",
            }
        )
    result = subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT, json.dumps(entries)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_importing_attnlab_does_not_import_tensorflow():
    code = "import sys, attnlab, attnlab.cli; assert 'tensorflow' not in sys.modules, 'tf'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_lists_blocks_and_variants(tmp_path, capsys):
    from attnlab import cli

    csv_path = tmp_path / "variants.csv"
    assert (
        cli.main(["models", "--only", "variants", "--format", "csv", "--output", str(csv_path)])
        == 0
    )
    lines = csv_path.read_text().splitlines()
    header = "family,variant,blocks,attention,params,block_params,forward_flops,block_flops,"
    assert lines[0] == header + "block_bytes,reported,study_variant"
    assert "digits,base,-,False,225034,0,5319676,0,0,~200k,True" in lines
    assert len(lines) == 1 + len(EXPECTED_PARAMS)

    assert cli.main(["models"]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("## Blocks\n")
    published = Path(__file__).resolve().parents[1] / "docs" / "models.md"
    assert published.read_text() == markdown, "regenerate: attnlab models --output docs/models.md"
    assert len(registry.BLOCKS) >= 18
    for block in registry.BLOCKS:
        assert f"\n| {block} | " in markdown
    assert (
        "| eca | ECA | kernel_size=None, gamma=2, beta=1 | channel | 3 | 4 | 11,008 |" in markdown
    )
    assert "## Variants" in markdown
    assert (
        "| spectrogram | hybrid | channel_attention(ratio=8)@1,2 | yes | 1,628,959 | 145 |"
        in markdown
    )
    assert (
        "| digits | bam | bam(ratio=16,dilation=4,dilated_convs=2)@1 | yes | 225,373 |" in markdown
    )


@pytest.mark.parametrize("family", ["digits", "spectrogram"])
def test_the_smallest_input_size_builds_and_one_less_is_refused(family):
    fam = registry.family(family)
    size = fam.min_size
    for variant in models.names(family):
        model = models.build(variant, (size, size, 1), family=family)
        assert model(np.zeros((1, size, size, 1), "float32")).shape == (1, 10)
    with pytest.raises(ValueError, match="Computed output size would be zero|negative"):
        models.build(
            "base" if family == "digits" else "lenet", (size - 1, size - 1, 1), family=family
        )
    with pytest.raises(registry.RegistryError, match=f"smallest it accepts is {size}x{size}"):
        fam.check_size([size - 1, 40], "here")


@pytest.mark.parametrize(
    "code",
    [
        "import sys, keras, attnlab.models; keras.saving.load_model(sys.argv[1], safe_mode=True)",
        "import sys, attnlab; attnlab.load_model(sys.argv[1])",
    ],
    ids=["import-models", "attnlab.load_model"],
)
def test_a_fresh_process_reloads_a_saved_model(tmp_path, code):
    """A notebook reloads a trained run: after importing attnlab.models, or with
    attnlab.load_model (every block registered, safe_mode on)."""
    model = build_small("digits", "cbam")
    model.save(tmp_path / "cbam.keras")
    result = subprocess.run(
        [sys.executable, "-c", code + "; print('loaded')", str(tmp_path / "cbam.keras")],
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip().endswith("loaded"), result.stderr[-2000:]
