"""Seeds on demand: train a few seeds, decide, and add seeds only where still undecided.

With config `sequential: {min_seeds, max_seeds, rope, decide_at}` every variant of a
dataset first trains the first `min_seeds` seeds of `seed_sequence` (the config's seeds
first, so the study's seed 4 stays in every table). Each round then decides every
variant that is still open against the baseline with the Bayesian comparison of
`attnlab.ranking` (Student posterior of the paired differences over the seeds both ran,
sd floored at the item noise, ROPE `rope` points): better, equivalent or worse once that
posterior probability reaches `decide_at`. A decided variant stops; the open ones (and
the baseline, which every comparison pairs with) get the next seed, until none is open
or `max_seeds` is reached. The workflow runs one round per Snakemake checkpoint
(`workflow/rules/sequential.smk`); this module knows the rounds, not Snakemake.

Stopping when a posterior crosses a threshold is optional stopping: the decision is a
statement about the posterior at that n, not an error rate held at 5% (docs/statistics.md,
"Seeds on demand"). With grouped folds the unit is the speaker and more seeds do not add
speakers, so such a dataset trains `min_seeds` and stops.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from attnlab import ranking, stats, units

DECIDED = ("better", "equivalent", "worse")
COLUMNS = ["variant", "baseline", "decision", "n_seeds", "diff_pts", "p_worse"]
COLUMNS += ["p_equivalent", "p_better", "stopped"]


def seed_sequence(seeds: Sequence[int], max_seeds: int) -> list[int]:
    """The config's seeds in order, then the next unused integers, `max_seeds` in all."""
    sequence = list(dict.fromkeys(int(s) for s in seeds))[:max_seeds]
    candidate = max(sequence, default=0) + 1
    while len(sequence) < max_seeds:
        if candidate not in sequence:
            sequence.append(candidate)
        candidate += 1
    return sequence


def planned_runs(dataset: str, seeds: Mapping[str, Sequence[int]]) -> list[dict]:
    """The runs of a plan of seeds per variant, variant by variant."""
    return [{"dataset": dataset, "variant": v, "seed": int(s)} for v in seeds for s in seeds[v]]


def last_round(read_round) -> int:
    """The first round whose state (`read_round(k)`) is done: every variant decided or at
    max_seeds."""
    round_ = 0
    while not read_round(round_)["done"]:
        round_ += 1
    return round_


def decide(runs: pd.DataFrame, dataset: str, baseline: str, variant: str, settings) -> dict:
    """The Bayesian decision of `variant` vs `baseline` over the seeds both ran."""
    of = units.accuracy_units(runs, dataset, [variant, baseline])
    floor = stats.units_floor(of, variant, baseline)
    row = ranking.bayes_pair(
        of.values[variant], of.values[baseline], settings["rope"], floor, of.rho
    )
    words = {k: row[k] for k in ("p_worse", "p_equivalent", "p_better")}
    decision = ranking.decide(row, settings["decide_at"])
    return (
        {"variant": variant, "baseline": baseline, "decision": decision}
        | words
        | {
            "n_seeds": of.n_seeds,
            "diff_pts": row["diff_pts"],
            "unit": of.label(),
            "grouped": of.name != "seeds",
        }
    )


def next_round(
    runs: pd.DataFrame,
    dataset: str,
    baseline: str,
    seeds: Mapping[str, Sequence[int]],
    sequence: Sequence[int],
    settings: Mapping,
) -> dict:
    """Decide every variant trained so far and plan the next round.

    `seeds` are each variant's seeds so far (round r's plan). Returns the round's state:
    `decisions` (one row per variant but the baseline, with why it stopped, if it did),
    `done`, and `seeds`: the next round's plan (unchanged when done).
    """
    rows, open_variants = [], []
    for variant in (v for v in seeds if v != baseline):
        row = decide(runs, dataset, baseline, variant, settings)
        n = len(seeds[variant])
        if row.pop("grouped"):
            row["stopped"] = f"grouped folds: more seeds do not add {row['unit'].split()[1]}"
        elif row["decision"] in DECIDED:
            row["stopped"] = f"decided at {n} seeds"
        elif n >= settings["max_seeds"]:
            row["stopped"] = f"max_seeds ({settings['max_seeds']}) reached"
        else:
            row["stopped"] = ""
            open_variants.append(variant)
        rows.append(row)
    plan = {v: list(s) for v, s in seeds.items()}
    for variant in [*open_variants, baseline] if open_variants else []:
        plan[variant].append(next(s for s in sequence if s not in plan[variant]))
    return {"decisions": rows, "done": not open_variants, "seeds": plan}


def decisions_table(state: Mapping) -> pd.DataFrame:
    """The last round's decisions, with the seeds each variant used."""
    table = pd.DataFrame(state["decisions"])
    if table.empty:
        return pd.DataFrame(columns=COLUMNS)
    table["seeds"] = [", ".join(map(str, state["seeds"][v])) for v in table["variant"]]
    return table


def format_decisions(table: pd.DataFrame) -> pd.DataFrame:
    def prob(p) -> str:
        return "n/a" if p is None or (isinstance(p, float) and math.isnan(p)) else f"{p:.2f}"

    return pd.DataFrame(
        {
            "variant": table["variant"],
            "vs": table["baseline"],
            "decision": table["decision"],
            "n": table["unit"],
            "Δ accuracy (points)": table["diff_pts"].map("{:+.2f}".format),
            "P(worse)": table["p_worse"].map(prob),
            "P(equivalent)": table["p_equivalent"].map(prob),
            "P(better)": table["p_better"].map(prob),
            "why it stopped": table["stopped"],
            "seeds": table["seeds"],
        }
    )
