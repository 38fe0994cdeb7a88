"""The study's claims, tested on our runs: supported, contradicted, inconclusive.

Decision rule of `verdicts` (alpha = 0.05). A claim is made of parts, each a
paired comparison "a vs b" with a claimed direction (">0", "<0"), a claimed
value (e.g. +1.95 points, the study's single run) or "little" (gain below
`LITTLE_GAIN_PTS`). Every part's intervals are at its Holm step
(`holm_levels`): the part whose raw p is the r-th smallest of the k tests of
its family gets confidence 1 - alpha / (k - r + 1). With n = the units both
variants ran (`attnlab.units`: seeds, or speakers with grouped folds, where the
intervals carry Nadeau and Bengio's correction), a part is

- inconclusive whenever n < `MIN_VERDICT_SEEDS` (3): "n < 3";
- supported: Holm-adjusted paired-t p < 0.05, the whole CI of the mean on the
  claimed side of 0 and, for a claimed value, that value inside the prediction
  interval for one run, mean +- t(n-1) sd sqrt(1 + 1/n) (the study's number is
  one run with its own seed noise); "little": the whole CI below
  `LITTLE_GAIN_PTS`, no test needed;
- contradicted: the CI of the mean entirely on the other side of 0 (0
  included), or a claimed value outside the one-run prediction interval
  ("little": the whole CI at or above `LITTLE_GAIN_PTS`);
- not comparable: a time part whose study number was measured on another kind
  of device than ours (`registry.Family.study_machine`: the digits study on its
  CPU, the spectrogram study on a GPU; ours from the runs' `device`). Time is always
  judged as a ratio (% of b's time, per seed), never in seconds, and only
  against a study ratio taken on the same kind of device; the reason names both
  machines. A part that is not comparable is left out of its Holm family;
- inconclusive otherwise.

A claim is contradicted when any part is; inconclusive when n < 3 or any part
is inconclusive; not comparable when the parts that can be judged are all
supported but some part is not comparable; supported when every part is; "not
run" when its dataset or variants are missing. Time parts also say whether the
extra time is arithmetic: the forward-FLOP overhead of a over b
(`attnlab.cost`, recorded per run) explains at least half of the measured time
overhead ("mostly arithmetic") or not ("mostly implementation overhead").

The p-value column shows the weakest link: the largest Holm-adjusted p of the
parts the reason names (every part when supported or not comparable, else the
parts that are not supported; "little" and not comparable parts carry no
test); with one seed, the largest Holm-adjusted McNemar p of that run. Verdict
p-values are Holm-adjusted across the comparisons the verdicts make on one
dataset (per metric), so they can differ from `compare`'s, whose family is
"every variant vs the baseline" and whose intervals stay at 95%.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from attnlab import registry
from attnlab.claims import CLAIMS, Claim, Part
from attnlab.comparisons import compare_pair, mcnemar_runs
from attnlab.stats import (
    ALPHA,
    CONFIDENCE,
    Spread,
    holm,
    holm_levels,
    p_clause,
    prediction_interval,
    t_interval,
)

MIN_VERDICT_SEEDS = 3
# "Little gain": below half a point, about the study's own standard error of
# one accuracy on 1000 test images (0.44 points at 98%).
LITTLE_GAIN_PTS = 0.5
VERDICTS = ("supported", "contradicted", "inconclusive", "not comparable", "not run")
VERDICT_COLUMNS = ["claim_id", "claim", "dataset", "n_seeds", "estimate", "interval"]
VERDICT_COLUMNS += ["p_value", "test", "verdict", "reason"]
RULE_SUMMARY = (
    "Rule (docs/statistics.md): no verdict below n = 3 (seeds, or speakers with grouped "
    "folds); intervals at each part's Holm step; "
    "supported = Holm-adjusted paired-t p < 0.05, the CI of the mean on the claimed side of 0 "
    "and a claimed value inside the prediction interval for one run; contradicted = the CI on "
    "the other side of 0 or the claimed value outside that prediction interval; time ratios "
    "measured by the study on another kind of device are not comparable; otherwise "
    "inconclusive."
)


# ------------------------------------------------------------------ verdicts
def _value(metric: str, value: float) -> str:
    return f"{value:+.2f} pts" if metric == "accuracy" else f"{value:+.1f}% time"


def _claims_value(part: Part) -> bool:
    return not isinstance(part.claim, str)


def _interval(part: Part, r: dict) -> str:
    """The part's CI of the mean at its level and, for a claimed value, the one-run PI."""
    if math.isnan(r["ci_low"]):
        return "n/a"
    bounds = [_value(part.metric, r[k]) for k in ("ci_low", "ci_high", "pi_low", "pi_high")]
    text = f"{r['confidence']:.1%} CI [{bounds[0]}, {bounds[1]}]"
    return text + (f", one-run PI [{bounds[2]}, {bounds[3]}]" if _claims_value(part) else "")


