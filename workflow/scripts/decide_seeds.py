"""One decision round of seeds on demand: thin adapter to attnlab.sequential.

Expects from the rule:
  input.metrics, input.predictions  every run the round judges (the same runs, same order)
  params.baseline                   the dataset's baseline variant
  params.seeds                      seeds per variant this round judges
  params.sequence                   the seeds in the order they are added
  params.settings                   config sequential (min_seeds, max_seeds, rope, decide_at)
  output[0]                         the round's state (JSON): decisions, done, next seeds
"""

import json

from attnlab import run_files, sequential
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    runs = run_files.load_runs(snakemake.input.metrics, snakemake.input.predictions)
    params = snakemake.params
    state = sequential.next_round(
        runs,
        snakemake.wildcards.dataset,
        params.baseline,
        dict(params.seeds),
        list(params.sequence),
        dict(params.settings),
    )
    state |= {"dataset": snakemake.wildcards.dataset, "round": int(snakemake.wildcards.round)}
    with open(snakemake.output[0], "w") as handle:
        handle.write(json.dumps(state, indent=2) + "\n")
    open_variants = [d["variant"] for d in state["decisions"] if not d["stopped"]]
    log.info("round %s: %s undecided", state["round"], open_variants or "none")
