"""Vectorised sampling helpers shared by the recruitment rules.

They take their random numbers as arguments (one uniform per group or per element, drawn by
the caller from its keyed stream, sim/rng.py), so a choice for one person does not depend on
how many choices were made before it.
"""

from __future__ import annotations

import numpy as np


def one_per_group(groups: np.ndarray, weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each group, the index of one element drawn with probability proportional to weight.

    An exponential race: each element's time is -log(1 - u) / weight, the earliest wins (u: one
    uniform per element, keyed by the element, e.g. (approacher, contact)). Unlike an inverse-CDF
    draw over the group, an element's chance of winning does not depend on where it sits in the
    group, and adding, removing or reweighting another element changes the pick only if that
    element wins: choices stay paired across runs that differ elsewhere. Groups whose weights are
    all zero get none. Returns indices into the inputs, in order of group.
    """
    groups, weights = np.asarray(groups), np.asarray(weights, dtype=float)
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    with np.errstate(divide="ignore"):
        time = np.where(weights > 0, -np.log1p(-np.asarray(u, dtype=float)) / weights, np.inf)
    order = np.lexsort((time, groups))
    first = order[np.concatenate([[True], groups[order][1:] != groups[order][:-1]])]
    return first[np.isfinite(time[first])]


def smallest(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k smallest values, smallest first: `np.argsort(values, kind="stable")[:k]`
    in O(len(values)) (equal values keep their order). Drawing k units without replacement is
    taking the k smallest of their keyed numbers (sim/rng.py)."""
    if len(values) <= k:
        return np.argsort(values, kind="stable")
    kth = np.partition(values, k - 1)[k - 1]
    below = np.flatnonzero(values <= kth)  # every one of the k smallest, and ties of the k-th, in index order
    return below[np.argsort(values[below], kind="stable")[:k]]


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
