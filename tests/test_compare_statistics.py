"""The statistics of `compare` (issue 10 §2): intervals that never leave their support, whose
coverage is what they claim, paired where the replications are; end points since the first
intervention starts; primary end points and false discovery rate control. No simulation runs here:
outcomes are drawn at random or written by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.experiment.aggregate import Design, aggregate, judge
from sim.experiment.endpoints import DEFAULT_PRIMARY
from sim.experiment.intervals import difference_interval, level_interval, ratio_interval, sign_flip_p_values

# --------------------------------------------------------------------------- support
# Outcomes as end points are: counts (small or large) and sums of money in cents, often 0, sometimes
# all 0, over a few replications.
amounts = st.one_of(st.just(0.0), st.integers(0, 50).map(float), st.integers(0, 10**11).map(lambda cents: cents / 100))
outcomes = st.integers(2, 8).flatmap(lambda reps: st.tuples(arrays(np.float64, (reps, 3), elements=amounts),
                                                            arrays(np.float64, (reps, 3), elements=amounts)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(outcomes, st.integers(0, 2**31))
def test_intervals_never_leave_their_support(data, seed):
    values, base = data
    level = level_interval(values, seed, "level")
    assert np.all(level.low >= 0), "a count's interval below zero"
    assert within(level, values)
    d = values - base
    assert within(difference_interval(values, base, seed, "paired"), d)
    ratio = ratio_interval(values, base, seed, "paired")
    defined = base.mean(axis=0) > 0
    assert np.all(np.isnan(ratio.estimate[~defined]))
    assert np.all(ratio.low[defined] >= 0), "a change below -100%"
    assert np.all(ratio.low[defined] <= ratio.high[defined])
    p = sign_flip_p_values(d, seed, "test")
    assert np.all((p > 0) & (p <= 1))


def within(interval, data: np.ndarray) -> bool:
    """The interval lies within the range of the data (a mean of resampled values cannot leave
    it), up to the rounding of a mean: 99.99 three times has the mean 99.99000000000001."""
    rounding = 1e-12 * np.abs(data).max(axis=0)
    return bool(np.all((data.min(axis=0) - rounding <= interval.low) & (interval.high <= data.max(axis=0) + rounding)))


def test_a_count_near_zero_keeps_its_interval_at_or_above_zero():
    """The issue's example: 1.83 [-0.09, 3.76] from a t-interval over six replications."""
    values = np.array([[0.0], [0.0], [0.0], [1.0], [4.0], [6.0]])
    level = level_interval(values, 1, "level")
    assert level.estimate[0] == pytest.approx(11 / 6) and 0 <= level.low[0] < level.estimate[0]
    t_low = values.mean() - 2.5706 * values.std(ddof=1) / math.sqrt(6)
    assert t_low < 0  # what the summary showed before


def test_an_effect_that_removes_nearly_everything_stays_above_minus_100_percent():
    base = np.array([[10.0], [2.0], [30.0], [5.0], [12.0], [1.0]])
    values = np.array([[0.0], [0.0], [1.0], [0.0], [0.0], [3.0]])  # the ratio's t-interval went far below 0
    ratio = ratio_interval(values, base, 3, "paired")
    assert 0 <= ratio.low[0] < ratio.estimate[0] < ratio.high[0]


def test_the_same_seed_gives_the_same_intervals_and_another_seed_others():
    rng = np.random.default_rng(5)
    values, base = rng.poisson(4, (8, 4)).astype(float), rng.poisson(5, (8, 4)).astype(float)
    first = difference_interval(values, base, 11, "paired", "takedown")
    np.testing.assert_array_equal(first, difference_interval(values, base, 11, "paired", "takedown"))
    # the columns are end points: one more end point does not change the others' intervals
    wider = difference_interval(np.hstack([values, values[:, :1]]), np.hstack([base, base[:, :1]]), 11, "paired", "takedown")
    np.testing.assert_array_equal(np.asarray(wider)[:, :4], np.asarray(first))
    assert not np.array_equal(np.asarray(first), np.asarray(difference_interval(values, base, 12, "paired", "takedown")))


# --------------------------------------------------------------------------- coverage
# Many independent data sets at once (the columns); coverage is the share of them whose interval
# holds the true value. Its sampling error is sqrt(0.95 · 0.05 / DATASETS) = 0.011; BCa intervals
# of 20 skewed values cover a little less than 95% (about 93%), hence the bounds: 0.95 - 0.02 (that
# shortfall) - 3 standard errors, and 0.95 + 3 standard errors.
DATASETS, REPS = 400, 20
COVERAGE_BOUNDS = (0.95 - 0.02 - 3 * 0.011, 0.95 + 3 * 0.011)


