"""attnlab.stats on hand-made numbers with known answers."""

import math

import numpy as np
import pandas as pd
import pytest

from attnlab import claims, comparisons, stats, verdicts

# Small, distinct per-seed wobbles (fractions of accuracy / seconds), so that no
# two variants differ by the same amount on every seed.
WOBBLE = {
    "base": [0.0, 0.0006, -0.0004, 0.0003, -0.0005],
    "spatial": [0.0002, -0.0003, 0.0005, -0.0001, 0.0],
    "self_attention": [-0.0003, 0.0004, 0.0, 0.0006, -0.0002],
    "cbam": [0.0004, 0.0, -0.0002, 0.0001, 0.0003],
    "se": [0.0001, 0.0002, 0.0004, -0.0003, 0.0],
    "lenet": [0.0, 0.0005, -0.0004, 0.0002, -0.0003],
    "hybrid": [0.0003, -0.0002, 0.0001, 0.0004, -0.0001],
    "lenet_bn": [-0.0002, 0.0001, 0.0003, -0.0004, 0.0002],
}


# Forward FLOPs per sample as attnlab.cost counts them on the study's input shapes.
FLOPS = {"base": 5_319_676, "spatial": 5_330_000, "self_attention": 9_290_676}
FLOPS |= {"cbam": 5_375_149, "se": 5_331_040, "lenet": 33_529_304, "hybrid": 33_830_000}
FLOPS |= {"lenet_bn": 33_821_596}


def make_runs(
    accuracy: dict, seconds: dict, dataset: str, family: str, seeds, device: str = "cpu"
) -> pd.DataFrame:
    """One row per (variant, seed): accuracy and time plus that variant's wobble."""
    rows = [
        {
            "dataset": dataset,
            "family": family,
            "variant": variant,
            "seed": seed,
            "test_accuracy": acc + WOBBLE[variant][i],
            "train_seconds": seconds[variant] * (1 + 20 * WOBBLE[variant][i]),
            "forward_flops": FLOPS[variant],
            "device": device,
        }
        for variant, acc in accuracy.items()
        for i, seed in enumerate(seeds)
    ]
    return pd.DataFrame(rows)


def study_like_runs(seeds=(1, 2, 3, 4, 5), speech_device="gpu", **overrides) -> pd.DataFrame:
    """Digits and speech runs in which every claim of the study holds.

    Timed like the study's: digits on a CPU, speech on a GPU (`speech_device`), so that
    the time claims are comparable; no test-item counts, so no spread floor.
    """
    digits_acc = {"base": 0.970, "spatial": 0.967, "self_attention": 0.971, "cbam": 0.975}
    digits_acc |= {"se": 0.985} | overrides.get("digits", {})
    digits_time = {"base": 40, "spatial": 47, "self_attention": 80, "cbam": 60, "se": 43}
    speech_acc = {"lenet": 0.9727, "cbam": 0.9922, "hybrid": 0.9844, "lenet_bn": 0.9800}
    speech_acc |= overrides.get("speech", {})
    speech_time = {"lenet": 100, "cbam": 245, "hybrid": 109, "lenet_bn": 104}
    return pd.concat(
        [
            make_runs(digits_acc, digits_time, "reduced_mnist", "digits", seeds),
            make_runs(speech_acc, speech_time, "fsdd", "spectrogram", seeds, speech_device),
        ],
        ignore_index=True,
    )


def verdict_of(table: pd.DataFrame, claim_id: str) -> str:
    return table.set_index("claim_id").loc[claim_id, "verdict"]


# ---------------------------------------------------------------- McNemar
def correctness_pair(both, variant_only, baseline_only, neither):
    a = [True] * both + [True] * variant_only + [False] * baseline_only + [False] * neither
    b = [True] * both + [False] * variant_only + [True] * baseline_only + [False] * neither
    return a, b


