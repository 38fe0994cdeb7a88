"""The study's figures with matplotlib (Agg): every function returns a Figure.

Result figures take the tidy frames of `attnlab.tables` (histories,
predictions, runs) and draw one panel per variant (or per dataset). Attention
figures take numpy arrays, so they are testable without a model:

- images (N, H, W, C) in [0, 1] (C = 1 grayscale or 3 RGB);
- maps as `attnlab.attention.maps` returns them, keyed "<layer>/<kind>":
  spatial (N, h, w), self-attention scores (N, heads, T, T), channel (N, C);
- Grad-CAM (N, H, W) per variant, from `attnlab.attention.grad_cam`.

`save_figure(fig, path)` writes a PNG and closes the figure.
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
MAP_CMAP = "jet"


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


def _panels(n: int, ncols: int = 3, size=(4.2, 3.3), **kwargs):
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
    fig, axes = _panels(len(variants), sharey=True)
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
    fig, axes = _panels(len(counts), size=(4.6, 4.2))
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
    fig, axes = _panels(len(datasets), ncols=2, size=(6.5, 5.0))
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

    fig, axes = _panels(len(keys), ncols=3, size=(4.6, 3.4))
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


# ---------------------------------------------------------- attention maps
def example_indices(labels: Sequence[int], examples: int, seed: int) -> np.ndarray:
    """A fixed, seeded choice of test rows (sorted), the same for every variant.

    Distinct classes first: one row from each of `examples` classes drawn at random;
    only when `examples` exceeds the number of classes does a class repeat.
    """
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    pools = {c: list(rng.permutation(np.flatnonzero(labels == c))) for c in np.unique(labels)}
    chosen = []
    while len(chosen) < min(examples, labels.size):
        for label in rng.permutation(sorted(pools)):
            if pools[label] and len(chosen) < examples:
                chosen.append(pools[label].pop())
    return np.sort(np.asarray(chosen, dtype=int))


def _image(ax, image: np.ndarray) -> None:
    image = np.clip(np.asarray(image, dtype=float), 0, 1)
    if image.ndim == 3 and image.shape[-1] == 1:
        ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(image)
    ax.set_xticks([])
    ax.set_yticks([])


def _overlay(ax, image, amap, norm: tuple[float, float], interpolation: str):
    """`amap` stretched over the whole image (any resolution), semi-transparent."""
    _image(ax, image)
    h, w = image.shape[:2]
    return ax.imshow(
        amap,
        extent=(-0.5, w - 0.5, h - 0.5, -0.5),
        cmap=MAP_CMAP,
        alpha=0.5,
        vmin=norm[0],
        vmax=norm[1],
        interpolation=interpolation,
    )


def _row_label(ax, i: int, labels) -> None:
    text = f"example {i}" if labels is None else f"label {labels[i]}"
    ax.set_ylabel(text)


def _column_colorbar(fig, ax, mappable) -> None:
    """A thin colour bar under `ax` that takes no space from the grid."""
    cax = ax.inset_axes([0.05, -0.16, 0.9, 0.07])
    bar = fig.colorbar(mappable, cax=cax, orientation="horizontal")
    bar.ax.tick_params(labelsize="x-small")
    bar.ax.xaxis.set_major_locator(MaxNLocator(3))


def overlay_figure(
    images: np.ndarray,
    maps: Mapping[str, np.ndarray],
    labels: Sequence | None = None,
    title: str = "",
    value_label: str = "map value",
    interpolation: str = "bilinear",
    vrange: tuple[float, float] | None = None,
) -> Figure:
    """Rows of examples: the input, then each (N, h, w) map overlaid on it.

    Colours span `vrange` in every column (e.g. (0, 1) for gates and Grad-CAM,
    comparable across columns), or each column's own min-max when None; the
    bar under each column shows its scale, `value_label` what it measures.
    """
    n, names = len(images), list(maps)
    fig, axes = plt.subplots(
        n, 1 + len(names), figsize=(2.1 * (1 + len(names)), 2.2 * n + 0.8), squeeze=False
    )
    for i in range(n):
        _image(axes[i, 0], images[i])
        _row_label(axes[i, 0], i, labels)
    axes[0, 0].set_title("input")
    for j, name in enumerate(names, start=1):
        values = np.asarray(maps[name], dtype=float)
        norm = vrange or (float(values.min()), float(values.max()))
        for i in range(n):
            mappable = _overlay(axes[i, j], images[i], values[i], norm, interpolation)
        axes[0, j].set_title(name, fontsize="small")
        _column_colorbar(fig, axes[-1, j], mappable)
    fig.suptitle(title or "Attention maps")
    scale = "same scale in every column" if vrange else "own scale per column"
    fig.supxlabel(f"colour: {value_label} ({scale})", fontsize="small")
    fig.subplots_adjust(hspace=0.3)
    return fig


def spatial_maps_figure(images, maps, labels=None, title="") -> Figure:
    """Spatial attention maps (N, h, w), sigmoid gates in [0, 1], over the inputs."""
    title = title or "Spatial attention maps"
    return overlay_figure(images, maps, labels, title, "gate value", vrange=(0.0, 1.0))


def gradcam_figure(images, cams, labels=None, title="") -> Figure:
    """Grad-CAM heat maps (N, H, W) per variant, over the same inputs."""
    title = title or "Grad-CAM (predicted class)"
    return overlay_figure(images, cams, labels, title, "relevance", vrange=(0.0, 1.0))


def patch_focus(scores: np.ndarray) -> np.ndarray:
    """Attention each patch receives, averaged over heads and queries: (N, g, g)."""
    scores = np.asarray(scores, dtype=float)
    tokens = scores.shape[-1]
    side = math.isqrt(tokens)
    if side * side != tokens:
        raise ValueError(f"self-attention over {tokens} tokens is not a square grid")
    return scores.mean(axis=(1, 2)).reshape(-1, side, side)


def self_attention_figure(images, scores: Mapping[str, np.ndarray], labels=None, title=""):
    """Self-attention focus over the patch grid (5x5 on digits) on the inputs.

    For each scores array (N, heads, T, T): the mean over heads, then one
    column per head; a patch's value is the attention it receives, averaged
    over the queries (rows of the scores sum to 1, so the values of one map
    average 1/T).
    """
    columns = {}
    for name, s in scores.items():
        s = np.asarray(s, dtype=float)
        columns[f"{name}\nmean of {s.shape[1]} heads"] = patch_focus(s)
        for head in range(s.shape[1]):
            columns[f"head {head}"] = patch_focus(s[:, head : head + 1])
    return overlay_figure(
        images,
        columns,
        labels,
        title or "Self-attention focus over patches",
        "attention a patch receives (fraction of 1)",
        interpolation="nearest",
    )


def channel_weights_figure(weights: Mapping[str, np.ndarray], title: str = "") -> Figure:
    """Channel attention weights (N, C): mean over examples ±1 sd, one panel per block."""
    fig, axes = _panels(len(weights), ncols=2, size=(6.0, 3.2))
    for ax, (name, w) in zip(axes, weights.items(), strict=True):
        w = np.asarray(w, dtype=float)
        ax.bar(np.arange(w.shape[1]), w.mean(axis=0), yerr=w.std(axis=0), color="C2", ecolor="gray")
        ax.set(xlabel="channel index", ylabel="weight (unitless)")
        ax.set_title(f"{name} (mean ± 1 sd over {len(w)} images)", fontsize="small")
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(title or "Channel attention weights")
    fig.tight_layout()
    return fig


def map_kind(name: str, array: np.ndarray) -> str:
    """ "spatial", "self_attention" or "channel", from the key's kind or the shape."""
    kind = name.rsplit("/", 1)[-1]
    by_kind = {"spatial": "spatial", "scores": "self_attention", "channel": "channel"}
    if kind in by_kind:
        return by_kind[kind]
    by_ndim = {3: "spatial", 4: "self_attention", 2: "channel"}
    if array.ndim not in by_ndim:
        raise ValueError(f"cannot tell the kind of map {name!r} with shape {array.shape}")
    return by_ndim[array.ndim]


def attention_figures(images, maps: Mapping[str, np.ndarray], labels=None, title: str = ""):
    """One figure per kind of map present: {"spatial", "self_attention", "channel"}."""
    grouped: dict[str, dict] = {}
    for name, array in maps.items():
        grouped.setdefault(map_kind(name, np.asarray(array)), {})[name] = array
    prefix = f"{title}: " if title else ""
    makers = {
        "spatial": lambda m: spatial_maps_figure(images, m, labels, f"{prefix}spatial attention"),
        "self_attention": lambda m: self_attention_figure(
            images, m, labels, f"{prefix}self-attention focus over patches"
        ),
        "channel": lambda m: channel_weights_figure(m, f"{prefix}channel attention weights"),
    }
    return {kind: makers[kind](group) for kind, group in grouped.items()}
