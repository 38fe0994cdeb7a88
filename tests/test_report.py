"""The whole tiny study with 2 seeds: tables, verdicts, figures, summary and the HTML report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import STUDY_CONFIG, TINY_CONFIG, describe_failure, run_snakemake
from PIL import Image

from attnlab import plan, run_files, verdicts

pytestmark = pytest.mark.slow

SEEDS = [4, 5]
FIGURES = plan.FIGURES


# The study's own variants (and lenet_bn), without the added ones, plus a variant defined
# in the config: the added blocks train in tests/test_zoo.py's tiny study, and
# tests/test_models.py and test_block_equivalence.py cover every block on both families.
ADDED = {"se_spatial", "cbam_original", "eca", "coord_attention", "gc", "bam", "se"}
SKIPPED = {"reduced_mnist": ADDED - {"se"}, "fsdd": ADDED}
CONFIG_VARIANT = {"name": "mhsa_h2_res", "block": "self_attention", "heads": 2, "residual": True}


@pytest.fixture(scope="module")
def study(tmp_path_factory, mirror, copy_tiny_data):
    workdir = copy_tiny_data(tmp_path_factory.mktemp("tiny_study") / "work")
    config = yaml.safe_load(STUDY_CONFIG.read_text())
    for dataset, skipped in SKIPPED.items():
        settings = config["datasets"][dataset]
        settings["variants"] = [v for v in settings["variants"] if v not in skipped]
    config["datasets"]["reduced_mnist"]["variants"].append(CONFIG_VARIANT)
    overlay = workdir / "overlay.yaml"
    variants = {d: {"variants": s["variants"]} for d, s in config["datasets"].items()}
    overlay.write_text(yaml.safe_dump({"seeds": SEEDS, "datasets": variants}))
    configfiles = (STUDY_CONFIG, TINY_CONFIG, overlay)
    # The whole DAG of two datasets and two seeds: minutes on 2 cores, more on a busy machine.
    result = run_snakemake(
        workdir, configfiles=configfiles, config={"mirror": mirror}, timeout=1800
    )
    if result.returncode != 0:
        pytest.fail("tiny study failed\n" + describe_failure(result, workdir))
    return workdir, configfiles, config


def test_study_tables_have_a_finite_row_per_variant(study):
    workdir, _, config = study
    for dataset, settings in config["datasets"].items():
        table = pd.read_csv(workdir / f"results/tables/{dataset}/study.csv")
        names = [v if isinstance(v, str) else v["name"] for v in settings["variants"]]
        assert sorted(table["variant"]) == sorted(names)
        numbers = table.select_dtypes("number")
        assert {"accuracy_mean", "time_mean_s"} <= set(numbers.columns), table.columns
        assert numbers[["accuracy_mean", "time_mean_s"]].notna().all().all()
        assert (table["n_seeds"] == len(SEEDS)).all()
        compare = pd.read_csv(workdir / f"results/tables/{dataset}/compare.csv")
        assert len(compare) == len(settings["variants"]) - 1


def test_cross_domain_and_params_tables(study):
    workdir, _, config = study
    cross = pd.read_csv(workdir / "results/tables/cross_domain.csv")
    assert set(config["datasets"]) <= set(cross["dataset"])
    params = pd.read_csv(workdir / "results/tables/params.csv").set_index(["dataset", "variant"])
    assert params.loc[("reduced_mnist", "base"), "params"] == 225_034
    # heads 2 x key_dim 64 on 64 channels: q, k, v, output projections and LayerNorm.
    mha = 3 * (64 * 2 * 64 + 2 * 64) + (2 * 64 * 64 + 64) + 2 * 64
    assert params.loc[("reduced_mnist", "mhsa_h2_res"), "params"] == 225_034 + mha
    assert params.loc[("fsdd", "cbam"), "params"] == 1_629_113
    assert not params.loc[("fsdd", "lenet_bn"), "attention"]


def test_config_defined_variant_records_its_architecture(study):
    workdir, _, _ = study
    for seed in SEEDS:
        metrics = json.loads(
            (workdir / f"results/reduced_mnist/mhsa_h2_res/seed{seed}/metrics.json").read_text()
        )
        assert metrics["attention"] is True
        (block,) = metrics["architecture"]["blocks"]
        assert block == {
            "stage": 2,
            "block": "self_attention",
            "options": {"heads": 2, "key_dim": 64, "residual": True},
        }


def test_verdicts_name_every_claim_and_are_inconclusive_with_one_seed(study):
    workdir, _, _ = study
    verdict_table = pd.read_csv(workdir / "results/tables/verdicts.csv")
    assert len(verdict_table) == 6
    assert set(verdict_table["verdict"]) <= {
        "supported",
        "contradicted",
        "inconclusive",
        "not comparable",
    }
    assert (verdict_table["n_seeds"] == len(SEEDS)).all()
    run_dirs = sorted(path.parent for path in workdir.glob("results/*/*/seed4/metrics.json"))
    runs = run_files.load_runs(
        [d / "metrics.json" for d in run_dirs], [d / "predictions.parquet" for d in run_dirs]
    )
    predictions = run_files.load_predictions(
        [d / "predictions.parquet" for d in run_dirs],
        [{"dataset": d.parent.parent.name, "variant": d.parent.name, "seed": 4} for d in run_dirs],
    )
    single = verdicts.verdicts(runs, predictions)
    assert (single["verdict"] == "inconclusive").all()
    assert single["reason"].str.contains("n=1").all()


def test_summary_states_the_seeds(study):
    workdir, _, _ = study
    summary = (workdir / "results/summary.md").read_text()
    assert "n=2" in summary and "Verdicts" in summary
    assert "Scope: fsdd, reduced_mnist: every seed trains and tests on the same split" in summary


@pytest.mark.parametrize("name", FIGURES)
def test_figures_are_readable_pngs(study, name):
    workdir, _, config = study
    for dataset in config["datasets"]:
        path = workdir / f"results/figures/{dataset}/{name}.png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            width, height = image.size
        assert width >= 400 and height >= 200, (path, image.size)
        assert path.stat().st_size > 4_000, path


def test_html_report(study, tmp_path):
    workdir, configfiles, _ = study
    report = workdir / "results/report.html"
    args = ("--report", str(report))
    result = run_snakemake(workdir, configfiles=configfiles, args=args)
    assert result.returncode == 0, describe_failure(result, workdir)
    text = report.read_text(errors="replace")
    assert "<html" in text.lower() and report.stat().st_size > 100_000


def test_finished_study_is_a_no_op(study):
    workdir, configfiles, _ = study
    result = run_snakemake(workdir, configfiles=configfiles, args=("-n",))
    assert result.returncode == 0 and "Nothing to be done" in result.stdout, result.stdout[-3000:]
    # Where the verified raw files came from is not a rerun trigger.
    result = run_snakemake(
        workdir, configfiles=configfiles, config={"mirror": "/elsewhere"}, args=("-n",)
    )
    assert result.returncode == 0 and "Nothing to be done" in result.stdout, result.stdout[-3000:]


def test_predict_classifies_a_png_and_a_wav_with_explanations(study, tmp_path, write_wav):
    workdir, _, config = study
    from attnlab import cli

    png = sorted((workdir / "resources/images/reduced_mnist/test/7").glob("*.png"))[0]
    out = tmp_path / "digits.csv"
    run = workdir / "results/reduced_mnist/cbam/seed4"
    assert (
        cli.main(
            ["predict", str(run), str(png), "--output", str(out), "--explain", str(tmp_path / "x")]
        )
        == 0
    )
    table = pd.read_csv(out)
    assert list(table.columns[:3]) == ["file", "predicted", "probability"]
    assert str(table.loc[0, "predicted"]) in config["datasets"]["reduced_mnist"]["classes"]
    assert abs(table.filter(like="p_").sum(axis=1).iloc[0] - 1) < 1e-5
    assert (tmp_path / "x" / f"{png.stem}.png").stat().st_size > 2000

    wav = write_wav(tmp_path / "tone.wav", seconds=0.5, rate=8000)
    model = workdir / "results/fsdd/lenet/seed4/model.keras"
    assert cli.main(["predict", str(model), str(wav), "--explain", str(tmp_path / "y")]) == 0
    assert (tmp_path / "y" / "tone.png").is_file()


def test_predict_refuses_inputs_the_run_cannot_take(study, tmp_path, write_wav, capsys):
    workdir, _, _ = study
    from attnlab import cli

    stereo = write_wav(tmp_path / "stereo.wav", rate=8000, channels=2)
    fast = write_wav(tmp_path / "fast.wav", rate=16000)
    fsdd_run = str(workdir / "results/fsdd/cbam/seed4")
    assert cli.main(["predict", fsdd_run, str(stereo), str(fast)]) == 2
    err = capsys.readouterr().err
    assert (
        f"{stereo}: 2 channels, expected mono" in err
        and f"{fast}: 16000 Hz, expected 8000 Hz" in err
    )
    big = tmp_path / "big.png"
    Image.fromarray(np.full((40, 40), 7, np.uint8) + np.eye(40, dtype=np.uint8)).save(big)
    assert cli.main(["predict", str(workdir / "results/reduced_mnist/se/seed5"), str(big)]) == 2
    assert "size 40x40, expected 28x28" in capsys.readouterr().err
    assert cli.main(["predict", fsdd_run, str(big)]) == 2
    assert "this run classifies WAV recordings" in capsys.readouterr().err


def test_summary_says_where_the_runs_came_from(study):
    workdir, _, _ = study
    summary = (workdir / "results/summary.md").read_text()
    assert "Runs made with:" in summary
    assert "run(s): commit " in summary and "thread(s)" in summary


def test_the_mlflow_rule_logs_every_run(study):
    pytest.importorskip("mlflow")
    workdir, configfiles, config = study
    result = run_snakemake(workdir, "results/mlruns", configfiles=configfiles)
    assert result.returncode == 0, describe_failure(result, workdir)
    logged = pd.read_csv(workdir / "results/mlruns/runs.csv")
    expected = sum(len(s["variants"]) for s in config["datasets"].values()) * len(SEEDS)
    assert len(logged) == expected and set(logged["status"]) == {"logged"}
    assert (workdir / "results/mlruns/mlflow.db").is_file()


def test_the_results_page_comes_from_runs_of_one_clean_commit(study):
    workdir, configfiles, _ = study
    records = [
        json.loads(path.read_text())["provenance"]
        for path in workdir.glob("results/*/*/seed*/metrics.json")
    ]
    result = run_snakemake(workdir, "docs/results.md", configfiles=configfiles)
    if any(r["dirty"] for r in records):  # a working tree with changes: refused, and said so
        assert result.returncode != 0
        assert "with uncommitted changes" in result.stdout  # stderr is merged into it
        return
    assert result.returncode == 0, describe_failure(result, workdir)
    page = (workdir / "docs/results.md").read_text()
    assert f"at commit\n`{records[0]['commit']}`" in page
    assert "## Verdicts on the study's claims" in page and "## The merged config" in page
    figure = "results/figures/reduced_mnist/critical_difference.png"
    assert f"]({figure})" in page
    assert (workdir / "docs" / figure).read_bytes() == (workdir / figure).read_bytes()