def _judge(part: Part, r: dict) -> str:
    """supported / contradicted / inconclusive for one part (see module doc)."""
    low, high = r["ci_low"], r["ci_high"]
    if r["n"] < MIN_VERDICT_SEEDS or math.isnan(low):
        return "inconclusive"
    if part.claim == "little":
        if high < LITTLE_GAIN_PTS:
            return "supported"
        return "contradicted" if low >= LITTLE_GAIN_PTS else "inconclusive"
    if _claims_value(part):
        sign, outside = math.copysign(1, part.claim), not r["pi_low"] <= part.claim <= r["pi_high"]
    else:
        sign, outside = (1 if part.claim == ">0" else -1), False
    if outside or max(sign * low, sign * high) <= 0:
        return "contradicted"
    if r["p_holm"] < ALPHA and min(sign * low, sign * high) > 0:
        return "supported"
    return "inconclusive"


def _combine(statuses: set[str]) -> str:
    for verdict in ("contradicted", "inconclusive", "not comparable"):
        if verdict in statuses:
            return verdict
    return "supported"


def flop_overhead(runs: pd.DataFrame, dataset: str, a: str, b: str) -> float:
    """Extra forward FLOPs of a over b, in % of b's (NaN where unknown)."""
    of = runs[runs["dataset"] == dataset]
    flops = of.groupby("variant")["forward_flops"].mean()
    if a not in flops or b not in flops:
        return math.nan
    return float(100 * (flops[a] / flops[b] - 1))


def cost_reading(time_pct: float, flop_pct: float) -> str:
    """Whether extra time is arithmetic: FLOPs explain at least half of it, or not."""
    if math.isnan(time_pct) or math.isnan(flop_pct):
        return ""
    if time_pct <= 0:
        return f"FLOPs {flop_pct:+.1f}%; no extra time"
    share = flop_pct / time_pct
    kind = "mostly arithmetic" if share >= 0.5 else "mostly implementation overhead"
    return f"FLOPs {flop_pct:+.1f}% explain {max(share, 0):.0%} of it: {kind}"


def _claimed(part: Part) -> str:
    if part.claim == "little":
        return f"whole CI below {_value(part.metric, LITTLE_GAIN_PTS)}"
    return _value(part.metric, part.claim) if _claims_value(part) else part.claim


def _describe(part: Part, r: dict, status: str) -> str:
    """One part as text: a vs b, estimate, intervals, Holm p, machines, the claim, status."""
    text = f"{part.a} vs {part.b}: {_value(part.metric, r['estimate'])}"
    if part.metric == "time" and r.get("cost_reading"):
        text += f" ({r['cost_reading']})"
    if status == "not comparable":
        return f"{text} (claimed {_claimed(part)}; {r['machines']}): not comparable"
    if not math.isnan(r["ci_low"]):
        text += f" {_interval(part, r)}"
    elif r["n"] >= 2:
        text += f" ({r['test']})"
    if r["floored"]:
        text += ", sd floored at item noise"
    if part.claim != "little" and not math.isnan(r["p_holm"]):
        text += f", Holm {p_clause(r['p_holm'])}"
    if part.metric == "time":
        text += f", time ratios ({r['machines']})"
    return f"{text} (claimed {_claimed(part)}): {status}"


def _mcnemar_p(predictions, dataset, part) -> float:
    if predictions is None or part.metric != "accuracy":
        return math.nan
    table = mcnemar_runs(predictions, dataset, part.a, part.b)
    return float(table["p"].iloc[0]) if len(table) == 1 else math.nan