def correlated_counts(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Paired outcomes as common random numbers make them: a shared Poisson part (strongly
    correlated pairs) plus each arm's own; true means 12 (base) and 9 (scenario)."""
    rng = np.random.default_rng(seed)
    shared = rng.poisson(8.0, (REPS, DATASETS))
    return (shared + rng.poisson(1.0, (REPS, DATASETS))).astype(float), (shared + rng.poisson(4.0, (REPS, DATASETS))).astype(float)


def coverage(interval, truth: float) -> float:
    return float(np.mean((interval.low <= truth) & (truth <= interval.high)))


def test_levels_differences_and_ratios_cover_their_true_values_about_95_percent():
    values, base = correlated_counts(2024)
    low, high = COVERAGE_BOUNDS
    assert low <= coverage(level_interval(values, 1, "level"), 9.0) <= high
    assert low <= coverage(difference_interval(values, base, 1, "paired"), -3.0) <= high
    assert low <= coverage(ratio_interval(values, base, 1, "paired"), 9.0 / 12.0) <= high


def test_the_ratio_interval_is_paired():
    """Resampling the two arms apart ignores their correlation: intervals far too wide. Paired,
    the ratio's interval is about as narrow as the difference's, relative to the baseline mean."""
    values, base = correlated_counts(7)
    ratio = ratio_interval(values, base, 1, "paired")
    diff = difference_interval(values, base, 1, "paired")
    relative_width = np.median((diff.high - diff.low) / base.mean(axis=0))
    assert np.median(ratio.high - ratio.low) == pytest.approx(relative_width, rel=0.25)


def test_sign_flip_p_values_are_uniform_without_an_effect_and_small_with_one():
    rng = np.random.default_rng(3)
    null = rng.normal(0.0, 1.0, (REPS, DATASETS))
    rejected = np.mean(sign_flip_p_values(null, 1, "test") < 0.05)
    assert abs(rejected - 0.05) <= 3 * math.sqrt(0.05 * 0.95 / DATASETS)
    assert np.all(sign_flip_p_values(null + 2.0, 1, "test") < 0.001)


# --------------------------------------------------------------------------- end points and multiplicity
def frames(values: list[list[int]]) -> list[pd.DataFrame]:
    """One timeseries per replication over 4 steps (2 a year): offences per step as given."""
    return [pd.DataFrame({"step": [1, 2, 3, 4], "year": [0.5, 1.0, 1.5, 2.0], "involved": [5, 5, 5, 5], "offences": v,
                          "recruits_offline": [1, 1, 1, 1], "recruits_online": [0, 0, 0, 0]}) for v in values]


def test_end_points_since_the_first_intervention_count_from_its_step():
    base = frames([[4, 4, 4, 4], [6, 6, 6, 6]])
    other = frames([[4, 4, 1, 1], [6, 6, 2, 2]])  # the intervention acts from step 3
    summary = aggregate({"base": base, "other": other}, "base", 2, Design(start_step=3)).summary.set_index(["scenario", "endpoint"])
    assert summary.loc[("base", "offences.since_start"), "mean"] == 10.0  # (8 + 12) / 2
    assert summary.loc[("other", "offences.since_start"), "diff_mean"] == -7.0
    assert summary.loc[("other", "offences.since_start"), "pct_change"] == pytest.approx(-70.0)  # -7 / 10
    assert summary.loc[("other", "offences.total"), "pct_change"] == pytest.approx(-35.0)  # diluted by the two years before
    assert summary.loc[("other", "offences.since_start"), "window"] == "since_start"
    without = aggregate({"base": base, "other": other}, "base", 2).summary
    assert not without["endpoint"].str.endswith(".since_start").any()


def test_primary_end_points_are_judged_alone_and_the_others_under_fdr_control():
    summary = pd.DataFrame({
        "primary": [True, True, False, False, False, False],
        "p_value": [0.04, 0.20, 0.001, 0.04, 0.03, np.nan],
        "pct_change": [-10.0, -5.0, -20.0, -8.0, -9.0, np.nan],
        "pct_ci_low": [-15.0, -9.0, -30.0, -12.0, -13.0, np.nan], "pct_ci_high": [-2.0, 1.0, -10.0, -1.0, -2.0, np.nan],
        "diff_ci_low": [np.nan] * 6, "diff_ci_high": [np.nan] * 6,
    })
    judged = judge(summary)
    # Benjamini-Hochberg over the three non-primary p-values: 0.001·3/1, 0.04·3/3, 0.03·3/2
    np.testing.assert_allclose(judged["q_value"].to_numpy()[2:5], [0.003, 0.04, 0.04])
    assert judged["q_value"].iloc[[0, 1, 5]].isna().all()
    assert judged["significant"].tolist() == [True, False, True, True, True, False]
    # p = 0.04 alone would pass, but not as the second smallest of three: q = 0.04 · 3/2 = 0.06
    adjusted = judge(summary.assign(p_value=[0.04, 0.2, 0.001, 0.04, 0.2, np.nan]))
    assert adjusted["significant"].tolist() == [True, False, True, False, False, False]


def test_a_change_whose_interval_holds_zero_is_never_called_significant():
    summary = pd.DataFrame({"primary": [True], "p_value": [0.01], "pct_change": [-5.0], "pct_ci_low": [-9.0], "pct_ci_high": [0.5],
                            "diff_ci_low": [-2.0], "diff_ci_high": [-0.1]})
    assert not judge(summary)["significant"].iloc[0]


def test_the_default_primary_end_points_fall_back_to_whole_run_totals_without_interventions():
    base, other = frames([[4, 4, 4, 4], [6, 6, 6, 6]]), frames([[3, 4, 4, 4], [6, 5, 6, 6]])
    summary = aggregate({"base": base, "other": other}, "base", 2).summary
    assert set(summary.loc[summary["primary"], "endpoint"]) == {"involved.last_year_mean", "recruits_all.total", "offences.total"}
    summary = aggregate({"base": base, "other": other}, "base", 2, Design(start_step=2)).summary
    assert set(summary.loc[summary["primary"], "endpoint"]) == set(DEFAULT_PRIMARY)
