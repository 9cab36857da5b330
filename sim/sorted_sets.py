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
TWO_LEVEL_FROM = 1 << 19  # values from which a first pass on the top bits pays (measured below)
BUCKET_SIZE = 2048  # the values per top-bits bucket that the two-level sort aims at (32 KiB: in cache)
BUCKET_RADIX_BITS = 11


@compiled.kernel
def unique_first_kernel(values):
    # a stable radix sort of (value, index) pairs, so the first of equal values is their first
    # occurrence. Up to TWO_LEVEL_FROM values they fit in the caches and LSD passes over all of
    # them are fastest (2-2.5x numpy's comparison sort on 3x10^4 to 3x10^5 tie keys); above, each
    # such pass scatters across memory, and one pass by the top bits, then LSD passes within each
    # bucket in cache, is faster: 2.8 million keys of a million persons 62-72 against 95-134 ms,
    # 700,000 keys 12 against 21 ms, 400,000 keys 6.8 against 6.3 ms (measured). Where a value's
    # bits below the buckets' and its index fit in 63 bits together (tie keys up to ~10 million
    # persons), they are packed into one int64: the passes move one array, not two, 1.6-1.7x
    # faster (1.35 million keys of a million persons, 17 against 29 ms; 30,000 to 600,000 alike)
    n = len(values)
    bits = _bits(values.max()) if n else 0
    if n >= TWO_LEVEL_FROM:
        low_bits, start = _top_bits_buckets(values, bits)
        digit_bits = BUCKET_RADIX_BITS
    else:  # one bucket
        low_bits, start = bits, np.array([0, n], dtype=np.int64)
        digit_bits = RADIX_BITS
    if low_bits + _bits(n) <= 63:
        return _unique_first_packed(values, low_bits, start, _bits(n), digit_bits)
    if n >= TWO_LEVEL_FROM:
        keys, index = _two_level_radix(values, low_bits, start)
    else:
        keys, index = values.copy(), np.arange(n)
        _lsd_radix(keys, index, np.empty_like(keys), np.empty_like(index), bits, RADIX_BITS)
    first = np.ones(n, dtype=np.bool_)
    for i in range(1, n):
        first[i] = keys[i] != keys[i - 1]
    return keys[first], index[first]


@compiled.kernel
def _unique_first_packed(values, low_bits, start, index_bits, digit_bits):
    # `unique_first_kernel` with each value's low bits and its index packed as (low << index_bits)
    # | index: buckets by the top bits (`start`: where each begins; one bucket if the low bits
    # are all of them), then each bucket by the packed value's low-bits part, LSD, stably (the
    # indexes of equal values stay in order: they were scattered in order)
    n = len(values)
    low_mask = (1 << low_bits) - 1
    bounds = start.copy()
    packed = np.empty(n, dtype=np.int64)
    for i in range(n):
        digit = values[i] >> low_bits
        packed[start[digit]] = ((values[i] & low_mask) << index_bits) | i
        start[digit] += 1
    room = np.empty(n, dtype=np.int64)
    for b in range(len(bounds) - 1):
        lo, hi = bounds[b], bounds[b + 1]
        if hi - lo > 1:
            _lsd_radix(packed[lo:hi], room[:0], room[lo:hi], room[:0], low_bits, digit_bits, index_bits)
    keys, index = room, np.empty(n, dtype=np.int64)  # (the room is free again)
    index_mask = (1 << index_bits) - 1
    m = 0
    for b in range(len(bounds) - 1):
        for j in range(bounds[b], bounds[b + 1]):
            value = (b << low_bits) | (packed[j] >> index_bits)
            if m == 0 or value != keys[m - 1]:
                keys[m], index[m] = value, packed[j] & index_mask
                m += 1
    return keys[:m], index[:m]


@compiled.kernel
def _bits(top):
    bits = 0
    while bits < 63 and (top >> bits) > 0:
        bits += 1
    return bits


