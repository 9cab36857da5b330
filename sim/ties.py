"""Social ties as sorted edge arrays, stored in both directions.

Design (why it is fast, and stays fast at a million persons):
- Every tie (a, b, layer) is stored twice, as rows keyed (a, b, layer) and (b, a, layer), sorted
  by key. All ties of a person are then one contiguous range, found by binary search: looking
  up the ties of k persons costs O(k log E), not a pass over all E ties.
- New ties go into a small sorted `fresh` run; it is merged into the large `main` run only when
  forgotten ties are pruned (every `prune_every` steps). Per step, inserting costs O(fresh),
  not O(E) (a two-level log-structured merge). The merge is in place: the main run's kept rows
  move to the front of its arrays and the fresh run is merged in from the back, so a prune holds
  a second copy of the ties only when they outgrow the arrays (which then grow by 10%).
- Strength decays lazily: a row keeps the strength it had at its last use (`last_step`); its
  current strength is computed from the half-life only when read. Social ties (made at set-up,
  in a household or on arrival; `made_place` = NO_PLACE) use their layer's half-life; ties made
  by a chance meeting at a place use the (short) acquaintance half-life.
- Ties of persons who leave are marked dead (strength 0) at once and removed at the next prune,
  so a departure costs O(degree log E).
- A step's meetings are deduplicated by a radix sort, so their keys arrive sorted: the key filter
  (a bitmap indexed by a key's top bits) is then read in order and rules out most of them
  (strangers); the others are searched among their ego's rows of the main run (a row index by
  ego, kept between prunes) and, in order, in the fresh run. One kernel does
  all of a step's meetings (keys, dedupe, lookup, strengthening). A large batch is met in parts,
  one a thread, split by the smaller slot of each pair: a pair and both rows of its tie belong
  to one part, so the parts write disjoint rows and give what one call gives.
- The set-up's ties (millions of pairs into an empty store) skip all of that: their rows' keys
  are made and sorted at once, in parts by ego on threads (`_first_run`).
- The loops over rows are compiled kernels (sim/compiled.py); each has its numpy twin here,
  which gives the same results bit for bit (tests/test_compiled.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim import compiled, rng, sorted_sets
from sim.rng import keyed_pair_uniform  # for kernels
from sim.sorted_sets import distinct_kernel, unique_first_kernel  # for kernels: of non-negative keys
from sim.vocabulary import LAYER, LAYERS

if TYPE_CHECKING:
    from sim.scenario.schema import TieParams
    from sim.timing import Clock

NO_PLACE = -1  # ties made at set-up (household, school, initial friendships)
# The kernels read N_LAYERS as a constant compiled in (`%` by it is a multiplication, by a
# variable a division), and numba's cache of them is renewed only when this file changes: so the
# number is written here, and checked against the vocabulary's layers at import.
N_LAYERS = 7
if N_LAYERS != len(LAYERS):  # pragma: no cover - a layer was added or removed in sim/vocabulary.py
    raise ImportError(f"sim/ties.py: set N_LAYERS = {len(LAYERS)} (the layers in sim/vocabulary.py) so that its kernels are compiled again")
FRESH_SHARE = 0.25  # merge early if the fresh run outgrows this share of the main run
MERGE_FROM = 10_000  # ... and these many rows (a smaller fresh run costs little to search)
PRUNE_BLOCK = 1 << 20  # rows whose strength a prune works out at once (numpy twin)
ROOM_GROWTH = 1.1  # when the main run outgrows its arrays: new ones this much larger


def _grown(columns: list[np.ndarray], kept: int, size: int) -> list[np.ndarray]:
    """The columns in arrays of `size` rows, their first `kept` rows copied; one column at a time,
    each old one freed once copied (when the caller holds no other reference to it): the peak is
    the run plus its largest new column, not two runs (at 10 million persons a run is ~5 GB).
    (numpy's `ndarray.resize` copies too, measured: it does not remap the pages as realloc can.)"""
    grown = []
    while columns:
        old = columns.pop(0)
        new = np.empty(size, dtype=old.dtype)
        new[:kept] = old[:kept]
        grown.append(new)
        del old
    return grown


@dataclass
class _Run:
    """One sorted run of tie rows (both directions of every tie it holds)."""

    key: np.ndarray
    strength: np.ndarray
    last_step: np.ndarray
    made_place: np.ndarray  # (when a tie was made is not kept: nothing reads it, and it was 4 of a row's 22 bytes)

    @classmethod
    def empty(cls) -> _Run:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(0, np.int16))

    def columns(self):
        return [getattr(self, f.name) for f in fields(self)]

    def take(self, index) -> _Run:
        return _Run(*(c[index] for c in self.columns()))

    def insert(self, rows: _Run) -> _Run:
        """A new run with `rows` (sorted by key, keys not present) merged in: O(len(self) + len(rows)).

        What `np.insert` gives per column, with the destinations worked out once for all columns
        (`np.insert` sorts the positions again for each column: seconds at set-up for 1M persons).
        With the kernels, a large run in parts split at its keys, one a thread: each step's new
        ties are merged into the fresh run (~2 million rows at a million persons before a prune),
        which is memory-bound. (With the kernels a step's new ties no longer come here: they
        are merged in place, `TieStore._add_to_fresh`.)
        """
        if len(self) == 0:
            return _Run(*(theirs.astype(mine.dtype) for mine, theirs in zip(self.columns(), rows.columns())))
        theirs = [t.astype(mine.dtype, copy=False) for mine, t in zip(self.columns(), rows.columns())]
        if compiled.enabled():
            out = [np.empty(len(self) + len(rows), dtype=c.dtype) for c in self.columns()]
            parts = compiled.threads() if len(self) >= PARALLEL_MEETINGS else 1
            mine_bounds = compiled.even_split(len(self), parts)
            # the new rows before each part's first key: parts split both runs at one key, and write their own rows
            their_bounds = np.concatenate([[0], np.searchsorted(rows.key, self.key[mine_bounds[1:-1]]), [len(rows)]])
            compiled.in_threads([partial(_merge_part_kernel, *self.columns(), *theirs, *out, mine_bounds[p], mine_bounds[p + 1],
                                         their_bounds[p], their_bounds[p + 1]) for p in range(parts)])
            return _Run(*out)
        dest = np.searchsorted(self.key, rows.key) + np.arange(len(rows))  # rows are sorted
        old = np.ones(len(self) + len(rows), dtype=bool)
        old[dest] = False
        merged = []
        for mine, t in zip(self.columns(), theirs):
            column = np.empty(len(old), dtype=mine.dtype)
            column[dest] = t
            column[old] = mine
            merged.append(column)
        return _Run(*merged)

    def __len__(self) -> int:
        return len(self.key)


class _KeyFilter:
    """A Bloom filter with one hash of the keys held in the runs (live or dead): ~16 bits per key.

    Most meetings are between strangers (>99% of a step's pairs at 100k persons in year 9): a bit
    lookup rules out their keys instead of a binary search in the large main run. It has no false
    negatives, so `_locate` finds exactly what it found without it. The hash is the key's top bits:
    keys of ties spread evenly over the key space (egos), and sorted keys (the runs are sorted)
    then set their bits in one pass, without sorting.
    """

    def __init__(self, key_span: int, n_keys: int):
        bits = max(int(np.ceil(np.log2(max(16 * n_keys, 1)))), 10)
        self._shift = np.uint64(max(int(np.ceil(np.log2(max(key_span, 2)))) - bits, 0))
        self._bits = np.zeros((key_span >> int(self._shift) >> 3) + 1, dtype=np.uint8)

    def add_sorted(self, keys: np.ndarray) -> None:
        """Add keys given in increasing order."""
        if len(keys) == 0:
            return
        if compiled.enabled():
            _filter_add(self._bits, keys, self._shift)
            return
        h = keys.view(np.uint64) >> self._shift
        byte = h >> np.uint64(3)
        first = np.flatnonzero(np.concatenate([[True], byte[1:] != byte[:-1]]))
        self._bits[byte[first]] |= np.bitwise_or.reduceat(np.left_shift(1, h & np.uint64(7)).astype(np.uint8), first)

    def add(self, keys: np.ndarray) -> None:
        """Add keys in any order."""
        if compiled.enabled():
            _filter_add(self._bits, keys, self._shift)
        else:
            self.add_sorted(np.sort(keys))

    def may_hold(self, keys: np.ndarray) -> np.ndarray:
        h = np.asarray(keys, dtype=np.int64).view(np.uint64) >> self._shift
        return ((self._bits[h >> np.uint64(3)] >> (h & np.uint64(7)).astype(np.uint8)) & 1).astype(bool)


def _strength_now_numpy(key, strength, last_step, made_place, rows, step, log2_decay, initial_strength, factors):
    """`TieStore._strength_now` on the columns of a run (the numpy twin of the kernel below);
    `factors[c, age]` is 2^(-rate x age) for decay class c: a layer's half-life, or (last) the
    acquaintance half-life."""
    layer = key[rows] % N_LAYERS
    social = made_place[rows] == NO_PLACE
    eroding = social & (log2_decay[layer] > 0)
    floor = np.where(social & ~eroding, initial_strength[layer], np.float32(0.0))
    stored = strength[rows]
    now = floor + (stored - floor) * factors[np.where(eroding, layer, N_LAYERS), step - last_step[rows]]
    return np.where(stored > 0, now, 0.0)  # 0 marks a dead tie (a departed person's)


@compiled.kernel
def _strength_now_kernel(key, strength, last_step, made_place, rows, step, log2_decay, initial_strength, factors):
    # the numpy twin's arithmetic, value by value: float32 floor and difference, float64 decay factor
    # (written out here, not in a helper called per row: that costs 4x, measured)
    out = np.zeros(len(rows))
    for i in range(len(rows)):
        r = rows[i]
        stored = strength[r]
        if stored > 0:
            layer = key[r] % N_LAYERS
            floor = np.float32(0.0)
            decay_class = N_LAYERS
            if made_place[r] == NO_PLACE:
                if log2_decay[layer] > 0:
                    decay_class = layer
                else:
                    floor = initial_strength[layer]
            out[i] = np.float64(floor) + np.float64(np.float32(stored - floor)) * factors[decay_class, step - last_step[r]]
    return out


