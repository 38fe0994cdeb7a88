"""attnlab.tables, attnlab.figures and their workflow scripts on synthetic run folders."""

import json
import math
import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from attnlab import (
    block_records,
    claims,
    figures,
    map_figures,
    registry,
    run_files,
    stats,
    summary,
    tables,
    verdicts,
)

SCRIPTS = Path(__file__).resolve().parents[1] / "workflow" / "scripts"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
N_ITEMS = 60
# dataset -> family, baseline, {variant: (accuracy, seconds)}
MNIST_VARIANTS = {"base": (0.90, 10), "spatial": (0.85, 12), "se": (0.95, 11)}
FSDD_VARIANTS = {"lenet": (0.80, 20), "cbam": (0.90, 45), "hybrid": (0.85, 22)}
DATASETS = {
    "tiny_mnist": ("digits", "base", MNIST_VARIANTS),
    "tiny_fsdd": ("spectrogram", "lenet", FSDD_VARIANTS),
}
BASELINES = {name: spec[1] for name, spec in DATASETS.items()}
VALIDATION = {("tiny_fsdd", "hybrid"): 0.95}


def write_run(root: Path, dataset: str, family: str, variant: str, seed: int, acc: float, secs):
    """A run folder as the training job writes it, with `acc` of N_ITEMS right."""
    # Validation scores rank the variants as the test scores do, except on tiny_fsdd,
    # where hybrid validates best although cbam tests best.
    validation = VALIDATION.get((dataset, variant), acc - 0.01)
    rng = np.random.default_rng([seed, len(variant)])
    run = root / dataset / variant / f"seed{seed}"
    run.mkdir(parents=True)
    labels = np.arange(N_ITEMS) % 10
    preds = labels.copy()
    wrong = rng.choice(N_ITEMS, round((1 - acc) * N_ITEMS) + seed % 2, replace=False)
    preds[wrong] = (labels[wrong] + 1) % 10
    probs = np.full((N_ITEMS, 10), 0.02, dtype="float32")
    probs[np.arange(N_ITEMS), preds] = 0.82
    frame = pd.DataFrame({"item": np.arange(100, 100 + N_ITEMS), "label": labels, "pred": preds})
    frame = frame.join(pd.DataFrame(probs, columns=[f"p{k}" for k in range(10)]))
    frame.to_parquet(run / "predictions.parquet")
    epochs = 4 if family == "digits" else 3 + seed % 2  # early stopping: seeds differ
    curve = 1 - 0.5 / np.arange(1, epochs + 1) + 0.01 * seed
    pd.DataFrame(
        {
            "epoch": np.arange(1, epochs + 1),
            "loss": 1 - curve + 0.1,
            "accuracy": np.clip(curve, 0, 1),
            "val_loss": 1.1 - curve + 0.1,
            "val_accuracy": np.clip(curve - 0.02, 0, 1),
            "seconds": secs / epochs,
        }
    ).to_csv(run / "history.csv", index=False)
    metrics = {
        "dataset": dataset,
        "variant": variant,
        "seed": seed,
        "family": family,
        "test_accuracy": float((preds == labels).mean()),
        "test_loss": 0.3,
        "train_seconds": secs * (1 + 0.03 * seed),
        "epochs_run": epochs,
        "best_epoch": epochs,
        "validation": "val",
        "validation_accuracy": validation,
        "params": 1000 + len(variant),
        "forward_flops": 5_000_000 + 1000 * len(variant),
        "block_flops": 1000 * len(variant) * (variant not in ("base", "lenet")),
        "train_samples": 50,
        "val_samples": 10,
        "threads": 1,
        "device": "cpu",
        "gpu_name": None,
        "precision": "float32",
        "resumed": False,
        "tensorflow_version": "2.21.0",
        "keras_version": "3.12.0",
        "recipe": {"epochs": epochs, "batch_size": 32},
        "attention": variant not in ("base", "lenet"),
        "architecture": {"name": variant, "family": family, "blocks": [], "skeleton": {}},
        "preprocessing": {"classes": [str(k) for k in range(10)]},
    }
    (run / "metrics.json").write_text(json.dumps(metrics))
    return run


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    return [
        write_run(root, dataset, family, variant, seed, acc, secs)
        for dataset, (family, _, variants) in DATASETS.items()
        for variant, (acc, secs) in variants.items()
        for seed in (1, 2)
    ]