def test_mcnemar_exact_matches_the_binomial_by_hand():
    # b=2, c=8: p = 2 * P(X <= 2 | n=10, 1/2) = 2 * (1 + 10 + 45) / 1024.
    result = comparisons.mcnemar_exact(*correctness_pair(80, 2, 8, 10))
    assert (result["variant_only"], result["baseline_only"], result["n_items"]) == (2, 8, 100)
    assert result["p"] == pytest.approx(112 / 1024)


def test_mcnemar_one_sided_discordance_and_no_discordance():
    # b=0, c=6: p = 2 * (1/2)**6.
    assert comparisons.mcnemar_exact(*correctness_pair(50, 0, 6, 4))["p"] == pytest.approx(2 / 64)
    assert comparisons.mcnemar_exact(*correctness_pair(50, 0, 0, 4))["p"] == pytest.approx(1.0)


def test_mcnemar_runs_pairs_items_per_seed():
    items = np.arange(10)
    labels = np.zeros(10, dtype=int)
    base = np.array([0] * 8 + [1] * 2)  # baseline right on items 0-7
    variant = np.array([0] * 10)  # variant right everywhere: b=2, c=0
    predictions = pd.concat(
        [
            pd.DataFrame({"variant": v, "seed": 4, "item": items, "label": labels, "pred": p})
            for v, p in (("base", base), ("se", variant))
        ]
    ).assign(dataset="d")
    table = comparisons.mcnemar_runs(predictions, "d", "se", "base")
    assert table[["seed", "variant_only", "baseline_only"]].values.tolist() == [[4, 2, 0]]
    assert table["p"].iloc[0] == pytest.approx(0.5)


# ------------------------------------------------------- Holm, CIs, tests
def test_holm_on_known_pvalues():
    # sorted 0.01, 0.03, 0.04 -> 3*0.01, 2*0.03, max(1*0.04, 0.06)
    adjusted = stats.holm([0.01, 0.04, 0.03])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06])


def test_holm_leaves_nan_out():
    adjusted = stats.holm([0.01, math.nan, 0.04])
    assert adjusted[0] == pytest.approx(0.02) and adjusted[2] == pytest.approx(0.04)
    assert math.isnan(adjusted[1])


def test_paired_test_known_case():
    # differences 0.5, 1, 1.5: mean 1, sd 0.5, t = 1 / (0.5 / sqrt 3), df 2
    r = stats.paired_test([1, 2, 3.5], [0.5, 1, 2])
    half_width = 4.302652729911275 * 0.5 / math.sqrt(3)
    assert r["n"] == 3 and r["estimate"] == pytest.approx(1.0)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((1 - half_width, 1 + half_width))
    assert r["p"] == pytest.approx(0.0741799, rel=1e-5)
    assert math.isnan(r["p_wilcoxon"]) and r["test"] == "paired t (n=3)"


def test_paired_test_adds_wilcoxon_from_six_pairs():
    r = stats.paired_test([1, 2, 3, 4, 5, 6.5], [0] * 6)
    assert r["p_wilcoxon"] == pytest.approx(2 / 64)
    assert "Wilcoxon" in r["test"]


def test_paired_test_with_one_pair_says_na():
    r = stats.paired_test([0.98], [0.97])
    assert r["test"] == "n/a (n=1)" and r["estimate"] == pytest.approx(0.01)
    assert math.isnan(r["p"]) and math.isnan(r["ci_low"])


def test_accuracy_ci_over_seeds_and_for_one_seed():
    low, high, how = stats.accuracy_ci([0.90, 0.91, 0.92])
    half_width = 4.302652729911275 * 0.01 / math.sqrt(3)  # t(0.975, df 2) * sd / sqrt(n)
    assert (low, high) == pytest.approx((0.91 - half_width, 0.91 + half_width))
    assert stats.accuracy_ci([0.97, 0.98, 0.99])[1] == 1.0  # clipped to [0, 1]
    assert how == "t over 3 seeds"
    low, high, how = stats.accuracy_ci([0.981], n_items=1000)
    assert (low, high) == pytest.approx((0.97052, 0.98780), abs=1e-5)
    assert "Wilson" in how and "1 seed" in how
    assert stats.accuracy_ci([0.981])[2] == "n/a"


