"""Vectorised sampling helpers shared by the recruitment rules."""

from __future__ import annotations

import numpy as np


def one_per_group(groups: np.ndarray, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each group, the index of one element drawn with probability proportional to weight.

    Groups whose weights are all zero get none. Returns indices into the input arrays.
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
    target = np.minimum(before + rng.random(len(starts)) * (last - before), np.nextafter(last, -np.inf))
    pick = np.clip(np.searchsorted(cum, target, side="right"), starts, ends - 1)
    return order[pick[ok]]


def first_occurrence(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices keeping one random occurrence of each distinct value."""
    shuffled = rng.permutation(len(values))
    _, first = np.unique(values[shuffled], return_index=True)
    return np.sort(shuffled[first])
