"""Each compiled kernel gives exactly what its numpy twin gives (sim/compiled.py), on random
inputs and on the edge cases the model produces (empty arrays, negative keys, dead ties)."""

from __future__ import annotations

import collections
import contextlib
import copy
import os
import pickle
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from sim import compiled, rng, sorted_sets, ties
from sim.crime.co_offending import components
from sim.places import copresence
from sim.places.copresence import meetings, order_by_place, random_order
from sim.recruitment.offline_venues import members_meeting_available
from sim.ties import LINEAR_SWEEP_ROWS, _locate_meetings_kernel, _locate_sorted_kernel
from sim.vocabulary import LAYER, NO_NETWORK

pytestmark = pytest.mark.skipif(not compiled.enabled(), reason="numba is not installed or RECRUITSIM_KERNELS=numpy")


@pytest.mark.parametrize("n", [0, 1, 7, 10_000])
def test_keyed_uniforms_are_the_numpy_twins(n):
    draws = np.random.default_rng(n)
    units = draws.integers(-2**40, 2**62, n)
    partners = draws.integers(-5, 2**40, n)
    process = rng.ProcessRandom("test", 987654321)
    cases = [((units, "label"), {}), ((units, 7), {"with_units": partners}), ((units, "x"), {"with_units": 12345})]
    for args, kwargs in cases:
        fast = process.uniform(3, *args, **kwargs)
        with compiled.numpy_twins():
            slow = process.uniform(3, *args, **kwargs)
        assert fast.dtype == slow.dtype == np.float64
        assert np.array_equal(fast, slow)


@pytest.mark.parametrize("n", [0, 1, 7, 10_000])
def test_units_below_their_chance_are_the_numpy_twins(n):
    draws = np.random.default_rng(n)
    units = draws.integers(-2**40, 2**62, n)
    process = rng.ProcessRandom("test", 987654321)
    for chance in (0.3, np.float64(0.0), 1.0, draws.random(n), np.full(n, 0.5)):
        fast = process.below(3, units, chance, "label")
        with compiled.numpy_twins():
            slow = process.below(3, units, chance, "label")
        assert fast.dtype == slow.dtype == np.int64
        assert np.array_equal(fast, slow)
        assert np.array_equal(fast, np.flatnonzero(process.uniform(3, units, "label") < chance))
    if n == 10_000:
        assert 2_800 < len(process.below(3, units, 0.3, "label")) < 3_200
    with pytest.raises(ValueError, match="one chance per unit"):
        process.below(3, units, np.full(n + 1, 0.5), "label")


@pytest.mark.parametrize("n", [0, 1, 7, 20_000])
def test_keyed_poisson_counts_are_the_numpy_twins(n):
    draws = np.random.default_rng(n)
    units = draws.integers(0, 2**40, n)
    process = rng.ProcessRandom("test", 987654321)
    # means of zero, tiny, usual, near the numpy code's large-mean switch (30) and beyond it
    mixed = draws.choice([0.0, 1e-9, 0.02, 0.7, 3.0, 29.99, 30.0, 30.01, 45.0, 300.0], n)
    for lam in (0.0, 0.02, 2.5, 45.0, mixed, draws.random(n) * 12):
        fast = process.poisson(3, units, lam, "label")
        with compiled.numpy_twins():
            slow = process.poisson(3, units, lam, "label")
        assert fast.dtype == slow.dtype == np.int64
        assert np.array_equal(fast, slow)
    if n == 20_000:
        assert abs(process.poisson(3, units, 2.5, "label").mean() - 2.5) < 4 * np.sqrt(2.5 / n)


# values and their indexes packed into one int64, where they fit in 63 bits (2**53 with 1,000 values:
# exactly; 2**54: one bit too many) or two arrays (2**62)
@pytest.mark.parametrize("top", [1, 10**6, 7 * 10**14, 2**53, 2**54, 2**62])
@pytest.mark.parametrize("n", [1, 2, 1000, 200_000, sorted_sets.TWO_LEVEL_FROM + 1000])  # the last: sorted in two levels
def test_unique_first_is_its_numpy_twin(n, top):
    values = np.random.default_rng(n).integers(0, top, n)
    values[::3] = values[0]  # many repeats: the first of each must be found
    fast = sorted_sets.unique_first(values)
    with compiled.numpy_twins():
        slow = sorted_sets.unique_first(values)
    assert all(np.array_equal(x, y) for x, y in zip(fast, slow, strict=True))
    assert np.array_equal(fast[0], np.unique(values)) and np.array_equal(fast[1], np.unique(values, return_index=True)[1])


@pytest.mark.parametrize("top", [1, 10**6, 7 * 10**14, 2**62])
@pytest.mark.parametrize("n", [0, 1, 2, 1000, 200_000])
def test_distinct_keys_are_numpys_unique(n, top):
    values = np.random.default_rng(n).integers(0, top, n)
    values[::3] = values[:1]  # many repeats
    assert np.array_equal(sorted_sets.distinct_kernel(values.copy()), np.unique(values))