def files(run_dirs, name):
    return [d / name for d in run_dirs]


def identities(run_dirs):
    """dataset, variant and seed of each run folder, as the workflow passes them."""
    return [
        {"dataset": d.parent.parent.name, "variant": d.parent.name, "seed": int(d.name[4:])}
        for d in run_dirs
    ]


def load_runs(run_dirs):
    return run_files.load_runs(
        files(run_dirs, "metrics.json"), files(run_dirs, "predictions.parquet")
    )


def load_predictions(run_dirs, **kwargs):
    paths = files(run_dirs, "predictions.parquet")
    return run_files.load_predictions(paths, identities(run_dirs), **kwargs)


@pytest.fixture(scope="module")
def runs(run_dirs):
    return load_runs(run_dirs)


def assert_png(path, min_size=(200, 150)):
    path = Path(path)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert path.stat().st_size > 2000
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size[0] >= min_size[0] and image.size[1] >= min_size[1]
        assert image.size[0] <= 6000 and image.size[1] <= 6000


# ------------------------------------------------------------------ loading
def test_load_runs_one_row_per_run(runs, run_dirs):
    assert len(runs) == len(run_dirs) == 12
    assert (runs["n_test"] == N_ITEMS).all()
    assert json.loads(runs["recipe"].iloc[0])["batch_size"] == 32
    assert list(runs[["dataset", "variant", "seed"]].iloc[0]) == ["tiny_fsdd", "cbam", 1]


def test_load_histories_and_predictions_carry_the_run_identity(run_dirs):
    histories = run_files.load_histories(files(run_dirs, "history.csv"), identities(run_dirs))
    assert list(histories.columns[:4]) == ["dataset", "variant", "seed", "epoch"]
    assert histories.groupby(["dataset", "variant", "seed"]).ngroups == 12
    predictions = load_predictions(run_dirs)
    assert len(predictions) == 12 * N_ITEMS
    assert list(predictions.columns) == ["dataset", "variant", "seed", "item", "label", "pred"]
    assert "p9" in load_predictions(run_dirs[:1], probabilities=True)


def test_loading_refuses_mismatched_lists(run_dirs):
    with pytest.raises(ValueError, match="2 metrics files, 1 predictions"):
        run_files.load_runs(files(run_dirs[:2], "metrics.json"), files(run_dirs[:1], "x"))
    with pytest.raises(ValueError, match="2 files but 1 run identities"):
        run_files.load_histories(files(run_dirs[:2], "history.csv"), identities(run_dirs[:1]))


def test_best_attention_variant_reads_the_attention_flag(runs):
    assert tables.best_attention_variant(runs, "tiny_mnist", "base") == "se"
    no_attention = runs.assign(attention=runs["variant"].isin(["spatial"]))
    assert tables.best_attention_variant(no_attention, "tiny_mnist", "base") == "spatial"


def test_best_attention_variant_is_picked_on_validation_never_on_test(runs):
    # cbam tests best on tiny_fsdd, hybrid validates best: the pick is hybrid.
    of = runs[runs["dataset"] == "tiny_fsdd"].groupby("variant")["test_accuracy"].mean()
    assert of.drop("lenet").idxmax() == "cbam"
    assert tables.best_attention_variant(runs, "tiny_fsdd", "lenet") == "hybrid"
    # Runs that validated on the test set record no validation score: no pick at all.
    on_test = runs.assign(validation="test", validation_accuracy=None)
    assert tables.best_attention_variant(on_test, "tiny_fsdd", "lenet") is None
    table = tables.cross_domain_table(on_test, BASELINES)
    assert not table["our_best"].any()
    assert set(table["variant"]) == {"se", "cbam", "hybrid"}  # the study's picks only


