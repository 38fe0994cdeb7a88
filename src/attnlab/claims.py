"""The study's claims, as data: each a set of parts, each part a paired comparison
"a vs b" on accuracy or time with the outcome the study claimed. The study's numbers
come from the variants' registry records; `attnlab.verdicts` judges the claims."""

from __future__ import annotations

from dataclasses import dataclass

from attnlab import registry


@dataclass(frozen=True)
class Part:
    """One comparison of a claim: a vs b on `metric`, with the claimed outcome.

    `claim` is ">0" / "<0" (direction), "little" (gain below LITTLE_GAIN_PTS)
    or a number (the claimed difference, points or % time).
    """

    a: str
    b: str
    metric: str = "accuracy"
    claim: str | float = ">0"


@dataclass(frozen=True)
class Claim:
    id: str
    text: str
    family: str
    parts: tuple[Part, ...]


def _study_gain(family: str, variant: str, key: str) -> float:
    return getattr(registry.builtin(family, variant).study, key)


_DIGITS = tuple(registry.study_variants("digits"))
_CBAM_GAIN = _study_gain("spectrogram", "cbam", "gain_pts")
_HYBRID_GAIN = _study_gain("spectrogram", "hybrid", "gain_pts")
_HYBRID_TIME = _study_gain("spectrogram", "hybrid", "time_pct")
CLAIMS = (
    Claim(
        "se_best",
        "SE is the best of the study's five digit models",
        "digits",
        tuple(Part("se", v) for v in _DIGITS if v != "se"),
    ),
    Claim(
        "spatial_hurts",
        "Spatial attention hurts on digits",
        "digits",
        (Part("spatial", "base", claim="<0"),),
    ),
    Claim(
        "self_attention_cost",
        "Self-attention costs the most training time for little gain (digits)",
        "digits",
        (
            *(Part("self_attention", v, "time") for v in _DIGITS if v != "self_attention"),
            Part("self_attention", "base", claim="little"),
        ),
    ),
    Claim(
        "cbam_gain",
        f"CBAM gains {_CBAM_GAIN:+.2f} points over lenet on speech",
        "spectrogram",
        (Part("cbam", "lenet", claim=_CBAM_GAIN),),
    ),
    Claim(
        "hybrid_gain",
        f"Hybrid gains {_HYBRID_GAIN:+.2f} points at {_HYBRID_TIME:+.0f}% training time on speech",
        "spectrogram",
        (
            Part("hybrid", "lenet", claim=_HYBRID_GAIN),
            Part("hybrid", "lenet", "time", claim=_HYBRID_TIME),
        ),
    ),
    Claim(
        "cbam_vs_lenet_bn",
        "Ablation: CBAM beats lenet_bn on speech (its gain is attention, not BatchNorm)",
        "spectrogram",
        (Part("cbam", "lenet_bn"),),
    ),
)
