"""Attention maps and Grad-CAM of one trained model on a fixed, seeded set of test images.

Thin adapter from the snakemake object to attnlab.attention; the figures are drawn by
figures_attention.py from the archive written here.

Expects from the rule:
  input.model      results/{dataset}/{variant}/seed{seed}/model.keras
  input.images     results/{dataset}/cache/test_x.npy (N, H, W, C) in [0, 1]
  input.labels     results/{dataset}/cache/test_y.npy
  input.records    their checksum records (cache.load_array checks them)
  params.examples  how many test images (config figures.examples), distinct classes first
  params.seed      seed of the image choice (e.g. config data_seed): the same images for
                   every variant of a dataset
  params.device    cpu | gpu
  threads          TensorFlow intra-op threads
  output.maps      .npz: dataset, variant, indices (rows of test_x), images, labels,
                   gradcam (N, H, W) and every attention map keyed "<layer>/<kind>"
                   (as attnlab.attention.maps returns them)
  log[0]           the job's log
"""

import numpy as np

from attnlab import cache, runtime
from attnlab.logs import job_log
from attnlab.map_figures import example_indices

with job_log(snakemake.log[0]) as log:
    runtime.configure(threads=snakemake.threads, device=snakemake.params.device)
    import keras

    from attnlab import attention

    all_images = cache.load_array(snakemake.input.images, mmap=True)
    all_labels = cache.load_array(snakemake.input.labels)
    indices = example_indices(all_labels, snakemake.params.examples, snakemake.params.seed)
    images = np.asarray(all_images[indices], dtype="float32")
    labels = all_labels[indices]
    model = keras.saving.load_model(snakemake.input.model)
    maps = attention.maps(model, images)
    dataset, variant = snakemake.wildcards.dataset, snakemake.wildcards.variant
    log.info("%s: maps %s on test rows %s", variant, sorted(maps), indices.tolist())
    np.savez_compressed(
        snakemake.output.maps,
        dataset=np.array(dataset),
        variant=np.array(variant),
        indices=indices,
        images=images,
        labels=labels,
        gradcam=attention.grad_cam(model, images),
        **maps,
    )
