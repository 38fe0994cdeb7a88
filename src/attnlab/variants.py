"""Variant names per model family, importable without TensorFlow (the workflow reads them).

`attnlab.models` builds exactly these; a test checks the two agree.
"""

STUDY_VARIANTS = {
    "digits": ("base", "spatial", "self_attention", "cbam", "se"),
    "spectrogram": ("lenet", "cbam", "hybrid"),
}
ADDED_VARIANTS = {
    "digits": ("se_spatial", "cbam_original"),
    "spectrogram": ("lenet_bn", "se", "cbam_original"),
}
VARIANTS = {family: STUDY_VARIANTS[family] + ADDED_VARIANTS[family] for family in STUDY_VARIANTS}
BASELINES = {"digits": "base", "spectrogram": "lenet"}


def names(family: str) -> tuple[str, ...]:
    """Every variant the registry builds for `family` ("digits" or "spectrogram")."""
    if family not in VARIANTS:
        raise KeyError(f"unknown model family {family!r}; known: {sorted(VARIANTS)}")
    return VARIANTS[family]