@compiled.kernel
def _still_strong_kernel(key, strength, last_step, made_place, first, end, step, log2_decay, initial_strength,
                         factors, min_strength, keep):
    # `TieStore._still_strong` for the rows [first, end): each row's strength now (the arithmetic
    # of `_strength_now_kernel`, written out again: a kernel for one row's strength, called by both,
    # made them 7x slower, measured in stop 31) against the floor, with no array of rows or
    # strengths between: 275,000 rows (10,000 persons) 3.8-3.9 against 2.2-2.3 ms, 2.75 million
    # 28-29 against 22-23 ms, one thread, measured (the block-wise version before it: a million
    # persons' 15 million main-run rows, 73 ms on two threads, 104-155 ms on one)
    for r in range(first, end):
        stored = strength[r]
        now = 0.0  # a dead tie (a departed person's)
        if stored > 0:
            layer = key[r] % N_LAYERS
            floor = np.float32(0.0)
            decay_class = N_LAYERS
            if made_place[r] == NO_PLACE:
                if log2_decay[layer] > 0:
                    decay_class = layer
                else:
                    floor = initial_strength[layer]
            now = np.float64(floor) + np.float64(np.float32(stored - floor)) * factors[decay_class, step - last_step[r]]
        keep[r] = now >= min_strength


@compiled.kernel
def _strengthen_kernel(key, strength, last_step, made_place, rows, reverse_rows, step, gain, log2_decay, initial_strength, factors):
    now = _strength_now_kernel(key, strength, last_step, made_place, rows, step, log2_decay, initial_strength, factors)
    alive = np.zeros(len(rows), dtype=np.bool_)
    for i in range(len(rows)):
        r = rows[i]
        if strength[r] > 0:
            alive[i] = True
            new = now[i] + gain * (1.0 - now[i])
            reverse = reverse_rows[i]
            strength[r] = new
            strength[reverse] = new
            last_step[r] = step
            last_step[reverse] = step
    return alive


# meetings from which a batch is met in parts, one a thread: on 2 threads a step at a million persons
# (2.8 million meetings) took 1,003 against 1,078 ms, at 100,000 (280,000) 81 against 88 ms; at
# 10,000 (28,000) 15 against 14.7 ms (means of 2-3 runs, wall time)
PARALLEL_MEETINGS = 1 << 17
# pieces per thread of a part of a step's meetings that threads take as they come free
# (`StepMeetings.start_strengthening`): the thread that comes free last then waits little
SHARED_PARTS = 4
PARALLEL_EGOS = 1 << 12  # persons from whose ties alters are marked on several threads (`tied_to`)
LINEAR_SWEEP_ROWS = 256  # rows per key below which a plain sweep beats galloping (measured at 100k persons)


@compiled.kernel
def _first_at_least(run_key, lo, hi, k):
    # the first row in [lo, hi) whose key is at least k (hi if none): a binary search
    while lo < hi:
        mid = (lo + hi) >> 1
        if run_key[mid] < k:
            lo = mid + 1
        else:
            hi = mid
    return lo


@compiled.kernel
def _gallop(run_key, lo, k):
    # the first row from lo on whose key is at least k: O(log gap) reads near lo (the last hit)
    end, bound = len(run_key), 1
    while lo + bound - 1 < end and run_key[lo + bound - 1] < k:
        lo += bound
        bound *= 2
    return _first_at_least(run_key, lo, min(lo + bound - 1, end), k)


@compiled.kernel
def _locate_sorted_kernel(keys, main_key, fresh_key):
    where = np.full(len(keys), -1, dtype=np.int8)
    row = np.zeros(len(keys), dtype=np.int64)
    for code, run_key in enumerate((main_key, fresh_key)):
        lo, end = 0, len(run_key)  # run_key[:lo] < every key still to come
        # (the reverse rows of a step's ties found in the fresh run) keys that hit a run every few
        # rows are found by reading every row in order, which streams memory (~0.6x the cost of
        # galloping reads, measured at 100k persons); a few keys (a household's ties) gallop
        sweep = end <= LINEAR_SWEEP_ROWS * len(keys)
        for i in range(len(keys)):
            if where[i] >= 0:
                continue
            if sweep:
                while lo < end and run_key[lo] < keys[i]:
                    lo += 1
            else:
                lo = _gallop(run_key, lo, keys[i])
            if lo < end and run_key[lo] == keys[i]:
                where[i], row[i] = code, lo
    return where, row


@compiled.kernel
def _rows_by_ego_kernel(key, n_slots, span):
    # for each slot s (and n_slots): the first row whose key is at least s x span, i.e. where the
    # rows of ego s start (and those of s - 1 end): one sweep, no division
    index = np.empty(n_slots + 1, dtype=np.int64)
    r = 0
    for s in range(n_slots + 1):
        bound = s * span
        while r < len(key) and key[r] < bound:
            r += 1
        index[s] = r
    return index


@compiled.kernel
def _live_rows_kernel(key, strength, starts, ends, wanted):
    # the rows of each ego are [starts[i], ends[i]), egos in order; count, then fill. (N_LAYERS is
    # a constant to numba: `%` by it compiles to a multiplication, where one by a variable was a
    # division per row, most of the time of listing a few thousand persons' ties.)
    count = 0
    for i in range(len(starts)):
        for r in range(starts[i], ends[i]):
            if strength[r] > 0 and wanted[key[r] % N_LAYERS]:
                count += 1
    rows = np.empty(count, dtype=np.int64)
    count = 0
    for i in range(len(starts)):
        for r in range(starts[i], ends[i]):
            if strength[r] > 0 and wanted[key[r] % N_LAYERS]:
                rows[count] = r
                count += 1
    return rows


@compiled.kernel
def _incident_kernel(key, strength, last_step, made_place, egos, starts, ends, wanted, n_slots, step, log2_decay,
                     initial_strength, factors):
    # `TieStore.incident` on one run: the live rows of the (sorted, distinct) egos in the wanted
    # layers, split into (ego, alter, layer) (the ego known from its bounds: no division by
    # n_slots), and their strengths now
    rows = _live_rows_kernel(key, strength, starts, ends, wanted)
    ego, alter, layer = np.empty(len(rows), dtype=np.int64), np.empty(len(rows), dtype=np.int64), np.empty(len(rows), dtype=np.int64)
    j = 0
    for i in range(len(starts)):
        for r in range(starts[i], ends[i]):
            if strength[r] > 0 and wanted[key[r] % N_LAYERS]:
                pair = key[r] // N_LAYERS
                ego[j], alter[j], layer[j] = egos[i], pair - egos[i] * n_slots, key[r] - pair * N_LAYERS
                j += 1
    now = _strength_now_kernel(key, strength, last_step, made_place, rows, step, log2_decay, initial_strength, factors)
    return ego, alter, layer, now


@compiled.kernel
def _remove_persons_kernel(key, strength, egos, starts, ends, leaving, n_slots, main_starts):
    # `TieStore.remove_persons` on one run: the live rows of each ego (in order) and their
    # reverse rows set dead, found among the alter's rows (`main_starts`: the main run's row
    # index; empty: a binary search of the whole run); returns the ties forgotten per layer,
    # each once (a tie between two leavers is counted at its smaller ego, whose rows come first)
    forgotten = np.zeros(N_LAYERS, dtype=np.int64)
    for i in range(len(egos)):
        ego = egos[i]
        for r in range(starts[i], ends[i]):
            if not strength[r] > 0:
                continue
            pair = key[r] // N_LAYERS
            layer = key[r] - pair * N_LAYERS
            alter = pair - ego * n_slots
            if not leaving[alter] or ego < alter:
                forgotten[layer] += 1
            reverse = (alter * n_slots + ego) * N_LAYERS + layer
            if len(main_starts):
                at = _first_at_least(key, main_starts[alter], main_starts[alter + 1], reverse)
            else:
                at = _first_at_least(key, 0, len(key), reverse)
            strength[r] = 0.0
            strength[at] = 0.0
    return forgotten


