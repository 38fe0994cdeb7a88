"""`precision: auto`: bfloat16 only where the machine has the units and the built-in
variant the evidence; every other case trains in float32."""

from __future__ import annotations

import dataclasses

import jsonschema
import pytest
import yaml
from conftest import REPO_ROOT, STUDY_CONFIG

from attnlab import config_files, precision, registry

BASE = registry.builtin("digits", "base")


def test_a_named_policy_is_used_as_it_is():
    named = config_files.read_schema()["properties"]["precision"]["enum"]
    for policy in [p for p in named if p != "auto"]:
        assert precision.resolve(policy, BASE.to_dict(), "cpu")[0] == policy


@pytest.mark.parametrize(
    ("device", "features", "capability", "found"),
    [
        ("cpu", ["avx2", "avx512f", "avx512_bf16"], None, "CPU with avx512_bf16"),
        ("cpu", ["avx512_bf16", "amx_bf16", "amx_tile"], None, "CPU with avx512_bf16, amx_bf16"),
        ("cpu", ["avx", "avx2", "fma", "avx512f"], None, None),
        ("gpu", [], (8, 0), "GPU of compute capability 8.0"),
        ("gpu", [], (9, 0), "GPU of compute capability 9.0"),
        ("gpu", [], (7, 5), None),
    ],
)
def test_bfloat16_units_are_avx512_bf16_amx_or_an_ampere_gpu(device, features, capability, found):
    assert precision.bf16_units(device, features, capability) == found


@pytest.fixture
def evidence(monkeypatch):
    """The digits base variant with a (made-up) equivalence record."""
    shown = dataclasses.replace(BASE, bf16_equivalence="shown in a test")
    monkeypatch.setitem(registry.VARIANTS["digits"], "base", shown)


def test_auto_takes_bfloat16_where_the_variant_has_evidence_and_the_machine_the_units(evidence):
    with_units, without = (lambda device: "a bf16 CPU"), (lambda device: None)
    assert precision.resolve("auto", BASE.to_dict(), "cpu", with_units) == (
        "mixed_bfloat16",
        "auto: a bf16 CPU, and shown in a test",
    )
    policy, why = precision.resolve("auto", BASE.to_dict(), "cpu", without)
    assert policy == "float32" and "no bfloat16 units" in why


def test_auto_keeps_float32_for_a_variant_without_evidence(monkeypatch):
    hybrid = registry.builtin("spectrogram", "hybrid")
    bare = dataclasses.replace(hybrid, bf16_equivalence="")
    monkeypatch.setitem(registry.VARIANTS["spectrogram"], "hybrid", bare)
    with_units = lambda device: "a bf16 CPU"  # noqa: E731
    policy, why = precision.resolve("auto", hybrid.to_dict(), "cpu", with_units)
    assert policy == "float32" and "not shown equivalent for spectrogram/hybrid" in why


def test_evidence_covers_only_the_unchanged_builtin_network(evidence):
    """A config that changes base's blocks, or defines its own, gets no borrowed evidence."""
    with_units = lambda device: "a bf16 CPU"  # noqa: E731
    changed = {**BASE.to_dict(), "skeleton": {"dropout": 0.5}}
    own = registry.resolve("digits", {"name": "se_r16", "block": "se", "ratio": 16}).to_dict()
    for architecture in (changed, own):
        assert precision.resolve("auto", architecture, "cpu", with_units)[0] == "float32"


def test_auto_is_a_valid_config_value_and_others_are_refused(tmp_path):
    overlay = tmp_path / "o.yaml"
    overlay.write_text(yaml.safe_dump({"precision": "auto"}))
    assert config_files.load_config([STUDY_CONFIG, overlay])["precision"] == "auto"
    overlay.write_text(yaml.safe_dump({"precision": "bfloat16"}))
    with pytest.raises(jsonschema.ValidationError, match="'bfloat16' is not one of"):
        config_files.load_config([STUDY_CONFIG, overlay])


def test_every_bf16_evidence_is_a_decided_row_of_the_benchmarks():
    """A record that sends `auto` to bf16 names a BENCHMARKS.md row decided equivalent."""
    text = (REPO_ROOT / "BENCHMARKS.md").read_text()
    section = text[text.index("## bfloat16 fidelity") :]
    with_evidence = [
        v for family in registry.VARIANTS.values() for v in family.values() if v.bf16_equivalence
    ]
    assert with_evidence  # digits base and cbam
    for variant in with_evidence:
        assert "BENCHMARKS.md" in variant.bf16_equivalence
        row = f"| {variant.family} | {variant.name} |"
        (line,) = [line for line in section.splitlines() if line.startswith(row)]
        assert "**equivalent**" in line
