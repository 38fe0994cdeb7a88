"""`results/summary.md`: what the statements are about, the overview per dataset, grouped
datasets on unseen speakers, the runs that collapsed, the study tables, the cross-domain
table and the verdicts, each with its n."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from attnlab import folds, power, ranking, sequential, sweeps, units, verdicts
from attnlab.plan_paths import summary_figures
from attnlab.tables import (
    format_cross_domain,
    format_study_table,
    format_verdicts,
    to_markdown,
)


def scope_line(runs: pd.DataFrame, data_seed: int) -> str:
    """What the statements are about: this test set, data drawn like it (data_seeds), or
    unseen speakers (grouped folds)."""

    grouped = [d for d in runs["dataset"].unique() if units.is_grouped(runs, d)]
    drawn = [d for d in runs["dataset"].unique() if units.draws_data(runs, d)]
    fixed = [d for d in runs["dataset"].unique() if d not in grouped + drawn]
    parts = []
    if drawn:
        parts.append(
            f"{', '.join(drawn)}: every seed redraws its data (data_seeds), so the "
            "intervals include test-set sampling (corrected for the data the draws share) "
            "and the statements are about data drawn like this, not about one test set"
        )
    if fixed:
        parts.append(
            f"{', '.join(fixed)}: every seed trains and tests on the same split (data seed "
            f"{data_seed}), so the intervals cover seed-to-seed variation (with the test "
            "items' binomial noise as a floor) and the statements are about this test set, "
            "not about data drawn like it"
        )
    if grouped:
        parts.append(
            f"{', '.join(grouped)}: the unit is the held-out speaker, so the statements are "
            "about speakers drawn like these"
        )
    return "Scope: " + "; ".join(parts) + "."


def seeds_line(runs: pd.DataFrame) -> str:
    """A sentence naming the seeds used per dataset."""
    parts = [
        f"{dataset}: {', '.join(map(str, sorted(seeds.unique())))} (n={seeds.nunique()})"
        for dataset, seeds in runs.groupby("dataset")["seed"]
    ]
    return "Seeds used: " + "; ".join(parts) + "."


def overview_markdown(
    runs: pd.DataFrame, baselines: Mapping[str, str], sweep_params: Mapping[str, Mapping]
) -> str:
    """Per dataset: the ranking (with its diagram), the variants practically equivalent
    to (or better / worse than) the baseline, and the sweeps' conclusions, n stated."""

    parts = []
    for dataset, baseline in baselines.items():
        matrix = ranking.accuracy_matrix(runs, dataset)
        ranks = ranking.rank_table(matrix, baseline)
        bayes = ranking.bayes_vs_baseline(matrix, baseline)
        order = ", ".join(f"{r.variant} ({r.mean_rank:.2f})" for r in ranks.itertuples())
        unit = matrix.attrs["unit"]
        parts += [f"## {dataset}: ranking (n = {unit})", ""]
        parts += [f"Mean rank over {unit.split(' x ')[0]} (1 = best): {order}.", ""]
        parts += [ranking.friedman_line(ranks), ""]
        parts += [f"![critical difference]({summary_figures([dataset])[0]})", ""]
        parts += _shared_seeds_note(runs, dataset, matrix.attrs["n_seeds"])
        rope = f"|Δ| <= {ranking.ROPE_PTS} points"
        for decision, text in (
            ("equivalent", f"Practically equivalent to {baseline} (P({rope}) >= 0.95)"),
            ("better", f"Better than {baseline} by more than {ranking.ROPE_PTS} points"),
            ("worse", f"Worse than {baseline} by more than {ranking.ROPE_PTS} points"),
        ):
            named = bayes.loc[bayes["decision"] == decision, "variant"]
            parts += [f"- {text}: {', '.join(named) or 'none'}."]
        undecided = bayes.loc[~bayes["decision"].isin(["equivalent", "better", "worse"])]
        parts += [f"- Undecided at P >= 0.95: {', '.join(undecided['variant']) or 'none'}."]
        parts += [_seeds_needed(power.power_table(runs, dataset, baseline), undecided), ""]
        for name, sweep in sweep_params.items():
            if sweep["dataset"] == dataset:
                table = sweeps.sweep_table(runs, dataset, sweep["settings"])
                parts += [f"- {sweeps.conclusion(name, runs, dataset, table)}"]
        parts += [""]
    return "\n".join(parts)


def _shared_seeds_note(runs: pd.DataFrame, dataset: str, shared: int) -> list[str]:
    """Where seeds on demand gave some variants more seeds than all share, say that the
    ranking's calls use the shared ones and decisions.md each variant's own."""
    seeds = runs.loc[runs["dataset"] == dataset].groupby("variant")["seed"].nunique()
    more = seeds[seeds > shared]
    if more.empty:
        return []
    return [
        f"The ranking and the calls below use only the seeds every variant ran (n = "
        f"{shared}); {len(more)} variants have more ({more.min()}-{more.max()} seeds), and "
        "the seeds on demand table (decisions.md) decides each over all of its own, so a "
        "call can differ between the two.",
        "",
    ]