@compiled.kernel
def _mark_alters_kernel(key, strength, egos, starts, ends, n_slots, wanted, mask):
    # the alters of `_live_rows_kernel`'s rows, marked without listing them: an alter is the key's
    # pair less its ego's share (no division by the number of slots)
    for i in range(len(starts)):
        for r in range(starts[i], ends[i]):
            if strength[r] > 0 and wanted[key[r] % N_LAYERS]:
                mask[key[r] // N_LAYERS - egos[i] * n_slots] = True


@compiled.kernel
def _distinct_egos_kernel(slots):
    # `sorted_sets.unique(slots)` for a query's persons (a few thousand at most, often sorted already)
    egos = np.sort(slots)
    m = 0
    for i in range(len(egos)):
        if m == 0 or egos[i] != egos[m - 1]:
            egos[m] = egos[i]
            m += 1
    return egos[:m]


@compiled.kernel
def _fresh_bounds_kernel(fresh_key, egos, n_slots):
    # where each (sorted) ego's rows start and end in the fresh run: binary searches
    span = n_slots * N_LAYERS
    return np.searchsorted(fresh_key, egos * span), np.searchsorted(fresh_key, (egos + 1) * span)


@compiled.kernel
def _incident_of_runs_kernel(main_key, main_strength, main_last, main_place, main_starts, fresh_key, fresh_strength,
                             fresh_last, fresh_place, slots, wanted, n_slots, step, log2_decay, initial_strength, factors):
    # `TieStore.incident` in one call: the distinct egos, their rows in the main run (by its row
    # index) then in the fresh one. A query's fixed costs in Python (dedupe, bounds, two kernel
    # calls, four joins) were most of its ~58 us at 10,000 persons, 3-4 queries a step
    egos = _distinct_egos_kernel(slots)
    fresh_starts, fresh_ends = _fresh_bounds_kernel(fresh_key, egos, n_slots)
    main = _incident_kernel(main_key, main_strength, main_last, main_place, egos, main_starts[egos], main_starts[egos + 1],
                            wanted, n_slots, step, log2_decay, initial_strength, factors)
    fresh = _incident_kernel(fresh_key, fresh_strength, fresh_last, fresh_place, egos, fresh_starts, fresh_ends,
                             wanted, n_slots, step, log2_decay, initial_strength, factors)
    return (np.concatenate((main[0], fresh[0])), np.concatenate((main[1], fresh[1])), np.concatenate((main[2], fresh[2])),
            np.concatenate((main[3], fresh[3])))


@compiled.kernel
def _links_of_run_kernel(key, strength, egos, starts, ends, wanted, n_slots, ego, alter, j):
    # (ego, alter) of the live rows in the wanted layers, written from index j on; returns the next index
    for i in range(len(starts)):
        for r in range(starts[i], ends[i]):
            if strength[r] > 0 and wanted[key[r] % N_LAYERS]:
                ego[j], alter[j] = egos[i], key[r] // N_LAYERS - egos[i] * n_slots
                j += 1
    return j


@compiled.kernel
def _links_of_runs_kernel(main_key, main_strength, main_starts, fresh_key, fresh_strength, slots, wanted, n_slots):
    # `TieStore.links` in one call: the rows of the main run, then of the fresh one
    egos = _distinct_egos_kernel(slots)
    fresh_starts, fresh_ends = _fresh_bounds_kernel(fresh_key, egos, n_slots)
    main_starts, main_ends = main_starts[egos], main_starts[egos + 1]
    size = (main_ends - main_starts).sum() + (fresh_ends - fresh_starts).sum()  # live or not: an upper bound
    ego, alter = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)
    j = _links_of_run_kernel(main_key, main_strength, egos, main_starts, main_ends, wanted, n_slots, ego, alter, 0)
    j = _links_of_run_kernel(fresh_key, fresh_strength, egos, fresh_starts, fresh_ends, wanted, n_slots, ego, alter, j)
    return ego[:j].copy(), alter[:j].copy()


@compiled.kernel
def _mark_alters_of_runs_kernel(main_key, main_strength, main_starts, fresh_key, fresh_strength, egos, n_slots, wanted, mask):
    # `_mark_alters_kernel` on both runs in one call (the egos sorted and distinct)
    fresh_starts, fresh_ends = _fresh_bounds_kernel(fresh_key, egos, n_slots)
    _mark_alters_kernel(main_key, main_strength, egos, main_starts[egos], main_starts[egos + 1], n_slots, wanted, mask)
    _mark_alters_kernel(fresh_key, fresh_strength, egos, fresh_starts, fresh_ends, n_slots, wanted, mask)


@compiled.kernel
def _pair_keys_kernel(a_parts, b_parts, layer, n_slots, first_slot, end_slot, bits, shift, drawing, new_tie_key, new_tie_chance):
    # the keys of the pairs of two different persons whose smaller slot is in [first_slot, end_slot),
    # and which pairs they are (one pass: no temporaries of the batch's length). The pairs come
    # as pieces (a tuple of arrays each: a step's venue and online meetings, not joined), numbered
    # as if joined; `layer` runs over them all. When `drawing`, a pair that the key filter rules
    # out (no tie, live or dead) and whose draw leaves no tie is left out here: nothing would
    # come of its meeting, and ~83% of a step's pairs at 10,000 persons are such, so the sort,
    # the search and the draws after see a sixth of them (the same pairs come out: every
    # meeting of a pair has its key, so all or none of them are left out). The filter is read
    # in the meetings' order, not in key order, and misses the cache more, yet the tie store's
    # kernel for a step's meetings took, one thread, stop 32: 6.7 against 12.5 ms at 100,000
    # persons (a 2 MB filter), 117 against 175 ms at a million (27 MB), 1.7-1.9 against 2.2-2.5 s
    # at ten million (334 MB)
    total = 0
    for piece in range(len(a_parts)):
        total += len(a_parts[piece])
    keys, kept = np.empty(total, dtype=np.int64), np.empty(total, dtype=np.int64)
    n, offset = 0, 0
    for piece in range(len(a_parts)):
        a, b = a_parts[piece], b_parts[piece]
        for j in range(len(a)):
            lo, hi = min(a[j], b[j]), max(a[j], b[j])
            if lo != hi and first_slot <= lo < end_slot:
                key = (lo * n_slots + hi) * N_LAYERS + layer[offset + j]
                if drawing:
                    h = np.uint64(key) >> shift
                    held = (bits[h >> np.uint64(3)] >> np.uint8(h & np.uint64(7))) & np.uint8(1)
                    if held == 0 and keyed_pair_uniform(lo, hi, new_tie_key) >= new_tie_chance:
                        continue
                keys[n], kept[n] = key, offset + j
                n += 1
        offset += len(a)
    return keys[:n], kept[:n]


@compiled.kernel
def meetings_kernel(a, b, layer, place, n_slots, first_slot, end_slot, main_key, main_strength, main_last, main_place,
                    fresh_key, fresh_strength, fresh_last, fresh_place, main_starts, main_offset, bits, shift, step, gain,
                    log2_decay, initial_strength, factors, drawing, new_tie_key, new_tie_chance):
    # (called inside another module's kernel with `StepMeetings.kernel_args`) `TieStore._new_ties`
    # of the numpy twin in one call, for the pairs whose smaller slot is in [first_slot, end_slot):
    # their keys (`_pair_keys_kernel`), then `_meetings_of_keys_kernel`
    keys, kept = _pair_keys_kernel(a, b, layer, n_slots, first_slot, end_slot, bits, shift, drawing, new_tie_key, new_tie_chance)
    return _meetings_of_keys_kernel(keys, kept, place, n_slots, main_key, main_strength, main_last, main_place, fresh_key,
                                    fresh_strength, fresh_last, fresh_place, main_starts, main_offset, bits, shift, step, gain,
                                    log2_decay, initial_strength, factors, drawing, new_tie_key, new_tie_chance)


