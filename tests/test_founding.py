"""Seeding the initial networks: who founds them."""

from __future__ import annotations

import numpy as np

from sim.crime.founding import _draw_founders


def successive_inclusion(w: np.ndarray) -> np.ndarray:
    """P(each unit is among the first two of draws one after another without replacement, each
    with chance proportional to weight among the units left), worked out by hand."""
    p = w / w.sum()
    second = np.array([sum(p[j] * w[i] / (w.sum() - w[j]) for j in range(len(w)) if j != i) for i in range(len(w))])
    return p + second


def test_founders_are_drawn_one_after_another_in_proportion_to_propensity():
    """The first founder is unit i with chance w_i / sum(w), and the first two include i with
    the chance of two weighted draws without replacement (binomial tolerance, 4 standard
    deviations); a unit of propensity 0 and a non-candidate are never drawn."""
    propensity = np.array([0.1, 0.0, 0.2, 0.3, 0.9, 0.4])
    candidates = np.array([0, 1, 2, 3, 5])  # 4 is no candidate (e.g. too young)
    w = propensity[candidates[candidates != 1]]
    reps = 20_000
    rng = np.random.default_rng(5)
    drawn = np.array([_draw_founders(propensity, candidates, 2, rng) for _ in range(reps)])
    units = candidates[candidates != 1]
    first = np.array([(drawn[:, 0] == u).sum() for u in units])
    either = np.array([(drawn == u).any(axis=1).sum() for u in units])
    for counts, p in ((first, w / w.sum()), (either, successive_inclusion(w))):
        assert np.all(np.abs(counts - reps * p) <= 4 * np.sqrt(reps * p * (1 - p))), (counts, reps * p)
    assert not np.isin(drawn, [1, 4]).any()


def test_fewer_founders_than_asked_when_fewer_candidates_can_found():
    propensity = np.array([0.5, 0.0, 0.2])
    got = _draw_founders(propensity, np.arange(3), 5, np.random.default_rng(0))
    assert sorted(got.tolist()) == [0, 2]