# ----------------------------------------------------------------- compare
def test_compare_one_row_per_variant_with_holm():
    runs = study_like_runs()
    table = comparisons.compare(runs, {"reduced_mnist": "base", "fsdd": "lenet"})
    assert sorted(table.loc[table["dataset"] == "fsdd", "variant"]) == [
        "cbam",
        "hybrid",
        "lenet_bn",
    ]
    assert len(table) == 4 + 3
    se = table.set_index(["dataset", "variant"]).loc[("reduced_mnist", "se")]
    assert se["diff_pts"] == pytest.approx(1.5, abs=0.05) and se["n_seeds"] == 5
    assert se["diff_ci_low"] > 0 and se["p_holm"] >= se["p"] and se["p_holm"] < 0.05
    assert se["time_pct"] == pytest.approx(7.5, abs=1)
    assert (table["p_holm"] >= table["p"]).all()


def test_compare_with_predictions_summarises_mcnemar():
    runs = study_like_runs(seeds=(4,))
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 200)
    predictions = pd.concat(
        [
            pd.DataFrame({"item": np.arange(200), "label": labels, "pred": labels}).assign(
                dataset=d, variant=v, seed=4
            )
            for d, v in runs[["dataset", "variant"]].itertuples(index=False)
        ]
    )
    table = comparisons.compare(runs, {"reduced_mnist": "base", "fsdd": "lenet"}, predictions)
    assert (table["mcnemar_p_median"] == 1.0).all() and (table["mcnemar_sig_seeds"] == 0).all()
    assert (table["test"] == "n/a (n=1)").all()


# ---------------------------------------------------------------- verdicts
def test_verdicts_supported_with_five_seeds():
    # The speech runs are timed on a GPU, as the study's were, so hybrid's time ratio
    # is comparable (see test_time_claims_across_hardware for CPU runs).
    table = verdicts.verdicts(study_like_runs())
    assert set(table["verdict"]) <= set(verdicts.VERDICTS)
    for claim in ("se_best", "spatial_hurts", "self_attention_cost", "cbam_gain", "hybrid_gain"):
        assert verdict_of(table, claim) == "supported", table.set_index("claim_id").loc[
            claim, "reason"
        ]
    assert verdict_of(table, "cbam_vs_lenet_bn") == "supported"
    assert (table["n_seeds"] == 5).all() and (table["p_value"] < 0.05).all()
    reasons = table.set_index("claim_id")["reason"]
    # self_attention: +100.4% time (mean of per-seed ratios), +74.6% FLOPs: arithmetic.
    expected = "self_attention vs base: +100.4% time (FLOPs +74.6% explain 74% of it: mostly"
    assert expected + " arithmetic)" in reasons["self_attention_cost"]
    # hybrid: +9% time for +0.9% FLOPs: mostly implementation overhead.
    assert "explain 10% of it: mostly implementation overhead" in reasons["hybrid_gain"]


def test_cost_reading():
    assert verdicts.cost_reading(20.0, 15.0) == "FLOPs +15.0% explain 75% of it: mostly arithmetic"
    assert verdicts.cost_reading(145.0, 13.0).endswith("mostly implementation overhead")
    assert verdicts.cost_reading(-3.0, 1.0) == "FLOPs +1.0%; no extra time"
    assert verdicts.cost_reading(float("nan"), 1.0) == ""


def test_verdicts_contradicted_with_five_seeds():
    overrides = {
        "digits": {"spatial": 0.975, "se": 0.972},  # spatial helps; cbam beats se
        "speech": {"cbam": 0.9777, "lenet_bn": 0.9950},  # +0.5, not +1.95; lenet_bn best
    }
    table = verdicts.verdicts(study_like_runs(**overrides))
    for claim in ("se_best", "spatial_hurts", "cbam_gain", "cbam_vs_lenet_bn"):
        assert verdict_of(table, claim) == "contradicted", claim
    assert "excludes" in table.set_index("claim_id").loc["cbam_gain", "reason"]


