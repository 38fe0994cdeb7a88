"""The zoo's blocks in the workflow: the overlays plan every block, a tiny digits study
trains each new one, and what each block promises beyond its formula."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from conftest import (
    REPO_ROOT,
    STUDY_CONFIG,
    TINY_CONFIG,
    describe_failure,
    planned_jobs,
    run_snakemake,
    trainings_planned,
)

from attnlab import registry

ZOO_BLOCKS = ["ceca", "ese", "simam", "triplet", "lcbam", "sk", "splat", "gather_excite"]
ZOO_VARIANTS = [*ZOO_BLOCKS, "gather_excite_param", "nonlocal"]
# The blocks added before the zoo, trained here rather than in the two-seed tiny study.
EARLIER_BLOCKS = ["eca", "coord_attention", "gc", "bam"]
OVERLAYS = {"reduced_mnist": "digits_zoo.yaml", "fsdd": "audio_zoo.yaml"}


def overlay_variants(dataset):
    overlay = yaml.safe_load((REPO_ROOT / "config" / OVERLAYS[dataset]).read_text())
    return [
        v if isinstance(v, str) else v["name"] for v in overlay["datasets"][dataset]["variants"]
    ]


@pytest.mark.parametrize("dataset", list(OVERLAYS))
def test_each_zoo_overlay_holds_every_built_in_variant_of_its_family(dataset):
    family = {"reduced_mnist": "digits", "fsdd": "spectrogram"}[dataset]
    assert set(registry.names(family)) <= set(overlay_variants(dataset))


@pytest.mark.slow
@pytest.mark.parametrize("dataset", list(OVERLAYS))
def test_each_zoo_overlay_plans_a_ranking_of_every_variant(dataset, tmp_path, mirror):
    overlay = REPO_ROOT / "config" / OVERLAYS[dataset]
    result = run_snakemake(
        tmp_path,
        f"results/tables/{dataset}/ranks.md",
        configfiles=(STUDY_CONFIG, overlay),
        config={"mirror": mirror},
        args=("-n", "--quiet", "rules"),
    )
    assert result.returncode == 0, result.stdout[-3000:]
    planned = planned_jobs(result)
    assert trainings_planned(planned) == 3 * len(overlay_variants(dataset))
    assert planned["rankings"] == 1


@pytest.fixture(scope="module")
def zoo_study(tiny_data, mirror, tmp_path_factory):
    """The tiny data stage's folder with every new digit block trained once (seed 4)."""
    overlay = tmp_path_factory.mktemp("zoo") / "zoo.yaml"
    variants = {"reduced_mnist": {"variants": ["base", *ZOO_VARIANTS, *EARLIER_BLOCKS]}}
    overlay.write_text(yaml.safe_dump({"seeds": [4], "datasets": variants}))
    targets = [
        f"results/reduced_mnist/{variant}/seed4/{name}"
        for variant in (*ZOO_VARIANTS, *EARLIER_BLOCKS)
        for name in ("metrics.json", "attention_maps.npz")
    ]
    configfiles = (STUDY_CONFIG, TINY_CONFIG, overlay)
    result = run_snakemake(tiny_data, *targets, configfiles=configfiles, config={"mirror": mirror})
    if result.returncode != 0:
        pytest.fail("tiny zoo study failed\n" + describe_failure(result, tiny_data))
    return tiny_data / "results" / "reduced_mnist"


@pytest.mark.slow
@pytest.mark.parametrize("variant", [*ZOO_VARIANTS, *EARLIER_BLOCKS])
def test_a_tiny_digits_study_trains_every_new_block(zoo_study, variant):
    metrics = json.loads((zoo_study / variant / "seed4" / "metrics.json").read_text())
    assert metrics["attention"] is True
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    placed = {b["block"] for b in metrics["architecture"]["blocks"]}
    assert placed == {variant.removesuffix("_param")}
    maps = np.load(zoo_study / variant / "seed4" / "attention_maps.npz")
    kinds = registry.BLOCKS[placed.pop()].maps
    assert {key.split("/")[-1] for key in maps.files if "/" in key} == set(kinds), maps.files


# ------------------------------------------------------- beyond the formula tests
def build(block, shape=(2, 9, 10, 8), **options):
    spec = registry.BLOCKS[block]
    layer = spec.layer_class()(**spec.settle(options, f"test {block}"))
    layer.build(shape)
    return layer


def test_the_non_local_block_starts_as_the_identity():
    """Wang et al. 2018 initialise W_z's BatchNorm scale to zero."""
    x = np.random.default_rng(0).normal(size=(2, 9, 10, 8)).astype("float32")
    for training in (False, True):
        np.testing.assert_allclose(build("nonlocal")(x, training=training), x, atol=1e-6)


def test_parameter_free_blocks_have_no_weights():
    assert build("simam").weights == []
    assert build("gather_excite").weights == []
    assert build("gather_excite", extent=4).weights == []


def test_gather_excite_with_the_global_extent_is_a_sigmoid_of_the_mean():
    x = np.random.default_rng(1).normal(size=(2, 9, 10, 8)).astype("float32")
    want = x / (1 + np.exp(-x.mean((1, 2), keepdims=True)))
    np.testing.assert_allclose(build("gather_excite")(x), want, rtol=1e-5, atol=1e-6)


def test_blocks_refuse_maps_they_cannot_work_on():
    with pytest.raises(ValueError, match="circular padding of 4 needs at least as many"):
        build("ceca", (2, 5, 5, 3), kernel_size=9)
    with pytest.raises(ValueError, match="SimAM needs at least 2 positions"):
        build("simam", (2, 1, 1, 8))