@compiled.kernel
def _lsd_radix(keys, index, keys_out, index_out, bits, max_digit_bits, first_bit=0):
    # sorts (keys, index) in place by `bits` bits of the keys from `first_bit` up, stably, using
    # the two other arrays as room; the fewest passes of at most `max_digit_bits` bits, split evenly: the
    # 37-bit tie keys of 100k persons take 3 passes of 13 bits (4 of 11 bits cost 1.6x as much).
    # Empty `index` and `index_out`: the keys alone
    n = len(keys)
    carried = len(index) == n
    passes = (bits + max_digit_bits - 1) // max_digit_bits
    width = (bits + passes - 1) // passes if passes else 1
    mask = (1 << width) - 1
    start = np.zeros(mask + 2, dtype=np.int64)
    shift = first_bit
    for _ in range(passes):
        start[:] = 0
        for i in range(n):
            start[((keys[i] >> shift) & mask) + 1] += 1
        for d in range(1, mask + 2):
            start[d] += start[d - 1]
        if carried:
            for i in range(n):
                digit = (keys[i] >> shift) & mask
                keys_out[start[digit]], index_out[start[digit]] = keys[i], index[i]
                start[digit] += 1
        else:  # (the test is out of the loop: each loop compiles without it)
            for i in range(n):
                digit = (keys[i] >> shift) & mask
                keys_out[start[digit]] = keys[i]
                start[digit] += 1
        keys, keys_out, index, index_out = keys_out, keys, index_out, index
        shift += width
    if passes % 2 == 1:  # the sorted pairs are in the room: back to the caller's arrays
        keys_out[:] = keys
        index_out[:] = index


@compiled.kernel
def _top_bits_buckets(values, bits):
    # the first pass of the two-level sorts: buckets by the top bits of `bits`, ~BUCKET_SIZE values
    # each; returns the low bits left and where each bucket starts (and, last, the end)
    top_bits = min(bits, max(_bits(len(values) // BUCKET_SIZE), 1))
    low_bits = bits - top_bits
    start = np.zeros((1 << top_bits) + 1, dtype=np.int64)
    for i in range(len(values)):
        start[(values[i] >> low_bits) + 1] += 1
    for d in range(1, len(start)):
        start[d] += start[d - 1]
    return low_bits, start


@compiled.kernel
def _two_level_radix(values, low_bits, start):
    # one stable pass by the top bits into buckets of ~BUCKET_SIZE values (`_top_bits_buckets`),
    # then each bucket by its low bits (all of its values share the top ones)
    n = len(values)
    bounds = start.copy()
    keys, index = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    for i in range(n):
        digit = values[i] >> low_bits
        keys[start[digit]], index[start[digit]] = values[i], i
        start[digit] += 1
    keys_room, index_room = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    for b in range(len(bounds) - 1):
        lo, hi = bounds[b], bounds[b + 1]
        if hi - lo > 1:
            _lsd_radix(keys[lo:hi], index[lo:hi], keys_room[lo:hi], index_room[lo:hi], low_bits, BUCKET_RADIX_BITS)
    return keys, index


@compiled.kernel
def distinct_kernel(values):
    # `unique(values)` for non-negative int64 values by the two-level radix sort of the keys alone
    # (no index carried: half the memory traffic). `values` is overwritten: it is the sort's room.
    # The set-up's 13.5 million tie keys of a million persons, one thread: 300-321 ms, against
    # 662-817 ms with the index (`unique_first_kernel`), measured
    n = len(values)
    low_bits, start = _top_bits_buckets(values, _bits(values.max()) if n else 0)
    bounds = start.copy()
    keys = np.empty(n, dtype=np.int64)
    for i in range(n):
        digit = values[i] >> low_bits
        keys[start[digit]] = values[i]
        start[digit] += 1
    no_index = np.empty(0, dtype=np.int64)
    for b in range(len(bounds) - 1):
        lo, hi = bounds[b], bounds[b + 1]
        if hi - lo > 1:
            _lsd_radix(keys[lo:hi], no_index, values[lo:hi], no_index, low_bits, BUCKET_RADIX_BITS)
    m = 0
    for i in range(n):
        if i == 0 or keys[i] != keys[m - 1]:
            keys[m] = keys[i]
            m += 1
    return keys[:m]


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


SMALL_ISIN = 256  # pairs (value, test) up to which `isin` compares them all (~1 us; the search costs ~3 numpy calls)


def isin(values, test) -> np.ndarray:
    """`np.isin(values, test)` for integer arrays: a binary search in the sorted distinct `test`."""
    values = np.asarray(values)
    if values.size * np.size(test) <= SMALL_ISIN:  # a step's few newcomers: every pair compared, one numpy call
        return (values[..., None] == np.asarray(test).ravel()).any(axis=-1)
    test = unique(test)
    if len(test) == 0:
        return np.zeros(values.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(test, values), len(test) - 1)
    return test[pos] == values