def test_verdicts_inconclusive_when_differences_are_noise():
    runs = study_like_runs(digits={"spatial": 0.970, "se": 0.9752})
    digits = runs["dataset"] == "reduced_mnist"
    runs.loc[digits & (runs["variant"] == "spatial"), "test_accuracy"] += [
        0.004, -0.003, 0.002, -0.004, 0.001
    ]  # fmt: skip
    runs.loc[digits & (runs["variant"] == "se"), "test_accuracy"] += [
        -0.003, 0.004, -0.002, 0.001, 0.003
    ]  # fmt: skip
    table = verdicts.verdicts(runs)
    assert verdict_of(table, "spatial_hurts") == "inconclusive"
    assert verdict_of(table, "se_best") == "inconclusive"


def test_verdicts_with_one_seed_are_inconclusive_and_say_so():
    table = verdicts.verdicts(study_like_runs(seeds=(4,)))
    assert (table["verdict"] == "inconclusive").all()
    assert table["reason"].str.contains("n=1").all()
    assert (table["n_seeds"] == 1).all()


def test_one_seed_verdict_reports_the_runs_mcnemar_test():
    runs = study_like_runs(seeds=(4,))
    labels = np.arange(400) % 10
    rows = []
    for dataset, variant in runs[["dataset", "variant"]].itertuples(index=False):
        preds = labels.copy()
        preds[: 40 if variant in ("base", "lenet") else 5] += 1  # baselines miss 35 more
        rows.append(pd.DataFrame({"item": np.arange(400), "label": labels, "pred": preds % 10}))
        rows[-1] = rows[-1].assign(dataset=dataset, variant=variant, seed=4)
    table = verdicts.verdicts(runs, pd.concat(rows)).set_index("claim_id")
    assert table.loc["cbam_gain", "verdict"] == "inconclusive"
    assert table.loc["cbam_gain", "p_value"] < 1e-6  # b=35, c=0: significant for this run
    assert "McNemar p=" in table.loc["cbam_gain", "reason"]
    assert table.loc["cbam_gain", "test"].startswith("exact McNemar")


def test_verdicts_mark_missing_variants_and_datasets_not_run():
    runs = study_like_runs()
    table = verdicts.verdicts(runs[runs["variant"] != "hybrid"])
    assert verdict_of(table, "hybrid_gain") == "not run"
    assert "hybrid" in table.set_index("claim_id").loc["hybrid_gain", "reason"]
    digits_only = verdicts.verdicts(runs[runs["family"] == "digits"])
    assert (digits_only.loc[digits_only["dataset"] == "", "verdict"] == "not run").all()
    assert len(digits_only) == len(claims.CLAIMS)


def test_judge_rule_on_intervals():
    # A claimed value is judged against the one-run prediction interval (pi_*), its
    # direction against the CI of the mean (ci_*); before issue 19 the CI did both.
    r = {"n": 5, "p_holm": 0.01}
    gain = claims.Part("a", "b", claim=1.95)
    wide = {"pi_low": 0.5, "pi_high": 3.1}
    assert verdicts._judge(gain, r | wide | {"ci_low": 1.2, "ci_high": 2.4}) == "supported"
    assert verdicts._judge(gain, r | wide | {"ci_low": 1.2, "ci_high": 1.6}) == "supported"
    narrow = {"ci_low": 0.4, "ci_high": 0.7, "pi_low": 0.2, "pi_high": 0.9}
    assert verdicts._judge(gain, r | narrow) == "contradicted"
    unsure = wide | {"ci_low": -0.2, "ci_high": 2.4, "p_holm": 0.2}
    assert verdicts._judge(gain, r | unsure) == "inconclusive"
    assert (
        verdicts._judge(gain, r | wide | {"ci_low": 1.2, "ci_high": 2.4, "n": 2}) == "inconclusive"
    )
    hurts = claims.Part("a", "b", claim="<0")
    assert verdicts._judge(hurts, r | {"ci_low": 0.0, "ci_high": 0.4}) == "contradicted"
    assert verdicts._judge(hurts, r | {"ci_low": -0.4, "ci_high": -0.1}) == "supported"
    little = claims.Part("a", "b", claim="little")
    assert verdicts._judge(little, r | {"ci_low": -0.2, "ci_high": 0.3}) == "supported"
    assert verdicts._judge(little, r | {"ci_low": 0.6, "ci_high": 1.3}) == "contradicted"


