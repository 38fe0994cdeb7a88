"""The model zoo: one registry of every variant of both families.

A variant is named by its family ("digits" or "spectrogram", the dataset kinds
of the config) and its name within the family. Some names exist in both
families with different architectures (`cbam`, `se`, `cbam_original`), so
`build` takes the family too; it may be left out only when the name is unique:

    model = build("self_attention", (28, 28, 1))            # only digits has it
    model = build("cbam", (128, 128, 3), family="spectrogram")

Layer names are stable across variants, so weights, maps and Grad-CAM can
refer to them: `conv1`, `pool1`, `conv2`, `pool2`, `flatten`, the head's dense
layers and `predictions` (the float32 softmax). Attention blocks are named
after what they are (`spatial_gate`, `self_attention`, `cbam`, `se`,
`cbam_original` on digits; `cbam_1`/`cbam_2`, `channel_attention_1`/`_2`,
`se_1`/`_2`, `cbam_original_1`/`_2` after the two spectrogram convs).
"""

import keras
from keras import layers

from attnlab.layers import (
    CBAM,
    CBAMOriginal,
    ChannelAttention,
    PatchSelfAttention,
    SpatialGate,
    SqueezeExcite,
)
from attnlab.variants import ADDED_VARIANTS, STUDY_VARIANTS

DIGITS = "digits"
SPECTROGRAM = "spectrogram"

# What STUDY.md says the study reported (digits: relative to the base model).
REPORTED_PARAMS = {
    DIGITS: {
        "base": "~200k",
        "spatial": "base + ~1k",
        "self_attention": "base + ~50k",
        "cbam": "base + ~2k",
        "se": "base + ~500",
    },
    SPECTROGRAM: {
        "lenet": "~1.62M",
        "cbam": "~1.63M",
        "hybrid": "1,629,144",
    },
}
# The hybrid's layer list above gives 1,628,959, 185 fewer than reported. The
# reported count is met exactly if each block also had CBAM's 7x7 spatial gate
# (99 parameters) and the 6-channel block had a 6 // 8 = 0 unit bottleneck
# (tf.keras 2 allowed Dense(0)); STUDY.md lists neither, so neither is built.

_DEFAULT_INPUT_SHAPES = {DIGITS: (28, 28, 1), SPECTROGRAM: (128, 128, 3)}


def families():
    """The model families, i.e. the dataset kinds of the config."""
    return list(STUDY_VARIANTS)


def names(family):
    """Every variant of `family`: the study's first, then the added ones."""
    _check_family(family)
    return list(STUDY_VARIANTS[family] + ADDED_VARIANTS[family])


def default_input_shape(family):
    """The study's input shape of `family`: (28, 28, 1) or (128, 128, 3)."""
    _check_family(family)
    return _DEFAULT_INPUT_SHAPES[family]


def _check_family(family):
    if family not in STUDY_VARIANTS:
        raise ValueError(f"Unknown family {family!r}; expected one of {families()}")


def resolve_family(name, family=None):
    """Return the family of variant `name`, checking `family` if it is given."""
    if family is not None:
        _check_family(family)
        if name not in names(family):
            raise ValueError(f"Unknown {family} variant {name!r}; expected one of {names(family)}")
        return family
    owners = [candidate for candidate in families() if name in names(candidate)]
    if not owners:
        known = {candidate: names(candidate) for candidate in families()}
        raise ValueError(f"Unknown variant {name!r}; known variants: {known}")
    if len(owners) > 1:
        raise ValueError(f"Variant {name!r} exists in {owners}; pass family= to choose one")
    return owners[0]


def build(name, input_shape=None, num_classes=10, family=None):
    """Build variant `name` as a Functional `keras.Model` with a softmax output.

    Args:
        name: variant name, one of `names(family)`.
        input_shape: (height, width, channels); None means
            `default_input_shape(family)`. Any size from 16x16 up
            builds; the study's parameter counts hold on the default shapes.
        num_classes: width of the softmax output.
        family: "digits" or "spectrogram". Required when `name` exists in
            both families (`cbam`, `se`, `cbam_original`), else inferred.

    The output layer `predictions` is float32 whatever the global dtype
    policy, so the model works under mixed precision.
    """
    family = resolve_family(name, family)
    input_shape = tuple(input_shape or default_input_shape(family))
    inputs = keras.Input(shape=input_shape, name="image")
    if family == DIGITS:
        outputs = _digits_cnn(inputs, num_classes, **_DIGIT_VARIANTS[name])
    else:
        outputs = _lenet(inputs, num_classes, **_SPECTROGRAM_VARIANTS[name])
    return keras.Model(inputs, outputs, name=f"{family}_{name}")


