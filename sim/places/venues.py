"""Offline venues: schools, workplaces, nightlife, sports, street corners and offender
convergence settings, spread over neighbourhoods.

Each step people visit venues by routine (age band, visit rate; propensity draws people to
convergence settings), meet some co-visitors, and those meetings make or strengthen ties.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from dataclasses import dataclass

import numpy as np

from sim import compiled
from sim.places.copresence import BatchMeetings, batches_kernel, int_below, meeting_labels, meetings_of_batches
from sim.population import STUDENT, WORKER, Population
from sim.rng import ProcessRandom, StepRandom, keyed_uniform, label_codes
from sim.timing import Clock
from sim.ties import StepMeetings, meetings_kernel
from sim.vocabulary import LAYER

if TYPE_CHECKING:
    from sim.scenario.schema import PlacesParams, VenueParams

STATUS_CODE = {"student": STUDENT, "worker": WORKER}


@dataclass
class VenueType:
    """One type of venue and how many there are."""

    code: int  # index of the type; also its place code on ties
    name: str
    params: VenueParams
    count: int  # venues of this type in the whole area
    per_neighbourhood: int  # > 0 when every neighbourhood has its own venues of this type


@dataclass
class OfflineMeetings:
    """The offline meetings of one step (each pair once per contact drawn)."""

    a: np.ndarray
    b: np.ndarray
    venue_type: np.ndarray
    convergence: np.ndarray  # bool: met in an offender convergence setting
    layer: np.ndarray  # int8: the layer of the tie it makes (its venue type's)


@dataclass(frozen=True)
class _TypeColumns:
    """What `Venues._visit_in_one_call` gives the kernel about the venue types, one entry per
    type: fixed for a run (the types, their parameters and the step length do not change), so
    worked out once, not every step (~0.1 ms a step at 10,000 persons, on the path the other
    thread waits for)."""

    codes: np.ndarray  # int16: each type's code (its place code on ties)
    layers: np.ndarray  # int8: the tie layer its meetings make
    convergence: np.ndarray  # bool: an offender convergence setting (visitors at rates of their own)
    assigned_codes: list[int]  # the types whose venues are assigned (schools, workplaces), in order
    assigned_row: np.ndarray  # int64: each type's row among those (-1 if not assigned)
    age_min: np.ndarray
    age_max: np.ndarray
    chance: np.ndarray  # a visit's chance in a step, at the type's one rate
    one_rate_contacts: np.ndarray  # contacts sought, at that rate, in a step with a visit
    per_neighbourhood: np.ndarray  # int64
    count: np.ndarray  # int64

    def __post_init__(self) -> None:
        for column in vars(self).values():  # shared by every step (and `Venues.layer_codes`' callers)
            if isinstance(column, np.ndarray):
                column.flags.writeable = False

    @classmethod
    def of(cls, types: list[VenueType], clock: Clock) -> _TypeColumns:
        assigned = [t.code for t in types if t.params.assigned]
        return cls(
            np.array([t.code for t in types], dtype=np.int16), np.array([LAYER[t.params.layer] for t in types], dtype=np.int8),
            np.array([t.params.convergence for t in types], dtype=bool), assigned,
            np.array([assigned.index(t.code) if t.params.assigned else -1 for t in types], dtype=np.int64),
            np.array([t.params.age.min for t in types], dtype=float), np.array([t.params.age.max for t in types], dtype=float),
            np.array([float(clock.prob(t.params.visit_rate)) for t in types]),
            # contacts scale with a step's expected visits given one, so yearly meetings do not depend on step length
            np.array([t.params.contacts_per_visit * float(clock.visits_given_any(t.params.visit_rate)) for t in types]),
            np.array([t.per_neighbourhood for t in types], dtype=np.int64), np.array([t.count for t in types], dtype=np.int64))


class Venues:
    def __init__(self, params: PlacesParams, population: Population, clock: Clock, rng: np.random.Generator,
                 random: ProcessRandom):
        self.params = params
        self.pop = population
        self.clock = clock
        self.rng = rng  # set-up only
        self.random = random  # during the run: keyed by step and slot
        n_nbh = population.params.neighbourhoods
        self.types = [self._layout(code, name, vp, n_nbh) for code, (name, vp) in enumerate(params.venues.items())]
        self.assigned = {t.code: np.full(population.size, -1, dtype=np.int32) for t in self.types if t.params.assigned}
        self.assign(np.arange(population.size))
        self._columns = _TypeColumns.of(self.types, clock)
        self._labels_of_rounds: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, int]] = {}  # (`_label_codes`)

    @staticmethod
    def _layout(code: int, name: str, vp: VenueParams, n_nbh: int) -> VenueType:
        count = max(1, int(round(vp.per_neighbourhood * n_nbh)))
        per_nbh = count // n_nbh if count >= n_nbh else 0
        return VenueType(code, name, vp, per_nbh * n_nbh if per_nbh else count, per_nbh)

    def _local_venue(self, t: VenueType, slots: np.ndarray, uniform_of) -> np.ndarray:
        """A venue of type t that serves each person's neighbourhood."""
        nbh = self.pop.neighbourhood[slots].astype(np.int64)
        if t.per_neighbourhood:
            return nbh * t.per_neighbourhood + int_below(uniform_of(slots, f"local:{t.name}"), t.per_neighbourhood)
        return nbh * t.count // self.pop.params.neighbourhoods

    def assign(self, slots: np.ndarray, step: int | None = None) -> None:
        """(Re)assign schools and workplaces to persons, e.g. after a change of status.

        At set-up (`step` None) the set-up stream decides; during the run, numbers keyed by step and slot."""
        uniform_of = self._uniforms(step)
        for t in self.types:
            if not t.params.assigned:
                continue
            status_ok = self._status_ok(t, slots)
            # schools are local; workplaces are anywhere in the area
            local = t.params.for_status == "student"
            venue = self._local_venue(t, slots, uniform_of) if local else int_below(uniform_of(slots, f"workplace:{t.name}"), t.count)
            self.assigned[t.code][slots] = np.where(status_ok, venue, -1)

    def _uniforms(self, step: int | None):
        if step is None:
            return lambda units, label: self.rng.random(len(units))
        draws = self.random.at(step)
        return lambda units, label: draws.uniform(units, label)

    def _status_ok(self, t: VenueType, slots: np.ndarray) -> np.ndarray:
        if t.params.for_status is None:
            return np.ones(len(slots), dtype=bool)
        return self.pop.status[slots] == STATUS_CODE[t.params.for_status]

    def visitors(self, t: VenueType, free: np.ndarray, draws: StepRandom) -> tuple[np.ndarray, np.ndarray]:
        """Slots of persons who visit a venue of type t this step, and their expected visits given one."""
        p, pop = t.params, self.pop
        if not p.convergence:  # one rate for all: its chance and visits worked out once (the same numbers)
            visiting = self._visitors_at_one_rate(t, free, draws)
            return visiting, np.full(len(visiting), self.clock.visits_given_any(p.visit_rate))
        candidates = np.flatnonzero(self._eligible(t, free))
        # visit rates of the candidates only (a convergence setting draws the prone more)
        rate = p.visit_rate * (1.0 + self.params.convergence_propensity_weight * pop.propensity[candidates])
        chance = self.clock.prob(rate)
        visiting = draws.below(candidates, chance, f"visit:{t.name}")
        return candidates[visiting], self.clock.visits_given_any(rate[visiting], chance[visiting])

    def _eligible(self, t: VenueType, free: np.ndarray) -> np.ndarray:
        """Mask of the persons who may visit a venue of type t: free, of its age band, and (schools
        and workplaces) assigned one."""
        p, pop = t.params, self.pop
        eligible = free & (pop.age >= p.age.min) & (pop.age < p.age.max)
        if p.assigned:
            eligible &= self.assigned[t.code] >= 0
        return eligible

    def _visitors_at_one_rate(self, t: VenueType, free: np.ndarray, draws: StepRandom) -> np.ndarray:
        """Slots of the eligible persons whose keyed uniform is below the type's chance of a visit:
        with the kernels, one pass over the town (as numpy, ~6 passes a type and step)."""
        chance, label = self.clock.prob(t.params.visit_rate), f"visit:{t.name}"
        if compiled.enabled():
            p = t.params
            assigned = self.assigned[t.code] if p.assigned else np.zeros(0, np.int32)
            return _visitors_kernel(free, self.pop.age, p.age.min, p.age.max, assigned, draws.key(label), float(chance))
        candidates = np.flatnonzero(self._eligible(t, free))
        return candidates[draws.below(candidates, chance, label)]

    def visit(self, free: np.ndarray, step: int, ties: StepMeetings, meanwhile: Callable[[], None]) -> OfflineMeetings:
        """All venue visits of one step, the meetings they produce and the strengthening of those
        meetings' ties (a part of `ties`, the step's meetings in the tie store), with the work
        `meanwhile` (the online visits) done alongside, on another thread if there is one. In a
        small town, with the kernels, the venues' part is one kernel call in this thread while
        `meanwhile` runs on the other (`_visit_in_one_call`); in a large one the visits and
        meetings are made on every thread first, then their ties are strengthened on the other
        thread, in pieces this thread joins in taking when `meanwhile` is done (`StepMeetings.help`)."""
        draws = self.random.at(step)
        if compiled.enabled() and self.pop.size < ONE_CALL_PERSONS:
            return self._visit_in_one_call(free, draws, ties, meanwhile)
        uniform_of = self._uniforms(step)
        batches = []
        for t in self.types:
            people, visits = self.visitors(t, free, draws)
            venue = self.assigned[t.code][people] if t.params.assigned else self._local_venue(t, people, uniform_of)
            # a step may hold several visits: contacts scale with them, so yearly meetings do not depend on step length
            batches.append((people, venue, t.params.contacts_per_visit * visits, draws.labelled(t.name)))
        offline = self._offline_meetings(meetings_of_batches(batches))  # on every thread, now: the types are independent
        strengthened = ties.start_strengthening(offline.a, offline.b, offline.layer, offline.venue_type)
        try:
            meanwhile()
            ties.help()
        finally:
            strengthened()  # (never left running: it would outlive an error here)
        return offline

    def _visit_in_one_call(self, free: np.ndarray, draws: StepRandom, ties: StepMeetings,
                           meanwhile: Callable[[], None]) -> OfflineMeetings:
        """`visit` as one kernel call (`_visits_and_ties_kernel`) in this thread, `meanwhile` on
        another if there is one (it runs Python while this thread is in the kernel, which
        releases the GIL): the visitors of each type at one rate, their venues, every type's
        meetings and the strengthening of their ties, from what is worked out here first (before
        `meanwhile` starts, so that the two do not take turns at the GIL): the convergence
        settings' visitors (their chances by numpy's expm1, which a kernel's may differ from in
        the last bit) and the keys. At 10,000 persons on two threads a step's meetings took
        1.99-2.05 against 2.18-2.28 ms when the kernel ran on the other thread and the online
        visits here (medians of 300 steps, 3 runs each, alternating): a hand-over between
        threads costs ~0.05-0.1 ms on the reference machine, and the kernel there waited for two
        at its start (the other thread woken, then given the GIL) and one at its end (stop 36,
        timed in place)."""
        types, pop, columns, no_one = self.types, self.pop, self._columns, np.zeros(0, np.int64)
        given_people, given_contacts, rounds = [], [], []
        for t, contacts in zip(types, columns.one_rate_contacts):
            people, visits = self.visitors(t, free, draws) if t.params.convergence else (no_one, np.zeros(0))
            given_people.append(people)
            given_contacts.append(t.params.contacts_per_visit * visits)
            most = given_contacts[-1].max(initial=0.0) if t.params.convergence else contacts
            rounds.append(int(np.ceil(most)) if most > 0 else 0)  # (at most: the kernel finds how many)
        meeting_keys, visit_keys, local_keys = self._keys(draws, tuple(rounds))
        visits = (  # `_visits_kernel`'s arguments
            free, pop.age, pop.neighbourhood,
            np.stack([self.assigned[code] for code in columns.assigned_codes]) if columns.assigned_codes else np.zeros((0, pop.size), np.int32),
            columns.assigned_row, columns.age_min, columns.age_max, ~columns.convergence, columns.chance, columns.one_rate_contacts,
            visit_keys, local_keys, columns.per_neighbourhood, columns.count, int(pop.params.neighbourhoods),
            np.concatenate(given_people) if types else no_one, np.concatenate(given_contacts) if types else np.zeros(0),
            np.cumsum([0, *(len(people) for people in given_people)]).astype(np.int64), meeting_keys)
        tie_args = ties.kernel_args()
        done = compiled.started(meanwhile)
        try:
            a, b, count, found = _visits_and_ties_kernel(visits, columns.layers, columns.codes, tie_args)
        finally:
            done()  # (never left running: it would outlive an error here)
        ties.met_elsewhere(found, columns.layers[count > 0])
        return self._offline_meetings(BatchMeetings(a, b, count))

    def _keys(self, draws: StepRandom, rounds: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The keys of a step's venue visits, for `_visits_kernel`: each type's meeting keys (as
        `keys_by_batch` of `meeting_requests` with these rounds), its visit keys and its local
        venue keys; the labels' codes worked out once for each `rounds` (`_label_codes`)."""
        codes, where, width = self._label_codes(rounds)
        keys = draws.keys_of_codes(codes)
        n, meetings = len(self.types), np.zeros((len(self.types), width), dtype=np.uint64)
        meetings.ravel()[where] = keys[:len(where)]
        return meetings, keys[len(where):len(where) + n], keys[len(where) + n:]

    def _label_codes(self, rounds: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, int]:
        """The codes of the labels `_keys` draws under: every type's meeting labels, then "visit"
        and "local" by type; where each meeting label's key goes in the rows of `keys_by_batch`,
        and their width. Worked out once for each `rounds` (which vary only with the convergence
        settings' visitors)."""
        known = self._labels_of_rounds.get(rounds)
        if known is None:
            names = [t.name for t in self.types]
            meetings = [[f"{name}:{label}" for label in meeting_labels(r)] for name, r in zip(names, rounds, strict=True)]
            width = max([2, *(len(labels) for labels in meetings)])
            where = np.array([i * width + j for i, labels in enumerate(meetings) for j in range(len(labels))], dtype=np.int64)
            labels = [*(label for labels in meetings for label in labels), *(f"visit:{name}" for name in names),
                      *(f"local:{name}" for name in names)]
            known = self._labels_of_rounds[rounds] = (label_codes(tuple(labels)), where, width)
        return known

    def _offline_meetings(self, met: BatchMeetings) -> OfflineMeetings:
        """The venue types' meetings as one step's offline meetings."""
        count, columns = met.count, self._columns
        # each type's value repeated over its meetings (not gathered by type code: ~5 ms a column at a million persons)
        return OfflineMeetings(met.a, met.b, np.repeat(columns.codes, count), np.repeat(columns.convergence, count),
                               np.repeat(columns.layers, count))

    def layer_codes(self) -> np.ndarray:
        """Tie layer created by meetings at each venue type (read-only)."""
        return self._columns.layers


ONE_CALL_PERSONS = 1 << 16  # towns smaller than this make their venue visits in one kernel call (`Venues._visit_in_one_call`)


@compiled.kernel
def _visits_kernel(free, age, neighbourhood, assigned, assigned_row, age_min, age_max, one_rate, chance, one_rate_contacts,
                   visit_keys, local_keys, per_neighbourhood, count, neighbourhoods, given_people, given_contacts, given_bounds,
                   meeting_keys):
    # `Venues.visit` for every type: its visitors (at one rate, `_visitors_kernel`; a
    # convergence setting's given) and the contacts each seeks, their venues (assigned, or
    # local: `Venues._local_venue`'s arithmetic), then every type's meetings (`batches_kernel`)
    n_types = len(one_rate)
    people, contacts = [], []
    for i in range(n_types):
        if one_rate[i]:
            mine = assigned[assigned_row[i]] if assigned_row[i] >= 0 else np.zeros(0, dtype=assigned.dtype)
            visitors = _visitors_kernel(free, age, age_min[i], age_max[i], mine, visit_keys[i], chance[i])
            people.append(visitors)
            contacts.append(np.full(len(visitors), one_rate_contacts[i]))
        else:
            people.append(given_people[given_bounds[i]:given_bounds[i + 1]].copy())
            contacts.append(given_contacts[given_bounds[i]:given_bounds[i + 1]].copy())
    bounds = np.zeros(n_types + 1, dtype=np.int64)
    for i in range(n_types):
        bounds[i + 1] = bounds[i] + len(people[i])
    all_people, all_venues, all_contacts = np.empty(bounds[-1], dtype=np.int64), np.empty(bounds[-1], dtype=np.int64), np.empty(bounds[-1])
    rounds = np.zeros(n_types, dtype=np.int64)
    for i in range(n_types):
        lo = bounds[i]
        for j in range(len(people[i])):
            slot = people[i][j]
            if assigned_row[i] >= 0:
                venue = np.int64(assigned[assigned_row[i], slot])
            elif per_neighbourhood[i]:
                pick = min(np.int64(keyed_uniform(slot, local_keys[i]) * per_neighbourhood[i]), per_neighbourhood[i] - 1)
                venue = np.int64(neighbourhood[slot]) * per_neighbourhood[i] + pick
            else:
                venue = np.int64(neighbourhood[slot]) * count[i] // neighbourhoods
            all_people[lo + j], all_venues[lo + j], all_contacts[lo + j] = slot, venue, contacts[i][j]
        if len(people[i]) >= 2 and contacts[i].max() > 0:
            rounds[i] = np.int64(np.ceil(contacts[i].max()))
    return batches_kernel(all_people, all_venues, all_contacts, bounds, meeting_keys, rounds, np.zeros(n_types, dtype=np.bool_))


@compiled.kernel
def _visits_and_ties_kernel(visit_args, type_layer, type_code, tie_args):
    # `_visits_kernel`, then the strengthening of the meetings' ties (`meetings_kernel` with
    # `StepMeetings.kernel_args`: each meeting's layer and place are its venue type's), in one
    # call, made from stop 35 to stop 36 on the other thread, where two calls with Python between
    # them did not pay (the second took 1.1 ms against ~0.8 in the main thread). Since stop 36
    # it runs in the main thread (`Venues._visit_in_one_call`); one call still spares a return
    # to Python between the visits and the ties.
    a, b, count = _visits_kernel(*visit_args)
    layer, place = np.empty(len(a), dtype=np.int8), np.empty(len(a), dtype=np.int16)
    j = 0
    for t in range(len(count)):
        for _ in range(count[t]):
            layer[j], place[j] = type_layer[t], type_code[t]
            j += 1
    return a, b, count, meetings_kernel((a,), (b,), layer, place, *tie_args)


@compiled.kernel
def _visitors_kernel(free, age, age_min, age_max, assigned, base, chance):
    # `Venues._visitors_at_one_rate`'s numpy twin: the slots, in order, of the persons free, in
    # [age_min, age_max), assigned a venue (if `assigned` is not empty), whose keyed uniform under
    # `base` is below `chance` (a person's uniform depends on their slot only). Without branches:
    # each slot is written, and kept if it passes (a branch per test: 2x slower at a million
    # persons). Per type and step, one thread: 10,000 persons 14-22 us against 35-57 us as
    # numpy; a million 1.5-2.5 against 2.4-8.1 ms (measured)
    n = len(free)
    out = np.empty(n, dtype=np.int64)
    c = 0
    if len(assigned):
        for s in range(n):
            out[c] = s
            c += free[s] & (age[s] >= age_min) & (age[s] < age_max) & (assigned[s] >= 0)
    else:
        for s in range(n):
            out[c] = s
            c += free[s] & (age[s] >= age_min) & (age[s] < age_max)
    k = 0
    for i in range(c):  # the candidates, in place: out[k] is written at or before out[i] is read
        out[k] = out[i]
        k += keyed_uniform(out[i], base) < chance
    return out[:k].copy()