# ------------------------------------- issue 19: one-run prediction intervals, n >= 3
def gain_runs(gains_pts, base=0.97, seeds=None, **columns) -> pd.DataFrame:
    """lenet and cbam on one spectrogram dataset; cbam - lenet = gains_pts per seed."""
    seeds = seeds or list(range(1, len(gains_pts) + 1))
    wobble = np.linspace(-0.001, 0.001, len(seeds))
    lenet = base + wobble
    rows = [
        {"variant": v, "seed": s, "test_accuracy": acc, "train_seconds": 100.0}
        for v, accuracies in (("lenet", lenet), ("cbam", lenet + np.asarray(gains_pts) / 100))
        for s, acc in zip(seeds, accuracies, strict=True)
    ]
    runs = pd.DataFrame(rows).assign(dataset="fsdd", family="spectrogram", forward_flops=1)
    return runs.assign(**columns)


def gain_claim(value: float) -> claims.Claim:
    return claims.Claim(
        "gain", "cbam gains", "spectrogram", (claims.Part("cbam", "lenet", claim=value),)
    )


def test_prediction_interval_by_hand():
    values = [1.2, 1.5, 1.8, 1.3, 1.7]
    s = stats.spread(values)
    half = 2.776445105197799 * np.std(values, ddof=1) * math.sqrt(1 + 1 / 5)  # t(0.975, df 4)
    assert stats.prediction_interval(s) == pytest.approx((1.5 - half, 1.5 + half))
    # The CI of the mean is sqrt(n + 1) = sqrt(6) times narrower.
    mean_half = half / math.sqrt(6)
    assert stats.t_interval(s) == pytest.approx((1.5 - mean_half, 1.5 + mean_half))


def test_study_value_inside_the_one_run_interval_is_not_contradicted():
    # Gains 1.2..1.8 (mean 1.5, sd 0.255, n 5): the 95% CI of the mean [1.18, 1.82]
    # excludes the study's single run of +1.95, the one-run PI [0.72, 2.28] does not.
    runs = gain_runs([1.2, 1.5, 1.8, 1.3, 1.7])
    mean_ci = comparisons.compare_pair(runs, "fsdd", "cbam", "lenet", "accuracy")
    assert mean_ci["ci_high"] < 1.95
    row = verdicts.verdicts(runs, claims=[gain_claim(1.95)]).iloc[0]
    assert row["verdict"] == "supported", row["reason"]
    assert "one-run PI [+0.72 pts, +2.28 pts]" in row["interval"]


def test_study_value_far_outside_the_one_run_interval_is_contradicted():
    row = verdicts.verdicts(gain_runs([1.2, 1.5, 1.8, 1.3, 1.7]), claims=[gain_claim(4.0)]).iloc[0]
    assert row["verdict"] == "contradicted"
    assert "excludes" in row["reason"] and "one-run PI" in row["reason"]


def test_no_verdict_below_three_seeds():
    # The same runs that contradict four claims with five seeds (test above), with two:
    # their intervals exclude the claims, yet n = 2 gives no verdict.
    overrides = {
        "digits": {"spatial": 0.975, "se": 0.972},
        "speech": {"cbam": 0.9777, "lenet_bn": 0.9950},
    }
    table = verdicts.verdicts(study_like_runs(seeds=(1, 2), **overrides))
    assert (table["verdict"] == "inconclusive").all()
    assert table["reason"].str.startswith("n < 3 (n=2)").all()
    three = verdicts.verdicts(study_like_runs(seeds=(1, 2, 3), **overrides))
    assert verdict_of(three, "cbam_gain") == "contradicted"