# ------------------------------------------------------------------- tables
@pytest.mark.parametrize("dataset", list(DATASETS))
def test_study_table_one_finite_row_per_variant(runs, dataset):
    family, baseline, variants = DATASETS[dataset]
    table = tables.study_table(runs, dataset, baseline)
    assert table["variant"].iloc[0] == baseline
    assert sorted(table["variant"]) == sorted(variants)
    ours = ["accuracy_mean", "accuracy_std", "accuracy_ci_low", "accuracy_ci_high"]
    ours += ["time_mean_s", "time_std_s", "time_diff_s", "time_diff_std_s"]
    assert np.isfinite(table[ours].to_numpy(float)).all()
    assert (table["n_seeds"] == 2).all()
    assert (table["accuracy_ci_low"] <= table["accuracy_mean"]).all()
    study = table.set_index("variant")["study_accuracy"]
    assert study[baseline] == registry.builtin(family, baseline).study.accuracy
    assert table.loc[table["variant"] == baseline, "time_diff_s"].item() == 0


def test_study_table_with_one_seed_uses_a_labelled_binomial_ci(runs):
    one = runs[runs["seed"] == 1]
    table = tables.study_table(one, "tiny_mnist", "base")
    assert table["ci_method"].str.contains("Wilson").all()
    assert np.isfinite(table[["accuracy_ci_low", "accuracy_ci_high"]].to_numpy(float)).all()
    assert table["accuracy_std"].isna().all()
    text = tables.to_markdown(tables.format_study_table(table))
    assert "n/a" not in text.split("\n")[2].split("|")[3]  # accuracy shown without "± nan"
    assert "nan" not in text


def test_cross_domain_table_next_to_the_study(runs):
    table = tables.cross_domain_table(runs, BASELINES).set_index(["dataset", "variant"])
    assert table.loc[("tiny_mnist", "se"), "our_best"]
    assert table.loc[("tiny_mnist", "se"), "study_gain_pts"] == 0.45
    assert table.loc[("tiny_fsdd", "cbam"), "study_time_pct"] == 145.0
    assert table.loc[("tiny_fsdd", "hybrid"), "study_time_pct"] == 9.0
    assert np.isfinite(table[["gain_pts", "time_pct"]].to_numpy(float)).all()
    assert table.loc[("tiny_fsdd", "cbam"), "time_pct"] == pytest.approx(125, abs=1)


def test_write_table_csv_and_markdown(runs, tmp_path):
    table = tables.study_table(runs, "tiny_fsdd", "lenet")
    tables.write_table(
        table, tmp_path / "t.csv", tmp_path / "t.md", tables.format_study_table(table)
    )
    back = pd.read_csv(tmp_path / "t.csv")
    assert list(back["variant"]) == list(table["variant"])
    markdown = (tmp_path / "t.md").read_text()
    assert markdown.startswith("| variant") and "±" in markdown and "study accuracy" in markdown


def test_the_ranking_says_when_seeds_on_demand_gave_some_variants_more_seeds(runs):
    assert "seeds every variant ran" not in summary.overview_markdown(runs, BASELINES, {})
    uneven = runs[~((runs["variant"] == "spatial") & (runs["seed"] == 2))]
    overview = summary.overview_markdown(uneven, BASELINES, {})
    mnist = overview.split("## tiny_fsdd")[0]
    assert "use only the seeds every variant ran (n = 1); 2 variants have more (2-2 seeds)" in mnist
    assert "seeds every variant ran" not in overview.split("## tiny_fsdd")[1]


def test_summary_markdown_has_tables_verdicts_and_seeds(runs):
    study = {d: tables.study_table(runs, d, b) for d, b in BASELINES.items()}
    cross = tables.cross_domain_table(runs, BASELINES)
    verdict_table = verdicts.verdicts(runs)
    text = summary.summary_markdown(study, cross, verdict_table, summary.seeds_line(runs))
    assert "Seeds used: tiny_fsdd: 1, 2 (n=2); tiny_mnist: 1, 2 (n=2)." in text
    for heading in ("## tiny_mnist", "## tiny_fsdd", "## Across domains", "## Verdicts"):
        assert heading in text
    assert "inconclusive" in text or "not run" in text
    assert (
        summary.summary_markdown(study, cross, verdict_table, [4]).count("Seeds used: 4 (n=1).")
        == 1
    )


def test_format_p():
    values = (0.0004, 0.0312, 0.999, 1.0, math.nan)
    assert [stats.format_p(p) for p in values] == ["<0.001", "0.031", "0.999", ">0.999", "n/a"]
    assert [stats.p_clause(p) for p in values[::2]] == ["p < 0.001", "p = 0.999", "p n/a"]


