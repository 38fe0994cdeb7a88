"""Attention-map and Grad-CAM figures of a dataset's variants: thin adapter to attnlab.figures.

Expects from the rule:
  input.maps             list of .npz written by attention_maps.py, one per variant, all on
                         the same test images
  params.title           (optional) title prefix; default the archives' dataset
  output.spatial         (optional) PNG: spatial and CBAM spatial maps over the inputs
  output.self_attention  (optional) PNG: self-attention focus over the patch grid
  output.channel         (optional) PNG: channel weights (SE, CBAM, hybrid)
  output.gradcam         (optional) PNG: Grad-CAM of every variant over the same inputs
  log[0]                 the job's log
Kinds no variant has get a figure that says so, so every output exists.
"""

import numpy as np

from attnlab import figures
from attnlab.logs import job_log

KINDS = ("spatial", "self_attention", "channel")

with job_log(snakemake.log[0]) as log:
    archives = [np.load(path, allow_pickle=False) for path in snakemake.input.maps]
    images = archives[0]["images"]
    labels = archives[0]["labels"] if len(archives[0]["labels"]) else None
    dataset = str(archives[0]["dataset"]) if "dataset" in archives[0].files else ""
    title = getattr(snakemake.params, "title", "") or dataset or "attention"
    maps, cams = {}, {}
    for archive in archives:
        variant = str(archive["variant"])
        cams[variant] = archive["gradcam"]
        for key in archive.files:
            if "/" in key:
                maps[f"{variant}\n{key}"] = archive[key]
    made = figures.attention_figures(images, maps, labels, title)
    for kind in KINDS:
        if hasattr(snakemake.output, kind):
            missing = f"no {kind.replace('_', '-')} maps in these variants"
            fig = made.pop(kind, None) or figures.message_figure(missing, title)
            log.info("writing %s", figures.save_figure(fig, getattr(snakemake.output, kind)))
    for fig in made.values():
        figures.plt.close(fig)
    if hasattr(snakemake.output, "gradcam"):
        fig = figures.gradcam_figure(images, cams, labels, f"{title}: Grad-CAM")
        log.info("writing %s", figures.save_figure(fig, snakemake.output.gradcam))