def test_holm_levels_follow_the_holm_steps():
    # sorted 0.01, 0.03, 0.04 of k = 3: levels 1 - 0.05/3, 1 - 0.05/2, 1 - 0.05/1.
    levels = stats.holm_levels([0.01, 0.04, 0.03, math.nan])
    assert levels == pytest.approx([1 - 0.05 / 3, 0.95, 1 - 0.05 / 2, 0.95])
    assert stats.holm_levels([0.02, 0.02]) == pytest.approx([0.975, 0.975])  # ties: wider


def test_verdict_intervals_are_holm_adjusted_and_wider_than_unadjusted():
    runs = study_like_runs()
    digit_claims = [c for c in claims.CLAIMS if c.family == "digits"]
    results = verdicts._part_results(runs, None, "reduced_mnist", "digits", digit_claims)
    raw = comparisons.compare_pair(runs, "reduced_mnist", "se", "base", "accuracy")
    adjusted = results[("se", "base", "accuracy")]
    assert adjusted["confidence"] > stats.CONFIDENCE
    assert adjusted["ci_low"] < raw["ci_low"] and adjusted["ci_high"] > raw["ci_high"]
    s = stats.Spread(raw["estimate"], raw["sd"], raw["n"])
    assert (adjusted["ci_low"], adjusted["ci_high"]) == pytest.approx(
        stats.t_interval(s, adjusted["confidence"])
    )
    table = verdicts.verdicts(runs).set_index("claim_id")
    assert table.loc["se_best", "interval"].startswith(f"{adjusted['confidence']:.1%} CI")


# --------------------------------------- issue 19: one rule for zero or tiny spread
def test_item_noise_by_hand():
    # p = 0.98 on 1000 items, smoothed to 981/1002.
    p = 981 / 1002
    assert stats.item_noise((0.98, 1000)) == pytest.approx(math.sqrt(p * (1 - p) / 1000))
    q = 971 / 1002
    both = math.sqrt(p * (1 - p) / 1000 + q * (1 - q) / 1000)
    assert stats.item_noise((0.98, 1000), (0.97, 1000)) == pytest.approx(both)
    assert stats.item_noise((1.0, 300)) > 0  # 100% still has item noise
    assert math.isnan(stats.item_noise((0.98, None)))


def test_spread_takes_the_larger_of_sample_sd_and_floor():
    assert stats.spread([1.0, 1.0, 1.0], 0.3).sd == pytest.approx(0.3)
    assert stats.spread([1.0, 1.0, 1.0], 0.3).floored
    assert stats.spread([1.0, 2.0, 3.0], 0.3).sd == pytest.approx(1.0)
    assert math.isnan(stats.spread([1.0, 1.0, 1.0]).sd)  # no floor: undefined


@pytest.mark.parametrize("n", [2, 3])
def test_identical_runs_give_no_certainty(n):
    # n seeds in which cbam beats lenet by exactly 1 point, on 1000 test items each.
    runs = gain_runs([1.0] * n, n_test=1000)
    r = comparisons.compare_pair(runs, "fsdd", "cbam", "lenet", "accuracy")
    floor = 100 * stats.item_noise((0.98, 1000), (0.97, 1000))
    assert r["sd"] == pytest.approx(floor, rel=1e-3) and r["floored"]
    assert r["ci_high"] - r["ci_low"] > 0 and 0 < r["p"] < 1
    assert "floored" in r["test"]
    s = stats.Spread(r["estimate"], r["sd"], n)
    low, high = stats.prediction_interval(s)
    assert high - low > 0
    low, high, how = stats.accuracy_ci([0.98] * n, n_items=1000)
    assert high - low > 0 and "floored" in how


