"""Who meets whom among people present at the same place in the same step.

Visitors are sorted by place (random order within a place); each meets the visitor a random,
non-zero number of positions further along, cyclically within the place. This gives every
visitor `contacts` partners drawn uniformly among co-visitors, for all places at once, with no
Python loop over places or people.

The random numbers are a visitor's own (keyed by their slot, sim/rng.py): when one visitor is
missing in a paired run, only the meetings at that place shift, not those everywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from sim import compiled
from sim.rng import LabelledDraws, keyed_uniform, labelled_keys, per_unit


def group_bounds(sorted_groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a sorted group array: each element's group start index and group size."""
    n = len(sorted_groups)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(np.diff(sorted_groups)) + 1
    starts = np.concatenate([[0], change])
    sizes = np.diff(np.concatenate([starts, [n]]))
    return np.repeat(starts, sizes), np.repeat(sizes, sizes)


def int_below(u: np.ndarray, n) -> np.ndarray:
    """An integer in [0, n) from a uniform in [0, 1)."""
    return np.minimum((u * n).astype(np.int64), np.asarray(n, dtype=np.int64) - 1)


PARALLEL_VISITORS = 1 << 16  # visitors of a step's batches from which they are met on several threads


def meetings(people: np.ndarray, places: np.ndarray | None, contacts, uniform_of: LabelledDraws) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (a, b, place) of people who meet; `contacts` (a number, or one per visitor) is the
    mean number of partners each visitor seeks out.

    `uniform_of(people, label)` gives one keyed uniform per visitor for each label. `places=None`
    means everyone is in one place. A fractional part of `contacts` is the chance of one more partner.
    """
    return _prepared(people, places, contacts, uniform_of)()


def joined(pieces) -> np.ndarray:
    """Slots in pieces (a step's meetings by venue type or space) as one int64 array; empty if none."""
    return np.concatenate(pieces) if len(pieces) else np.zeros(0, np.int64)


@dataclass
class BatchMeetings:
    """The pairs met in several batches (a step's venue types or online spaces), joined in batch order."""

    a: np.ndarray
    b: np.ndarray
    count: np.ndarray  # pairs per batch


def meetings_of_batches(batches: list[tuple]) -> BatchMeetings:
    """`meetings(*batch)` of each of several independent batches (e.g. a step's venue types),
    joined in order. With the kernels, a small step's batches are met in one kernel call; with
    several threads, a large step's are met at once, shared among the threads by size: the same
    pairs as one batch after another."""
    return meetings_started(batches, in_background=False)()


def meetings_started(batches: list[tuple], *, in_background: bool = True) -> Callable[[], BatchMeetings]:
    """`meetings_of_batches(batches)` under way while the caller goes on: returns a function that
    waits for them. A small step's batches (below PARALLEL_VISITORS visitors) are met in one
    kernel call, on another thread if there is one (`compiled.started`: the caller's next work,
    e.g. the online visits, runs meanwhile; one call, so one hand-over of the GIL each way);
    a large step's are shared among the threads at once, before this returns."""
    visitors = [len(batch[0]) for batch in batches]
    if compiled.enabled() and sum(visitors) < PARALLEL_VISITORS and all(_one_call_takes(*batch) for batch in batches):
        meet = _in_one_call(batches)
        return compiled.started(meet) if in_background else meet
    prepared = [_prepared(*batch) for batch in batches]  # the keys are worked out here, in this thread
    met = [meet() for meet in prepared] if not compiled.enabled() or sum(visitors) < PARALLEL_VISITORS else \
        compiled.in_threads_by_weight(prepared, visitors)
    joined_meetings = BatchMeetings(joined([m[0] for m in met]), joined([m[1] for m in met]), np.array([len(m[0]) for m in met], dtype=np.int64))
    return lambda: joined_meetings


def _one_call_takes(people: np.ndarray, places: np.ndarray | None, contacts, uniform_of: LabelledDraws) -> bool:
    return places is None or len(places) == 0 or places.min() >= 0


def _in_one_call(batches: list[tuple]) -> Callable[[], BatchMeetings]:
    """The meetings of the batches as one call of `batches_kernel`, each batch's as `_prepared`
    would make them (its keys worked out here, in this thread)."""
    n = len(batches)
    if n == 0:
        return lambda: BatchMeetings(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    bounds = np.zeros(n + 1, dtype=np.int64)
    bounds[1:] = np.cumsum([len(batch[0]) for batch in batches])
    contacts = [per_unit(np.asarray(batch[2], dtype=float), np.shape(batch[0])) for batch in batches]
    rounds = [int(np.ceil(c.max())) if len(c) >= 2 and c.max() > 0 else 0 for c in contacts]
    keys = keys_by_batch(labelled_keys(meeting_requests([batch[3] for batch in batches], rounds)))
    one_place = np.array([batch[1] is None for batch in batches])
    places = np.concatenate([np.zeros(len(batch[0]), np.int64) if batch[1] is None else batch[1] for batch in batches])
    meet = partial(batches_kernel, np.concatenate([batch[0] for batch in batches]).astype(np.int64, copy=False),
                   places.astype(np.int64, copy=False), np.concatenate(contacts), bounds, keys, np.array(rounds, dtype=np.int64), one_place)
    return lambda: BatchMeetings(*meet())


def meeting_requests(draws: list[LabelledDraws], rounds: list[int]) -> list[tuple[LabelledDraws, list[str]]]:
    """The draw labels of each batch's meetings, for `labelled_keys` (`meeting_labels`)."""
    return [(d, meeting_labels(r)) for d, r in zip(draws, rounds, strict=True)]


def meeting_labels(rounds: int) -> list[str]:
    """The draw labels of a batch's meetings: order, extra, then one per partner round (none for
    a batch without rounds), as `_prepared` asks for them one by one."""
    return ["order", "extra", *(f"partner:{k}" for k in range(rounds))] if rounds else []


def keys_by_batch(keys: list[np.ndarray]) -> np.ndarray:
    """Each batch's meeting keys (`labelled_keys` of `meeting_requests`) as a row of one array,
    zeros after its last: what `batches_kernel` reads."""
    rows = np.zeros((len(keys), max([2, *(len(k) for k in keys)])), dtype=np.uint64)
    for i, batch_keys in enumerate(keys):
        rows[i, :len(batch_keys)] = batch_keys
    return rows


@compiled.kernel
def batches_kernel(people, places, contacts, bounds, keys, rounds, one_place):
    # `_meetings_kernel` of each batch [bounds[i], bounds[i + 1]) in turn (none if it has no
    # partner rounds: fewer than two visitors, or no contacts), joined, and the number of
    # pairs per batch (a step's venue types or online spaces at 10,000 persons: one call, not six)
    n_batches = len(bounds) - 1
    met = []
    out = np.zeros(n_batches + 1, dtype=np.int64)
    for i in range(n_batches):
        lo, hi = bounds[i], bounds[i + 1]
        if rounds[i] > 0:
            met.append(_meetings_kernel(people[lo:hi], places[lo:hi], contacts[lo:hi], keys[i, 0], keys[i, 1],
                                        keys[i, 2:2 + rounds[i]], one_place[i]))
        else:
            empty = np.zeros(0, dtype=np.int64)
            met.append((empty, empty.copy(), empty.copy()))
        out[i + 1] = out[i] + len(met[i][0])
    a, b = np.empty(out[-1], dtype=np.int64), np.empty(out[-1], dtype=np.int64)
    for i in range(n_batches):
        a[out[i]:out[i + 1]], b[out[i]:out[i + 1]] = met[i][0], met[i][1]
    return a, b, out[1:] - out[:-1]


def _prepared(people: np.ndarray, places: np.ndarray | None, contacts, uniform_of: LabelledDraws) -> Callable[[], tuple]:
    """The meetings of one batch as a call to make: the kernel's (it releases the GIL), or the numpy code's."""
    contacts = per_unit(np.asarray(contacts, dtype=float), np.shape(people))
    if len(people) < 2 or contacts.max() <= 0:
        return lambda: (np.zeros(0, np.int64),) * 3
    if compiled.enabled() and (places is None or places.min() >= 0):
        keys = np.array([uniform_of.key(f"partner:{k}") for k in range(int(np.ceil(contacts.max())))], dtype=np.uint64)
        one_place = places is None
        return partial(_meetings_kernel, np.ascontiguousarray(people, dtype=np.int64),
                       np.zeros(0, np.int64) if one_place else np.ascontiguousarray(places, dtype=np.int64),
                       np.ascontiguousarray(contacts), uniform_of.key("order"), uniform_of.key("extra"), keys, one_place)
    return partial(_meetings_numpy, people, places, contacts, uniform_of)


def _meetings_numpy(people: np.ndarray, places: np.ndarray | None, contacts: np.ndarray, uniform_of: LabelledDraws) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`meetings` by numpy calls: the twin of `_meetings_kernel`, and the way for places the kernel
    does not take (negative codes)."""
    empty = (np.zeros(0, np.int64),) * 3
    n = len(people)
    if places is None:
        order = random_order(uniform_of(people, "order"))
        places = np.zeros(n, dtype=np.int64)
        start, size = np.zeros(n, dtype=np.int64), np.full(n, n)
    else:
        order = order_by_place(uniform_of(people, "order"), places)
        places = places[order]
        start, size = group_bounds(places)
    people, contacts = people[order], contacts[order]
    whole, frac = np.floor(contacts), contacts - np.floor(contacts)
    extra = uniform_of(people, "extra") < frac if np.any(frac > 0) else np.zeros(n, dtype=bool)
    partners = np.where(size > 1, whole + extra, 0).astype(np.int64)
    # the visitors who seek a (k+1)-th partner, for each k; numbers are drawn for them only (keyed
    # by visitor, so they are the numbers they would draw among everyone)
    rounds = int(partners.max(initial=0))
    if rounds == 0:
        return empty
    if compiled.enabled():
        keys = np.array([uniform_of.key(f"partner:{k}") for k in range(rounds)], dtype=np.uint64)
        seeker, partner = _seek_partners_kernel(people, partners, keys, start, size)
    else:
        seekers = [np.flatnonzero(partners > k) for k in range(rounds)]
        seeker = np.concatenate(seekers)
        u = np.concatenate([uniform_of(people[take], f"partner:{k}") for k, take in enumerate(seekers)])
        partner = _partners(seeker, u, start, size)
    return people[seeker], people[partner], places[seeker]


@compiled.kernel
def _meetings_kernel(people, places, contacts, order_key, extra_key, partner_keys, one_place):
    # the numpy code of `meetings` in one pass: the visitors in order of place (random within a
    # place), their partners, the pairs (at most ceil(contacts) partners each: one key per round)
    n = len(people)
    u = np.empty(n)
    for i in range(n):
        u[i] = keyed_uniform(people[i], order_key)
    order = _random_order_kernel(u) if one_place else _order_by_place_kernel(u, places)
    people = people[order]
    places = np.zeros(n, dtype=np.int64) if one_place else places[order]
    start, size = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    first = 0
    for i in range(1, n + 1):
        if i == n or places[i] != places[first]:
            start[first:i], size[first:i] = first, i - first
            first = i
    partners = np.zeros(n, dtype=np.int64)
    for j in range(n):
        if size[j] > 1:
            whole = np.floor(contacts[order[j]])
            extra = 1.0 if keyed_uniform(people[j], extra_key) < contacts[order[j]] - whole else 0.0
            partners[j] = np.int64(whole + extra)
    rounds = partners.max() if n else 0
    seeker, partner = _seek_partners_kernel(people, partners, partner_keys[:rounds], start, size)
    return people[seeker], people[partner], places[seeker]


def _partners(seeker: np.ndarray, u: np.ndarray, start: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Each seeker meets the co-visitor a random, non-zero number of positions further along in
    their place, cyclically (`u` its uniform); the numpy twin of the kernel below."""
    offset = 1 + int_below(u, np.maximum(size[seeker], 2) - 1)
    return start[seeker] + (seeker - start[seeker] + offset) % size[seeker]


@compiled.kernel
def _seek_partners_kernel(people, partners, keys, start, size):
    # the numpy twin's seekers (round by round, in visitor order), their keyed uniforms, partners.
    # In a round most visitors seek in (a venue's first rounds), every visitor's number is drawn
    # first, in a loop without branches that the compiler vectorises, then the seekers' pairs
    # made: a branch per visitor around the hash went either way at random in the last round
    # (venue-like batches 50-52 against 71-77 us; a round few seek in, online, as before)
    seeker = np.empty(partners.sum(), dtype=np.int64)
    partner = np.empty(len(seeker), dtype=np.int64)
    m = len(people)
    others = np.empty(m, dtype=np.int64)
    for j in range(m):
        others[j] = max(size[j], 2) - 1
    pick = np.empty(m, dtype=np.int64)
    n = 0
    for k in range(len(keys)):
        seeking = 0
        for j in range(m):
            seeking += partners[j] > k
        drawn_for_all = 2 * seeking >= m
        if drawn_for_all:
            for j in range(m):
                pick[j] = np.int64(keyed_uniform(people[j], keys[k]) * others[j])
        for j in range(m):
            if partners[j] > k:
                p = pick[j] if drawn_for_all else np.int64(keyed_uniform(people[j], keys[k]) * others[j])
                at = j - start[j] + 1 + min(p, others[j] - 1)  # (j - start[j] + offset) % size[j]: both terms are below size[j]
                seeker[n], partner[n] = j, start[j] + (at - size[j] if at >= size[j] else at)
                n += 1
    return seeker, partner


def order_by_place(u: np.ndarray, places: np.ndarray) -> np.ndarray:
    """Indices that sort visitors by place, and within a place by their uniform `u` (a random
    order; equal numbers keep the visitors' order)."""
    if compiled.enabled() and len(places) and places.min() >= 0:
        return _order_by_place_kernel(np.ascontiguousarray(u, dtype=np.float64), np.ascontiguousarray(places, dtype=np.int64))
    # a stable sort by place of the visitors in random order
    order = random_order(u)
    return order[np.argsort(_narrow(places[order]), kind="stable")]


@compiled.kernel
def _order_by_place_kernel(u, places):
    # a counting sort by place, then each place's visitors sorted by u (stable: ties keep their
    # order). The numbers travel with the visitors, so that each place's sort reads them in place.
    starts = np.zeros(places.max() + 2, dtype=np.int64)
    for p in places:
        starts[p + 1] += 1
    starts = np.cumsum(starts)
    fill = starts[:-1].copy()
    order, value = np.empty(len(places), dtype=np.int64), np.empty(len(places))
    for i in range(len(places)):
        order[fill[places[i]]], value[fill[places[i]]] = i, u[i]
        fill[places[i]] += 1
    room, room_value = np.empty(len(places), dtype=np.int64), np.empty(len(places))
    for p in range(len(starts) - 1):
        lo, hi = starts[p], starts[p + 1]
        if hi - lo > 1:
            _sort_by_uniform(value[lo:hi], order[lo:hi], room_value[lo:hi], room[lo:hi])
    return order


@compiled.kernel
def _random_order_kernel(u):
    order = np.arange(len(u))
    _sort_by_uniform(u.copy(), order, np.empty(len(u)), np.empty(len(u), dtype=np.int64))
    return order


SMALL_SORT = 16  # groups up to this size are sorted by insertion
BUCKET_PER_VALUE_UPTO = 1 << 16  # groups up to this size get a bucket per value (`_sort_by_uniform`)


@compiled.kernel
def _sort_by_uniform(value, index, room_value, room):
    # sorts the pairs (value, index) stably by value, in place (the rooms: as long, scratch).
    # The values are uniforms on [0, 1), so a stable counting sort into buckets of equal width
    # leaves a few per bucket, sorted by insertion: O(n), where a comparison sort of half a
    # million numbers took 2-3x as long. Any values give the right order (a value's bucket never
    # decreases with it), only more slowly if they crowd into a few buckets. A group of up to
    # BUCKET_PER_VALUE_UPTO gets as many buckets as values, and one insertion pass over them all
    # (an element moves only within its bucket): most are then in place, and the insertion's
    # loop, which ended at a random point for each element of a bucket of ~4, mostly ends at
    # once (a town's venue groups 81-86 against 131-137 us, measured); a larger group, n / 4
    # buckets sorted one by one (a bucket per value of 700,000 missed the cache: 12% slower).
    n = len(index)
    if n <= SMALL_SORT:
        _insertion_sort(value, index, 0, n)
        return
    buckets = n if n <= BUCKET_PER_VALUE_UPTO else n // 4
    start = np.zeros(buckets + 1, dtype=np.int64)
    for i in range(n):
        start[_bucket_of(value[i], buckets) + 1] += 1
    crowded = False
    for b in range(buckets):
        crowded |= start[b + 1] > 64
        start[b + 1] += start[b]
    fill = start[:-1].copy()
    for i in range(n):
        b = _bucket_of(value[i], buckets)
        room_value[fill[b]], room[fill[b]] = value[i], index[i]
        fill[b] += 1
    if buckets == n and not crowded:
        _insertion_sort(room_value, room, 0, n)
    else:
        for b in range(buckets):
            lo, hi = start[b], start[b + 1]
            if hi - lo > 64:  # crowded (values that are not uniform): a merge sort, not a quadratic one
                by_value = np.argsort(room_value[lo:hi], kind="mergesort")
                room_value[lo:hi], room[lo:hi] = room_value[lo:hi][by_value], room[lo:hi][by_value]
            elif hi - lo > 1:
                _insertion_sort(room_value, room, lo, hi)
    value[:] = room_value
    index[:] = room


@compiled.kernel
def _bucket_of(x, buckets):
    return min(max(np.int64(x * buckets), 0), buckets - 1)


@compiled.kernel
def _insertion_sort(value, index, lo, hi):
    # stable: an element moves past larger values only
    for i in range(lo + 1, hi):
        v, item = value[i], index[i]
        j = i - 1
        while j >= lo and value[j] > v:
            value[j + 1], index[j + 1] = value[j], index[j]
            j -= 1
        value[j + 1], index[j + 1] = v, item


def random_order(u: np.ndarray) -> np.ndarray:
    """`np.argsort(u, kind="stable")` of uniforms `u`: an unstable sort (faster) unless some values are equal."""
    if compiled.enabled():
        return _random_order_kernel(np.ascontiguousarray(u, dtype=np.float64))
    order = np.argsort(u)
    s = u[order]
    if np.any(s[1:] == s[:-1]):
        return np.argsort(u, kind="stable")
    return order


def _narrow(codes: np.ndarray) -> np.ndarray:
    """Non-negative codes in the narrowest unsigned type: numpy's stable sort of 8- and 16-bit
    integers is a radix sort, 5-10x faster than sorting int64."""
    top = int(codes.max()) if len(codes) else 0
    if codes.min(initial=0) < 0:
        return codes
    for dtype in (np.uint8, np.uint16):
        if top <= np.iinfo(dtype).max:
            return codes.astype(dtype)
    return codes
