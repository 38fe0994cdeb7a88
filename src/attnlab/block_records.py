"""The attention blocks: one record per block, registered by name in `BLOCKS`.

A record names the Keras layer class that implements the block (a name in
`attnlab.layers`, or the class itself), its options with their defaults, the kinds of
attention map it exposes and its paper. Importable without TensorFlow; the registry
places these blocks in families' stages to make variants.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from attnlab.options import NAME_PATTERN, Option, RegistryError, settle, valid_name


@dataclass(frozen=True)
class Block:
    """An attention block: the layer class that implements it and its options.

    `layer` is a class name in `attnlab.layers` or a registered Keras layer class; the
    layer is built as `layer(name=..., **options)` with every option given, so the
    defaults here are the only ones. `maps` are the kinds `attention_maps` returns
    (`MAP_FIGURES`). `layer_name` names the layer inside models
    (default: the block's name). `stages` overrides the family's default stages.
    An option with `divides_channels` must divide the channel count where the block
    sits (checked when a variant is resolved, not when Keras builds it).
    """

    name: str
    layer: object
    options: Mapping[str, Option]
    maps: tuple[str, ...]
    paper: str
    layer_name: str = ""
    stages: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def settle(self, given: Mapping, where: str) -> dict:
        return settle(self.options, given, where)

    def layer_class(self):
        if isinstance(self.layer, str):
            from attnlab import layers

            return getattr(layers, self.layer)
        return self.layer


def _ratio(default: int) -> Option:
    return Option(default, int, "bottleneck ratio: C -> max(1, C // ratio) -> C", minimum=1)


_KERNEL = Option(7, int, "spatial gate's kernel size", minimum=1, odd=True)
_ECA_OPTIONS = {
    "kernel_size": Option(
        None, int, "1-D kernel size; null adapts it to C", minimum=1, nullable=True, odd=True
    ),
    "gamma": Option(2, int, "adaptive kernel: k = odd(|(log2 C + beta) / gamma|)", 1),
    "beta": Option(1, int, "adaptive kernel: k = odd(|(log2 C + beta) / gamma|)", 0),
}

# The kinds of attention map a block can expose, and the figure that draws each.
MAP_FIGURES = {
    "spatial": "attention_spatial",
    "scores": "attention_self",
    "channel": "channel_weights",
}
# Grad-CAM needs no block: every variant has one.
GRADCAM = "gradcam"
BLOCKS: dict[str, Block] = {}


def register_block(block: Block) -> Block:
    """Add `block` to `BLOCKS`; its name must be new."""
    if block.name in BLOCKS:
        raise RegistryError(f"block {block.name!r} is already registered")
    if not valid_name(block.name):
        raise RegistryError(f"block name {block.name!r} must match {NAME_PATTERN}")
    unknown = sorted(set(block.maps) - set(MAP_FIGURES))
    if unknown:
        raise RegistryError(
            f"block {block.name!r}: maps {unknown} are not among {list(MAP_FIGURES)}"
        )
    BLOCKS[block.name] = block
    return block


for _block in (
    Block(
        "spatial",
        "SpatialGate",
        {},
        ("spatial",),
        "the study's spatial attention: a 1x1 conv to one sigmoid map",
        layer_name="spatial_gate",
    ),
    Block(
        "self_attention",
        "PatchSelfAttention",
        {
            "heads": Option(4, int, "attention heads", minimum=1),
            "key_dim": Option(64, int, "size of each head's queries and keys", minimum=1),
            "residual": Option(False, bool, "add the tokens back before LayerNorm"),
        },
        ("scores",),
        "multi-head self-attention over positions (Vaswani et al. 2017), as the study used it",
        stages={"digits": (2,)},
    ),
    Block(
        "se",
        "SqueezeExcite",
        {"ratio": _ratio(8)},
        ("channel",),
        "Squeeze-and-Excitation (Hu et al. 2018)",
    ),
    Block(
        "cbam",
        "CBAM",
        {"ratio": _ratio(8), "kernel_size": _KERNEL},
        ("channel", "spatial"),
        "CBAM as the study built it (average-pool channel gate) after Woo et al. 2018",
    ),
    Block(
        "cbam_original",
        "CBAMOriginal",
        {"ratio": _ratio(8), "kernel_size": _KERNEL},
        ("channel", "spatial"),
        "CBAM as published (Woo et al. 2018)",
    ),
    Block(
        "channel_attention",
        "ChannelAttention",
        {"ratio": _ratio(8)},
        ("channel",),
        "the study's hybrid channel attention (layer-normalised SE weights)",
    ),
    Block(
        "eca", "ECA", _ECA_OPTIONS, ("channel",), "Efficient Channel Attention (Wang et al. 2020)"
    ),
    Block(
        "coord_attention",
        "CoordinateAttention",
        {
            "reduction": Option(32, int, "bottleneck: max(min_channels, C // reduction)", 1),
            "min_channels": Option(8, int, "smallest bottleneck width", minimum=1),
        },
        ("spatial",),
        "Coordinate Attention (Hou et al. 2021)",
    ),
    Block(
        "gc",
        "GlobalContext",
        {"ratio": _ratio(16)},
        ("spatial",),
        "Global Context block (Cao et al. 2019), channel-add fusion",
    ),
    Block(
        "bam",
        "BAM",
        {
            "ratio": _ratio(16),
            "dilation": Option(4, int, "dilation of the spatial branch's 3x3 convs", minimum=1),
            "dilated_convs": Option(2, int, "number of dilated 3x3 convs", minimum=0),
        },
        ("channel", "spatial"),
        "Bottleneck Attention Module (Park et al. 2018)",
    ),
    Block(
        "ceca",
        "CECA",
        _ECA_OPTIONS,
        ("channel",),
        "ECA with circular padding across channels (timm's CecaModule, after Wang et al. 2020)",
    ),
    Block(
        "ese",
        "EffectiveSE",
        {},
        ("channel",),
        "effective Squeeze-and-Excitation (Lee & Park 2020, CenterMask)",
    ),
    Block(
        "simam",
        "SimAM",
        {"lam": Option(1e-4, float, "lambda, the energy function's regulariser", minimum=0.0)},
        ("spatial",),
        "SimAM, parameter-free (Yang et al. 2021)",
    ),
    Block(
        "triplet",
        "TripletAttention",
        {"kernel_size": Option(7, int, "each branch's conv kernel size", minimum=1, odd=True)},
        ("spatial",),
        "triplet attention (Misra et al. 2021)",
    ),
    Block(
        "gather_excite",
        "GatherExcite",
        {
            "extent": Option(
                0,
                int,
                "gather extent: 0 the whole map, e windows of stride e",
                choices=(0, 2, 4, 8),
            ),
            "parametric": Option(False, bool, "GE-theta (depthwise convs) or GE-theta-minus"),
        },
        ("channel",),
        "Gather-Excite (Hu et al. 2018), GE-theta-minus or GE-theta",
    ),
    Block(
        "lcbam",
        "LightCBAM",
        {"ratio": _ratio(8), "kernel_size": _KERNEL},
        ("channel", "spatial"),
        "CBAM's light form: pooled descriptors averaged (timm's LightCbamModule)",
    ),
    Block(
        "sk",
        "SelectiveKernel",
        {
            "branches": Option(2, int, "branches: 3x3 convs with dilation 1, 2, ...", 2, 4),
            "groups": Option(
                1, int, "groups of each branch's conv (must divide C)", 1, divides_channels=True
            ),
            "ratio": _ratio(16),
            "min_units": Option(32, int, "fuse layer width: max(C // ratio, min_units)", 1),
        },
        ("channel",),
        "Selective Kernel (Li et al. 2019)",
    ),
    Block(
        "splat",
        "SplitAttention",
        {
            "radix": Option(
                2, int, "splits, softmax-weighted (must divide C)", 2, divides_channels=True
            ),
            "kernel_size": Option(3, int, "the splits' conv kernel size", minimum=1, odd=True),
            "reduction": Option(4, int, "inner width: max(radix C // reduction, min_units)", 1),
            "min_units": Option(32, int, "smallest inner width", minimum=1),
        },
        ("channel",),
        "split attention (Zhang et al. 2020, ResNeSt)",
    ),
    Block(
        "nonlocal",
        "NonLocal",
        {
            "reduction": Option(2, int, "inner width: max(1, C // reduction)", minimum=1),
            "sub_sample": Option(False, bool, "max-pool keys and values 2x2"),
        },
        ("scores",),
        "non-local block, embedded Gaussian (Wang et al. 2018)",
        # Every position attends to every other: 124x124 maps after LeNet's first conv
        # would need 15376^2 scores per sample.
        stages={"spectrogram": (2,)},
    ),
):
    register_block(_block)