# ------------------------------------------------------------------ figures
def test_curve_figures_are_valid_pngs(run_dirs, tmp_path):
    histories = run_files.load_histories(files(run_dirs, "history.csv"), identities(run_dirs))
    for metric in ("accuracy", "loss"):
        for dataset, h in histories.groupby("dataset"):
            fig = figures.curves_figure(h, metric, f"{dataset}: {metric}")
            assert fig.axes[0].get_xlabel() == "epoch" and fig.axes[0].get_legend()
            assert_png(figures.save_figure(fig, tmp_path / f"{dataset}_{metric}.png"))


def test_confusion_and_cost_benefit_figures(runs, run_dirs, tmp_path):
    predictions = load_predictions(run_dirs)
    fig = figures.confusion_figure(predictions[predictions["dataset"] == "tiny_mnist"])
    assert len([ax for ax in fig.axes if ax.get_xlabel() == "predicted class"]) == 3
    assert_png(figures.save_figure(fig, tmp_path / "confusion.png"))
    fig = figures.cost_benefit_figure(runs, BASELINES)
    assert "training time (s" in fig.axes[0].get_xlabel()
    assert_png(figures.save_figure(fig, tmp_path / "cost.png"))


def test_every_variant_gets_its_own_colour_and_marker():
    styles = [tuple(figures.variant_style(i).values()) for i in range(90)]
    assert len(set(styles)) == 90
    assert all(a[0] != b[0] and a[1] != b[1] for a, b in zip(styles, styles[1:], strict=False))


def test_pareto_front_keeps_what_nothing_beats_on_both():
    cost = [10, 20, 15, 30, 12]
    benefit = [0.90, 0.95, 0.80, 0.97, 0.90]
    # 15 s at 0.80 is beaten by 10 s at 0.90, and 12 s at 0.90 ties that accuracy slower.
    assert figures.pareto_front(cost, benefit) == [0, 1, 3]


def test_a_collapsed_variant_is_an_outlier_and_close_ones_are_not():
    accuracies = [0.979, 0.981, 0.978, 0.980, 0.100, 0.982]
    assert figures.low_outliers(accuracies).tolist() == [False] * 4 + [True, False]
    assert not figures.low_outliers([0.97, 0.975, 0.98, 0.96]).any()


def test_cost_benefit_draws_a_collapsed_variant_at_the_edge_not_in_the_axis():
    rows = [
        {"dataset": "d", "variant": v, "seed": s, "train_seconds": t + s, "test_accuracy": a}
        for v, t, a in (("base", 10, 0.98), ("se", 11, 0.981), ("cbam", 14, 0.979),
                        ("eca", 12, 0.982), ("self_attention", 20, 0.10))
        for s in (1, 2)
    ]  # fmt: skip
    fig = figures.cost_benefit_figure(pd.DataFrame(rows), {"d": "base"})
    ax = fig.axes[0]
    assert ax.get_ylim()[0] > 0.9  # the working variants fill the axis
    texts = [t.get_text() for t in ax.texts]
    assert "self_attention: 0.100 (below the axis)" in texts
    assert {"base", "se", "cbam", "eca"} <= set(texts)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "base (baseline)" in legend and "Pareto front" in legend


def test_confusion_counts_pool_seeds():
    predictions = pd.DataFrame({"label": [0, 0, 1, 1], "pred": [0, 1, 1, 1], "seed": [1, 1, 2, 2]})
    assert figures.confusion_counts(predictions, 2).tolist() == [[1, 1], [0, 2]]


def attention_arrays(n=3, channels=1, size=28):
    rng = np.random.default_rng(0)
    images = rng.random((n, size, size, channels)).astype("float32")
    scores = rng.random((n, 4, 25, 25))
    maps = {
        "spatial_gate/spatial": rng.random((n, 13, 13)),
        "cbam_1/spatial": rng.random((n, 13, 13)),
        "self_attention/scores": scores / scores.sum(-1, keepdims=True),
        "se_1/channel": rng.random((n, 32)),
    }
    return images, maps


