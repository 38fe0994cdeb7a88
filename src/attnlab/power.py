"""How many seeds a comparison needs, from the spread seen so far.

For every variant against its dataset's baseline, from the paired differences of the
seeds both ran (sd floored at the item noise, `attnlab.stats.spread`):

- `seeds_to_detect`: the seeds a paired t-test (two-sided, alpha 0.05) needs to detect
  a true difference of `rope` points with probability `power` (statsmodels' `TTestPower`
  at effect size rope / sd);
- `seeds_to_decide`: the seeds at which the Bayesian comparison of `attnlab.ranking`
  (Student posterior, ROPE `rope`) would reach `decide_at` for one of worse, equivalent
  or better if the mean and sd stayed as observed (a plug-in forecast, not a
  guarantee), and that decision. None when it would not decide within `MAX_SEEDS`: the
  observed difference sits too close to the ROPE's edge.

Both need two seeds for a spread. With grouped folds the unit is the speaker, and
more seeds do not add speakers: the table says so instead of naming a number.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats
from statsmodels.stats.power import TTestPower

from attnlab import stats, units

ROPE_PTS = 0.5
POWER = 0.8
DECIDE_AT = 0.95
MAX_SEEDS = 1000
COLUMNS = ["variant", "baseline", "unit", "n_seeds", "diff_pts", "sd_pts", "sd_floored"]
COLUMNS += ["seeds_to_detect", "seeds_to_decide", "decision", "note"]


def seeds_to_detect(sd: float, rope: float = ROPE_PTS, power: float = POWER) -> int | None:
    """Pairs a two-sided paired t-test at alpha 0.05 needs to detect `rope` with `power`."""
    if not sd > 0:
        return None
    n = TTestPower().solve_power(effect_size=rope / sd, alpha=stats.ALPHA, power=power)
    return max(2, math.ceil(float(np.atleast_1d(n)[0])))


def seeds_to_decide(
    mean: float, sd: float, rope: float = ROPE_PTS, decide_at: float = DECIDE_AT
) -> tuple[int | None, str]:
    """The first n (2..MAX_SEEDS) at which the posterior Student(mean, sd^2/n, n-1) puts
    `decide_at` of its mass below -rope, inside +-rope or above rope; and which."""
    if not sd > 0 or math.isnan(mean):
        return None, "n/a"
    n = np.arange(2, MAX_SEEDS + 1)
    scale = sd / np.sqrt(n)
    below = scipy_stats.t.cdf(-rope, n - 1, loc=mean, scale=scale)
    above = scipy_stats.t.sf(rope, n - 1, loc=mean, scale=scale)
    inside = 1 - below - above
    for word, p in (("better", above), ("equivalent", inside), ("worse", below)):
        hit = np.flatnonzero(p >= decide_at)
        if hit.size:
            return int(n[hit[0]]), word
    return None, "undecided"


def _row(runs, dataset, variant, baseline, rope, power, decide_at) -> dict:
    of = units.accuracy_units(runs, dataset, [variant, baseline])
    row = {"variant": variant, "baseline": baseline, "unit": of.label()}
    row["n_seeds"] = of.n_seeds
    diff = of.values[variant] - of.values[baseline]
    s = stats.spread(diff, stats.units_floor(of, variant, baseline), of.rho)
    row |= {"diff_pts": s.mean, "sd_pts": s.sd, "sd_floored": s.floored}
    if of.name != "seeds":
        return row | {
            "seeds_to_detect": None,
            "seeds_to_decide": None,
            "decision": "n/a",
            "note": f"the unit is {of.name}: more seeds do not add {of.name}",
        }
    if math.isnan(s.sd):
        return (
            row
            | {"seeds_to_detect": None, "seeds_to_decide": None, "decision": "n/a"}
            | {"note": "needs two seeds (or known test items) for a spread"}
        )
    n_decide, decision = seeds_to_decide(s.mean, s.sd, rope, decide_at)
    note = "" if n_decide else f"no decision within {MAX_SEEDS} seeds at this mean and sd"
    return row | {
        "seeds_to_detect": seeds_to_detect(s.sd, rope, power),
        "seeds_to_decide": n_decide,
        "decision": decision,
        "note": note,
    }


def power_table(
    runs: pd.DataFrame,
    dataset: str,
    baseline: str,
    rope: float = ROPE_PTS,
    power: float = POWER,
    decide_at: float = DECIDE_AT,
) -> pd.DataFrame:
    """One row per variant of `dataset` other than the baseline (module doc)."""
    variants = [v for v in runs.loc[runs["dataset"] == dataset, "variant"].unique()]
    rows = [
        _row(runs, dataset, v, baseline, rope, power, decide_at) for v in variants if v != baseline
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def format_power(table: pd.DataFrame, rope: float = ROPE_PTS, power: float = POWER):
    def count(value) -> str:
        return "n/a" if pd.isna(value) else str(int(value))

    return pd.DataFrame(
        {
            "variant": table["variant"],
            "vs": table["baseline"],
            "n": table["unit"],
            "Δ accuracy (points)": table["diff_pts"].map("{:+.2f}".format),
            "sd of Δ (points)": [
                "n/a" if pd.isna(r.sd_pts) else f"{r.sd_pts:.2f}" + " (floor)" * r.sd_floored
                for r in table.itertuples()
            ],
            f"seeds to detect {rope} pts ({power:.0%} power)": table["seeds_to_detect"].map(count),
            "seeds to decide (ROPE)": table["seeds_to_decide"].map(count),
            "it would decide": table["decision"],
            "note": table["note"],
        }
    )