def _missing(runs: pd.DataFrame, dataset: str, claim: Claim) -> list[str]:
    present = set(runs.loc[runs["dataset"] == dataset, "variant"])
    needed = dict.fromkeys(v for part in claim.parts for v in (part.a, part.b))
    return [v for v in needed if v not in present]


def _our_machine(of: pd.DataFrame) -> tuple[set[str], str]:
    """The kinds of device our runs used and their names (from `metrics.json`)."""
    devices = set(of["device"].dropna()) if "device" in of else set()
    names = set(of["gpu_name"].dropna()) if "gpu_name" in of else set()
    provenance = of["provenance"] if "provenance" in of else []
    names |= {p["cpu"] for p in provenance if isinstance(p, dict) and p.get("cpu")}
    text = "/".join(sorted(devices)) or "device not recorded"
    return devices, text + (f" ({', '.join(sorted(names))})" if names else "")


def time_comparability(runs: pd.DataFrame, dataset: str, family: str) -> dict:
    """Whether our time ratios compare with the study's: the same kind of device.

    `comparable` is True when every run of `dataset` used the kind of device the
    study timed `family` on (`registry.Family.study_machine`); `machines` names both.
    """
    record = registry.FAMILIES.get(family)
    kind, study = record.study_machine if record else registry.Family.study_machine
    devices, ours = _our_machine(runs[runs["dataset"] == dataset])
    machines = f"ours timed on {ours}, the study's on {study}"
    return {"comparable": devices == {kind}, "machines": machines}


def _with_intervals(r: dict, confidence: float) -> dict:
    """The part's CI of the mean and one-run prediction interval at `confidence`."""
    s = Spread(r["estimate"], r["sd"], r["n"], rho=r["rho"])
    ci_low, ci_high = t_interval(s, confidence)
    pi_low, pi_high = prediction_interval(s, confidence)
    intervals = {"ci_low": ci_low, "ci_high": ci_high, "pi_low": pi_low, "pi_high": pi_high}
    return r | intervals | {"confidence": confidence}


def _part_tests(runs, predictions, dataset, family, keys) -> dict:
    """Unadjusted tests of the parts `keys` (a, b, metric), with time comparability."""
    results = {k: compare_pair(runs, dataset, *k) for k in keys}
    timing = time_comparability(runs, dataset, family)
    for (a, b, metric), r in results.items():
        r |= {"comparable": True, "p_holm": math.nan, "mcnemar_p_holm": math.nan}
        if metric == "time":
            r |= timing
            r["cost_reading"] = cost_reading(r["estimate"], flop_overhead(runs, dataset, a, b))
        one_run = r["n"] == 1
        r["mcnemar_p"] = (
            _mcnemar_p(predictions, dataset, Part(a, b, metric)) if one_run else math.nan
        )
    return results


def _holm_adjust(results: dict, metric: str) -> None:
    """Holm p-values and Holm-step intervals over the comparable parts of `metric`."""
    tested = [k for k in results if k[2] == metric and results[k]["comparable"]]
    for column, source in (("p_holm", "p"), ("mcnemar_p_holm", "mcnemar_p")):
        adjusted = holm([results[k][source] for k in tested])
        for key, p in zip(tested, adjusted, strict=True):
            results[key][column] = p
    levels = dict(zip(tested, holm_levels([results[k]["p"] for k in tested]), strict=True))
    for key in (k for k in results if k[2] == metric):
        results[key] = _with_intervals(results[key], levels.get(key, CONFIDENCE))


def _part_results(runs, predictions, dataset, family, claims) -> dict:
    """Every part of `claims` on one dataset, Holm-adjusted per metric (module doc)."""
    keys = dict.fromkeys((p.a, p.b, p.metric) for c in claims for p in c.parts)
    results = _part_tests(runs, predictions, dataset, family, keys)
    for metric in ("accuracy", "time"):
        _holm_adjust(results, metric)
    return results


def _reason(verdict: str, notes: list[str], n: int, mcnemar_p: float) -> str:
    if n == 0:
        return "no seed in common between the compared variants"
    if n == 1:
        extra = "" if math.isnan(mcnemar_p) else f"; exact McNemar p={mcnemar_p:.3g} tests this run"
        return f"n < 3 (n=1): one seed cannot support or contradict a claim about the method{extra}"
    if n < MIN_VERDICT_SEEDS:
        return f"n < 3 (n={n}): too few units for a verdict: " + "; ".join(notes)
    lead = {
        "supported": "every part holds",
        "contradicted": "the interval excludes the claim",
        "inconclusive": "not enough evidence either way",
        "not comparable": "what can be judged holds, but a time was measured on other hardware",
    }[verdict]
    return f"{lead}: " + "; ".join(notes)