def test_every_kind_of_map_has_its_figure(tmp_path):
    images, maps = attention_arrays()
    archive = {"variant": "v", **maps}
    for kind, name in block_records.MAP_FIGURES.items():
        assert map_figures.kind_of_figure(name) == kind
        of_kind = map_figures.archive_maps([archive], kind)
        assert of_kind and all(key.endswith(f"/{kind}") for key in of_kind)
        fig = map_figures.map_figure(kind, images, of_kind, labels=[3, 1, 4], title="digits")
        assert_png(figures.save_figure(fig, tmp_path / f"{name}.png"))
    with pytest.raises(ValueError, match="'gate/odd': its kind is not one of"):
        map_figures.archive_maps([{"variant": "v", "gate/odd": np.ones((1, 2))}], "spatial")
    with pytest.raises(ValueError, match="no figure for maps of kind 'odd'"):
        map_figures.map_figure("odd", images, maps)


def test_patch_focus_is_a_grid_of_received_attention():
    scores = np.zeros((1, 2, 25, 25))
    scores[..., 7] = 1.0  # every query of every head looks at patch 7
    focus = map_figures.patch_focus(scores)
    assert focus.shape == (1, 5, 5) and focus[0, 1, 2] == 1.0 and focus.sum() == 1.0
    with pytest.raises(ValueError, match="square"):
        map_figures.patch_focus(np.ones((1, 1, 24, 24)))


