"""The attention zoo's single source of truth: blocks, model families and variants.

Importable without TensorFlow: the workflow reads it at start-up to list and check
variants, and `attnlab.models` builds Keras models from its records.

- A **block** is registered once by name (`BLOCKS`, its records in
  `attnlab.block_records`): the Keras layer class that implements it, its options
  (`attnlab.options`) with their defaults, the kinds of attention map it exposes and
  its paper.
- A **family** (`FAMILIES`) is a skeleton network with numbered stages where blocks go,
  skeleton options (BatchNorm, dropouts, L2) and a default input shape.
- A **variant** (`VARIANTS`) is one record: its family, which blocks sit at which
  stages with which options, skeleton options, whether it is one of the study's and
  what the study reported for it. Whether it has attention is whether it has blocks.

Config files name built-in variants or define new ones as mappings, checked by
`resolve` (see `resolve` for the accepted keys):

    {name: se_r16, block: se, ratio: 16}
    {name: mhsa_h8_res, block: self_attention, heads: 8, residual: true}
    {name: se_then_spatial, blocks: [{block: se, ratio: 4}, {block: spatial}], stages: [1]}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from attnlab.block_records import BLOCKS, MAP_FIGURES
from attnlab.options import NAME_PATTERN, Option, RegistryError, settle, valid_name


@dataclass(frozen=True)
class Family:
    """A skeleton network: its stages (where blocks go) and skeleton options."""

    name: str
    description: str
    input_shape: tuple[int, int, int]
    min_size: int
    stages: tuple[int, ...]
    default_stages: tuple[int, ...]
    options: Mapping[str, Option]
    channels: Mapping[int, int] = field(default_factory=dict)  # filters of each stage's conv
    # Where the study timed this family's runs: the kind of device ("cpu" | "gpu") our
    # runs must match for its time ratios to compare, and the machine in words.
    study_machine: tuple[str, str] = ("", "a machine not recorded")

    def check_size(self, size, where: str) -> None:
        """Refuse an image size the network cannot take (a pooling layer would get 0)."""
        if min(size) < self.min_size:
            raise RegistryError(
                f"{where}: {size[0]}x{size[1]} is too small for the {self.name} family's "
                f"network; the smallest it accepts is {self.min_size}x{self.min_size}"
            )


FAMILIES: dict[str, Family] = {
    "digits": Family(
        "digits",
        "Conv(32,3x3)-MaxPool [stage 1] Conv(64,3x3)-MaxPool [stage 2] Dense(128)-Dropout(0.3)",
        (28, 28, 1),
        10,  # 10 -conv-> 8 -pool-> 4 -conv-> 2 -pool-> 1
        (1, 2),
        (1,),
        {},
        channels={1: 32, 2: 64},
        study_machine=("cpu", "its CPU, one run each"),
    ),
    "spectrogram": Family(
        "spectrogram",
        "LeNet: Conv(6,5x5) [BN] [stage 1] [Dropout] AvgPool, Conv(16,5x5) [BN] [stage 2] "
        "[Dropout] AvgPool, Dense(120), Dense(84) [L2, Dropout]",
        (128, 128, 3),
        16,  # 16 -conv-> 12 -pool-> 6 -conv-> 2 -pool-> 1
        (1, 2),
        (1, 2),
        {
            "batch_norm": Option(False, bool, "BatchNorm after each conv, before the blocks"),
            "conv_dropout": Option(0.0, float, "dropout after each conv stage", 0.0, 0.99),
            "head_l2": Option(0.0, float, "L2 factor on the two dense kernels", minimum=0.0),
            "head_dropout": Option(0.0, float, "dropout after each dense layer", 0.0, 0.99),
        },
        channels={1: 6, 2: 16},
        study_machine=("gpu", "a GPU, one run each"),
    ),
}


def family(name: str) -> Family:
    if name not in FAMILIES:
        raise RegistryError(f"unknown model family {name!r}; known: {', '.join(FAMILIES)}")
    return FAMILIES[name]


# ------------------------------------------------------------------ variants
@dataclass(frozen=True)
class Placement:
    """One block at one stage with all its options."""

    stage: int
    block: str
    options: Mapping[str, object]


@dataclass(frozen=True)
class Study:
    """What the study reported for a variant (NaN / "" where it gave nothing).

    Digits: one CPU run each; spectrograms: one GPU run each. `gain_pts` and
    `time_pct` are its cross-domain table's entries (gain over the baseline, extra time).
    """

    accuracy: float
    time_s: float
    time_diff_s: float
    params: str
    gain_pts: float = math.nan
    time_pct: float = math.nan


@dataclass(frozen=True)
class Variant:
    """One model: a family's skeleton with blocks at stages."""

    name: str
    family: str
    placements: tuple[Placement, ...] = ()
    skeleton: Mapping[str, object] = field(default_factory=dict)
    study: Study | None = None
    note: str = ""
    # The measurement that showed bfloat16 training practically equivalent to float32 for
    # this variant (BENCHMARKS.md, "bfloat16 fidelity"); empty: not shown, so
    # `precision: auto` keeps float32 (attnlab.precision).
    bf16_equivalence: str = ""

    @property
    def has_attention(self) -> bool:
        return bool(self.placements)

    @property
    def map_kinds(self) -> tuple[str, ...]:
        """The kinds of attention map its blocks expose, in `MAP_FIGURES` order."""
        found = {kind for p in self.placements for kind in BLOCKS[p.block].maps}
        return tuple(kind for kind in MAP_FIGURES if kind in found)

    @property
    def is_study(self) -> bool:
        return self.study is not None

    def blocks_text(self) -> str:
        """e.g. "se(ratio=8)@1 + spatial@1", "cbam(ratio=8,kernel_size=7)@1,2"; "-" if none."""
        grouped: dict[tuple, list[int]] = {}
        for p in self.placements:
            options = ",".join(f"{k}={v}" for k, v in p.options.items())
            label = f"{p.block}({options})" if options else p.block
            grouped.setdefault((label,), []).append(p.stage)
        parts = [f"{label}@{','.join(map(str, stages))}" for (label,), stages in grouped.items()]
        return " + ".join(parts) or "-"

    def to_dict(self) -> dict:
        """Plain data (for Snakemake params and metrics.json); `from_dict` inverts it."""
        return {
            "name": self.name,
            "family": self.family,
            "blocks": [
                {"stage": p.stage, "block": p.block, "options": dict(p.options)}
                for p in self.placements
            ],
            "skeleton": dict(self.skeleton),
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> Variant:
        placements = tuple(
            Placement(int(b["stage"]), b["block"], dict(b["options"])) for b in data["blocks"]
        )
        return cls(data["name"], data["family"], placements, dict(data["skeleton"]))


def _variant(name, family_name, blocks=(), study=None, note="", bf16="", **skeleton) -> Variant:
    """A built-in variant: `blocks` are block names or (name, options) at default stages."""
    entry = {"name": name, "blocks": [_block_entry(b) for b in blocks], **skeleton}
    resolved = _define(family_name, entry, f"registry variant {family_name}/{name}")
    return replace(resolved, study=study, note=note, bf16_equivalence=bf16)


def _block_entry(block) -> dict:
    name, options = (block, {}) if isinstance(block, str) else block
    return {"block": name, **options}


VARIANTS: dict[str, dict[str, Variant]] = {name: {} for name in FAMILIES}


def register_variant(variant: Variant) -> Variant:
    """Add `variant` to `VARIANTS`; its name must be new in its family."""
    known = VARIANTS[variant.family]
    if variant.name in known:
        raise RegistryError(f"variant {variant.family}/{variant.name} is already registered")
    known[variant.name] = variant
    return variant


# ------------------------------------------------------------------- queries
def names(family_name: str) -> list[str]:
    """Every built-in variant of a family: the study's first, then the added ones."""
    known = VARIANTS[family(family_name).name].values()
    return [v.name for v in known if v.is_study] + [v.name for v in known if not v.is_study]


def study_variants(family_name: str) -> list[str]:
    return [v.name for v in VARIANTS[family(family_name).name].values() if v.is_study]


def builtin(family_name: str, name: str) -> Variant:
    """The built-in variant `name` of a family; the error lists the known ones."""
    known = VARIANTS[family(family_name).name]
    if name not in known:
        raise RegistryError(
            f"unknown {family_name} variant {name!r}; known: {', '.join(names(family_name))}"
        )
    return known[name]


def bf16_evidence(architecture: Mapping) -> str:
    """The bfloat16 evidence of the built-in variant whose `to_dict` is `architecture`.

    Empty for a variant the config defines or changes: the evidence covers one network.
    """
    known = VARIANTS.get(architecture["family"], {}).get(architecture["name"])
    if known is None or known.to_dict() != dict(architecture):
        return ""
    return known.bf16_equivalence


def families_of(name: str) -> list[str]:
    """The families that have a built-in variant `name`."""
    return [f for f, known in VARIANTS.items() if name in known]


# ------------------------------------------------------------ config entries
_RESERVED = ("name", "block", "blocks", "stages")


def resolve(family_name: str, entry: str | Mapping, where: str = "variant") -> Variant:
    """A config `variants` entry as a Variant, every option filled in and checked.

    `entry` is a built-in name, or a mapping with `name` and either `block` (one
    block, its options as further keys) or `blocks` (a list of mappings, each with
    `block` and its options), optional `stages` (list of stage numbers; default the
    block's or the family's) and the family's skeleton options. A mapping may not
    reuse a built-in name. Errors name `where` and list what is known.
    """
    family(family_name)
    if isinstance(entry, str):
        if entry not in VARIANTS[family_name]:
            raise RegistryError(
                f"{where}: unknown {family_name} variant {entry!r}; known: "
                f"{', '.join(names(family_name))}; or define one as a mapping with a block"
            )
        return VARIANTS[family_name][entry]
    name = entry.get("name")
    if not isinstance(name, str) or not valid_name(name):
        raise RegistryError(f"{where}: name {name!r} must be a string matching {NAME_PATTERN}")
    if name in VARIANTS[family_name]:
        raise RegistryError(
            f"{where}: {name!r} is a built-in {family_name} variant; give yours another name"
        )
    return _define(family_name, entry, f"{where} {name!r}")


def _define(family_name: str, entry: Mapping, where: str) -> Variant:
    fam = family(family_name)
    if "block" in entry and "blocks" in entry:
        raise RegistryError(f"{where}: give either block or blocks, not both")
    if "blocks" in entry:
        block_entries = list(entry["blocks"])
        skeleton_given = {k: v for k, v in entry.items() if k not in _RESERVED}
    elif "block" in entry:
        block_keys = {k for k in entry if k not in _RESERVED and k not in fam.options}
        block_entries = [{"block": entry["block"], **{k: entry[k] for k in block_keys}}]
        skeleton_given = {k: v for k, v in entry.items() if k in fam.options}
    else:
        block_entries = []
        skeleton_given = {k: v for k, v in entry.items() if k not in _RESERVED}
    skeleton = settle(fam.options, skeleton_given, f"{where} ({family_name} skeleton)")
    placements = []
    for block_entry in block_entries:
        placements += _place(fam, block_entry, entry.get("stages"), where)
    return Variant(entry["name"], family_name, tuple(placements), skeleton)


def _place(fam: Family, block_entry: Mapping, stages, where: str) -> list[Placement]:
    if not isinstance(block_entry, Mapping) or "block" not in block_entry:
        raise RegistryError(f"{where}: each of blocks needs a block name, got {block_entry!r}")
    name = block_entry["block"]
    if name not in BLOCKS:
        raise RegistryError(f"{where}: unknown block {name!r}; known: {', '.join(BLOCKS)}")
    block = BLOCKS[name]
    options = block.settle(
        {k: v for k, v in block_entry.items() if k != "block"}, f"{where} block {name}"
    )
    chosen = stages if stages is not None else block.stages.get(fam.name, fam.default_stages)
    bad = [s for s in chosen if s not in fam.stages]
    if not chosen or bad:
        raise RegistryError(
            f"{where}: stages {list(chosen)} not all in the {fam.name} family's {list(fam.stages)}"
        )
    for option in (key for key, o in block.options.items() if o.divides_channels):
        for stage in chosen:
            channels = fam.channels[stage]
            if channels % options[option]:
                raise RegistryError(
                    f"{where} block {name}: {option}={options[option]} does not divide the "
                    f"{channels} channels at {fam.name} stage {stage}"
                )
    return [Placement(int(stage), name, options) for stage in chosen]


def layer_names(variant: Variant) -> list[str]:
    """Each placement's layer name in the built model, in placement order.

    The block's `layer_name`, with `_<stage>` where the family puts blocks at more than
    one stage by default (spectrograms: `cbam_1`, `cbam_2`) or where the name would
    repeat; a further `_<k>` keeps names unique.
    """
    fam = FAMILIES[variant.family]
    bases = [BLOCKS[p.block].layer_name or p.block for p in variant.placements]
    suffix = len(fam.default_stages) > 1 or len(set(bases)) < len(bases)
    chosen, seen = [], {}
    for base, placement in zip(bases, variant.placements, strict=True):
        name = f"{base}_{placement.stage}" if suffix else base
        seen[name] = seen.get(name, 0) + 1
        chosen.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return chosen


def resolve_dataset_variants(dataset: str, family_name: str, entries) -> list[Variant]:
    """Every entry of `datasets.<dataset>.variants`, resolved; names must be unique."""
    variants = [
        resolve(family_name, entry, f"config datasets.{dataset}.variants[{i}]")
        for i, entry in enumerate(entries)
    ]
    seen = [v.name for v in variants]
    duplicates = sorted({n for n in seen if seen.count(n) > 1})
    if duplicates:
        raise RegistryError(f"config datasets.{dataset}.variants: duplicate {duplicates}")
    return variants


# ---------------------------------------------------------- built-in variants
_BN = {"batch_norm": True}
_ADDED_BLOCKS = ("eca", "coord_attention", "gc", "bam")
_ZOO_BLOCKS = ("ceca", "ese", "simam", "triplet", "lcbam", "sk", "splat")
# BENCHMARKS.md "bfloat16 fidelity": float32 and mixed_bfloat16 over seeds 4-13 on full
# Reduced MNIST, paired by seed; P(the difference is within +-0.5 points).
_BF16_DIGITS = "bf16 = float32 within 0.5 points, P = {} over 10 seeds (BENCHMARKS.md)"

for _v in (
    _variant(
        "base", "digits", study=Study(0.9810, 41.41, 0.0, "~200k"), bf16=_BF16_DIGITS.format(0.96)
    ),
    _variant("spatial", "digits", ["spatial"], Study(0.9790, 48.30, 6.90, "base + ~1k")),
    _variant(
        "self_attention", "digits", ["self_attention"], Study(0.9820, 80.55, 39.14, "base + ~50k")
    ),
    _variant(
        "cbam",
        "digits",
        ["cbam"],
        Study(0.9830, 63.40, 21.99, "base + ~2k"),
        bf16=_BF16_DIGITS.format(0.96),
    ),
    _variant("se", "digits", ["se"], Study(0.9855, 44.61, 3.20, "base + ~500", 0.45, 7.7)),
    _variant("se_spatial", "digits", ["se", "spatial"], note="SE then the spatial gate"),
    _variant("cbam_original", "digits", ["cbam_original"], note="CBAM as published"),
    *(_variant(block, "digits", [block]) for block in _ADDED_BLOCKS + _ZOO_BLOCKS),
    _variant("gather_excite", "digits", ["gather_excite"], note="GE-theta-minus, global"),
    _variant(
        "gather_excite_param",
        "digits",
        [("gather_excite", {"parametric": True})],
        note="GE-theta, global",
    ),
    _variant("nonlocal", "digits", ["nonlocal"]),
    _variant("lenet", "spectrogram", study=Study(0.9727, 126.41, 0.0, "~1.62M")),
    _variant(
        "cbam", "spectrogram", ["cbam"], Study(0.9922, 310.01, 183.60, "~1.63M", 1.95, 145.0), **_BN
    ),
    # The hybrid's layer list gives 1,628,959, 185 fewer than reported. The reported
    # count is met exactly if each block also had CBAM's 7x7 spatial gate (99
    # parameters) and the 6-channel block a 6 // 8 = 0 unit bottleneck (tf.keras 2
    # allowed Dense(0)); STUDY.md lists neither, so neither is built.
    _variant(
        "hybrid",
        "spectrogram",
        ["channel_attention"],
        Study(0.9844, 137.72, 11.31, "1,629,144", 1.17, 9.0),
        batch_norm=True,
        conv_dropout=0.1,
        head_l2=0.001,
        head_dropout=0.5,
    ),
    _variant("lenet_bn", "spectrogram", note="lenet + the BatchNorm the study's cbam added", **_BN),
    _variant("se", "spectrogram", ["se"], **_BN),
    _variant("cbam_original", "spectrogram", ["cbam_original"], **_BN),
    *(_variant(block, "spectrogram", [block], **_BN) for block in _ADDED_BLOCKS + _ZOO_BLOCKS),
    _variant("gather_excite", "spectrogram", ["gather_excite"], note="GE-theta-minus", **_BN),
    _variant(
        "gather_excite_param",
        "spectrogram",
        [("gather_excite", {"parametric": True})],
        note="GE-theta, global",
        **_BN,
    ),
    _variant(
        "nonlocal",
        "spectrogram",
        [("nonlocal", {"sub_sample": True})],
        note="stage 2 only, keys max-pooled",
        **_BN,
    ),
):
    register_variant(_v)
