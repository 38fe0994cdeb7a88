"""Attention-map and Grad-CAM figures of a dataset's variants: thin adapter to attnlab.figures.

Expects from the rule:
  input.maps             list of .npz written by attention_maps.py, one per variant, all on
                         the same test images
  params.title           title prefix, e.g. the dataset name
  output.spatial         PNG: every spatial map (spatial gate, CBAM, BAM, GC, ...) over the inputs
  output.self_attention  PNG: self-attention focus over the patch grid
  output.channel         PNG: channel weights (SE, CBAM, ECA, BAM, hybrid, ...)
  output.gradcam         PNG: Grad-CAM of every variant over the same inputs
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
    labels = archives[0]["labels"]
    title = snakemake.params.title
    maps, cams = {}, {}
    for archive in archives:
        variant = str(archive["variant"])
        cams[variant] = archive["gradcam"]
        for key in archive.files:
            if "/" in key:
                maps[f"{variant}\n{key}"] = archive[key]
    made = figures.attention_figures(images, maps, labels, title)
    for kind in KINDS:
        missing = f"no {kind.replace('_', '-')} maps in these variants"
        fig = made.pop(kind, None) or figures.message_figure(missing, title)
        log.info("writing %s", figures.save_figure(fig, snakemake.output[kind]))
    for fig in made.values():
        figures.plt.close(fig)
    fig = figures.gradcam_figure(images, cams, labels, f"{title}: Grad-CAM")
    log.info("writing %s", figures.save_figure(fig, snakemake.output.gradcam))
