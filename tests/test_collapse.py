"""attnlab.collapse: runs left at chance, counted with an interval and a test."""

import pandas as pd
import pytest

from attnlab import collapse

TEN = {"classes": [str(k) for k in range(10)]}


def runs_of(accuracies: dict[str, list[float]], dataset="d", preprocessing=TEN) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "dataset": dataset,
                "variant": variant,
                "seed": 4 + i,
                "test_accuracy": accuracy,
                "preprocessing": preprocessing,
            }
            for variant, values in accuracies.items()
            for i, accuracy in enumerate(values)
        ]
    )


def test_a_run_collapses_at_twice_chance_for_its_classes():
    assert collapse.threshold(10) == pytest.approx(0.2)
    three = {"classes": ["a", "b", "c"]}
    runs = runs_of({"v": [0.2, 0.21, 0.66, 0.67]})
    assert list(collapse.collapsed(runs)) == [True, False, False, False]
    assert list(collapse.collapsed(runs.assign(preprocessing=[three] * 4))) == [
        True,
        True,
        True,
        False,
    ]


def test_collapse_table_counts_with_wilson_interval_and_fisher_vs_baseline():
    runs = runs_of({"base": [0.97] * 10, "att": [0.1, 0.96, 0.1, 0.95, 0.1] + [0.97] * 5})
    (row,) = collapse.collapse_table(runs, {"d": "base"}).itertuples()
    assert (row.variant, row.collapsed, row.runs, row.seeds) == ("att", 3, 10, "4, 6, 8")
    assert (row.baseline_collapsed, row.baseline_runs) == (0, 10)
    # By hand: Wilson 3/10 at z = 1.96; Fisher [[3, 7], [0, 10]] = 2 x C(10,3) / C(20,3).
    assert (row.rate_ci_low, row.rate_ci_high) == pytest.approx((0.1078, 0.6032), abs=1e-4)
    assert row.fisher_p == pytest.approx(2 * 120 / 1140)
    assert (row.others_min, row.others_max) == (0.95, 0.97)
    cells = collapse.format_collapse_table(collapse.collapse_table(runs, {"d": "base"}))
    assert cells.iloc[0]["rate [95% Wilson]"] == "0.30 [0.11, 0.60]"
    assert cells.iloc[0]["Fisher p vs baseline"] == "0.211"


def test_collapse_markdown_says_so_when_nothing_collapsed():
    runs = runs_of({"base": [0.97, 0.96, 0.98], "att": [0.95, 0.96, 0.97]})
    text = collapse.collapse_markdown(runs, {"d": "base"})
    assert "No run collapsed (6 runs)." in text and "|" not in text
    runs = runs_of({"base": [0.1, 0.1, 0.1], "att": [0.1, 0.1, 0.1]})
    text = collapse.collapse_markdown(runs, {"d": "base"})
    # Equal counts give Fisher p = 1, printed as "> 0.999"; the baseline's own row has none.
    rows = [line.split("|")[2:4] for line in text.splitlines() if line.startswith("| d ")]
    assert [[cell.strip() for cell in row] for row in rows] == [
        ["base", "3 of 3"],
        ["att", "3 of 3"],
    ]
    assert ">0.999" in text and "n/a" in text