def test_gradcam_figure_on_rgb_spectrograms(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.random((2, 64, 64, 3))
    cams = {"lenet": rng.random((2, 64, 64)), "cbam": rng.random((2, 64, 64))}
    assert_png(figures.save_figure(map_figures.gradcam_figure(images, cams), tmp_path / "g.png"))


def test_example_indices_are_fixed_sorted_and_of_distinct_classes():
    labels = np.repeat(np.arange(10), 100)
    first = map_figures.example_indices(labels, 6, seed=4)
    assert first.tolist() == sorted(first) and len(set(labels[first])) == 6
    assert (first == map_figures.example_indices(labels, 6, seed=4)).all()
    twelve = map_figures.example_indices(labels, 12, seed=4)
    assert len(set(twelve)) == 12 and len(set(labels[twelve])) == 10
    assert len(map_figures.example_indices(np.array([0, 1, 1]), 6, seed=4)) == 3


# ------------------------------------------------------------------ scripts
class Named(list):
    """Stands in for snakemake's Namedlist: a list with named entries as attributes."""

    def __init__(self, *items, **named):
        super().__init__(items or named.values())
        self.__dict__.update(named)

    def __getitem__(self, key):
        return self.__dict__[key] if isinstance(key, str) else super().__getitem__(key)


def run_script(name, tmp_path, input=None, output=None, params=None, wildcards=None):
    snakemake = type("Snakemake", (), {})()
    snakemake.input = Named(**(input or {}))
    snakemake.output = Named(**(output or {}))
    snakemake.params = Named(**(params or {}))
    snakemake.wildcards = Named(**(wildcards or {}))
    snakemake.log = Named(str(tmp_path / f"{name}.log"))
    snakemake.threads = 1
    runpy.run_path(str(SCRIPTS / f"{name}.py"), init_globals={"snakemake": snakemake})


def run_inputs(run_dirs):
    metrics, predictions = files(run_dirs, "metrics.json"), files(run_dirs, "predictions.parquet")
    return {"metrics": metrics, "predictions": predictions}


def test_table_scripts(run_dirs, tmp_path):
    mnist = [d for d in run_dirs if "tiny_mnist" in str(d)]
    out = {k: str(tmp_path / f"mnist_{k}") for k in ("study_csv", "study_md", "compare_csv")}
    out |= {k: str(tmp_path / f"mnist_{k}") for k in ("compare_md", "mcnemar_csv")}
    out |= {k: str(tmp_path / f"mnist_{k}") for k in ("verdicts_csv", "verdicts_md")}
    params = {"baseline": "base", "runs": identities(mnist)}
    wildcards = {"dataset": "tiny_mnist"}
    run_script("tables_dataset", tmp_path, run_inputs(mnist), out, params, wildcards)
    assert len(pd.read_csv(out["study_csv"])) == 3
    assert len(pd.read_csv(out["mcnemar_csv"])) == 2 * 2
    # One dataset's verdicts: only the claims about its family (digits), each on it.
    dataset_verdicts = pd.read_csv(out["verdicts_csv"])
    digits_claims = {c.id for c in claims.CLAIMS if c.family == "digits"}
    assert set(dataset_verdicts["claim_id"]) == digits_claims
    assert set(dataset_verdicts["dataset"]) == {"tiny_mnist"}
    header = [
        cell.strip() for cell in Path(out["verdicts_md"]).read_text().split("\n")[0].split("|")
    ]
    assert "seeds" in header and "n_seeds" not in header  # the test column says the unit
    names = ("cross_domain_csv", "cross_domain_md", "verdicts_csv", "verdicts_md", "summary")
    out = {k: str(tmp_path / k) for k in names}
    params = {"baselines": BASELINES, "runs": identities(run_dirs), "sweeps": {}, "data_seed": 4}
    params["compared"] = {}
    inputs = run_inputs(run_dirs) | {"decisions": []}
    run_script("tables", tmp_path, inputs, out, params)
    verdict_table = pd.read_csv(out["verdicts_csv"])
    assert set(verdict_table["verdict"]) <= set(verdicts.VERDICTS)
    text = Path(out["summary"]).read_text()
    assert "Seeds used" in text and f"No run collapsed ({len(run_dirs)} runs)." in text


def test_figure_scripts(run_dirs, tmp_path):
    fsdd = [d for d in run_dirs if "tiny_fsdd" in str(d)]
    out = {"accuracy": str(tmp_path / "acc.png"), "loss": str(tmp_path / "loss.png")}
    params = {"title": "tiny_fsdd", "runs": identities(fsdd)}
    run_script("figures_curves", tmp_path, {"history": files(fsdd, "history.csv")}, out, params)
    figures_out = {"confusion": str(tmp_path / "cm.png"), "cost_benefit": str(tmp_path / "cb.png")}
    params |= {"baselines": BASELINES, "classes": [str(k) for k in range(10)]}
    run_script("figures_results", tmp_path, run_inputs(fsdd), figures_out, params)
    for path in [*out.values(), *figures_out.values()]:
        assert_png(path)


def test_attention_figure_script(tmp_path):
    images, maps = attention_arrays(n=2)
    archives = []
    for variant, keys in (("base", []), ("cbam", ["cbam_1/spatial", "se_1/channel"])):
        archives.append(tmp_path / f"{variant}.npz")
        np.savez(
            archives[-1],
            variant=np.array(variant),
            images=images,
            labels=np.array([3, 1]),
            gradcam=np.random.default_rng(2).random((2, 28, 28)),
            **{k: maps[k] for k in keys},
        )
    # The figures a dataset of these two variants gets: no self-attention figure.
    for figure in ("attention_spatial", "channel_weights", "gradcam"):
        out = {"png": str(tmp_path / f"{figure}.png")}
        inputs = {"maps": [str(a) for a in archives]}
        run_script(
            "figures_attention", tmp_path, inputs, out, {"title": "tiny"}, {"figure": figure}
        )
        assert_png(out["png"], min_size=(200, 100))


def test_transfer_table_floors_identical_seeds_at_their_item_noise():
    runs = pd.DataFrame(
        {"dataset": "a", "variant": "v", "seed": [4, 5], "test_accuracy": 0.9, "n_test": 400}
    )
    scores = pd.DataFrame(
        {"train": "a", "test": "b", "variant": "v", "seed": [4, 5], "accuracy": 0.7}
    )
    (row,) = tables.transfer_table(runs, scores.assign(n_items=100)).itertuples()
    # Two identical seeds: the sd is the floor, never a zero-width or NaN interval.
    assert row.drop_ci_low < 20.0 < row.drop_ci_high
    assert row.home_ci_low < 90.0 < row.home_ci_high and row.other_ci_low < 70.0 < row.other_ci_high
    floor = 100 * math.sqrt(
        sum(
            p * (1 - p) / m for p, m in (((0.9 * 400 + 1) / 402, 400), ((0.7 * 100 + 1) / 102, 100))
        )
    )
    half = stats_t_half(floor, 2)
    assert row.drop_ci_high - 20.0 == pytest.approx(half)


def stats_t_half(sd: float, n: int) -> float:
    from scipy import stats as scipy_stats

    return scipy_stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
