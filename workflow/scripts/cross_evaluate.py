"""Score one trained run on another dataset's test set: thin adapter to attnlab.train.

Expects from the rule:
  input.model            results/{train}/{variant}/seed{seed}/model.keras
  input.images, .labels  the other dataset's test_x.npy / test_y.npy (checked records)
  params.train, .test    the two dataset names; params.device cpu | gpu
  output[0]              JSON: train, test, variant, seed, accuracy, loss, n_items
  log[0]                 the job's log
"""

import json
from pathlib import Path

from attnlab import cache, runtime
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    runtime.configure(threads=snakemake.threads, device=snakemake.params.device)
    import attnlab.layers  # noqa: F401  (registers the blocks for loading)
    from attnlab import train

    x = cache.load_array(snakemake.input.images)
    y = cache.load_array(snakemake.input.labels)
    _, _, loss, accuracy = train.evaluate_saved(Path(snakemake.input.model), x, y, 64)
    score = {
        "train": snakemake.params.train,
        "test": snakemake.params.test,
        "variant": snakemake.wildcards.variant,
        "seed": int(snakemake.wildcards.seed),
        "accuracy": accuracy,
        "loss": loss,
        "n_items": int(len(y)),
    }
    Path(snakemake.output[0]).write_text(json.dumps(score, indent=2) + "\n")
    log.info("%s", score)