@compiled.kernel
def _keys_by_part_kernel(a_parts, b_parts, layer, n_slots, bounds, bits, shift, drawing, new_tie_key, new_tie_chance):
    # `_pair_keys_kernel` for the parts of a batch by the smaller slot of each pair, [bounds[p],
    # bounds[p + 1]), in one pass over the pairs: the keys (and pairs) of each part in meeting
    # order, part after part, and where each part's begin (and, last, their end). A part's
    # kernel then reads its own keys only (when each part read every pair, each part cost a
    # pass over the whole batch)
    keys, kept = _pair_keys_kernel(a_parts, b_parts, layer, n_slots, bounds[0], bounds[-1], bits, shift, drawing,
                                   new_tie_key, new_tie_chance)
    parts = len(bounds) - 1
    begin = np.zeros(parts + 1, dtype=np.int64)
    if parts == 1:
        begin[1] = len(keys)
        return keys, kept, begin
    span = n_slots * N_LAYERS
    part = np.empty(len(keys), dtype=np.int64)
    for i in range(len(keys)):
        part[i] = np.searchsorted(bounds, keys[i] // span, side="right") - 1
        begin[part[i] + 1] += 1
    for p in range(parts):
        begin[p + 1] += begin[p]
    at = begin[:-1].copy()
    by_part, kept_by_part = np.empty_like(keys), np.empty_like(kept)
    for i in range(len(keys)):
        by_part[at[part[i]]], kept_by_part[at[part[i]]] = keys[i], kept[i]
        at[part[i]] += 1
    return by_part, kept_by_part, begin


@compiled.kernel
def _meetings_of_keys_kernel(keys, kept, place, n_slots, main_key, main_strength, main_last, main_place, fresh_key,
                             fresh_strength, fresh_last, fresh_place, main_starts, main_offset, bits, shift, step, gain,
                             log2_decay, initial_strength, factors, drawing, new_tie_key, new_tie_chance):
    # `TieStore._new_ties` of the numpy twin for the keys of the pairs whose smaller slot is in
    # some [first_slot, end_slot) (`_pair_keys_kernel`; `kept`: which meetings they are): each
    # pair once (where it first met), found in the runs, live ties strengthened in place; the
    # pairs without a live tie whose meeting leaves one are returned in key order. The runs may
    # be given from row `main_offset` (and some row of the fresh run) on, the row of the key
    # (first_slot, 0, 0): the pairs' keys and their reverse keys are all at or after it (rows
    # are then counted from it). `main_starts`: where each slot's rows start in the whole main
    # run; `bits` and `shift`: the key filter's
    empty = np.zeros(0, dtype=np.int64)
    if len(keys) == 0:
        return empty, empty, empty, place[:0].copy(), np.zeros(0, dtype=np.int8), empty
    keys, first = unique_first_kernel(keys)
    where, row = _locate_meetings_kernel(keys, bits, shift, main_key, main_starts, main_offset, n_slots, fresh_key)
    alive = np.zeros(len(keys), dtype=np.bool_)
    runs = ((main_key, main_strength, main_last, main_place), (fresh_key, fresh_strength, fresh_last, fresh_place))
    for code, (key, strength, last_step, made_place) in enumerate(runs):
        mine = np.flatnonzero(where == code)
        if len(mine) == 0:
            continue
        reverse_keys = np.empty(len(mine), dtype=np.int64)
        for i in range(len(mine)):
            pair = keys[mine[i]] // N_LAYERS  # lo x n_slots + hi
            reverse_keys[i] = ((pair % n_slots) * n_slots + pair // n_slots) * N_LAYERS + keys[mine[i]] % N_LAYERS
        reverse_rows = np.empty(len(mine), dtype=np.int64)
        if code == 0:  # the reverse row among its ego's (~30 rows at a million persons): no sort, and no
            # sweep of the main run (171,000 ties found there in a step of year 10: 11 against ~70 ms)
            for i in range(len(mine)):
                ego = reverse_keys[i] // (n_slots * N_LAYERS)
                reverse_rows[i] = _first_at_least(key, main_starts[ego] - main_offset, main_starts[ego + 1] - main_offset,
                                                  reverse_keys[i])
        else:  # the reverse rows by one sweep in key order (random binary searches miss the cache)
            reverse_sorted, order = unique_first_kernel(reverse_keys)
            reverse_rows[order] = _locate_sorted_kernel(reverse_sorted, key, key[:0])[1]
        alive[mine] = _strengthen_kernel(key, strength, last_step, made_place, row[mine], reverse_rows, step,
                                         gain, log2_decay, initial_strength, factors)
    return _strangers_kernel(keys, alive, kept, first, place, where, row, n_slots, drawing, new_tie_key, new_tie_chance)


@compiled.kernel
def _locate_meetings_kernel(keys, bits, shift, main_key, main_starts, main_offset, n_slots, fresh_key):
    # `_locate_sorted_kernel` for a step's meetings (keys in increasing order) by the key filter
    # and the main run's row index: the filter rules out ~80% of the keys of a step's meetings
    # (a million persons in year 10; most of them are left out before the sort since stop 32:
    # `_pair_keys_kernel`), the others are searched among their ego's rows in the main run and,
    # in order, in the fresh run. A step's 2.7 million keys, one thread: 48 ms,
    # where sweeping the whole main run (27 million rows, `_locate_sorted_kernel`) took 71 ms;
    # most of the 48 is reading the ~500,000 egos' rows the filter lets through (measured)
    where = np.full(len(keys), -1, dtype=np.int8)
    row = np.zeros(len(keys), dtype=np.int64)
    span = n_slots * N_LAYERS
    fresh_lo = 0  # fresh_key[:fresh_lo] < every key still to come
    for i in range(len(keys)):
        k = keys[i]
        h = np.uint64(k) >> shift
        if (bits[h >> np.uint64(3)] >> np.uint8(h & np.uint64(7))) & np.uint8(1) == 0:
            continue  # in neither run
        ego = k // span
        end = main_starts[ego + 1] - main_offset
        r = _first_at_least(main_key, main_starts[ego] - main_offset, end, k)
        if r < end and main_key[r] == k:
            where[i], row[i] = 0, r
            continue
        fresh_lo = _gallop(fresh_key, fresh_lo, k)
        if fresh_lo < len(fresh_key) and fresh_key[fresh_lo] == k:
            where[i], row[i] = 1, fresh_lo
    return where, row


@compiled.kernel
def _strangers_kernel(keys, alive, kept, first, place, where, row, n_slots, drawing, new_tie_key, new_tie_chance):
    # the pairs of `keys` without a live tie whose meeting leaves one (all, unless `drawing`: the
    # pair's keyed uniform below `new_tie_chance`), read off their keys in order: gathering them
    # from the meetings (a[met], b[met], layer[met]) misses the cache at every pair (104-123 ms of
    # a 320 ms call of meetings at a million persons, measured); only the place is gathered, and
    # only for them (3% of strangers by default): the meeting of keys[i] is kept[first[i]]
    leaves_tie = ~alive
    if drawing:
        for i in range(len(keys)):
            if leaves_tie[i]:
                pair = keys[i] // N_LAYERS
                lo_slot = pair // n_slots
                leaves_tie[i] = keyed_pair_uniform(lo_slot, pair - lo_slot * n_slots, new_tie_key) < new_tie_chance
    n = np.count_nonzero(leaves_tie)
    lo, hi = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    lay, plc = np.empty(n, dtype=np.int64), np.empty(n, dtype=place.dtype)  # layers as int64, whatever their codes' type
    run, run_row = np.empty(n, dtype=where.dtype), np.empty(n, dtype=row.dtype)
    j = 0
    for i in range(len(keys)):
        if not leaves_tie[i]:
            continue
        pair = keys[i] // N_LAYERS
        lo[j] = pair // n_slots
        hi[j] = pair - lo[j] * n_slots
        lay[j] = keys[i] - pair * N_LAYERS
        plc[j], run[j], run_row[j] = place[kept[first[i]]], where[i], row[i]
        j += 1
    return lo, hi, lay, plc, run, run_row


@compiled.kernel
def _sorted_order(keys):
    # the order that sorts distinct keys: no sort if they already are (new ties arrive in key order)
    for i in range(1, len(keys)):
        if keys[i] <= keys[i - 1]:
            return unique_first_kernel(keys)[1]
    return np.arange(len(keys))


@compiled.kernel
def _new_rows_kernel(lo, hi, layer, new_strength, new_place, step, n_slots):
    # both rows of each new tie (lo, hi) and (hi, lo), in key order (the numpy twin's rows in
    # `TieStore._add`): keys, strengths, steps, places
    n = len(lo)
    forward, reverse = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    for i in range(n):
        forward[i] = (lo[i] * n_slots + hi[i]) * N_LAYERS + layer[i]
        reverse[i] = (hi[i] * n_slots + lo[i]) * N_LAYERS + layer[i]
    by_forward, by_reverse = _sorted_order(forward), _sorted_order(reverse)
    key, strength, place = np.empty(2 * n, dtype=np.int64), np.empty(2 * n, dtype=np.float32), np.empty(2 * n, dtype=new_place.dtype)
    f, r = 0, 0
    for o in range(2 * n):
        if r >= n or (f < n and forward[by_forward[f]] < reverse[by_reverse[r]]):
            t = by_forward[f]
            key[o] = forward[t]
            f += 1
        else:
            t = by_reverse[r]
            key[o] = reverse[t]
            r += 1
        strength[o], place[o] = new_strength[t], new_place[t]
    return key, strength, np.full(2 * n, step, dtype=np.int32), place


@compiled.kernel
def _merge_part_kernel(key, strength, last_step, made_place, new_key, new_strength, new_last, new_place,
                       out_key, out_strength, out_last, out_place, i, end, j, new_end):
    # the run's rows [i, end) and the new rows [j, new_end) (both sorted by key, no key in both)
    # merged into the out arrays from row i + j on: `_Run.insert`'s merge, or a part of it (the
    # parts split both at one key, so each writes its own rows)
    for o in range(i + j, end + new_end):
        if j >= new_end or (i < end and key[i] < new_key[j]):
            out_key[o], out_strength[o], out_last[o], out_place[o] = key[i], strength[i], last_step[i], made_place[i]
            i += 1
        else:
            out_key[o], out_strength[o], out_last[o], out_place[o] = new_key[j], new_strength[j], new_last[j], new_place[j]
            j += 1


@compiled.kernel
def _first_run_kernel(a, b, layer, n_slots, initial_strength, step):
    # `TieStore._first_run_numpy`: both rows of each pair of two different persons, each row
    # once, in key order, at the layer's initial strength, made at no place
    n = 0
    for j in range(len(a)):
        n += 2 * (a[j] != b[j])
    keys = np.empty(n, dtype=np.int64)
    n = 0
    for j in range(len(a)):
        if a[j] != b[j]:
            keys[n] = (a[j] * n_slots + b[j]) * N_LAYERS + layer[j]
            keys[n + 1] = (b[j] * n_slots + a[j]) * N_LAYERS + layer[j]
            n += 2
    keys = distinct_kernel(keys)
    strength = np.empty(len(keys), dtype=np.float32)
    rows_by_layer = np.zeros(N_LAYERS, dtype=np.int64)
    for r in range(len(keys)):
        strength[r] = initial_strength[keys[r] % N_LAYERS]
        rows_by_layer[keys[r] % N_LAYERS] += 1
    return keys, strength, np.full(len(keys), step, dtype=np.int32), np.full(len(keys), NO_PLACE, dtype=np.int16), rows_by_layer


@compiled.kernel
def _compact_kernel(key, strength, last_step, made_place, keep):
    # the rows marked `keep` moved to the front of their arrays, in order (in place: a row only
    # moves forward); returns how many, and the live ones dropped by layer (each tie twice)
    forgotten = np.zeros(N_LAYERS, dtype=np.int64)
    kept = 0
    for r in range(len(key)):
        if keep[r]:
            key[kept], strength[kept], last_step[kept], made_place[kept] = key[r], strength[r], last_step[r], made_place[r]
            kept += 1
        elif strength[r] > 0:
            forgotten[key[r] % N_LAYERS] += 1
    return kept, forgotten // 2


@compiled.kernel
def _merge_in_place_kernel(key, strength, last_step, made_place, n, fresh_key, fresh_strength, fresh_last, fresh_place):
    # the fresh rows merged into the first n rows of the arrays (which have room for both), from
    # the back: a row is written at or after every row still to be read
    i, j = n - 1, len(fresh_key) - 1
    for o in range(n + len(fresh_key) - 1, -1, -1):
        if j < 0:
            break  # the rest of the arrays' own rows are in place already
        if i >= 0 and key[i] > fresh_key[j]:
            key[o], strength[o], last_step[o], made_place[o] = key[i], strength[i], last_step[i], made_place[i]
            i -= 1
        else:
            key[o], strength[o], last_step[o], made_place[o] = fresh_key[j], fresh_strength[j], fresh_last[j], fresh_place[j]
            j -= 1


@compiled.kernel
def _filter_add(bits, keys, shift):
    for i in range(len(keys)):
        h = np.uint64(keys[i]) >> shift
        bits[h >> np.uint64(3)] |= np.uint8(1) << np.uint8(h & np.uint64(7))


@compiled.kernel
def _locate_kernel(keys, bits, shift, main_key, fresh_key):
    where = np.full(len(keys), -1, dtype=np.int8)
    row = np.zeros(len(keys), dtype=np.int64)
    for i in range(len(keys)):
        k = keys[i]
        h = np.uint64(k) >> shift
        if (bits[h >> np.uint64(3)] >> np.uint8(h & np.uint64(7))) & np.uint8(1) == 0:
            continue  # the filter rules the key out
        p = np.searchsorted(main_key, k)
        if p < len(main_key) and main_key[p] == k:
            where[i], row[i] = 0, p
            continue
        p = np.searchsorted(fresh_key, k)
        if p < len(fresh_key) and fresh_key[p] == k:
            where[i], row[i] = 1, p
    return where, row


def _pieces(slots) -> tuple[np.ndarray, ...]:
    """A batch of slots as a tuple of int64 arrays: a list or tuple of arrays (pieces, as made:
    a step's meetings at venues and online are not joined, 80 MB at a million persons) or one array."""
    if isinstance(slots, (list, tuple)) and len(slots) and np.ndim(slots[0]) == 1:
        return tuple(np.ascontiguousarray(piece, dtype=np.int64) for piece in slots)
    return (np.ascontiguousarray(np.asarray(slots, dtype=np.int64).ravel()),)


@dataclass
class Incident:
    """Ties of a set of persons: one entry per (ego, alter, layer), ego in the set."""

    ego: np.ndarray
    alter: np.ndarray
    layer: np.ndarray
    strength: np.ndarray  # current strength (after decay)

    def take(self, rows: np.ndarray) -> Incident:
        """The entries `rows` (a mask or indices), in their order. Those of some of the egos are
        what `TieStore.incident` of those egos alone gives, in the same order (the egos' rows in
        the main run, then in the fresh one: tests/test_ties.py)."""
        return Incident(self.ego[rows], self.alter[rows], self.layer[rows], self.strength[rows])


class StepMeetings:
    """A step's chance encounters given to the tie store in parts whose tie layers differ
    (`TieStore.meetings_in_parts`): the venues' meetings (offline layers) and the online
    spaces' (forum, chat). With no layer in two parts no pair is in two either, and each part
    reads and writes only the rows of its own ties (a tie's two rows share its layer): a part's
    live ties may be strengthened on another thread, inside another kernel (`kernel_args`),
    while this thread makes the next part. `add` then makes the new ties of every part in one
    merge. The parts give what one `TieStore.meet` of them all gives (`add` checks the layers)."""

    def __init__(self, store: TieStore, step: int, new_tie_key: np.uint64):
        self._store, self._step, self._new_tie_key = store, step, np.uint64(new_tie_key)
        self._parts: list[tuple[np.ndarray, tuple[np.ndarray, ...]]] = []  # (layers present, pairs that leave a new tie)
        self._shared = compiled.SharedWork()  # a part that threads take in pieces (`start_strengthening`)
        self._sharing = False

    def strengthen(self, a, b, layer, place) -> None:
        """One part, in this thread: its live ties strengthened now (in one kernel call: another
        thread may be at work on another part), its new ties kept for `add`."""
        found = self._store._met(a, b, layer, self._step, place, self._new_tie_key, parts=1)
        self._parts.append((_layers_present(_flat(layer)), found))

    def start_strengthening(self, a, b, layer, place) -> Callable[[], None]:
        """`strengthen` one part on another thread, if there is one, in pieces that this thread
        may join in taking when its own work is done (`help`); returns a function that waits
        for it. At most one such part a step."""
        if not compiled.enabled() or compiled.threads() == 1:
            return lambda: self.strengthen(a, b, layer, place)
        self._sharing = True
        return compiled.started(partial(self._strengthen_shared, a, b, layer, place))

    def _strengthen_shared(self, a, b, layer, place) -> None:
        try:
            kernels, join = self._store._met_parts(a, b, layer, self._step, place, self._new_tie_key,
                                                   parts=SHARED_PARTS * compiled.threads())
            layers = _layers_present(_flat(layer))
            self._shared.start(kernels, lambda results: (layers, join(results)))
        finally:
            self._shared.close()  # (a helper waiting for the pieces goes on, whatever happened)

    def help(self) -> None:
        """Take pieces of the part under way on another thread (`start_strengthening`) until
        none is left; returns at once if there is none."""
        if self._sharing:
            self._shared.help()

    def kernel_args(self) -> tuple:
        """The arguments of `meetings_kernel` after its (a, b, layer, place), for a part met inside
        another kernel, in one piece over every slot (the kernels' path only): give its result to
        `met_elsewhere`. The tie arrays they name must not change until then: nothing changes
        them before `add`, and what the store builds on use is built here, now."""
        return self._store._one_call_args(self._step, self._new_tie_key)

    def met_elsewhere(self, found: tuple[np.ndarray, ...], layers: np.ndarray) -> None:
        """A part met by `meetings_kernel` with `kernel_args`: its result, and the layer codes of its pairs."""
        self._parts.append((_layers_present(np.ascontiguousarray(layers)), found))

    def add(self) -> None:
        """The new ties of every part, in one merge, once every part is done. Raises if two parts
        share a layer."""
        if self._shared.started:
            self._parts.append(self._shared.result())
        if len(self._parts) > 1 and (np.sum([layers for layers, _ in self._parts], axis=0) > 1).any():
            raise ValueError("internal error: two parts of a step's meetings share a tie layer, so they may share ties")
        self._store._add_met([found for _, found in self._parts], self._step, chance_encounter=True)
        self._parts = []


def _flat(layer) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(layer).ravel())


def _only(results: list):
    return results[0]


def _layers_present(layer: np.ndarray) -> np.ndarray:
    """Which tie layers occur in `layer` (a mask over the layer codes)."""
    if compiled.enabled():
        return _layers_present_kernel(layer)
    present = np.zeros(N_LAYERS, dtype=bool)
    present[layer] = True
    return present


@compiled.kernel
def _layers_present_kernel(layer):
    present = np.zeros(N_LAYERS, dtype=np.bool_)
    for j in range(len(layer)):
        present[layer[j]] = True
    return present


class TieStore:
    """All ties of all layers."""

    def __init__(self, n_slots: int, params: TieParams, clock: Clock):
        self.n_slots = n_slots
        self.n_layers = N_LAYERS
        self.params = params
        self.initial_strength = np.array([params.initial_strength[name] for name in LAYERS], dtype=np.float32)
        # per-step decay exponents (base 2): social ties by layer, chance acquaintances all alike; 0 = no decay
        self.log2_decay = np.array([
            0.0 if params.half_life_years[name] <= 0 else clock.dt / params.half_life_years[name] for name in LAYERS
        ])
        half_life = params.acquaintance_half_life_years
        self.log2_decay_acquaintance = 0.0 if half_life <= 0 else clock.dt / half_life
        self.main = _Run.empty()
        self.fresh = _Run.empty()
        self._main_room: list[np.ndarray] | None = None  # arrays whose front is the main run (see _prune_in_place)
        self._fresh_room: list[np.ndarray] | None = None  # arrays whose front is the fresh run (see _add_to_fresh)
        self._filter: _KeyFilter | None = None  # of main and fresh keys; rebuilt after a merge, on use
        self._main_starts: np.ndarray | None = None  # where each slot's rows start in the main run; rebuilt after a change, on use
        self._alive_by_layer = np.zeros(self.n_layers, dtype=np.int64)
        self._factors = np.zeros((self.n_layers + 1, 0))  # decay factors by class and age, grown on use

    def __getstate__(self) -> dict:
        # a copy (a model's branch, a pickled model) keeps the runs, not their spare room
        return {**self.__dict__, "_main_room": None, "_fresh_room": None, "_main_starts": None}

    # ------------------------------------------------------------------ keys
    def _key(self, ego, alter, layer) -> np.ndarray:
        return (np.asarray(ego, np.int64) * self.n_slots + alter) * self.n_layers + layer

    def _split(self, key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """key -> (ego, alter, layer)."""
        layer = key % self.n_layers
        pair = key // self.n_layers
        return pair // self.n_slots, pair % self.n_slots, layer

    def _strength_now(self, run: _Run, rows: np.ndarray, step: int) -> np.ndarray:
        """Strength after decay since the last meeting.

        A chance acquaintance (made_place set) fades to 0 with the acquaintance half-life. A social
        tie with a layer half-life erodes to 0 with it; one without (the default) keeps its initial
        strength, and only what meetings added fades back, with the acquaintance half-life.
        """
        columns = (run.key, run.strength, run.last_step, run.made_place, np.asarray(rows, dtype=np.int64))
        decay = (self.log2_decay, self.initial_strength, self._decay_factors(step))
        if compiled.enabled():
            return _strength_now_kernel(*columns, step, *decay)
        return _strength_now_numpy(*columns, step, *decay)

    def _decay_factors(self, step: int) -> np.ndarray:
        """2^(-rate x age) for each decay class (the layers, then chance acquaintances) and every
        age 0..step, computed once by numpy: the kernel and its twin read the same values (numba's
        exp2 is the C library's, which differs from numpy's in the last bit of some values)."""
        if self._factors.shape[1] <= step:
            rates = np.append(self.log2_decay, self.log2_decay_acquaintance)
            ages = np.arange(2 * step + 64, dtype=np.int32)
            self._factors = np.exp2(-rates[:, None] * ages[None, :])
        return self._factors

    def _locate(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each key: which run holds it (0 main, 1 fresh, -1 none) and the row there. (A step's
        meetings, sorted, are found by `_locate_meetings_kernel` in the meetings kernel: sorted
        keys read the filter in order; at 100k persons this one's random probes were a sixth of a step.)"""
        if compiled.enabled():
            f = self._key_filter()
            return _locate_kernel(np.asarray(keys, dtype=np.int64), f._bits, f._shift, self.main.key, self.fresh.key)
        where = np.full(len(keys), -1, dtype=np.int8)
        row = np.zeros(len(keys), dtype=np.int64)
        maybe = np.flatnonzero(self._key_filter().may_hold(keys))  # binary searches only for these
        keys = keys[maybe]
        for code, run in enumerate((self.main, self.fresh)):
            if len(run) == 0:
                continue
            pos = np.minimum(np.searchsorted(run.key, keys), len(run) - 1)
            hit = (run.key[pos] == keys) & (where[maybe] < 0)
            where[maybe[hit]], row[maybe[hit]] = code, pos[hit]
        return where, row

    def _key_filter(self) -> _KeyFilter:
        if self._filter is None:
            keys_held = _KeyFilter(self.n_slots * self.n_slots * self.n_layers, len(self.main) + len(self.fresh))
            for run in (self.main, self.fresh):
                keys_held.add_sorted(run.key)
            self._filter = keys_held  # (only once whole: another thread may look for it meanwhile)
        return self._filter

    # ------------------------------------------------------------------ changes
    def meet(self, a, b, layer, step: int, place=NO_PLACE, *, new_tie_key: np.uint64) -> None:
        """Chance encounters: strengthen the tie of each pair on `layer`; a meeting of strangers
        leaves a tie only with chance `new_tie_chance`, at `acquaintance_strength`.

        `new_tie_key` is a draw's key (`StepRandom.key`): strangers (lo, hi) leave a tie when their
        uniform under it (`rng.uniforms_of_key(lo, new_tie_key, hi)`) is below the chance. Pairs
        may repeat within a batch; each pair meets at most once per call. `a` and `b` may each
        be a list of arrays, the batch in pieces (a step's venue and online meetings, not
        joined); `layer` and `place` then run over the pieces in order.
        """
        self._meet(a, b, layer, step, place, np.uint64(new_tie_key))

    def connect(self, a, b, layer, step: int, place=NO_PLACE) -> None:
        """Ties made for sure (set-up, household members): strengthen existing ones; every new pair
        becomes a tie at the layer's initial strength."""
        self._meet(a, b, layer, step, place, None)

    def meetings_in_parts(self, step: int, *, new_tie_key: np.uint64) -> StepMeetings:
        """`meet` for a step's chance encounters given in parts whose tie layers differ (the
        venues' meetings, the online spaces'), each met when it is ready (`StepMeetings`). What
        the parts read and the store builds on first use is built here, in this thread, before
        any part starts: two threads would otherwise build it at once, and one might read it half made."""
        self._key_filter(), self._decay_factors(step)
        if compiled.enabled():
            self._main_row_index()
        return StepMeetings(self, step, new_tie_key)

    def _meet(self, a, b, layer, step: int, place, new_tie_key: np.uint64 | None) -> None:
        self._add_met([self._met(a, b, layer, step, place, new_tie_key)], step, new_tie_key is not None)

    def _met(self, a, b, layer, step: int, place, new_tie_key: np.uint64 | None, parts: int | None = None) -> tuple[np.ndarray, ...]:
        """The first half of `_meet`: live ties strengthened; returns the pairs whose meeting
        leaves a new tie (`_new_ties`). A large batch in parts, one a thread (or `parts`)."""
        kernels, join = self._met_parts(a, b, layer, step, place, new_tie_key, parts)
        return join(compiled.in_threads(kernels))

    def _met_parts(self, a, b, layer, step: int, place, new_tie_key: np.uint64 | None,
                   parts: int | None = None) -> tuple[list[Callable[[], tuple]], Callable[[list], tuple]]:
        """`_met` as independent parts, to run on any threads, and the function that joins their
        results: with the kernels, `parts` of the batch by the smaller slot of each pair (by
        default, a large batch in one part a thread)."""
        a, b = _pieces(a), _pieces(b)
        if [len(piece) for piece in a] != [len(piece) for piece in b]:  # (the kernels read them in step, unchecked)
            raise ValueError("the two ends of a batch of meetings must come in pieces of the same lengths")
        n = sum(len(piece) for piece in a)
        layer = np.asarray(layer)  # integer codes stay as they come (a step's millions of int8 codes as int64: 7 ms)
        layer = rng.per_unit(layer if layer.dtype.kind in "iu" else layer.astype(np.int64), (n,))
        place = rng.per_unit(np.asarray(place, np.int16), (n,))
        if not compiled.enabled():
            return [partial(self._new_ties, a, b, layer, place, step, new_tie_key)], _only
        if parts is None:
            parts = compiled.threads() if n >= PARALLEL_MEETINGS else 1
        layer, place = np.ascontiguousarray(layer), np.ascontiguousarray(place)
        if parts == 1:  # one call of the parts' two kernels, without their Python (a step's few connects
            # at 10,000 persons, ~8 pairs each, cost ~0.1 ms a call through `_new_ties_parts`, most of it that Python)
            return [partial(meetings_kernel, a, b, layer, place, *self._one_call_args(step, new_tie_key))], _only
        return self._new_ties_parts(a, b, layer, place, step, new_tie_key, parts)

    def _one_call_args(self, step: int, new_tie_key: np.uint64 | None) -> tuple:
        """The arguments of `meetings_kernel` after its (a, b, layer, place), for a batch met in
        one piece over every slot: what `_new_ties_parts` gives one part, without its Python
        around the kernels. The tie arrays they name must not change until the kernel is done."""
        keys_held, columns = self._key_filter(), [*self.main.columns(), *self.fresh.columns()]
        return (self.n_slots, 0, self.n_slots, *columns, self._main_row_index(), 0, keys_held._bits, keys_held._shift,
                *self._meeting_constants(step, new_tie_key))

    def _add_met(self, found: list[tuple[np.ndarray, ...]], step: int, chance_encounter: bool) -> None:
        """The second half of `_meet`: the new ties of one or more `_met` (no pair in two)."""
        lo, hi, lay, plc, where, row = found[0] if len(found) == 1 else (np.concatenate(column) for column in zip(*found))
        del found
        dead_again = where >= 0  # a dead row of a departed person: its slot's newcomer
        if dead_again.any():
            self._revive(where[dead_again], row[dead_again], hi[dead_again], lo[dead_again], lay[dead_again], step, plc[dead_again], chance_encounter)
        brand_new = ~dead_again
        del where, row, dead_again  # a set-up's millions of pairs: each array is memory at its peak
        if brand_new.all():  # all of them (set-up): no copies
            self._add(lo, hi, lay, step, plc, chance_encounter)
        else:
            self._add(lo[brand_new], hi[brand_new], lay[brand_new], step, plc[brand_new], chance_encounter)

    def _new_ties(self, a, b, layer, place, step: int, new_tie_key: np.uint64 | None) -> tuple[np.ndarray, ...]:
        """Strengthen the live ties of a batch of meetings, `a` and `b` in pieces (tuples of
        arrays, `_pieces`), `layer` and `place` over them all (each pair once, where it first met);
        returns the pairs without one whose meeting leaves a tie (all of them without a
        `new_tie_key`), in key order: (lo, hi, layer, place, run, row), run and row of a dead
        tie's rows (-1 if none). The numpy twin of `_new_ties_parts`."""
        a, b = np.concatenate(a), np.concatenate(b)
        keys, kept = self._pair_keys(a, b, layer)
        keys, first = sorted_sets.unique_first(keys)
        met = kept[first]
        lo, hi, lay, plc = np.minimum(a[met], b[met]), np.maximum(a[met], b[met]), layer[met], place[met]
        where, row = self._locate(keys)
        alive = np.zeros(len(keys), dtype=bool)
        for code, run in enumerate((self.main, self.fresh)):
            mine = where == code
            if mine.any():
                alive[mine] = self._strengthen(run, row[mine], self._key(hi[mine], lo[mine], lay[mine]), step)
        leaves_tie = ~alive
        if new_tie_key is not None:
            leaves_tie[leaves_tie] = rng.uniforms_of_key(lo[leaves_tie], new_tie_key, hi[leaves_tie]) < self.params.new_tie_chance
        return lo[leaves_tie], hi[leaves_tie], lay[leaves_tie], plc[leaves_tie], where[leaves_tie], row[leaves_tie]

    def _new_ties_parts(self, a, b, layer, place, step: int, new_tie_key: np.uint64 | None,
                        parts: int) -> tuple[list[Callable[[], tuple]], Callable[[list], tuple]]:
        """`_new_ties` by the kernels, in `parts` by the smaller slot of each pair, and the function
        that joins their results. The pairs' keys are worked out here, at once, by part
        (`_keys_by_part_kernel`). A pair's key, and so its dedupe and its rows in both
        directions, belong to one part, and each part writes only the rows of its own pairs: the
        parts are independent, and together they give what one gives, on any threads."""
        constants = self._meeting_constants(step, new_tie_key)
        bounds = self._part_bounds(a, b, parts)
        starts, keys_held = self._main_row_index(), self._key_filter()
        keys, kept, begin = _keys_by_part_kernel(a, b, layer, self.n_slots, bounds, keys_held._bits, keys_held._shift, *constants[-3:])
        kernels, offsets = [], []
        for p, first_slot in enumerate(bounds[:-1]):
            start = first_slot * self.n_slots * self.n_layers  # the first key of a pair in this part
            rows = [int(np.searchsorted(run.key, start)) if first_slot else 0 for run in (self.main, self.fresh)]
            columns = [c[row:] for run, row in zip((self.main, self.fresh), rows) for c in run.columns()]
            mine = slice(begin[p], begin[p + 1])
            kernels.append(partial(_meetings_of_keys_kernel, keys[mine], kept[mine], place, self.n_slots, *columns, starts,
                                   rows[0], keys_held._bits, keys_held._shift, *constants))
            offsets.append(np.array(rows, dtype=np.int64))

        def join(results: list[tuple]) -> tuple:
            for (*_, where, row), offset in zip(results, offsets):
                if offset.any():
                    found = where >= 0
                    row[found] += offset[where[found]]  # rows of the runs, not of a part's slices
            return tuple(np.concatenate(column) for column in zip(*results)) if len(results) > 1 else results[0]
        return kernels, join

    def _meeting_constants(self, step: int, new_tie_key: np.uint64 | None) -> tuple:
        """The meetings kernels' last arguments: step, gain, decay, initial strengths, decay
        factors, then the stranger draw's three (whether to draw, its key, the chance)."""
        drawing = (new_tie_key is not None, np.uint64(0 if new_tie_key is None else new_tie_key), float(self.params.new_tie_chance))
        return (step, self.params.meeting_gain, self.log2_decay, self.initial_strength, self._decay_factors(step), *drawing)

    def _part_bounds(self, a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...], parts: int) -> np.ndarray:
        """Slots that split a batch of meetings (in pieces) into `parts` of about equal size by
        the smaller slot of each pair (quantiles of a sample; any split gives the same results)."""
        if parts == 1:
            return np.array([0, self.n_slots])
        every = max(sum(len(piece) for piece in a) // 4096, 1)
        sample = np.sort(np.concatenate([np.minimum(x[::every], y[::every]) for x, y in zip(a, b, strict=True)]))
        inner = sample[(np.arange(1, parts) * len(sample)) // parts]
        return np.concatenate([[0], sorted_sets.unique(inner[inner > 0]), [self.n_slots]])

    def _pair_keys(self, a: np.ndarray, b: np.ndarray, layer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Keys (lo, hi, layer) of the pairs of two different persons, and which pairs they are."""
        kept = np.flatnonzero(a != b)
        return self._key(np.minimum(a[kept], b[kept]), np.maximum(a[kept], b[kept]), layer[kept]), kept

    def _strengthen(self, run: _Run, rows: np.ndarray, reverse_keys: np.ndarray, step: int) -> np.ndarray:
        """Strengthen live ties at `rows` (and their reverse rows); returns which were alive."""
        now = self._strength_now(run, rows, step)
        alive = run.strength[rows] > 0
        rows, now, reverse_keys = rows[alive], now[alive], reverse_keys[alive]
        reverse = np.searchsorted(run.key, reverse_keys)  # both directions live in the same run
        new_strength = now + self.params.meeting_gain * (1.0 - now)
        for r in (rows, reverse):
            run.strength[r] = new_strength
            run.last_step[r] = step
        return alive

    def _initial(self, layer, chance_encounter: bool) -> np.ndarray:
        if chance_encounter:
            return np.full(len(layer), self.params.acquaintance_strength, np.float32)
        return self.initial_strength[layer]

    def _revive(self, where, row, hi, lo, layer, step, place, chance_encounter: bool) -> None:
        """Reuse the dead rows of a departed person's tie for a new tie between the same slots."""
        strength = self._initial(layer, chance_encounter)
        for code, run in enumerate((self.main, self.fresh)):
            mine = where == code
            if not mine.any():
                continue
            reverse = np.searchsorted(run.key, self._key(hi[mine], lo[mine], layer[mine]))
            for r in (row[mine], reverse):
                run.strength[r], run.last_step[r], run.made_place[r] = strength[mine], step, place[mine]
        self._alive_by_layer += np.bincount(layer, minlength=self.n_layers)

    def _add(self, lo, hi, layer, step, place, chance_encounter: bool) -> None:
        if len(lo) == 0:
            return
        strength = self._initial(layer, chance_encounter)
        if compiled.enabled():
            rows = _Run(*_new_rows_kernel(lo, hi, np.ascontiguousarray(layer, np.int64), strength.astype(np.float32),
                                          place.astype(np.int16), step, self.n_slots))
        else:  # the keys are distinct (new ties, both directions): sorted with where each came from
            keys, order = sorted_sets.unique_first(np.concatenate([self._key(lo, hi, layer), self._key(hi, lo, layer)]))
            twice = lambda x: np.concatenate([x, x])[order]  # noqa: E731
            rows = _Run(keys, twice(strength).astype(np.float32), np.full(len(keys), step, np.int32), twice(place).astype(np.int16))
        self._add_to_fresh(rows)
        if self._filter is not None:
            self._filter.add_sorted(rows.key)
        self._after_adding(layer)

    def _add_to_fresh(self, rows: _Run) -> None:
        """Merge new rows (sorted by key, keys not present) into the fresh run. With the kernels, in
        place from the back, in arrays with room to spare (`_fresh_room`), kept across merges and
        prunes: a step's few connects (newcomers' families, crews, recruits) and its meetings'
        new ties each moved the whole fresh run into new arrays (22,000 rows at 10,000 persons:
        0.08 against 0.03 ms; 2 million rows at a million persons: 10.2 against 4.2 ms, measured
        in stop 31). 10,000 persons, one thread, in place: 6.2-6.5 against 6.4-6.7 ms a step
        (stop 34, 3 pairs alternating). Stop 31 reverted it when a million persons' run peaked
        at 2,397 MiB against 1,899, but the same code has since peaked at 1.9-2.36 GiB on
        different days: the room (tens of MB at a million persons) was not the cause."""
        if not compiled.enabled():
            self.fresh = self.fresh.insert(rows)
            return
        n, total = len(self.fresh), len(self.fresh) + len(rows)
        room = self._fresh_room
        if room is None or len(room[0]) < total:  # larger arrays, with some to spare
            columns = self.fresh.columns() if room is None else room
            self.fresh, self._fresh_room = _Run.empty(), None  # (each old column is freed once copied)
            room = _grown(columns, n, int(total * ROOM_GROWTH) + MERGE_FROM)
        _merge_in_place_kernel(*room, n, *(new.astype(mine.dtype, copy=False) for mine, new in zip(room, rows.columns())))
        self._fresh_room = room
        self.fresh = _Run(*(c[:total] for c in room))

    def _after_adding(self, layer: np.ndarray) -> None:
        self._alive_by_layer += np.bincount(layer, minlength=self.n_layers)
        self._merge_if_due()

    def _merge_if_due(self) -> None:
        if len(self.fresh) > FRESH_SHARE * max(len(self.main), 1) and len(self.fresh) > MERGE_FROM:
            self._merge()

    def _merge(self) -> None:
        if len(self.main):
            self.main = self.main.insert(self.fresh)
        else:  # the fresh run becomes the main one: its arrays are no longer the fresh run's room
            self.main, self._fresh_room = self.fresh, None
        self.fresh, self._main_room = _Run.empty(), None
        self._filter = self._main_starts = None  # prune may have removed keys: rebuild, sized for the new main run

    def add_initial(self, a, b, layer, step: int = 0) -> None:
        """Social ties (set-up, household, a newcomer's network): no place, the layer's initial strength."""
        if len(self.main) == 0 and len(self.fresh) == 0:
            self._first_run(np.asarray(a, np.int64), np.asarray(b, np.int64), np.broadcast_to(np.asarray(layer, np.int64), np.shape(a)), step)
            return
        self.connect(a, b, layer, step=step)

    def _first_run(self, a, b, layer, step: int) -> None:
        """The set-up's ties into an empty store: what `connect` does then (no tie to strengthen,
        no run to merge into), as one sort of the rows' keys: a million persons' 6.9 million pairs
        in 0.43-0.46 s of a set-up, where `connect` took 2.5 s. On one thread: sorted in two parts
        on two threads, the parts' rows had to be joined after, and took 0.74-0.80 s (measured in
        stop 32); nor does one part hold a second copy of the rows. The rows are the fresh run,
        merged into the main one as `connect` would: the same store."""
        if compiled.enabled():
            *columns, rows_by_layer = _first_run_kernel(a, b, np.ascontiguousarray(layer), self.n_slots, self.initial_strength, step)
            self.fresh = _Run(*columns)
            self._fresh_room = None
        else:
            self.fresh, rows_by_layer = self._first_run_numpy(a, b, layer, step)
        self._filter = None  # (rebuilt on use)
        self._alive_by_layer += rows_by_layer // 2  # each tie has two rows
        self._merge_if_due()

    def _first_run_numpy(self, a, b, layer, step: int) -> tuple[_Run, np.ndarray]:
        two = a != b
        keys = sorted_sets.unique(np.concatenate([self._key(a[two], b[two], layer[two]), self._key(b[two], a[two], layer[two])]))
        layers = keys % self.n_layers
        run = _Run(keys, self.initial_strength[layers], np.full(len(keys), step, np.int32), np.full(len(keys), NO_PLACE, np.int16))
        return run, np.bincount(layers, minlength=self.n_layers)

    def remove_persons(self, slots: np.ndarray) -> None:
        """Forget every tie of the given persons (they left the population): mark them dead."""
        if compiled.enabled():
            egos = sorted_sets.unique(np.asarray(slots, np.int64))
            leaving = np.zeros(self.n_slots, dtype=np.bool_)
            leaving[egos] = True
            main_starts = self._main_row_index()
            for run in (self.main, self.fresh):
                starts, ends = self._ego_bounds(run, egos)
                self._alive_by_layer -= _remove_persons_kernel(run.key, run.strength, egos, starts, ends, leaving, self.n_slots,
                                                               main_starts if run is self.main else main_starts[:0])
            return
        for run in (self.main, self.fresh):
            rows = self._rows_of(run, np.asarray(slots, np.int64))
            rows = rows[run.strength[rows] > 0]
            ego, alter, layer = self._split(run.key[rows])
            reverse = np.searchsorted(run.key, self._key(alter, ego, layer))
            # a tie between two leavers appears in both lists: count it once
            once = ~np.isin(alter, slots) | (ego < alter)
            self._alive_by_layer -= np.bincount(layer[once], minlength=self.n_layers)
            run.strength[rows] = 0.0
            run.strength[reverse] = 0.0

    def prune(self, step: int) -> int:
        """Remove dead ties and ties decayed below `min_strength`; merge the runs. Returns ties removed."""
        before = len(self)
        keep = [self._still_strong(run, step) for run in (self.main, self.fresh)]
        if compiled.enabled():
            self._prune_in_place(keep)
            return before - len(self)
        for name, kept in zip(("main", "fresh"), keep):
            run = getattr(self, name)
            forgotten = ~kept & (run.strength > 0)
            self._alive_by_layer -= np.bincount(run.key[forgotten] % self.n_layers, minlength=self.n_layers) // 2
            setattr(self, name, run.take(kept))
        self._merge()
        return before - len(self)

    def _prune_in_place(self, keep: list[np.ndarray]) -> None:
        """`prune` without a second copy of the main run: its kept rows move to the front of its
        arrays and the fresh run's kept rows are merged in from the back. The arrays keep their
        length as room (`_main_room`): the ties forgotten at one prune make room for those made
        until the next, so the main run moves to larger arrays only while the town's ties grow
        (at 10 million persons a copy of the main run is ~6 GB). Whatever else makes a new main
        run drops the room (`_merge`, and a copy: `__getstate__`)."""
        kept, forgotten = _compact_kernel(*self.fresh.columns(), keep[1])
        fresh = self.fresh.take(slice(0, kept))
        self._alive_by_layer -= forgotten
        room = self._main_room if self._main_room is not None else self.main.columns()
        kept, forgotten = _compact_kernel(*self.main.columns(), keep[0])  # the main run is the front of its room
        self._alive_by_layer -= forgotten
        total = kept + len(fresh)
        if total > len(room[0]):  # no room: larger arrays, with some to spare
            self.main, self._main_room = _Run.empty(), None  # (views of the room: each old column is freed once copied)
            room = _grown(room, kept, int(total * ROOM_GROWTH) + 1)
        _merge_in_place_kernel(*room, kept, *fresh.columns())
        self._main_room = room
        self.main, self.fresh, self._filter, self._main_starts = _Run(*(c[:total] for c in room)), _Run.empty(), None, None

    def _still_strong(self, run: _Run, step: int) -> np.ndarray:
        """Mask of the rows at least `min_strength` now: a prune holds one byte per row, not the 16
        of their rows and strengths (the numpy twin works them out a block of rows at a time, the
        kernel row by row). With the kernels, a large run in parts, one a thread (each writes its
        own rows of the mask)."""
        keep = np.empty(len(run), dtype=bool)
        if compiled.enabled():
            parts = compiled.threads() if len(run) >= PARALLEL_MEETINGS else 1
            bounds = compiled.even_split(len(run), parts)
            constants = (step, self.log2_decay, self.initial_strength, self._decay_factors(step), self.params.min_strength, keep)
            compiled.in_threads([partial(_still_strong_kernel, *run.columns(), first, end, *constants)
                                 for first, end in zip(bounds[:-1], bounds[1:])])
            return keep
        for lo in range(0, len(run), PRUNE_BLOCK):
            rows = np.arange(lo, min(lo + PRUNE_BLOCK, len(run)))
            keep[lo:lo + len(rows)] = self._strength_now(run, rows, step) >= self.params.min_strength
        return keep

    # ------------------------------------------------------------------ queries
    @staticmethod
    def _ranges(run_keys: np.ndarray, lo_keys: np.ndarray, hi_keys: np.ndarray) -> np.ndarray:
        """Rows whose key lies in [lo_key, hi_key) for each pair of bounds."""
        start = np.searchsorted(run_keys, lo_keys)
        count = np.searchsorted(run_keys, hi_keys) - start
        offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        return np.repeat(start, count) + offset

    def _rows_of(self, run: _Run, slots: np.ndarray) -> np.ndarray:
        slots = sorted_sets.unique(slots)
        span = self.n_slots * self.n_layers
        return self._ranges(run.key, slots * span, (slots + 1) * span)

    def incident(self, slots, step: int, layers: tuple[str, ...] | None = None) -> Incident:
        """The live ties of the given persons (optionally only in some layers)."""
        if compiled.enabled():  # in one call (as numpy, ~20 calls: recruitment asks ~4 times a step)
            return Incident(*_incident_of_runs_kernel(*self.main.columns(), self._main_row_index(), *self.fresh.columns(),
                                                      np.ascontiguousarray(slots, np.int64), self._wanted(layers), self.n_slots,
                                                      step, self.log2_decay, self.initial_strength, self._decay_factors(step)))
        parts = []
        for run in (self.main, self.fresh):
            rows = self._live_rows(run, slots, layers)
            ego, alter, layer = self._split(run.key[rows])
            parts.append((ego, alter, layer, self._strength_now(run, rows, step)))
        return Incident(*(np.concatenate(column) for column in zip(*parts)))

    def links(self, slots, layers: tuple[str, ...] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ego, alter) of the live ties of the given persons: `incident(...)` without working out
        strengths (a network's members' ties in year 10 at a million persons: ~150,000 rows)."""
        if compiled.enabled():
            return _links_of_runs_kernel(self.main.key, self.main.strength, self._main_row_index(), self.fresh.key, self.fresh.strength,
                                         np.ascontiguousarray(slots, np.int64), self._wanted(layers), self.n_slots)
        ends = [self._split(run.key[self._live_rows(run, slots, layers)])[:2] for run in (self.main, self.fresh)]
        ego, alter = (np.concatenate(column) for column in zip(*ends))
        return ego, alter

    def alters(self, slots, layers: tuple[str, ...] | None = None) -> np.ndarray:
        """The other ends of the live ties of the given persons: `incident(...).alter` without
        working out strengths."""
        return np.concatenate([self._split(run.key[self._live_rows(run, slots, layers)])[1] for run in (self.main, self.fresh)])

    def tied_to(self, slots, layers: tuple[str, ...] | None = None) -> np.ndarray:
        """Mask of the persons with a live tie (in `layers`) to one of the given persons."""
        if not compiled.enabled():
            mask = np.zeros(self.n_slots, dtype=bool)
            mask[self.alters(slots, layers)] = True
            return mask
        egos = _distinct_egos_kernel(np.ascontiguousarray(slots, np.int64))
        # the egos in parts, one a thread, each marking a mask of its own (joined by `or`: the same
        # mask whatever the parts); the forum users' peers at a million persons in year 10: 37,600
        # egos, ~1 million rows, 26 ms on one thread and 17 on two (measured)
        parts = compiled.threads() if len(egos) >= PARALLEL_EGOS else 1
        bounds = compiled.even_split(len(egos), parts)
        masks, wanted = [np.zeros(self.n_slots, dtype=np.bool_) for _ in range(parts)], self._wanted(layers)
        runs = (self.main.key, self.main.strength, self._main_row_index(), self.fresh.key, self.fresh.strength)
        compiled.in_threads([partial(_mark_alters_of_runs_kernel, *runs, egos[lo:hi], self.n_slots, wanted, mask)
                             for lo, hi, mask in zip(bounds[:-1], bounds[1:], masks)])
        for other in masks[1:]:
            masks[0] |= other
        return masks[0]

    def _wanted(self, layers: tuple[str, ...] | None) -> np.ndarray:
        wanted = np.zeros(self.n_layers, dtype=bool)
        wanted[[LAYER[x] for x in layers] if layers is not None else slice(None)] = True
        return wanted

    def _live_rows(self, run: _Run, slots, layers: tuple[str, ...] | None) -> np.ndarray:
        """Rows of the live ties of the persons `slots` in `layers` (all if None), by ego and key."""
        wanted = self._wanted(layers)
        egos = sorted_sets.unique(np.asarray(slots, np.int64))
        if compiled.enabled():
            return _live_rows_kernel(run.key, run.strength, *self._ego_bounds(run, egos), wanted)
        rows = self._rows_of(run, egos)
        rows = rows[run.strength[rows] > 0]
        return rows[wanted[run.key[rows] % self.n_layers]]

    def _ego_bounds(self, run: _Run, egos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the rows of each of the (sorted) egos start and end in the run. The main run
        changes only when the fresh one is merged in or ties are pruned (every few steps), so its
        starts are kept for every slot: two reads an ego, where two binary searches in tens of
        millions of rows were most of the work of listing a few thousand persons' ties."""
        if run is self.main:
            starts = self._main_row_index()
            return starts[egos], starts[egos + 1]
        span = self.n_slots * self.n_layers
        return np.searchsorted(run.key, egos * span), np.searchsorted(run.key, (egos + 1) * span)

    def _main_row_index(self) -> np.ndarray:
        """Where each slot's rows start in the main run (and, last, its end), built on use."""
        if self._main_starts is None:
            self._main_starts = _rows_by_ego_kernel(self.main.key, self.n_slots, self.n_slots * self.n_layers)
        if self._main_starts[-1] != len(self.main):  # the kernels do not check bounds: a stale index would crash the process
            raise RuntimeError("internal error: the tie store's row index is stale (the main run changed without dropping it)")
        return self._main_starts

    def strength_between(self, a, b, layer, step: int) -> np.ndarray:
        """Current strength of the tie (a, b, layer) for each pair; 0 where there is none."""
        keys = self._key(a, b, np.broadcast_to(np.asarray(layer, np.int64), np.shape(a)))
        where, row = self._locate(keys)
        out = np.zeros(len(keys))
        for code, run in enumerate((self.main, self.fresh)):
            mine = where == code
            out[mine] = self._strength_now(run, row[mine], step)
        return out

    def count_by_layer(self) -> np.ndarray:
        """Live ties per layer (each tie once). Decayed ties count until the next prune."""
        return self._alive_by_layer.copy()

    def __len__(self) -> int:
        return int(self._alive_by_layer.sum())

    def frame(self, step: int) -> pd.DataFrame:
        """Every live tie once (lo < hi), for inspection and tests."""
        parts = []
        for run in (self.main, self.fresh):
            ego, alter, layer = self._split(run.key)
            rows = np.flatnonzero((ego < alter) & (run.strength > 0))
            parts.append(pd.DataFrame({
                "lo": ego[rows], "hi": alter[rows], "layer": np.array(LAYERS, dtype=object)[layer[rows]],
                "strength": self._strength_now(run, rows, step), "last_step": run.last_step[rows],
                "made_place": run.made_place[rows],
            }))
        return pd.concat(parts, ignore_index=True)
