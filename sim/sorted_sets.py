"""Set operations on integer arrays by sorting, with the results of their numpy namesakes.

numpy >= 2.3 computes a plain `np.unique` with a hash table, which on int64 arrays of 10^5-10^6
elements is 10-25x slower than sorting them (numpy issue #31969), and `np.union1d`,
`np.setdiff1d` and `np.isin` call it. These give the same arrays, sorted and deduplicated.
`unique_first`, on the tie keys of a step's meetings, is a radix sort when compiled (sim/compiled.py).
"""

from __future__ import annotations

import numpy as np

from sim import compiled


def unique(values) -> np.ndarray:
    """`np.unique(values)` for a 1-d array: its distinct values, sorted."""
    s = np.sort(np.asarray(values).ravel())
    return s[_run_starts(s)]


def unique_first(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(values, return_index=True)`: distinct values and the index of each one's first occurrence."""
    n = len(values)
    if compiled.enabled() and n and values.min() >= 0:
        return unique_first_kernel(np.ascontiguousarray(values, dtype=np.int64))
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


RADIX_BITS = 13  # at most 13-bit digits: an 8,192-bucket count (64 KiB) stays in the L2 cache


@compiled.kernel
def unique_first_kernel(values):
    # a stable LSD radix sort of (value, index) pairs: 2-2.5x numpy's comparison sort on 3x10^4 to
    # 3x10^5 tie keys (measured), linear in their number; stable, so the first of equal values is
    # their first occurrence. The fewest passes of at most RADIX_BITS bits, split evenly: the
    # 37-bit tie keys of 100k persons take 3 passes of 13 bits (4 of 11 bits cost 1.6x as much)
    n = len(values)
    keys, index = values.copy(), np.arange(n)
    keys_out, index_out = np.empty_like(keys), np.empty_like(index)
    top, bits = values.max(), 0
    while bits < 63 and (top >> bits) > 0:
        bits += 1
    passes = (bits + RADIX_BITS - 1) // RADIX_BITS
    width = (bits + passes - 1) // passes if passes else 1
    mask = (1 << width) - 1
    shift = 0
    for _ in range(passes):
        start = np.zeros(mask + 2, dtype=np.int64)
        for i in range(n):
            start[((keys[i] >> shift) & mask) + 1] += 1
        start = np.cumsum(start)
        for i in range(n):
            digit = (keys[i] >> shift) & mask
            keys_out[start[digit]], index_out[start[digit]] = keys[i], index[i]
            start[digit] += 1
        keys, keys_out, index, index_out = keys_out, keys, index_out, index
        shift += width
    first = np.ones(n, dtype=np.bool_)
    for i in range(1, n):
        first[i] = keys[i] != keys[i - 1]
    return keys[first], index[first]


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
