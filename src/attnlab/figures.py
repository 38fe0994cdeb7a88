"""The study's result figures with matplotlib (Agg): every function returns a Figure.

They take the tidy frames of `attnlab.run_files` (histories, predictions, runs) and
draw one panel per variant (or per dataset); the attention figures are
`attnlab.map_figures`. `save_figure(fig, path)` writes a PNG and closes the figure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

METRIC_LABELS = {
    "accuracy": "accuracy (fraction correct)",
    "loss": "loss (cross-entropy, nats)",
}


# ------------------------------------------------------------------- helpers
def save_figure(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Write `fig` as PNG to `path` (folders created) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight", format="png")
    plt.close(fig)
    return path


def message_figure(message: str, title: str = "") -> Figure:
    """A small figure holding a message (e.g. "no attention maps for these variants")."""
    fig, ax = plt.subplots(figsize=(6, 2))
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    ax.set_axis_off()
    ax.set_title(title)
    return fig


def panels(n: int, ncols: int = 3, size=(4.2, 3.3), **kwargs):
    ncols = max(1, min(n, ncols))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False, **kwargs
    )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _n_seeds(frame: pd.DataFrame) -> int:
    return frame["seed"].nunique() if "seed" in frame else 1


# -------------------------------------------------------------------- curves
def _band(ax, per_epoch: pd.DataFrame, column: str, label: str, color: str) -> None:
    g = per_epoch.groupby("epoch")[column].agg(["mean", "std"])
    ax.plot(g.index, g["mean"], marker="o", markersize=3, color=color, label=label)
    if g["std"].notna().any():
        ax.fill_between(g.index, g["mean"] - g["std"], g["mean"] + g["std"], color=color, alpha=0.2)


def curves_figure(histories: pd.DataFrame, metric: str = "accuracy", title: str = "") -> Figure:
    """Train and validation `metric` per epoch, one panel per variant.

    Lines are the mean across seeds, bands ±1 standard deviation (seeds that
    stopped early count only for the epochs they ran).
    """
    variants = list(dict.fromkeys(histories["variant"]))
    fig, axes = panels(len(variants), sharey=True)
    for ax, variant in zip(axes, variants, strict=True):
        h = histories[histories["variant"] == variant]
        _band(ax, h, metric, "train", "C0")
        _band(ax, h, f"val_{metric}", "validation", "C1")
        ax.set_title(f"{variant} (n={_n_seeds(h)} seeds)")
        ax.set_xlabel("epoch")
        ax.set_ylabel(METRIC_LABELS.get(metric, metric))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0].legend(title="mean ± 1 sd over seeds", fontsize="small")
    fig.suptitle(title or f"{metric} per epoch")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- confusion
def confusion_counts(predictions: pd.DataFrame, n_classes: int | None = None) -> np.ndarray:
    """Counts[true, predicted] over every row of `predictions` (pooled seeds)."""
    labels = predictions["label"].to_numpy(int)
    preds = predictions["pred"].to_numpy(int)
    k = n_classes or int(max(labels.max(), preds.max())) + 1
    counts = np.zeros((k, k), dtype=int)
    np.add.at(counts, (labels, preds), 1)
    return counts


def _confusion_panel(ax, counts: np.ndarray, classes: Sequence[str], title: str):
    image = ax.imshow(counts, cmap="Blues")
    ticks = np.arange(len(classes))
    ax.set(xticks=ticks, yticks=ticks, xticklabels=classes, yticklabels=classes)
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    threshold = counts.max() / 2
    for (i, j), value in np.ndenumerate(counts):
        if value:
            color = "white" if value > threshold else "black"
            ax.text(j, i, value, ha="center", va="center", fontsize=7, color=color)
    return image


def confusion_figure(
    predictions: pd.DataFrame, classes: Sequence[str] | None = None, title: str = ""
) -> Figure:
    """Confusion matrix per variant, counts pooled over seeds."""
    k = len(classes) if classes else None
    counts = {v: confusion_counts(p, k) for v, p in predictions.groupby("variant", sort=False)}
    k = max(c.shape[0] for c in counts.values())
    classes = list(classes) if classes else [str(i) for i in range(k)]
    fig, axes = panels(len(counts), size=(4.6, 4.2))
    for ax, (variant, c) in zip(axes, counts.items(), strict=True):
        seeds = _n_seeds(predictions[predictions["variant"] == variant])
        accuracy = np.trace(c) / c.sum()
        image = _confusion_panel(ax, c, classes, f"{variant}: acc {accuracy:.4f}, {seeds} seeds")
        fig.colorbar(image, ax=ax, fraction=0.046, label="test items (count)")
    fig.suptitle(title or "Confusion matrices (pooled over seeds)")
    fig.tight_layout()
    return fig


# -------------------------------------------------------------- cost-benefit
MARKERS = ("o", "^", "D", "v", "P", "X", "<", ">", "h")


def variant_style(index: int) -> dict:
    """Colour and marker of the index-th variant: both change from one variant to the next
    and no pair repeats before 90 variants (10 colours x 9 markers, coprime cycles)."""
    return {"color": f"C{index % 10}", "marker": MARKERS[index % len(MARKERS)]}


def pareto_front(cost: Sequence[float], benefit: Sequence[float]) -> list[int]:
    """Indices of the points no other point beats on both (lower cost, higher benefit),
    in order of cost."""
    order = sorted(range(len(cost)), key=lambda i: (cost[i], -benefit[i]))
    front, best = [], -math.inf
    for i in order:
        if benefit[i] > best:
            front.append(i)
            best = benefit[i]
    return front


def low_outliers(values: Sequence[float], fence: float = 3.0) -> np.ndarray:
    """Which values lie below Q1 - fence x IQR (a collapsed variant among working ones);
    the IQR is floored at one point of accuracy so that close values never count."""
    values = np.asarray(values, dtype=float)
    q1, q3 = np.nanpercentile(values, [25, 75])
    return values < q1 - fence * max(q3 - q1, 0.01)


def cost_benefit_figure(runs: pd.DataFrame, baselines: Mapping[str, str] | None = None) -> Figure:
    """Test accuracy vs training time per variant, one panel per dataset.

    Points are means across seeds with ±1 sd bars, each variant its own colour and marker
    and labelled beside its point; the baseline is a black square. The dashed line is the
    Pareto front (no other variant is both faster and more accurate). A variant far below
    the others (`low_outliers`, e.g. collapsed to chance) is drawn at the bottom edge as a
    downward triangle with its accuracy, so it does not squeeze the others into a sliver.
    """
    datasets = list(dict.fromkeys(runs["dataset"]))
    fig, axes = panels(len(datasets), ncols=2, size=(6.5, 5.0))
    for ax, dataset in zip(axes, datasets, strict=True):
        of = runs[runs["dataset"] == dataset]
        summary = of.groupby("variant", sort=False)[["train_seconds", "test_accuracy"]]
        summary = summary.agg(["mean", "std"]).fillna(0.0)
        _cost_benefit_panel(ax, summary, (baselines or {}).get(dataset))
        ax.set(xlabel="training time (s, wall time of fit)", ylabel="test accuracy (fraction)")
        ax.set_title(f"{dataset}: accuracy vs cost (n={_n_seeds(of)} seeds, ±1 sd)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _cost_benefit_panel(ax, summary: pd.DataFrame, baseline: str | None) -> None:
    seconds, accuracy = summary[("train_seconds", "mean")], summary[("test_accuracy", "mean")]
    outlying = low_outliers(accuracy)
    for i, variant in enumerate(summary.index):
        style = {"color": "black", "marker": "s"} if variant == baseline else variant_style(i)
        if outlying[i]:
            continue
        ax.errorbar(
            seconds.iloc[i],
            accuracy.iloc[i],
            xerr=summary[("train_seconds", "std")].iloc[i],
            yerr=summary[("test_accuracy", "std")].iloc[i],
            fmt=style["marker"],
            color=style["color"],
            capsize=3,
            label=variant + (" (baseline)" if variant == baseline else ""),
        )
        ax.annotate(variant, (seconds.iloc[i], accuracy.iloc[i]), **_LABEL)
    front = pareto_front(list(seconds[~outlying]), list(accuracy[~outlying]))
    front_style = {"color": "gray", "linewidth": 1, "label": "Pareto front"}
    ax.plot(seconds[~outlying].iloc[front], accuracy[~outlying].iloc[front], "--", **front_style)
    bottom, (left, right) = ax.get_ylim()[0], ax.get_xlim()
    for i in np.flatnonzero(outlying):
        variant, color, x = summary.index[i], variant_style(i)["color"], seconds.iloc[i]
        ax.plot(x, bottom, "v", color=color, clip_on=False, markersize=9)
        text = f"{variant}: {accuracy.iloc[i]:.3f} (below the axis)"
        side = "right" if x > (left + right) / 2 else "left"
        ax.annotate(
            text, (x, bottom), textcoords="offset points", xytext=(0, 8), fontsize=7, ha=side
        )
    ax.set_ylim(bottom=bottom)
    ax.legend(fontsize="x-small", ncol=2)


_LABEL = {"textcoords": "offset points", "xytext": (4, 4), "fontsize": 7}


# ---------------------------------------------------------- many variants
def critical_difference_figure(
    ranks: pd.Series, posthoc: pd.DataFrame, cd: float, title: str = ""
) -> Figure:
    """Demsar's critical-difference diagram: mean ranks (1 = best) on an axis, variants
    that Nemenyi's test cannot tell apart (p >= 0.05) joined by a bar, and the CD."""
    import scikit_posthocs as sp

    fig, ax = plt.subplots(figsize=(8, 1.0 + 0.28 * len(ranks)))
    sp.critical_difference_diagram(ranks, posthoc.fillna(1.0), ax=ax)
    ax.set_title(title or f"Critical difference diagram (CD = {cd:.2f})", pad=20)
    return fig


