"""Vectorised sampling helpers shared by the recruitment rules.

They take their random numbers as arguments (one uniform per group or per element, drawn by
the caller from its keyed stream, sim/rng.py), so a choice for one person does not depend on
how many choices were made before it.
"""

from __future__ import annotations

import numpy as np


def one_per_group(groups: np.ndarray, weights: np.ndarray, uniform_of) -> np.ndarray:
    """For each group, the index of one element drawn with probability proportional to weight.

    `uniform_of(group_values)` gives one uniform per distinct group (e.g. keyed by the group's
    person slot). Groups whose weights are all zero get none. Returns indices into the inputs.
    """
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(groups, kind="stable")
    g, w = groups[order], np.asarray(weights, dtype=float)[order]
    starts = np.flatnonzero(np.concatenate([[True], g[1:] != g[:-1]]))
    ends = np.concatenate([starts[1:], [len(g)]])
    # normalise within each group first, so a group's tiny weights are not lost in the rounding
    # of a cumulative sum dominated by other groups' large ones
    total = np.add.reduceat(w, starts)
    ok = total > 0
    sizes = ends - starts
    w = w / np.repeat(np.where(ok, total, 1.0), sizes)
    cum = np.cumsum(w)
    before = np.concatenate([[0.0], cum])[starts]
    last = cum[ends - 1]
    # a target strictly below the group's last cumulative value never lands on a trailing zero weight
    u = np.asarray(uniform_of(g[starts]), dtype=float)
    target = np.minimum(before + u * (last - before), np.nextafter(last, -np.inf))
    pick = np.clip(np.searchsorted(cum, target, side="right"), starts, ends - 1)
    return order[pick[ok]]


def first_occurrence(values: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Indices keeping one random occurrence of each distinct value: the one with the smallest `u`."""
    shuffled = np.argsort(u, kind="stable")
    _, first = np.unique(values[shuffled], return_index=True)
    return np.sort(shuffled[first])


def occurrence_number(values: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each element, how many elements with the same value come before it in the order of `u` (0, 1, ...)."""
    order = np.lexsort((u, values))
    v = values[order]
    start = np.concatenate([[True], v[1:] != v[:-1]]) if len(v) else np.zeros(0, bool)
    group_start = np.maximum.accumulate(np.where(start, np.arange(len(v)), 0))
    nth = np.empty(len(values), dtype=np.int64)
    nth[order] = np.arange(len(v)) - group_start
    return nth


def sequential(rng: np.random.Generator):
    """`uniform_of` for a plain Generator (tests, set-up): the next numbers of the stream."""
    return lambda keys: rng.random(len(keys))
