"""Keras models from the registry's records (`attnlab.registry`).

A variant is a family's skeleton with attention blocks at its stages. `build` takes a
built-in name (with its family where the name exists in both families, as `cbam`, `se`,
`cbam_original` and the added blocks do), a `registry.Variant`, or its `to_dict()` form:

    model = build("self_attention", (28, 28, 1))            # only digits has it
    model = build("cbam", (128, 128, 3), family="spectrogram")
    model = build(registry.resolve("digits", {"name": "se16", "block": "se", "ratio": 16}))

Layer names are stable across variants, so weights, maps and Grad-CAM can refer to
them: `conv1`, `pool1`, `conv2`, `pool2`, `flatten`, the head's dense layers and
`predictions` (the float32 softmax). Blocks are named by `registry.layer_names`
(`spatial_gate`, `se`, ... on digits; `cbam_1`/`cbam_2`, ... on spectrograms).
"""

from collections.abc import Mapping

import keras
from keras import layers

from attnlab import layers as _blocks  # noqa: F401  (registers every block with Keras)
from attnlab import registry

DIGITS = "digits"
SPECTROGRAM = "spectrogram"


def families():
    """The model families, i.e. the dataset kinds of the config."""
    return list(registry.FAMILIES)


def names(family):
    """Every built-in variant of `family`: the study's first, then the added ones."""
    return registry.names(family)


def default_input_shape(family):
    """The study's input shape of `family`: (28, 28, 1) or (128, 128, 3)."""
    return registry.family(family).input_shape


def resolve_family(name, family=None):
    """Return the family of built-in variant `name`, checking `family` if it is given."""
    if family is not None:
        registry.builtin(family, name)
        return family
    owners = registry.families_of(name)
    if not owners:
        known = {f: names(f) for f in families()}
        raise registry.RegistryError(f"Unknown variant {name!r}; known variants: {known}")
    if len(owners) > 1:
        raise registry.RegistryError(f"Variant {name!r} exists in {owners}; pass family=")
    return owners[0]


def as_variant(variant, family=None) -> registry.Variant:
    """A registry.Variant from a built-in name, a Variant or a `Variant.to_dict()`."""
    if isinstance(variant, registry.Variant):
        return variant
    if isinstance(variant, Mapping):
        return registry.Variant.from_dict(variant)
    return registry.builtin(resolve_family(variant, family), variant)


def build(variant, input_shape=None, num_classes=10, family=None):
    """Build a variant as a Functional `keras.Model` with a softmax output.

    Args:
        variant: a built-in name, a `registry.Variant` or its `to_dict()`.
        input_shape: (height, width, channels); None means the family's default
            shape, on which the study's parameter counts hold.
        num_classes: width of the softmax output.
        family: "digits" or "spectrogram", for a built-in name that exists in both.

    The output layer `predictions` is float32 whatever the global dtype policy, so
    the model works under mixed precision.
    """
    spec = as_variant(variant, family)
    input_shape = tuple(input_shape or default_input_shape(spec.family))
    inputs = keras.Input(shape=input_shape, name="image")
    blocks = _blocks_by_stage(spec)
    skeleton = _SKELETONS[spec.family]
    outputs = skeleton(inputs, num_classes, blocks, **spec.skeleton)
    return keras.Model(inputs, outputs, name=f"{spec.family}_{spec.name}")


def _blocks_by_stage(spec):
    """{stage: [layer, ...]} with every option passed (the registry holds the defaults)."""
    by_stage = {}
    names_ = registry.layer_names(spec)
    for placement, layer_name in zip(spec.placements, names_, strict=True):
        layer_class = registry.BLOCKS[placement.block].layer_class()
        block = layer_class(name=layer_name, **placement.options)
        by_stage.setdefault(placement.stage, []).append(block)
    return by_stage


def _predictions(x, num_classes):
    return layers.Dense(num_classes, activation="softmax", dtype="float32", name="predictions")(x)


def _digits_cnn(inputs, num_classes, blocks):
    """The study's digit CNN, with the given blocks after each conv stage.

    Conv(32, 3x3) -> MaxPool -> [stage 1] -> Conv(64, 3x3) -> MaxPool -> [stage 2] ->
    Flatten -> Dense(128) -> Dropout(0.3) -> softmax.
    """
    x = inputs
    for stage, filters in registry.FAMILIES[DIGITS].channels.items():
        x = layers.Conv2D(filters, 3, activation="relu", name=f"conv{stage}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{stage}")(x)
        for block in blocks.get(stage, ()):
            x = block(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation="relu", name="dense")(x)
    x = layers.Dropout(0.3, name="dropout")(x)
    return _predictions(x, num_classes)


