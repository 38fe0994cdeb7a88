"""Attention-map and Grad-CAM figures, from numpy arrays (testable without a model).

- images (N, H, W, C) in [0, 1] (C = 1 grayscale or 3 RGB);
- maps as `attnlab.attention.maps` returns them, keyed "<layer>/<kind>" with a kind of
  `block_records.MAP_FIGURES`: spatial (N, h, w), self-attention scores
  (N, heads, T, T), channel (N, C);
- Grad-CAM (N, H, W) per variant, from `attnlab.attention.grad_cam`.

A dataset gets the figure of a kind only when one of its variants has a block with
maps of that kind (`attnlab.plan.Plan.map_figures`), and Grad-CAM always.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from attnlab.block_records import GRADCAM, MAP_FIGURES
from attnlab.figures import panels, plt

MAP_CMAP = "jet"


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
    fig, axes = panels(len(weights), ncols=2, size=(6.0, 3.2))
    for ax, (name, w) in zip(axes, weights.items(), strict=True):
        w = np.asarray(w, dtype=float)
        ax.bar(np.arange(w.shape[1]), w.mean(axis=0), yerr=w.std(axis=0), color="C2", ecolor="gray")
        ax.set(xlabel="channel index", ylabel="weight (unitless)")
        ax.set_title(f"{name} (mean ± 1 sd over {len(w)} images)", fontsize="small")
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(title or "Channel attention weights")
    fig.tight_layout()
    return fig


def map_kind(key: str) -> str:
    """The kind of map under `key` ("<...>/<kind>"): one of `MAP_FIGURES`."""
    kind = key.rsplit("/", 1)[-1]
    if kind not in MAP_FIGURES:
        raise ValueError(f"map {key!r}: its kind is not one of {', '.join(MAP_FIGURES)}")
    return kind


def kind_of_figure(figure: str) -> str:
    """The kind of map a figure draws (`MAP_FIGURES` read backwards), or `GRADCAM`."""
    kinds = {name: kind for kind, name in MAP_FIGURES.items()} | {GRADCAM: GRADCAM}
    if figure not in kinds:
        raise ValueError(f"no attention figure {figure!r}: one of {', '.join(kinds)}")
    return kinds[figure]


def archive_maps(archives: Sequence[Mapping], kind: str) -> dict[str, np.ndarray]:
    """The maps of one kind in the archives of `attention_maps` (one per variant), keyed
    "<variant>\n<layer>/<kind>"; for `GRADCAM` each variant's Grad-CAM, keyed by variant."""
    if kind == GRADCAM:
        return {str(a["variant"]): a["gradcam"] for a in archives}
    return {
        f"{a['variant']}\n{key}": a[key]
        for a in archives
        for key in a.keys()
        if "/" in key and map_kind(key) == kind
    }


def map_figure(kind: str, images, maps: Mapping[str, np.ndarray], labels=None, title="") -> Figure:
    """The figure of one kind of map over `images` (the `GRADCAM` maps, or those of one
    kind, e.g. from `archive_maps`); `title` prefixes what it shows, e.g. the dataset."""
    prefix = f"{title}: " if title else ""
    makers = {
        GRADCAM: lambda: gradcam_figure(images, maps, labels, f"{prefix}Grad-CAM"),
        "spatial": lambda: spatial_maps_figure(images, maps, labels, f"{prefix}spatial attention"),
        "scores": lambda: self_attention_figure(
            images, maps, labels, f"{prefix}self-attention focus over patches"
        ),
        "channel": lambda: channel_weights_figure(maps, f"{prefix}channel attention weights"),
    }
    if kind not in makers:
        raise ValueError(f"no figure for maps of kind {kind!r}: one of {', '.join(makers)}")
    if not maps:
        raise ValueError(f"{prefix}no {kind} maps to draw")
    return makers[kind]()