def sweep_figure(table: pd.DataFrame, keys: Sequence[str], series, title: str = "") -> Figure:
    """Accuracy against each swept key (one panel each), mean and 95% t-interval over
    seeds; one line per combination of the other keys (`series(table, key)`)."""
    from attnlab.sweeps import numeric_order

    fig, axes = panels(len(keys), ncols=3, size=(4.6, 3.4))
    for ax, key in zip(axes, keys, strict=True):
        order = numeric_order(table[key])
        lines = series(table, key)
        for i, (label, frame) in enumerate(lines.items()):
            frame = frame.set_index(key).reindex(order).dropna(subset=["accuracy_mean_pts"])
            shift = 0.05 * (i - (len(lines) - 1) / 2)  # overlapping lines stay visible
            x = [order.index(v) + shift for v in frame.index]
            mean = frame["accuracy_mean_pts"].to_numpy()
            low = np.nan_to_num(mean - frame["accuracy_ci_low_pts"].to_numpy())
            high = np.nan_to_num(frame["accuracy_ci_high_pts"].to_numpy() - mean)
            ax.errorbar(
                x,
                mean,
                yerr=[low, high],
                fmt="-o",
                capsize=4,
                color=f"C{i % 10}",
                label=label or None,
            )
        ax.set_xticks(range(len(order)), order)
        n = int(table["n_seeds"].min())
        ax.set(xlabel=key, ylabel="test accuracy (%)", title=f"{key} (n={n} seeds, 95% CI)")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="x-small")
    fig.suptitle(title or "Sweep")
    fig.tight_layout()
    return fig
