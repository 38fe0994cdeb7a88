"""One attention figure of a dataset: thin adapter to attnlab.map_figures.

Expects from the rule:
  input.maps         the .npz of attention_maps.py of every variant the figure draws, all
                     on the same test images
  wildcards.figure   attention_spatial, attention_self, channel_weights or gradcam
  params.title       title prefix, e.g. the dataset name
  output[0]          the PNG
  log[0]             the job's log
"""

import numpy as np

from attnlab import figures, map_figures
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    archives = [np.load(path, allow_pickle=False) for path in snakemake.input.maps]
    kind = map_figures.kind_of_figure(snakemake.wildcards.figure)
    maps = map_figures.archive_maps(archives, kind)
    images, labels = archives[0]["images"], archives[0]["labels"]
    fig = map_figures.map_figure(kind, images, maps, labels, snakemake.params.title)
    log.info("%d maps of kind %s: writing %s", len(maps), kind, snakemake.output[0])
    figures.save_figure(fig, snakemake.output[0])
