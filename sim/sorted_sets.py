"""Set operations on integer arrays by sorting, with the results of their numpy namesakes.

numpy >= 2.3 computes a plain `np.unique` with a hash table, which on int64 arrays of 10^5-10^6
elements is 10-25x slower than sorting them (numpy issue #31969), and `np.union1d`,
`np.setdiff1d` and `np.isin` call it. These give the same arrays, sorted and deduplicated.
`first_occurrences`, where the order of the distinct values does not matter, needs no sort at all.
"""

from __future__ import annotations

import numpy as np

from sim import compiled


def first_occurrences(values: np.ndarray) -> np.ndarray:
    """Indices of the first occurrence of each distinct value, in increasing order (so
    `values[first_occurrences(values)]` is the distinct values in the order they first appear).

    Compiled: one pass with a hash table, ~10x faster than `unique_first` on 10^5-10^6 tie keys
    (it sorts them); the numpy twin sorts, and gives the same indices."""
    values = np.asarray(values, dtype=np.int64)
    if compiled.enabled():
        return _first_occurrences_kernel(values)
    return np.sort(unique_first(values)[1])


@compiled.kernel
def _first_occurrences_kernel(values):
    n = len(values)
    size = 16
    while size < 2 * n:
        size *= 2
    table = np.full(size, -1, np.int64)  # open addressing: the index of a value's first occurrence
    first = np.zeros(n, np.bool_)
    for i in range(n):
        value = values[i]
        # Fibonacci hashing: the top bits of value x 2^64/phi spread the keys over the table
        slot = np.int64((np.uint64(value) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(32)) & (size - 1)
        while table[slot] >= 0 and values[table[slot]] != value:
            slot = (slot + 1) & (size - 1)
        if table[slot] < 0:
            table[slot] = i
            first[i] = True
    return np.flatnonzero(first)


def unique(values) -> np.ndarray:
    """`np.unique(values)` for a 1-d array: its distinct values, sorted."""
    s = np.sort(np.asarray(values).ravel())
    return s[_run_starts(s)]


def unique_first(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(values, return_index=True)`: distinct values and the index of each one's first occurrence."""
    n = len(values)
    top = int(values.max()) if n else 0
    if n and values.min() >= 0 and top < (2**63 - 1) // n:
        # non-negative int64 values small enough to carry their index: sorting values is ~2x faster
        # than arg-sorting them, and (value, index) pairs sort the first of equal values first
        packed = np.sort(values.astype(np.int64) * n + np.arange(n))
        s, order = np.divmod(packed, n)
    else:
        # an unstable sort, then the smallest index of each run of equal values: 2.5x faster than
        # a stable argsort on 3 million tie keys of a million persons (which are too large to pack)
        order = np.argsort(values)
        s = values[order]
        keep = _run_starts(s)
        starts = np.flatnonzero(keep)
        return s[starts], np.minimum.reduceat(order, starts) if len(starts) else order[:0]
    keep = _run_starts(s)
    return s[keep], order[keep]


def _run_starts(s: np.ndarray) -> np.ndarray:
    """For a sorted array: where each run of equal values starts."""
    keep = np.empty(len(s), dtype=bool)
    if len(s):
        keep[0] = True
        np.not_equal(s[1:], s[:-1], out=keep[1:])
    return keep


def union(a, b) -> np.ndarray:
    """`np.union1d(a, b)`."""
    return unique(np.concatenate([np.asarray(a).ravel(), np.asarray(b).ravel()]))


def isin(values, test) -> np.ndarray:
    """`np.isin(values, test)` for integer arrays: a binary search in the sorted distinct `test`."""
    values = np.asarray(values)
    test = unique(test)
    if len(test) == 0:
        return np.zeros(values.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(test, values), len(test) - 1)
    return test[pos] == values