def _lenet(inputs, num_classes, blocks, batch_norm, conv_dropout, head_l2, head_dropout):
    """The study's LeNet for spectrograms, with its skeleton options.

    Two stages of Conv(5x5) -> [BatchNorm] -> [blocks] -> [Dropout] -> AvgPool (6 then
    16 filters), then Flatten -> Dense(120) -> [Dropout] -> Dense(84) -> [Dropout] ->
    softmax, with optional L2 on the two dense kernels.
    """
    x = inputs
    for stage, filters in registry.FAMILIES[SPECTROGRAM].channels.items():
        x = layers.Conv2D(filters, 5, activation="relu", name=f"conv{stage}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"bn{stage}")(x)
        for block in blocks.get(stage, ()):
            x = block(x)
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


_SKELETONS = {DIGITS: _digits_cnn, SPECTROGRAM: _lenet}


def block_params(variant, input_shape=None, family=None):
    """Parameters the variant's blocks add (the model's count minus its skeleton's)."""
    spec = as_variant(variant, family)
    bare = registry.Variant(f"{spec.name}_skeleton", spec.family, (), spec.skeleton)
    shape = input_shape or default_input_shape(spec.family)
    return build(spec, shape).count_params() - build(bare, shape).count_params()


def param_table(variants=None):
    """Parameter counts on each family's default input shape.

    `variants` are registry.Variants (default: every built-in one). Returns a
    pandas.DataFrame with columns family, variant, blocks (what sits where),
    attention (bool), params (all weights, BatchNorm statistics included, as
    `model.count_params()`), block_params (what the blocks add), forward_flops (one
    sample, every op: `attnlab.cost`), block_flops and block_bytes (the blocks' FLOPs
    and activation bytes read and written per sample), reported (the study's figure
    as text, "" where the study has none) and study_variant (bool).
    """
    import pandas as pd

    from attnlab import cost

    if variants is None:
        variants = [registry.builtin(f, n) for f in families() for n in names(f)]
    rows = []
    for spec in variants:
        model = build(spec)
        blocks = cost.block_costs(model).values()
        rows.append(
            {
                "family": spec.family,
                "variant": spec.name,
                "blocks": spec.blocks_text(),
                "attention": spec.has_attention,
                "params": model.count_params(),
                "block_params": block_params(spec),
                "forward_flops": cost.forward_flops(model),
                "block_flops": sum(b["flops"] for b in blocks),
                "block_bytes": sum(b["bytes"] for b in blocks),
                "reported": _reported_params(spec),
                "study_variant": _reported_params(spec) != "",
            }
        )
    return pd.DataFrame(rows)


def _reported_params(spec):
    """The study's parameter count of a built-in variant ("" otherwise); config variants
    cannot reuse built-in names, so the name finds the record."""
    record = registry.VARIANTS[spec.family].get(spec.name)
    return record.study.params if record and record.study else ""


def dataset_param_table(architectures):
    """`param_table` of each dataset's variants: {dataset: [Variant.to_dict(), ...]}."""
    import pandas as pd

    frames = [
        param_table([registry.Variant.from_dict(a) for a in specs]).assign(dataset=dataset)
        for dataset, specs in architectures.items()
    ]
    table = pd.concat(frames, ignore_index=True)
    return table[["dataset", *[c for c in table.columns if c != "dataset"]]]


def block_table():
    """Every registered block: options with defaults, maps, paper, and the parameters
    it adds at its default digit stage (13x13x32 after the first pool) and at both
    LeNet stages (no BN), with its FLOPs and activation bytes per sample on digits."""
    import pandas as pd

    from attnlab import cost

    rows = []
    for block in registry.BLOCKS.values():
        specs = {
            fam: registry.resolve(fam, {"name": f"only_{block.name}", "block": block.name})
            for fam in families()
        }
        counts = {f"params_{fam}": block_params(spec) for fam, spec in specs.items()}
        (digits_cost,) = cost.block_costs(build(specs[DIGITS])).values()
        counts |= {"flops_digits": digits_cost["flops"], "bytes_digits": digits_cost["bytes"]}
        options = ", ".join(f"{k}={o.default}" for k, o in block.options.items())
        rows.append(
            {
                "block": block.name,
                "layer": getattr(block.layer, "__name__", block.layer),
                "options": options or "-",
                "maps": ", ".join(block.maps),
                **counts,
                "paper": block.paper,
            }
        )
    return pd.DataFrame(rows)