def _seeds_needed(table: pd.DataFrame, undecided: pd.DataFrame) -> str:
    """One line: for each undecided variant, the seeds its decision needs (power.md)."""
    rows = table[table["variant"].isin(undecided["variant"])]
    if rows.empty:
        return "- Seeds needed: every variant is decided."
    cells = []
    for r in rows.itertuples():
        if pd.notna(r.seeds_to_decide):
            cells.append(f"{r.variant} {int(r.seeds_to_decide)} ({r.decision})")
        else:
            cells.append(f"{r.variant} n/a ({r.note or r.decision})")
    return (
        "- Seeds to decide if the spread stays as seen (power.md; a forecast): "
        + ", ".join(cells)
        + "."
    )


def unseen_groups_markdown(
    runs: pd.DataFrame, predictions: pd.DataFrame, compared: Mapping[str, str | None]
) -> str:
    """Per grouped dataset (`compared`: its name -> the random-split dataset it is set
    beside, or None): the random split beside unseen speakers, and each held-out speaker."""

    parts = []
    for dataset, random_name in compared.items():
        grouped = runs[runs["dataset"] == dataset]
        if grouped.empty:
            continue
        group = grouped["group_by"].iloc[0]
        parts += [f"## {dataset}: unseen {group}s", ""]
        random_runs = runs[runs["dataset"] == random_name]
        gap = folds.split_gap_table(random_runs, grouped) if len(random_runs) else pd.DataFrame()
        if len(gap):
            parts += [
                f"The same variants on {random_name}'s random split (every {group} in training"
                f" and test alike) and on {group}s their training never heard"
                " (random_vs_grouped.md). Each arm's interval is over its own units, as n"
                " says; the difference is Welch's (the arms share seeds, not data).",
                "",
                to_markdown(folds.format_split_gap(gap, random_name, dataset)),
            ]
        by_group = folds.speaker_table(predictions[predictions["dataset"] == dataset], group)
        seeds = by_group["n_seeds"].max()
        parts += [
            f"Per held-out {group} (speakers.md): accuracy, mean [t-interval] over {seeds}"
            f" seeds, sd floored at the {group}'s item noise.",
            "",
            to_markdown(folds.format_speaker_table(by_group, group)),
        ]
    return "\n".join(parts)


def summary_markdown(
    study_tables: Mapping[str, pd.DataFrame],
    cross_domain: pd.DataFrame,
    verdict_table: pd.DataFrame,
    seeds: str | Sequence[int],
    overview: str = "",
    provenance: Sequence[str] = (),
    decisions: Mapping[str, pd.DataFrame] | None = None,
    scope: str = "",
    sections: Sequence[str] = (),
) -> str:
    """`results/summary.md`: the overview (`overview_markdown`), the study tables,
    cross-domain table and verdicts.

    `seeds` is the seeds line (`seeds_line(runs)`) or the list of seeds used;
    `provenance` the lines of `attnlab.provenance.summary_lines` (where the runs came from);
    `decisions` each dataset's `attnlab.sequential.decisions_table` (seeds on demand);
    `scope` the `scope_line` (what the statements are about); `sections` further ones
    set before the study tables (`unseen_groups_markdown`, `collapse.collapse_markdown`).
    """

    if not isinstance(seeds, str):
        seeds = f"Seeds used: {', '.join(map(str, seeds))} (n={len(seeds)})."
    parts = ["# attnlab: results summary", "", seeds, ""] + [scope, ""] * bool(scope)
    if provenance:
        parts += ["Runs made with:", "", *provenance, ""]
    parts += [overview]
    for dataset, table in (decisions or {}).items():
        parts += [f"## {dataset}: seeds on demand (decisions.md)", ""]
        parts += [to_markdown(sequential.format_decisions(table))]
    if "n_seeds" in verdict_table and (verdict_table["n_seeds"] < verdicts.MIN_VERDICT_SEEDS).any():
        fewer = f"Below {verdicts.MIN_VERDICT_SEEDS} seeds"
        parts += [f"{fewer}, no claim can be supported or contradicted: see Verdicts.", ""]
    parts += [section for section in sections if section]
    for dataset, table in study_tables.items():
        parts += [f"## {dataset}: the study's table, ours next to the study's", ""]
        parts += [to_markdown(format_study_table(table))]
    parts += ["## Across domains: best attention variant vs its baseline", ""]
    parts += [to_markdown(format_cross_domain(cross_domain)) if len(cross_domain) else "(none)\n"]
    parts += ["## Verdicts on the study's claims", "", verdicts.RULE_SUMMARY, ""]
    parts += [to_markdown(format_verdicts(verdict_table))]
    return "\n".join(parts)