def _test_text(claim: Claim, n: int, unit: str) -> str:
    if n == 1:
        return "exact McNemar, 1 run, Holm"
    text = f"paired t over {unit}, Holm-step intervals"
    return text + ("; one-run prediction interval" if any(map(_claims_value, claim.parts)) else "")


def _claim_row(claim: Claim, dataset: str, results: dict) -> dict:
    parts = [(p, results[(p.a, p.b, p.metric)]) for p in claim.parts]
    statuses = [_judge(p, r) if r["comparable"] else "not comparable" for p, r in parts]
    n = min(r["n"] for _, r in parts)
    verdict = "inconclusive" if n < MIN_VERDICT_SEEDS else _combine(set(statuses))
    # The parts the reason names: all when supported or not comparable, else those not supported.
    every = verdict in ("supported", "not comparable")
    shown = [
        (p, r, s) for (p, r), s in zip(parts, statuses, strict=True) if every or s != "supported"
    ]
    p_col = "mcnemar_p_holm" if n == 1 else "p_holm"
    tested = [(p, r) for p, r, s in shown if p.claim != "little" and s != "not comparable"]
    p_values = [r[p_col] for _, r in (parts if n == 1 else tested) if not math.isnan(r[p_col])]
    return {
        "claim_id": claim.id,
        "claim": claim.text,
        "dataset": dataset,
        "n_seeds": min(r["n_seeds"] for _, r in parts),
        "estimate": "; ".join(
            f"{p.a} vs {p.b} {_value(p.metric, r['estimate'])}" for p, r in parts
        ),
        "interval": "; ".join(_interval(p, r) for p, r in parts),
        "p_value": max(p_values) if p_values else math.nan,
        "test": _test_text(claim, n, " / ".join(dict.fromkeys(r["unit"] for _, r in parts))),
        "verdict": verdict,
        "reason": _reason(
            verdict,
            [_describe(*shown_part) for shown_part in shown],
            n,
            max(p_values, default=math.nan),
        ),
    }


def _not_run(claim: Claim, dataset: str, why: str) -> dict:
    empty = dict.fromkeys(["estimate", "interval", "test"], "")
    return {"claim_id": claim.id, "claim": claim.text, "dataset": dataset, "n_seeds": 0} | (
        empty | {"p_value": math.nan, "verdict": "not run", "reason": why}
    )


def verdicts(
    runs: pd.DataFrame,
    predictions: pd.DataFrame | None = None,
    claims: Sequence[Claim] = CLAIMS,
) -> pd.DataFrame:
    """The study's claims tested on `runs`: one row per (claim, dataset of its family).

    Columns: claim_id, claim, dataset, n_seeds, estimate, interval (per part: the
    CI of the mean at its Holm step and, for a claimed value, the one-run prediction
    interval), p_value, test, verdict (supported / contradicted / inconclusive / not
    comparable / not run) and reason. See the module docstring for the decision rule.
    """
    rows = []
    for family in dict.fromkeys(c.family for c in claims):
        family_claims = [c for c in claims if c.family == family]
        datasets = runs.loc[runs["family"] == family, "dataset"].unique()
        if not len(datasets):
            rows += [_not_run(c, "", f"no {family} dataset in the results") for c in family_claims]
        for dataset in datasets:
            runnable = [c for c in family_claims if not _missing(runs, dataset, c)]
            results = _part_results(runs, predictions, dataset, family, runnable)
            for claim in family_claims:
                missing = _missing(runs, dataset, claim)
                rows.append(
                    _not_run(claim, dataset, f"not run: {', '.join(missing)} missing")
                    if missing
                    else _claim_row(claim, dataset, results)
                )
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


def dataset_verdicts(runs: pd.DataFrame, predictions: pd.DataFrame | None = None) -> pd.DataFrame:
    """`verdicts` of the claims about the families in `runs` only (e.g. one dataset's)."""
    families = set(runs["family"])
    return verdicts(runs, predictions, [c for c in CLAIMS if c.family in families])