@pytest.mark.parametrize("n", [1, 2, 500, 100_000])
def test_visitors_ordered_by_place_are_the_numpy_twins(n):
    draws = np.random.default_rng(n)
    u = np.round(draws.random(n), 3)  # equal numbers too: they must keep the visitors' order
    places = draws.integers(0, max(n // 20, 1), n)
    fast = order_by_place(u, places)
    with compiled.numpy_twins():
        slow = order_by_place(u, places)
    assert np.array_equal(fast, slow)


@pytest.mark.parametrize(("n", "decimals"), [(2, 3), (16, 3), (17, 3), (500, 3), (20_000, 3), (20_000, 2), (100_000, 3)])
def test_a_random_order_is_its_numpy_twin(n, decimals):
    """Equal numbers keep their order, also where they crowd buckets (100 values over 10,000
    numbers; 1,000 over 50,000) past the sort by insertion, in groups with a bucket per value
    and groups with fewer."""
    draws = np.random.default_rng(n)
    u = draws.random(n)
    u[: n // 2] = np.round(u[: n // 2], decimals)
    for places in (None, np.zeros(n, dtype=np.int64)):  # in one place: one place of the places' ordering
        fast = random_order(u) if places is None else order_by_place(u, places)
        with compiled.numpy_twins():
            slow = random_order(u)
        assert np.array_equal(fast, slow) and np.array_equal(fast, np.argsort(u, kind="stable"))


def same_partition(x: np.ndarray, y: np.ndarray) -> bool:
    """Whether two labellings of the same nodes group them alike (whatever the labels)."""
    groups = len(np.unique(np.stack([x, y]), axis=1).T)
    return groups == len(np.unique(x)) == len(np.unique(y))


@pytest.mark.parametrize(("n", "edges"), [(0, 0), (1, 0), (5, 0), (6, 3), (300, 150), (300, 290), (2_000, 5_000)])
def test_network_components_are_the_numpy_twins(n, edges):
    draws = np.random.default_rng(n + edges)
    a, b = draws.integers(0, max(n, 1), edges), draws.integers(0, max(n, 1), edges)
    a[: edges // 10] = b[: edges // 10]  # loops join nothing
    fast = components(n, a, b)
    with compiled.numpy_twins():
        slow = components(n, a, b)
    assert len(fast) == n and same_partition(fast, slow)
    if n == 300:  # many components, of all sizes
        assert 10 < len(np.unique(slow)) < 200


@pytest.mark.parametrize("one_place", [False, True])
def test_meetings_are_the_numpy_twins(one_place):
    draws = np.random.default_rng(2)
    people = np.sort(draws.choice(100_000, 5000, replace=False))
    places = None if one_place else draws.integers(0, 300, 5000)  # places of one visitor too: they meet nobody
    contacts = draws.random(5000) * 6  # 0 to 6 partners, fractions drawn
    uniforms = rng.ProcessRandom("test", 1).at(4).labelled("place")
    fast = meetings(people, places, contacts, uniforms)
    with compiled.numpy_twins():
        slow = meetings(people, places, contacts, uniforms)
    assert len(fast[0]) > 10_000
    assert all(np.array_equal(x, y) for x, y in zip(fast, slow, strict=True))


@pytest.mark.parametrize("threads", [1, 2])
def test_batches_met_in_one_call_are_each_batch_met_alone(threads):
    """A step's small batches (venue types, online spaces) are met in one kernel call, on another
    thread if there is one: the pairs, joined in batch order, and the count of each batch are
    each batch's `meetings` one after another, as numpy makes them. Among the batches: places
    and one place, fractional contacts, one visitor, no contacts, nobody."""
    draws = np.random.default_rng(8)
    step = rng.ProcessRandom("test", 5).at(9)

    def batch(n, places, contacts, name):
        people = np.sort(draws.choice(50_000, n, replace=False))
        return people, places, contacts, step.labelled(name)

    batches = [
        batch(3000, draws.integers(0, 200, 3000).astype(np.int32), 2.5, "venues"),
        batch(2000, None, draws.random(2000) * 4, "chat"),
        batch(1, None, 3.0, "alone"),
        batch(500, draws.integers(0, 9, 500), 0.0, "no contacts"),
        batch(0, None, 1.0, "nobody"),
        batch(800, None, 1.0, "forum"),
    ]
    with compiled.numpy_twins():
        alone = [meetings(*b) for b in batches]
    with compiled.using_threads(threads):
        met = copresence.meetings_started(batches)()
    assert np.array_equal(met.count, [len(a) for a, _, _ in alone]) and met.count[0] > 3000 and met.count[1] > 1000
    assert np.array_equal(met.a, np.concatenate([a for a, _, _ in alone]))
    assert np.array_equal(met.b, np.concatenate([b for _, b, _ in alone]))


@pytest.mark.parametrize("one_call", [True, False])
@pytest.mark.parametrize("threads", [1, 2])
def test_venue_visits_do_the_work_given_meanwhile_once_and_pass_on_its_error(threads, one_call, monkeypatch):
    """`Venues.visit` runs its `meanwhile` (the online visits) once, in a small town on another
    thread while the kernel runs here, and returns only when it is done; an error there comes
    out of `visit`."""
    import threading

    from helpers import scenario

    from sim.model import RecruitModel
    from sim.places import venues as venues_module

    if not one_call:
        monkeypatch.setattr(venues_module, "ONE_CALL_PERSONS", 0)
    model = RecruitModel(scenario(population={"size": 2000}))
    free = model.pop.free()
    calls = []

    def meanwhile() -> None:
        calls.append(threading.current_thread() is threading.main_thread())

    with compiled.using_threads(threads):
        meetings = model.ties.meetings_in_parts(13, new_tie_key=np.uint64(5))
        model.venues.visit(free, 13, meetings, meanwhile=meanwhile)
        meetings.add()
        assert calls == [threads == 1 or not one_call]  # once; on the other thread in a small town with two

        def fails() -> None:
            raise RuntimeError("the online visits failed")

        meetings = model.ties.meetings_in_parts(14, new_tie_key=np.uint64(5))
        with pytest.raises(RuntimeError, match="online visits failed"):
            model.venues.visit(free, 14, meetings, meanwhile=fails)


@pytest.mark.parametrize("threads", [1, 2])
def test_venue_visits_in_one_call_are_the_visits_type_by_type(threads, monkeypatch):
    """A small town's venue visits in one kernel call (in this thread; the online visits, if
    any, meanwhile on another): the meetings, and their venue types, convergence and layers,
    are those made type by type, as numpy makes them, and so are the ties they leave
    (strengthened in that call, new ones added after it). The default venues hold every case:
    assigned schools and workplaces, local venues with and without several in a neighbourhood,
    a convergence setting."""
    import copy

    from helpers import scenario

    from sim.model import RecruitModel
    from sim.places import venues as venues_module

    model = RecruitModel(scenario(population={"size": 3000, "neighbourhood_size": 100}))  # 30: 6 hangouts, not in each
    venues = model.venues
    free = np.random.default_rng(6).random(model.pop.size) < 0.9
    ties = {way: copy.deepcopy(model.ties) for way in ("fast", "slow")}
    with compiled.using_threads(threads):
        meetings = ties["fast"].meetings_in_parts(13, new_tie_key=np.uint64(5))
        fast = venues.visit(free, 13, meetings, meanwhile=lambda: None)
        meetings.add()
    monkeypatch.setattr(venues_module, "ONE_CALL_PERSONS", 0)
    with compiled.numpy_twins():
        meetings = ties["slow"].meetings_in_parts(13, new_tie_key=np.uint64(5))
        slow = venues.visit(free, 13, meetings, meanwhile=lambda: None)
        meetings.add()
    for name in ("a", "b", "venue_type", "convergence", "layer"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    for run in ("main", "fresh"):
        for mine, theirs in zip(getattr(ties["fast"], run).columns(), getattr(ties["slow"], run).columns(), strict=True):
            assert np.array_equal(mine, theirs), run
    assert len(ties["fast"]) > len(model.ties)  # the meetings left new ties
    kinds = {t.code: t for t in venues.types}
    assert {t.name for t in venues.types if t.code in set(fast.venue_type.tolist())} == {t.name for t in venues.types}
    assert any(t.params.assigned for t in kinds.values()) and any(t.params.convergence for t in kinds.values())
    assert any(not t.params.assigned and t.per_neighbourhood for t in kinds.values())
    assert any(not t.params.assigned and not t.per_neighbourhood and 1 < t.count < model.pop.params.neighbourhoods for t in kinds.values())


@pytest.mark.parametrize("gated_last", [False, True])
def test_online_candidates_of_every_space_are_each_spaces_own(gated_last):
    """The candidates kernel lists each space's persons and rates as numpy finds them, whatever the
    order of the spaces: a gated forum listed last (its list writes each user, member or not, one
    past its last member) and a closed space among them."""
    from sim.places.online_spaces import _candidates_kernel

    draws = np.random.default_rng(12)
    n = 5000
    free, users, members = draws.random(n) < 0.9, draws.random(n) < 0.3, draws.random((1, n)) < 0.2
    activity, skill, propensity = draws.random(n), draws.random(n), draws.random(n)
    spaces = [("chat", 0, False, -1, True, 26.0), ("market", 2, True, -1, True, 8.0), ("closed", 1, True, -1, False, 20.0),
              ("gated", 1, True, 0, True, 12.0)]
    spaces = spaces if gated_last else spaces[::-1]
    _, pull, forum, row, is_open, scale = (np.array(x) for x in zip(*spaces))
    slots, rate, bounds = _candidates_kernel(free, users, activity, skill, propensity, members, row.astype(np.int64),
                                             pull.astype(np.int64), forum, is_open, scale)
    assert len(slots) == len(rate) == bounds[-1]
    for i, (name, kind_pull, is_forum, member_row, space_open, rate_scale) in enumerate(spaces):
        mask = free & (users if is_forum else True) & (members[0] if member_row >= 0 else True) & space_open
        expected = np.flatnonzero(mask)
        pulled = {0: 1.0, 1: 0.25 + 0.75 * skill, 2: 0.25 + 0.75 * propensity}[kind_pull]
        expected_rate = rate_scale * (activity * pulled)[expected] if kind_pull else rate_scale * (activity[expected] * 1.0)
        assert np.array_equal(slots[bounds[i]:bounds[i + 1]], expected), name
        assert np.array_equal(rate[bounds[i]:bounds[i + 1]], expected_rate), name
        assert (len(expected) > 100) == space_open, name


def test_online_visits_of_every_space_at_once_are_the_numpy_twins():
    """Every online space's visitors and the contacts they seek, by two kernels for all spaces,
    as numpy finds them space by space: with a space taken down, gated membership, persons not
    free, and displaced visits to a forum."""
    from helpers import scenario

    from sim.model import RecruitModel

    model = RecruitModel(scenario(population={"size": 3000}))
    online, draws = model.online, model.online.random.at(11)
    free = np.random.default_rng(4).random(model.pop.size) < 0.9
    forum = next(s for s in online.spaces if s.kind == "open_forum")
    users = np.flatnonzero(model.pop.forum_user)[:200]
    online.add_visits(np.full(len(users), forum.code), users, np.linspace(0.5, 20.0, len(users)))
    online.close(next(s for s in online.spaces if s.kind == "market"))
    fast = online._visits_compiled(free, draws)
    with compiled.numpy_twins():
        slow = [online._visits(s, free, draws) for s in online.spaces]
    for s, (people, contacts), (people_twin, contacts_twin) in zip(online.spaces, fast, slow, strict=True):
        assert np.array_equal(people, people_twin) and np.array_equal(contacts, contacts_twin), s.name
        assert (len(people) == 0) == (not s.is_open) and free[people].all(), s.name
    assert any(s.code in online.members and len(fast[s.code][0]) for s in online.spaces)  # a gated forum's members visit


def test_strength_now_is_its_numpy_twin():
    draws = np.random.default_rng(5)
    n, step = 50_000, 600
    key = np.sort(draws.integers(0, 10**12, n))
    strength = draws.random(n).astype(np.float32)
    strength[draws.random(n) < 0.1] = 0.0  # dead ties
    last_step = draws.integers(0, step + 1, n).astype(np.int32)
    made_place = draws.integers(ties.NO_PLACE, 5, n).astype(np.int16)
    log2_decay = np.array([0.0, 0.01, 0.0, 0.003, 0.0, 0.05, 0.02])[: ties.N_LAYERS]
    initial = np.array([0.9, 0.5, 0.3, 0.2, 0.4, 0.1, 0.6], dtype=np.float32)[: ties.N_LAYERS]
    factors = np.exp2(-np.append(log2_decay, 0.2)[:, None] * np.arange(step + 1)[None, :])
    for rows in (draws.integers(0, n, 20_000), np.arange(n), np.zeros(0, np.int64)):
        args = (key, strength, last_step, made_place, rows, step, log2_decay, initial, factors)
        fast, slow = ties._strength_now_kernel(*args), ties._strength_now_numpy(*args)
        assert fast.dtype == slow.dtype == np.float64
        assert np.array_equal(fast, slow)
        assert (fast[strength[rows] == 0] == 0).all() and (fast[strength[rows] > 0] > 0).all()


def test_members_meeting_available_persons_are_the_numpy_twins():
    draws = np.random.default_rng(11)
    n_persons, n_meetings = 5_000, 40_000
    network = np.where(draws.random(n_persons) < 0.05, draws.integers(0, 30, n_persons), NO_NETWORK).astype(np.int32)
    available = draws.random(n_persons) < 0.8
    a, b = draws.integers(0, n_persons, n_meetings), draws.integers(0, n_persons, n_meetings)
    for meetings_ in ((a, b), (a[:0], b[:0]), (a[:1], a[:1])):
        fast = members_meeting_available(*meetings_, network, available)
        with compiled.numpy_twins():
            slow = members_meeting_available(*meetings_, network, available)
        assert all(np.array_equal(x, y) for x, y in zip(fast, slow, strict=True))
    assert all(len(x) > 1000 for x in members_meeting_available(a, b, network, available))  # found both ways


def test_the_forum_join_hazard_is_its_numpy_twin():
    from helpers import scenario

    from sim.model import RecruitModel

    model = RecruitModel(scenario(population={"size": 3000}))
    pop, online = model.pop, model.online
    pop.network[::7] = 3  # some members (the member factor)
    peers = np.random.default_rng(2).random(pop.size) < 0.3
    fast = online.join_hazard(peers)
    with compiled.numpy_twins():
        slow = online.join_hazard(peers)
    assert fast.dtype == slow.dtype == np.float64
    assert np.array_equal(fast, slow) and np.unique(fast).size > 1000


@pytest.mark.parametrize("n", [0, 5, 3000, 70_000])
def test_a_keyed_circles_buckets_are_the_numpy_twins(n):
    """Elements by bucket (equal numbers, as a user in two spaces has, in index order) and the
    buckets' bounds; a pool of 70,000 has buckets of 16 values."""
    from sim.sampling import KeyedCircle

    u = np.random.default_rng(n).random(n)
    u[: n // 3] = u[n // 3 : 2 * (n // 3)]  # (repeats)
    fast = KeyedCircle(u)
    with compiled.numpy_twins():
        slow = KeyedCircle(u)
    assert fast.buckets == slow.buckets
    assert np.array_equal(fast.by_bucket, slow.by_bucket) and np.array_equal(fast.bounds, slow.bounds)
    assert fast.by_bucket.dtype == slow.by_bucket.dtype and fast.bounds.dtype == slow.bounds.dtype


def test_visits_given_any_is_its_numpy_twin():
    """Expected visits in a step with at least one, the chances given: rates of 0, near the
    cut-off of tiny means (lambda 1e-9), ordinary and huge."""
    from sim.timing import Clock

    clock = Clock("week")
    rate = np.concatenate([[0.0, 1e-9 * 52, np.nextafter(1e-9 * 52, 1), 1e-7, 1e3, 1e6], np.random.default_rng(5).exponential(30, 5000)])
    chance = clock.prob(rate)
    fast = clock.visits_given_any(rate, chance)
    with compiled.numpy_twins():
        slow = clock.visits_given_any(rate, chance)
    assert fast.dtype == slow.dtype == np.float64 and np.array_equal(fast, slow)
    assert fast[0] == 1.0 and fast[-1] > 1.0


def test_leavers_are_the_numpy_twins():
    """Who ages out (some exactly at the maximum age) or migrates out, at several steps."""
    from helpers import scenario

    from sim.model import RecruitModel

    pop = RecruitModel(scenario(population={"size": 3000, "migration_rate": 2.0})).pop  # ~111 migrants a week, sd ~10
    pop.age[:30], pop.age[30:60] = pop.params.max_age, np.nextafter(pop.params.max_age, 0)
    for step in range(1, 6):
        fast = pop.leavers(step)
        with compiled.numpy_twins():
            slow = pop.leavers(step)
        assert fast.dtype == slow.dtype and np.array_equal(fast, slow)
        assert set(range(30)) <= set(fast.tolist()) and 60 < len(fast) - 30 < 170  # aged out; migrants (5 sd)


def test_growing_older_is_its_numpy_twin():
    """A step's ageing: the new ages, and who reaches each threshold age (some exactly at it,
    some a hair below or above it before and after the step)."""
    from helpers import scenario

    from sim.model import RecruitModel
    from sim.population import HIGHER_EDUCATION_END, YOUTH_AGE

    pop = RecruitModel(scenario(population={"size": 3000})).pop
    p, dt = pop.params, pop.clock.dt
    thresholds = np.array([p.education_until, HIGHER_EDUCATION_END, p.retirement_age, YOUTH_AGE])
    edges = np.concatenate([[x, x - dt, np.nextafter(x - dt, 0), np.nextafter(x - dt, 99), np.nextafter(x, 0)] for x in thresholds])
    pop.age[:len(edges)] = edges
    before = pop.age.copy()
    fast = pop._grow_older(thresholds)
    aged = pop.age.copy()
    pop.age[:] = before
    with compiled.numpy_twins():
        slow = pop._grow_older(thresholds)
    assert np.array_equal(aged, pop.age)
    assert len(fast) == len(slow) == 4 and all(f.dtype == s.dtype and np.array_equal(f, s) for f, s in zip(fast, slow))
    assert all(len(f) > 0 for f in fast) and np.isin(np.arange(0, len(edges), 5), np.concatenate(fast)).sum() == 0  # (at it already: not reached now)


def test_venue_visitors_are_the_numpy_twins():
    """Each venue type's visitors this step (age bands, assigned schools and workplaces, persons
    not free left out) by one pass of the kernel, as numpy finds them."""
    from helpers import scenario

    from sim.model import RecruitModel

    model = RecruitModel(scenario(population={"size": 3000}))
    venues, draws = model.venues, model.venues.random.at(7)
    free = np.random.default_rng(3).random(model.pop.size) < 0.9
    bounds = [float(x) for t in venues.types for x in (t.params.age.min, t.params.age.max)]
    model.pop.age[:40 * len(bounds)] = np.repeat(bounds, 40)  # some exactly at each band's bounds
    for t in venues.types:
        fast = venues.visitors(t, free, draws)
        with compiled.numpy_twins():
            slow = venues.visitors(t, free, draws)
        assert all(np.array_equal(x, y) for x, y in zip(fast, slow, strict=True)), t.name
        assert len(fast[0]) > 10 and free[fast[0]].all(), t.name
    assert any(t.params.assigned for t in venues.types) and any(not t.params.assigned for t in venues.types)


def test_fit_and_motivation_are_the_numpy_twins():
    """Every role's fit and the motivation for it, on persons of every age band, specialism,
    experience, partner, deterrence and awareness (the interventions' columns set at random)."""
    from helpers import scenario

    from sim.crime.roles import fit, fits, motivation, scaled_promise
    from sim.model import RecruitModel
    from sim.vocabulary import ROLES

    model = RecruitModel(scenario(population={"size": 3000}))
    pop, draws = model.pop, np.random.default_rng(4)
    pop.ever_member[:], pop.desisted[:] = draws.random(pop.size) < 0.4, draws.random(pop.size) < 0.5
    pop.deterrence[:], pop.mule_awareness[:] = draws.random(pop.size) * (draws.random(pop.size) < 0.5), draws.random(pop.size)
    slots = draws.integers(0, pop.size, 5000)  # (repeats too)
    roles = draws.integers(0, len(ROLES), len(slots))
    enabler_fits = draws.random((len(slots), model.pop.specialism.max() + 1)) < 0.5
    acceptance = model.config.recruitment.acceptance
    scale = draws.random(len(slots)) * 0.9

    def each():
        return (fit(pop, slots, roles, enabler_fits), fits(pop, slots, enabler_fits), motivation(pop, slots, roles, acceptance),
                scaled_promise(pop, slots, roles, enabler_fits, acceptance, scale),
                scaled_promise(pop, slots, roles, enabler_fits, acceptance, 0.7, motivated=False))

    fast = each()
    with compiled.numpy_twins():
        slow = each()
    assert all(x.dtype == y.dtype == np.float64 and np.array_equal(x, y) for x, y in zip(fast, slow, strict=True))
    assert np.array_equal(fast[1][np.arange(len(slots)), roles], fast[0])
    # the products in the order callers wrote them before (`scale * fit(...) * motivation(...)`): the same bits
    assert np.array_equal(fast[3], scale * fast[0] * fast[2]) and np.array_equal(fast[4], 0.7 * fast[0])
    assert all(np.unique(x).size > 100 for x in (fast[0], fast[2]))  # (not a few constants)


@pytest.mark.parametrize("how", ["kernel", "numpy twin"])
def test_a_stable_order_of_ages_is_numpys(how):
    """Ages sorted by the uniforms' O(n) sort after an exact scaling: numpy's stable order, ties
    (ages in whole weeks) in index order."""
    from sim.social_ties import stable_order

    draws = np.random.default_rng(8)
    cases = [np.round(draws.uniform(0, 95, 200_000) * 52) / 52, draws.integers(0, 3, 5_000).astype(float), np.zeros(7),
             np.zeros(0), np.array([64.0, 0.0, 64.0, 63.99]), np.array([-1.0, 2.0, -1.0])]
    with compiled.numpy_twins() if how == "numpy twin" else contextlib.nullcontext():
        for ages in cases:
            assert np.array_equal(stable_order(ages), np.argsort(ages, kind="stable"))


def test_the_environment_switches_kernels_off():
    code = "from sim import compiled; print(compiled.enabled())"
    env = {**os.environ, "RECRUITSIM_KERNELS": "numpy"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _tie_history(n_slots: int = 300, steps: int = 60, shrinking: bool = False, ties=None, first: int = 1, layer_type=np.int64,
                in_pieces: bool = False) -> tuple:
    """A store driven through random meetings, set-up ties, departures and prunes; its ties at
    the end and what the queries on the way returned. `shrinking`: meetings become rare after
    the first 20 steps, so prunes forget more ties than are made (the main run has room).
    `ties` and `first`: go on with this store from step `first`."""
    from test_ties import store

    ties = store(n_slots, acquaintance_half_life_years=0.1) if ties is None else ties
    draws, seen = np.random.default_rng(11 + first), []
    for step in range(first, steps + 1):
        a, b = draws.integers(0, n_slots, (2, 40 if shrinking and step > 20 else 400))
        layer = draws.integers(0, 7, len(a)).astype(layer_type)
        if in_pieces:  # as the model passes a step's venue and online meetings: not joined (a piece may be empty)
            cut = sorted(np.random.default_rng(step).integers(0, len(a) + 1, 2))  # (not from `draws`: the same history)
            a, b = [a[:cut[0]], a[cut[0]:cut[1]], a[cut[1]:]], [b[:cut[0]], b[cut[0]:cut[1]], b[cut[1]:]]
        place = (np.arange(len(layer)) + step) % 5  # where each pair met (a pair meeting twice: the first place counts)
        ties.meet(a, b, layer, step, place=place, new_tie_key=np.uint64(step))
        ties.connect(*draws.integers(0, n_slots, (2, 3 if shrinking and step > 20 else 30)), 0, step)
        if step % 7 == 0:
            ties.remove_persons(draws.integers(0, n_slots, 5))  # (may repeat one, or name two tied to each other)
            seen.append(ties.count_by_layer())
        if step % 13 == 0:
            seen.append(ties.prune(step))
        slots = draws.integers(0, n_slots, 20)
        seen.append(ties.incident(slots, step).strength)
        seen.extend(vars(ties.incident(slots, step, ("family", "forum", "co_offending"))).values())
        seen.append(ties.alters(slots, ("school_work", "chat")))
        seen.append(ties.tied_to(slots, ("family", "friend")))
        seen.append(ties.strength_between(slots, slots[::-1], 2, step))
    frame = ties.frame(steps)
    # every live tie looked up by its pair (the unsorted path, through the key filter): its strength
    layer = np.array([LAYER[name] for name in frame["layer"]], dtype=np.int64)
    found = ties.strength_between(frame["lo"].to_numpy(), frame["hi"].to_numpy(), layer, steps)
    assert np.array_equal(found, frame["strength"].to_numpy())
    return frame, seen + [found]


@pytest.mark.parametrize("shrinking", [False, True])
def test_tie_store_operations_are_the_numpy_twins(shrinking, monkeypatch):
    grew = []  # whether each prune in place moved the main run to larger arrays
    in_place = ties.TieStore._prune_in_place

    def watched(store, keep):
        room = store._main_room if store._main_room is not None else store.main.columns()
        grew.append(int(keep[0].sum() + keep[1].sum()) > len(room[0]))
        in_place(store, keep)

    monkeypatch.setattr(ties.TieStore, "_prune_in_place", watched)
    fast_frame, fast_seen = _tie_history(shrinking=shrinking)
    with compiled.numpy_twins():
        slow_frame, slow_seen = _tie_history(shrinking=shrinking)
    assert len(fast_frame) > (20 if shrinking else 1000)  # the history made ties (and the twins compare something)
    assert (False in grew) == shrinking and True in grew  # both ways of pruning in place ran
    assert fast_frame.equals(slow_frame)
    assert all(np.array_equal(x, y) for x, y in zip(fast_seen, slow_seen, strict=True))


def test_tie_store_operations_between_early_merges_are_the_numpy_twins(monkeypatch):
    merges = []
    merge = ties.TieStore._merge
    monkeypatch.setattr(ties.TieStore, "_merge", lambda store: merges.append(1) or merge(store))
    monkeypatch.setattr(ties, "MERGE_FROM", 200)  # the fresh run is merged in between prunes, and the queries after read the new main run
    fast_frame, fast_seen = _tie_history()
    with compiled.numpy_twins():
        slow_frame, slow_seen = _tie_history()
    assert len(merges) > 10
    assert fast_frame.equals(slow_frame)
    assert all(np.array_equal(x, y) for x, y in zip(fast_seen, slow_seen, strict=True))


@pytest.mark.parametrize("merge_from", [ties.MERGE_FROM, 200], ids=["a fresh run", "merged into the main run"])
@pytest.mark.parametrize("how", ["kernel", "numpy twin"])
def test_the_first_ties_into_an_empty_store_are_what_connecting_them_gives(how, merge_from, monkeypatch):
    """The set-up's ties go into an empty store by one sort of their rows (`TieStore._first_run`):
    the store, and all that happens to it and is asked of it later, are what connecting them
    gives, with pairs repeated, reversed, on several layers and of a person with herself."""
    from test_ties import store

    draws = np.random.default_rng(5)
    a, b = draws.integers(0, 300, (2, 3000))
    a[::50] = b[::50]  # oneself: no tie
    a, b = np.concatenate([a, b[:400], a[:300]]), np.concatenate([b, a[:400], b[:300]])  # reversed, repeated
    layer = draws.integers(0, 7, len(a))
    monkeypatch.setattr(ties, "MERGE_FROM", merge_from)
    calls, first_run = [], ties.TieStore._first_run
    monkeypatch.setattr(ties.TieStore, "_first_run", lambda store, *args: calls.append(1) or first_run(store, *args))
    with compiled.numpy_twins() if how == "numpy twin" else contextlib.nullcontext():
        connected, first = store(300, acquaintance_half_life_years=0.1), store(300, acquaintance_half_life_years=0.1)
        connected.connect(a, b, layer, step=0)
        first.add_initial(a, b, layer)
        assert [len(run) for run in (first.main, first.fresh)] == [len(run) for run in (connected.main, connected.fresh)]
        assert (len(first.main) > 0) == (merge_from == 200)
        assert connected.frame(0).equals(first.frame(0))
        assert np.array_equal(connected.count_by_layer(), first.count_by_layer())
        histories = [_tie_history(steps=30, ties=kept) for kept in (connected, first)]
    assert len(calls) == 1
    assert histories[0][0].equals(histories[1][0])
    assert all(np.array_equal(x, y) for x, y in zip(histories[0][1], histories[1][1], strict=True))


def test_a_prune_that_moves_the_main_run_to_larger_arrays_holds_one_new_column_beside_it(monkeypatch):
    """When the main run outgrows its arrays, a prune moves it a column at a time, freeing each
    old column once copied: memory at its peak is the run and one new column (the keys: 8 of a
    row's 18 bytes), not two runs (at 10 million persons a run is ~5 GB)."""
    from test_ties import store

    monkeypatch.setattr(ties, "PRUNE_BLOCK", 1000)  # (the numpy twin works out a prune's strengths a few rows at a time)
    ties_, draws = store(3000), np.random.default_rng(2)
    ties_.connect(*draws.integers(0, 3000, (2, 60_000)), draws.integers(0, 7, 60_000), step=0)
    tracemalloc.start()
    try:
        for step in (1, 2, 3):  # each prune's new ties outgrow the arrays; the last prune moves numpy's (traced) arrays
            ties_.connect(*draws.integers(0, 3000, (2, 12_000)), draws.integers(0, 7, 12_000), step=step)
            room = len(ties_.main) if ties_._main_room is None else len(ties_._main_room[0])
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            ties_.prune(step)
            extra = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert len(ties_._main_room[0]) > room  # the last prune moved the run
    keys_bytes, masks_bytes = ties_._main_room[0].nbytes, room + 30_000  # the largest new column; a byte per row to keep
    assert extra < keys_bytes + masks_bytes, (extra, sum(c.nbytes for c in ties_._main_room))


def test_locating_sorted_keys_is_the_numpy_twin():
    from test_ties import store

    ties, draws = store(200), np.random.default_rng(3)
    for step in range(1, 30):  # ties in both runs: merged into main at each prune, new ones in fresh
        ties.connect(*draws.integers(0, 200, (2, 300)), draws.integers(0, 7, 300), step)
        if step % 10 == 0:
            ties.prune(step)
    held = np.concatenate([ties.main.key, ties.fresh.key])
    assert len(ties.main) and len(ties.fresh)
    # every key held (the first and last of each run too), keys between them, and beyond both ends
    keys = sorted_sets.unique(np.concatenate([held, held + 1, held - 1, draws.integers(0, held.max() + 10, 500)]))
    keys = keys[keys >= 0]
    assert len(ties.main) > LINEAR_SWEEP_ROWS * len(keys[::4999])  # a few keys gallop, many sweep
    for query in (keys, keys[::4999]):
        fast = _locate_sorted_kernel(query, ties.main.key, ties.fresh.key)
        with compiled.numpy_twins():
            slow = ties._locate(query)
        assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])
    assert (_locate_sorted_kernel(keys, ties.main.key, ties.fresh.key)[0] >= 0).sum() == len(held)
    # a step's meetings, by the filter and the main run's row index, the runs given from an ego's first row on (a part's)
    starts, keys_held, span = ties._main_row_index(), ties._key_filter(), ties.n_slots * ties.n_layers
    for first_slot in (0, 1, 57, 199):
        query = keys[keys >= first_slot * span]
        main_offset, fresh_offset = (int(np.searchsorted(run.key, first_slot * span)) for run in (ties.main, ties.fresh))
        fast = _locate_meetings_kernel(query, keys_held._bits, keys_held._shift, ties.main.key[main_offset:], starts,
                                       main_offset, ties.n_slots, ties.fresh.key[fresh_offset:])
        with compiled.numpy_twins():
            slow = ties._locate(query)
        assert np.array_equal(fast[0], slow[0])
        assert np.array_equal(fast[1] + np.array([main_offset, fresh_offset, 0])[fast[0]], slow[1])


@pytest.mark.parametrize("how", ["kernel", "kernel in parts on threads", "numpy twin"])
def test_meetings_in_pieces_with_one_byte_layer_codes_are_the_batch_joined(how, monkeypatch):
    """The model passes a step's meetings in pieces (venue, online: not joined) and their layer
    codes as int8 (not copied as int64): the same ties as one joined batch with int64 codes."""
    joined = _tie_history(steps=30)
    if how == "kernel in parts on threads":
        monkeypatch.setattr(ties, "PARALLEL_MEETINGS", 1)
    with compiled.numpy_twins() if how == "numpy twin" else contextlib.nullcontext(), compiled.using_threads(3):
        narrow, pieces = _tie_history(steps=30, layer_type=np.int8), _tie_history(steps=30, layer_type=np.int8, in_pieces=True)
    for other in (narrow, pieces):
        assert joined[0].equals(other[0])
        assert all(np.array_equal(x, y) for x, y in zip(joined[1], other[1], strict=True))
    from test_ties import store

    with pytest.raises(ValueError, match="pieces of the same lengths"):
        store(10).meet([np.arange(3), np.arange(2)], np.arange(5), 0, 1, new_tie_key=np.uint64(1))


@pytest.mark.parametrize("threads", [1, 3])
def test_prune_a_block_of_rows_at_a_time_is_prune_at_once(threads, monkeypatch):
    """Strengths worked out in blocks of 7 rows (the numpy twin), and (3 threads) the runs' rows
    in 3 parts, one part a thread: the prunes keep the same ties."""
    at_once = _tie_history(steps=40)
    monkeypatch.setattr(ties, "PRUNE_BLOCK", 7)
    monkeypatch.setattr(ties, "PARALLEL_MEETINGS", 1)  # (also the parts of a prune's runs)
    with compiled.using_threads(threads):
        by_blocks = _tie_history(steps=40)
    assert at_once[0].equals(by_blocks[0])
    assert all(np.array_equal(x, y) for x, y in zip(at_once[1], by_blocks[1], strict=True))


def test_meetings_met_in_parts_on_threads_are_met_at_once(monkeypatch):
    """A large batch of meetings is met in parts by the smaller slot of each pair, one a thread
    (and `tied_to` marks its egos' alters in parts): the ties and every query on the way are
    what one call at once gives. Few persons, so that most meetings find a tie, live or dead (a
    departed person's), in some part."""
    at_once = _tie_history(n_slots=40, steps=40)
    parts = []
    in_threads = compiled.in_threads
    monkeypatch.setattr(compiled, "in_threads", lambda tasks: parts.append(len(tasks)) or in_threads(tasks))
    monkeypatch.setattr(ties, "PARALLEL_MEETINGS", 1)  # every batch in parts
    monkeypatch.setattr(ties, "PARALLEL_EGOS", 1)  # and every `tied_to`: its egos
    with compiled.using_threads(3):
        in_parts = _tie_history(n_slots=40, steps=40)
    assert max(parts) == 3
    assert at_once[0].equals(in_parts[0])
    assert all(np.array_equal(x, y) for x, y in zip(at_once[1], in_parts[1], strict=True))


@pytest.mark.parametrize("town", ["small", "small, visitors at once", "large"])
def test_a_run_on_threads_is_the_run_on_one(town, monkeypatch):
    """Threads never change a run's outputs: a run whose meetings are all met in parts on two
    threads has the timeseries, events and networks of the same run on one. A small town's
    venue visits and their ties are made on the other thread during the online visits (or, at
    once, the venue types' and online spaces' meetings are shared among the threads); a large
    town's venue meetings strengthen their ties in pieces that both threads take."""
    from helpers import run, scenario

    from sim.places import venues

    sc = scenario(steps=60)
    _, one = run(sc)
    monkeypatch.setattr(ties, "PARALLEL_MEETINGS", 1)
    if town == "small, visitors at once":
        monkeypatch.setattr(copresence, "PARALLEL_VISITORS", 1)  # every step's venue types (and spaces) met at once
    if town == "large":
        monkeypatch.setattr(venues, "ONE_CALL_PERSONS", 0)
    with compiled.using_threads(2):
        _, two = run(sc)
    for name in ("timeseries", "events", "networks"):
        assert getattr(one, name).equals(getattr(two, name)), name


def test_parts_shared_among_threads_by_weight_come_back_in_order_each_run_once():
    ran = []
    parts = [lambda i=i: ran.append(i) or i * i for i in range(7)]
    with compiled.using_threads(3):
        results = compiled.in_threads_by_weight(parts, [5, 1, 9, 2, 2, 7, 1])
    assert results == [i * i for i in range(7)] and sorted(ran) == list(range(7))


def test_shared_work_is_taken_by_the_threads_each_part_once_in_order():
    """Parts of shared work taken by the thread that starts them and by one that joins in:
    each part runs once, on either thread, and the joined results come in part order. A helper
    that comes before the parts waits for them; one that comes after the work is closed
    without parts goes on at once."""
    import threading

    ran = collections.Counter()
    threads_seen = set()

    def part(i: int):
        ran[i] += 1
        threads_seen.add(threading.get_ident())
        time.sleep(0.002)
        return i * i

    with compiled.using_threads(2):
        work = compiled.SharedWork()
        helper = threading.Thread(target=work.help)
        helper.start()  # before the parts exist: it waits for them
        time.sleep(0.01)
        work.start([lambda i=i: part(i) for i in range(20)], lambda results: results)
        helper.join()
        assert work.result() == [i * i for i in range(20)]
    assert ran == dict.fromkeys(range(20), 1) and len(threads_seen) == 2
    closed = compiled.SharedWork()
    closed.close()
    closed.help()  # returns: no parts will come
    assert not closed.started


def test_parts_for_busy_threads_run_in_the_callers_thread():
    """While every other thread has work (a part started there), `in_threads` runs its parts
    in the caller's thread rather than wait for them: the same results, sooner."""
    import threading

    release = threading.Event()
    with compiled.using_threads(2):
        busy = compiled.started(lambda: release.wait(1.0))  # (at most a second: a part given to it would run after)
        try:
            where = compiled.in_threads([threading.get_ident, threading.get_ident])
        finally:
            release.set()
            busy()
        assert where == [threading.get_ident()] * 2
        assert len(set(compiled.in_threads([lambda: (time.sleep(0.01), threading.get_ident())[1]] * 2))) == 2  # free again


def test_a_bad_number_of_threads_is_one_line():
    env = {**os.environ, "RECRUITSIM_THREADS": "two"}
    out = subprocess.run([sys.executable, "-c", "import sim.compiled"], env=env, capture_output=True, text=True)
    assert out.returncode == 1 and "RECRUITSIM_THREADS='two'" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("copy_of", [copy.deepcopy, lambda store: pickle.loads(pickle.dumps(store))])
def test_a_copied_store_goes_on_as_the_original(copy_of):
    """A branch of a model copies its tie store: the copy's main run is in arrays of its own,
    not in the room the original prunes into."""
    from test_ties import store

    ties = store(300, acquaintance_half_life_years=0.1)
    _tie_history(shrinking=True, steps=30, ties=ties)
    assert ties._main_room is not None  # it has pruned in place
    copied = copy_of(ties)
    original = _tie_history(shrinking=True, steps=70, ties=ties, first=31)
    again = _tie_history(shrinking=True, steps=70, ties=copied, first=31)
    assert original[0].equals(again[0])
    assert all(np.array_equal(x, y) for x, y in zip(original[1], again[1], strict=True))


def test_a_kernel_runs_the_new_code_of_a_kernel_it_calls_from_another_file(tmp_path):
    """numba renews a kernel's cache only when its own file changes, and compiles in the kernels
    it calls: the cache is kept under a digest of all kernels' sources (`kernel_cache_dir`), so an
    edit of sorted_sets.py reaches the tie store's kernels that sort."""
    shutil.copytree(compiled.PACKAGE, tmp_path / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    environment = {**os.environ, "PYTHONPATH": str(tmp_path)}
    environment.pop("NUMBA_CACHE_DIR", None)
    code = "import numpy as np; from sim import ties; print(ties._sorted_order(np.array([3, 1, 2])).tolist())"

    def sorted_order() -> str:
        return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=environment, capture_output=True, text=True,
                              check=True).stdout.strip()

    assert sorted_order() == "[1, 2, 0]"  # compiled and cached
    with open(tmp_path / "sim" / "sorted_sets.py", "a") as source:  # the sort, edited
        source.write("\n\n@compiled.kernel\ndef unique_first_kernel(values):\n    return values[:1], np.zeros(1, dtype=np.int64)\n")
    assert sorted_order() == "[0]"


def test_caches_of_earlier_kernel_sources_are_removed_once_unchanged_for_a_day(tmp_path, monkeypatch):
    cache = tmp_path / "__pycache__"
    day_old, recent = cache / "kernels-0123456789abcdef", cache / "kernels-fedcba9876543210"
    for folder in (day_old, recent):
        folder.mkdir(parents=True)
    os.utime(day_old, (time.time() - 86_500,) * 2)
    monkeypatch.setattr(compiled, "PACKAGE", str(tmp_path))
    monkeypatch.setattr(compiled, "_cache_dir", None)
    monkeypatch.setattr(compiled.numba.config, "CACHE_DIR", "")
    assert compiled.kernel_cache_dir() == str(cache / f"kernels-{compiled.kernel_sources_digest()}")
    assert recent.exists() and not day_old.exists()