def test_identical_runs_without_test_items_leave_the_test_undefined():
    r = comparisons.compare_pair(gain_runs([1.0, 1.0, 1.0]), "fsdd", "cbam", "lenet", "accuracy")
    assert math.isnan(r["p"]) and math.isnan(r["ci_low"]) and "undefined" in r["test"]
    low, high, how = stats.accuracy_ci([0.98, 0.98])
    assert math.isnan(low) and "no spread" in how  # no zero-width interval


def test_tiny_spread_verdict_is_floored_at_item_noise():
    # Gains of +0.60, +0.61, +0.62 points on 300 items: an sd of 0.01 points made this
    # "supported"; the item-noise floor (about 1.4 points) leaves it inconclusive.
    runs = gain_runs([0.60, 0.61, 0.62], n_test=300)
    row = verdicts.verdicts(runs, claims=[gain_claim(0.6)]).iloc[0]
    assert row["verdict"] == "inconclusive" and "floored" in row["reason"]
    assert (
        verdicts.verdicts(runs.drop(columns="n_test"), claims=[gain_claim(0.6)]).iloc[0]["verdict"]
        == "supported"
    )  # the same runs without item counts: the sample sd alone


def test_welch_floors_a_zero_variance_arm():
    a, b = [98.0, 98.0], [76.0, 76.4]
    # scipy's Welch with sd_a = 0: se = sd_b / sqrt(2) = 0.2, df 1, t(0.975, 1) = 12.706.
    unfloored_width = 2 * 12.706204736174698 * 0.2
    floor = 100 * stats.item_noise((0.98, 300))
    r = stats.welch_test(a, b, floor_a=floor, floor_b=100 * stats.item_noise((0.762, 3000)))
    assert r["estimate"] == pytest.approx(21.8)
    assert r["ci_high"] - r["ci_low"] > unfloored_width
    assert math.isnan(stats.welch_test(a, b)["ci_low"])  # no floor: undefined, not narrow


def test_compare_table_floors_identical_differences():
    runs = gain_runs([1.0] * 3, n_test=1000)
    row = comparisons.compare(runs, "lenet").iloc[0]
    assert row["diff_ci_high"] > row["diff_ci_low"] and 0 < row["p"] < 1


# ------------------------------------------------- issue 19: time claims and hardware
def test_time_claims_across_hardware():
    # The study timed speech on a GPU: our CPU ratio is not judged against its +9%.
    table = verdicts.verdicts(study_like_runs(speech_device="cpu")).set_index("claim_id")
    assert table.loc["hybrid_gain", "verdict"] == "not comparable"
    reason = table.loc["hybrid_gain", "reason"]
    assert "hybrid vs lenet: +9.2% time" in reason and "not comparable" in reason
    assert "ours timed on cpu, the study's on a GPU" in reason
    assert "hybrid vs lenet: +1.18 pts" in reason  # the accuracy part is still shown
    assert table.loc["cbam_gain", "verdict"] == "supported"  # accuracy only: judged
    # Digits: the study's CPU and ours are the same kind: ratios judged, machines named.
    assert table.loc["self_attention_cost", "verdict"] == "supported"
    assert "ours timed on cpu, the study's on its CPU" in table.loc["self_attention_cost", "reason"]
    # Runs that do not record their device are never compared with the study's times.
    unknown = verdicts.verdicts(study_like_runs().drop(columns="device")).set_index("claim_id")
    assert unknown.loc["self_attention_cost", "verdict"] == "not comparable"
    assert "device not recorded" in unknown.loc["self_attention_cost", "reason"]


def test_our_machine_is_named_from_the_runs():
    runs = study_like_runs(speech_device="gpu")
    runs = runs.assign(gpu_name="NVIDIA H200", provenance=[{"cpu": "Xeon"}] * len(runs))
    timing = verdicts.time_comparability(runs, "fsdd", "spectrogram")
    assert timing["comparable"]
    expected = "ours timed on gpu (NVIDIA H200, Xeon), the study's on a GPU, one run each"
    assert timing["machines"] == expected