def _predictions(x, num_classes):
    return layers.Dense(num_classes, activation="softmax", dtype="float32", name="predictions")(x)


# Each variant is a row of options for its family's network, as STUDY.md
# tabulates them. A block is (layer name, block class); the classes' defaults
# are the study's settings (ratio 8; 4 heads with key_dim 64).

_DIGIT_VARIANTS = {
    "base": {},
    "spatial": {"after_block1": [("spatial_gate", SpatialGate)]},
    "self_attention": {"after_block2": [("self_attention", PatchSelfAttention)]},
    "cbam": {"after_block1": [("cbam", CBAM)]},
    "se": {"after_block1": [("se", SqueezeExcite)]},
    "se_spatial": {"after_block1": [("se", SqueezeExcite), ("spatial_gate", SpatialGate)]},
    "cbam_original": {"after_block1": [("cbam_original", CBAMOriginal)]},
}

_SPECTROGRAM_VARIANTS = {
    "lenet": {},
    "cbam": {"batch_norm": True, "attention": ("cbam", CBAM)},
    "hybrid": {
        "batch_norm": True,
        "attention": ("channel_attention", ChannelAttention),
        "conv_dropout": 0.1,
        "head_l2": 0.001,
        "head_dropout": 0.5,
    },
    # Added. lenet_bn isolates the BatchNorm that the study's cbam model also
    # added; se and cbam_original keep that BatchNorm so they compare with cbam.
    "lenet_bn": {"batch_norm": True},
    "se": {"batch_norm": True, "attention": ("se", SqueezeExcite)},
    "cbam_original": {"batch_norm": True, "attention": ("cbam_original", CBAMOriginal)},
}


def _digits_cnn(inputs, num_classes, after_block1=(), after_block2=()):
    """The study's digit CNN, with the given blocks after each conv stage.

    Conv(32, 3x3) -> MaxPool -> [after_block1] -> Conv(64, 3x3) -> MaxPool ->
    [after_block2] -> Flatten -> Dense(128) -> Dropout(0.3) -> softmax.
    """
    x = layers.Conv2D(32, 3, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    for block_name, block in after_block1:
        x = block(name=block_name)(x)
    x = layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    for block_name, block in after_block2:
        x = block(name=block_name)(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation="relu", name="dense")(x)
    x = layers.Dropout(0.3, name="dropout")(x)
    return _predictions(x, num_classes)


def _lenet(
    inputs,
    num_classes,
    batch_norm=False,
    attention=None,
    conv_dropout=None,
    head_l2=None,
    head_dropout=None,
):
    """The study's LeNet for spectrograms, with its per-variant options.

    Two stages of Conv(5x5) -> [BatchNorm] -> [attention] -> [Dropout] ->
    AvgPool (6 then 16 filters), then Flatten -> Dense(120) -> [Dropout] ->
    Dense(84) -> [Dropout] -> softmax, with optional L2 on the two dense
    kernels. `attention` is (name, block class); the blocks are named
    "<name>_1" and "<name>_2".
    """
    x = inputs
    for stage, filters in ((1, 6), (2, 16)):
        x = layers.Conv2D(filters, 5, activation="relu", name=f"conv{stage}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"bn{stage}")(x)
        if attention is not None:
            block_name, block = attention
            x = block(name=f"{block_name}_{stage}")(x)
        if conv_dropout:
            x = layers.Dropout(conv_dropout, name=f"conv_dropout{stage}")(x)
        x = layers.AveragePooling2D(2, name=f"pool{stage}")(x)
    x = layers.Flatten(name="flatten")(x)
    regularizer = keras.regularizers.L2(head_l2) if head_l2 else None
    for units, dense_name in ((120, "fc1"), (84, "fc2")):
        dense = layers.Dense(
            units, activation="relu", kernel_regularizer=regularizer, name=dense_name
        )
        x = dense(x)
        if head_dropout:
            x = layers.Dropout(head_dropout, name=f"{dense_name}_dropout")(x)
    return _predictions(x, num_classes)


def param_table():
    """Every variant's parameter count on its family's default input shape.

    Returns a pandas.DataFrame with columns family, variant, params (all
    weights, BatchNorm statistics included, as `model.count_params()`),
    reported (the study's figure as text, "" where the study has none) and
    study_variant (bool).
    """
    import pandas as pd

    rows = []
    for family in families():
        for variant in names(family):
            model = build(variant, default_input_shape(family), family=family)
            rows.append(
                {
                    "family": family,
                    "variant": variant,
                    "params": model.count_params(),
                    "reported": REPORTED_PARAMS[family].get(variant, ""),
                    "study_variant": variant in STUDY_VARIANTS[family],
                }
            )
    return pd.DataFrame(rows)
