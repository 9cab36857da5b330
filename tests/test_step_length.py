"""A scenario means the same at any step length: yearly attempts, recruits, foundings and
offences agree between daily, weekly and monthly steps.

One year at 1,000 persons per seed and step length; the seeds give the same population and
initial ties at every step length (set-up draws no step-dependent numbers), so the comparison is
paired by seed: the tolerance is 4 standard errors of the mean paired difference across seeds.
Before repeatable actions drew Poisson counts, offline-tie attempts were ~35% fewer with monthly
than with weekly steps, far outside this band.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest
from helpers import SMALL, results_in_processes, scenario

from sim.vocabulary import STEPS_PER_YEAR

SEEDS = tuple(range(6))
SIZE = 1000
METRICS = ("attempts", "attempts_offline_ties", "attempts_offline_venues", "attempts_forums", "attempts_adverts",
           "recruits", "networks_founded", "offences")


@cache
def yearly_totals(step: str) -> pd.DataFrame:
    """One row per seed: the totals of one simulated year."""
    rows = []
    steps = int(STEPS_PER_YEAR[step])
    runs = results_in_processes([scenario(SMALL, seed=seed, step=step, steps=steps, population={"size": SIZE}) for seed in SEEDS])
    for results in runs:
        ts = results.timeseries
        attempts = ts[[c for c in ts.columns if c.startswith("attempts_")]].sum()
        rows.append({**attempts.to_dict(), "attempts": attempts.sum(),
                     "recruits": ts["recruits_offline"].sum() + ts["recruits_online"].sum(),
                     "networks_founded": ts["networks_founded"].sum(), "offences": ts["offences"].sum()})
    return pd.DataFrame(rows, index=SEEDS)


@pytest.mark.parametrize("short, long", [("week", "month"), ("day", "week")])
def test_yearly_counts_do_not_depend_on_the_step_length(short, long):
    a, b = yearly_totals(short), yearly_totals(long)
    for metric in METRICS:
        diff = (a[metric] - b[metric]).astype(float)
        se = diff.std(ddof=1) / np.sqrt(len(diff))
        # a floor of one event a year: a metric that is nearly always equal has a tiny spread
        assert abs(diff.mean()) <= 4 * max(se, 1.0 / np.sqrt(len(diff))), (
            f"{metric}: {short} {a[metric].mean():.1f} vs {long} {b[metric].mean():.1f} a year "
            f"(paired difference {diff.mean():.1f} +- {se:.1f})")
    assert a["attempts"].mean() > 100, "enough activity for the comparison to mean something"


@pytest.mark.parametrize("step", ["week", "day"])
def test_a_rates_chance_per_step_is_the_same_asked_once_or_again(step):
    """`Clock.prob` keeps the chances of scalar rates it was asked for: each must stay the
    chance of its own rate, at its clock's step length, whatever was asked before."""
    from sim.timing import Clock

    clock, other = Clock(step), Clock("month")
    rates = [0.5, 2, 0.5, np.float64(2.0), 0.0, 12.0, 2]
    for rate in rates:
        expected = -np.expm1(-float(rate) * (1.0 / STEPS_PER_YEAR[step]))  # (the clock's dt: years per step)
        assert clock.prob(rate) == expected and other.prob(rate) == -np.expm1(-float(rate) * (1.0 / 12))
    assert np.array_equal(clock.prob(np.array(rates, dtype=float)), [clock.prob(r) for r in rates])
