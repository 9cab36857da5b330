"""The population: every person's attributes as numpy columns, indexed by slot.

A slot is a row of the columns. When a person leaves (ageing out, out-migration) a newcomer
takes the slot with a new `person_id`, so the columns keep a fixed size and every per-step
operation stays a vectorised pass over arrays. Mesa `Person` agents are thin views of a slot.

Every column has one owner, the module that writes it (`COLUMNS`, in the manner of Starsim's
`define_states`); any module may read any column. Other modules change a column only through
its owner's functions (e.g. `Population.lower_propensity`, `enforcement.shorten_sentences`).
`tests/test_state_ownership.py` checks the code against this table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass

import numpy as np

from sim import compiled, sorted_sets
from sim.rng import ProcessRandom, keyed_uniform
from sim.timing import Clock
from sim.vocabulary import NO_NETWORK, SPECIALISM

if TYPE_CHECKING:
    from sim.scenario.schema import PopulationParams

STUDENT, WORKER, NOT_WORKING = 0, 1, 2
STATUSES = ("student", "worker", "not_working")
TECHNICAL = ("coder", "hacker", "hosting")
YOUTH_AGE = 25.0  # under this age the youth boosts of skill and online activity apply
ADULT_AGE = 18.0  # newcomers this old may set up a household of their own
HIGHER_EDUCATION_END = 24.0


@dataclass(frozen=True)
class Column:
    dtype: type
    owner: str  # the module that writes it
    start: float | int | bool | None = None  # a newcomer's value; None: drawn by the population


POPULATION, MEMBERSHIP, ENFORCEMENT, ONLINE, EFFECTS = (
    "sim.population", "sim.crime.membership", "sim.crime.enforcement", "sim.places.online_spaces", "sim.interventions.effects")
COLUMNS: dict[str, Column] = {
    # who a person is (drawn on entry; status, partner and propensity change during life)
    "person_id": Column(np.int64, POPULATION), "entered_step": Column(np.int32, POPULATION),
    "age": Column(np.float64, POPULATION), "sex": Column(np.int8, POPULATION),  # sex: 1 = male
    "household": Column(np.int32, POPULATION), "neighbourhood": Column(np.int32, POPULATION),
    "status": Column(np.int8, POPULATION), "partner": Column(bool, POPULATION),
    "it_skill": Column(np.float64, POPULATION), "propensity": Column(np.float64, POPULATION),
    "need": Column(np.float64, POPULATION), "online_activity": Column(np.float64, POPULATION),
    "specialism": Column(np.int8, POPULATION),
    # criminal career
    "network": Column(np.int32, MEMBERSHIP, NO_NETWORK), "role": Column(np.int8, MEMBERSHIP, -1),
    "join_channel": Column(np.int8, MEMBERSHIP, -1), "join_medium": Column(np.int8, MEMBERSHIP, -1),
    "joined_step": Column(np.int32, MEMBERSHIP, -1),
    "experience": Column(np.float64, MEMBERSHIP, 0.0),  # years spent in networks, over a whole career
    "ever_member": Column(bool, MEMBERSHIP, False),
    "desisted": Column(bool, MEMBERSHIP, False),  # left crime by desistance (not arrest or dissolution)
    # justice
    "prison_until": Column(np.int32, ENFORCEMENT, -1),  # step of release; -1 = free
    "released_step": Column(np.int32, ENFORCEMENT, -10**6),
    "arrest_count": Column(np.int16, ENFORCEMENT, 0),
    # forum reputation, grows with forum activity
    "reputation": Column(np.float64, ONLINE, 0.0),
    # a forum user visits forums and markets (joins and quits by hazards); newcomers start as non-users
    "forum_user": Column(bool, ONLINE, False),
    # set by interventions, fading over time (0 = none)
    "mule_awareness": Column(np.float64, EFFECTS, 0.0), "deterrence": Column(np.float64, EFFECTS, 0.0),
}


@compiled.kernel
def _leavers_kernel(age, max_age, base, chance):
    # `Population.leavers`' numpy twin in one pass: the slots, in order, of the persons aged out
    # or whose keyed uniform under `base` is below `chance`; each slot written, kept if it leaves
    # (no branch). A million persons: 1.5 against 8.8 ms as numpy; 10,000: 16 against 43 us (measured)
    out = np.empty(len(age), dtype=np.int64)
    n = 0
    for s in range(len(age)):
        out[n] = s
        n += (age[s] >= max_age) | (keyed_uniform(s, base) < chance)
    return out[:n].copy()


@compiled.kernel
def _grow_older_kernel(age, dt, thresholds):
    # `Population._grow_older`'s numpy twin: the slots that reach each threshold, in order (row t
    # of `slots`, its first counts[t] entries), then each age goes up by dt in place (the same
    # addition). Without branches, a pass per threshold (`_visitors_kernel`'s way); a row is
    # written only up to its count, so its untouched pages are never faulted in
    n = len(age)
    counts = np.zeros(len(thresholds), dtype=np.int64)
    slots = np.empty((len(thresholds), n), dtype=np.int64)
    for t in range(len(thresholds)):
        threshold, c = thresholds[t], 0
        for s in range(n):
            slots[t, c] = s
            c += (age[s] < threshold) & (age[s] + dt >= threshold)
        counts[t] = c
    for s in range(n):
        age[s] += dt
    return slots, counts


class HouseholdSizes:
    """Persons per household id, kept up to date as persons leave and newcomers move in: how many
    households the town has and its largest id, without a pass over the population each step
    (at a million persons, counting them by `np.bincount` took ~8 ms a step, measured)."""

    def __init__(self, household: np.ndarray):
        self.size = np.bincount(household).astype(np.int64)
        self.count = int(np.count_nonzero(self.size))  # households with a member
        self.top = len(self.size) - 1  # the largest id with a member

    def leave(self, households: np.ndarray) -> None:
        """One member leaves each of `households` (once per entry)."""
        np.subtract.at(self.size, households, 1)
        self.count -= len(sorted_sets.unique(households[self.size[households] == 0]))
        while self.top > 0 and self.size[self.top] == 0:
            self.top -= 1

    def join(self, households: np.ndarray) -> None:
        """One member joins each of `households` (once per entry), new ids included."""
        if len(households) == 0:
            return
        largest = int(households.max())
        if largest >= len(self.size):  # room for new ids, doubled so that growth costs O(1) a step
            self.size = np.concatenate([self.size, np.zeros(max(largest + 1, 2 * len(self.size)) - len(self.size), np.int64)])
        self.count += len(sorted_sets.unique(households[self.size[households] == 0]))
        np.add.at(self.size, households, 1)
        self.top = max(self.top, largest)


class Population:
    """Columns of person attributes; see `docs/ODD.md` for what each means."""

    def __init__(self, params: PopulationParams, clock: Clock, rng: np.random.Generator, random: ProcessRandom | None = None):
        self.params = params
        self.clock = clock
        self.rng = rng  # set-up only
        self.random = random  # during the run: numbers keyed by step and slot
        n = self.size = params.size
        for name, column in COLUMNS.items():
            setattr(self, name, np.full(n, 0 if column.start is None else column.start, dtype=column.dtype))
        self.next_person_id = n
        self.person_id[:] = np.arange(n)
        self.age[:] = rng.uniform(params.min_age, params.max_age, n)
        self.sex[:] = rng.random(n) < params.male_share
        self.household[:], self.neighbourhood[:] = self._households(n)
        self.households = HouseholdSizes(self.household)
        self._draw_traits(np.arange(n), rng)
        self._draw_specialisms(np.arange(n), rng)
        self._init_status(np.arange(n), rng)
        if self.random is None:  # a stand-alone population (tests) keys its run-time numbers off its set-up stream
            self.random = ProcessRandom("population", int(rng.integers(2**63)))

    # ------------------------------------------------------------------ creation
    def _households(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Random households of mean size `household_size_mean`, each in one neighbourhood."""
        p = self.params
        sizes = 1 + self.rng.poisson(p.household_size_mean - 1, size=n)
        n_households = int(np.searchsorted(np.cumsum(sizes), n)) + 1
        household = np.repeat(np.arange(n_households), sizes[:n_households])[:n]
        household = household[self.rng.permutation(n)].astype(np.int32)
        home = self.rng.integers(0, p.neighbourhoods, n_households).astype(np.int32)
        return household, home[household]

    def _draw_traits(self, slots: np.ndarray, rng: np.random.Generator) -> None:
        p, k = self.params, len(slots)
        young = self.age[slots] < YOUTH_AGE
        self.it_skill[slots] = np.minimum(1.0, rng.beta(p.it_skill.a, p.it_skill.b, k) * np.where(young, 1 + p.youth_it_skill_boost, 1.0))
        self.propensity[slots] = rng.beta(p.propensity.a, p.propensity.b, k)
        self.need[slots] = rng.beta(p.financial_need.a, p.financial_need.b, k)
        self.online_activity[slots] = np.minimum(1.0, rng.beta(p.online_activity.a, p.online_activity.b, k) * np.where(young, 1 + p.youth_online_boost, 1.0))

    def _draw_specialisms(self, slots: np.ndarray, rng: np.random.Generator) -> None:
        """Specialisms by their population shares; technical ones go preferentially to the skilled."""
        self.specialism[slots] = SPECIALISM["none"]
        for name, share in self.params.specialism_shares.items():
            if name == "none":
                continue
            drawn = int(rng.binomial(len(slots), share))
            if drawn == 0:  # (most steps' few newcomers: the draw is made, the free ones not looked for)
                continue
            free = slots[self.specialism[slots] == SPECIALISM["none"]]
            count = min(len(free), drawn)
            if count == 0:
                continue
            weight = self.it_skill[free] ** 2 if name in TECHNICAL else np.ones(len(free))
            chosen = rng.choice(free, size=count, replace=False, p=weight / weight.sum())
            self.specialism[chosen] = SPECIALISM[name]

    def _init_status(self, slots: np.ndarray, rng: np.random.Generator) -> None:
        p, age = self.params, self.age[slots]
        u = rng.random(len(slots))
        student = (age < p.education_until) | ((age < HIGHER_EDUCATION_END) & (u < p.higher_education_share))
        working_age = age < p.retirement_age
        worker = ~student & working_age & (rng.random(len(slots)) < p.employment_rate)
        self.status[slots] = np.where(student, STUDENT, np.where(worker, WORKER, NOT_WORKING))
        self.partner[slots] = (age >= YOUTH_AGE) & (rng.random(len(slots)) < p.partner_share)

    # ------------------------------------------------------------------ each step
    def age_one_step(self, step: int) -> np.ndarray:
        """Everyone ages by one step; returns the slots whose status changed (for venue reassignment)."""
        p, draws = self.params, self.random.at(step)
        leaves_school, graduating, retiring, partnering = self._grow_older(
            np.array([p.education_until, HIGHER_EDUCATION_END, p.retirement_age, YOUTH_AGE]))
        higher = draws.uniform(leaves_school, "higher_education") < p.higher_education_share
        to_labour = np.concatenate([leaves_school[~higher], graduating])  # (leaves_school: sorted, distinct)
        to_labour = to_labour[self.status[to_labour] == STUDENT]
        self.status[to_labour] = np.where(draws.uniform(to_labour, "employment") < p.employment_rate, WORKER, NOT_WORKING)
        self.status[retiring] = NOT_WORKING
        self.partner[partnering] = draws.uniform(partnering, "partner") < p.partner_share
        return np.concatenate([to_labour, retiring])

    def _grow_older(self, thresholds: np.ndarray) -> list[np.ndarray]:
        """Everyone's age goes up by a step; returns, for each threshold age, the slots (in order)
        of the persons who reached it in this step."""
        if compiled.enabled():  # one pass, no copy of the ages (10,000 persons: ~8 numpy passes and copies)
            slots, counts = _grow_older_kernel(self.age, self.clock.dt, thresholds)
            return [slots[t, :counts[t]] for t in range(len(thresholds))]
        before = self.age.copy()
        self.age += self.clock.dt
        return [np.flatnonzero((before < threshold) & (self.age >= threshold)) for threshold in thresholds]

    def leavers(self, step: int) -> np.ndarray:
        """Slots of persons who leave this step: ageing out or migrating out."""
        draws, chance = self.random.at(step), self.clock.prob(self.params.migration_rate)
        if compiled.enabled():
            return _leavers_kernel(self.age, float(self.params.max_age), draws.key("migrate"), float(chance))
        migrating = draws.uniform(np.arange(self.size), "migrate") < chance
        return np.flatnonzero((self.age >= self.params.max_age) | migrating)

    def renew(self, slots: np.ndarray, step: int) -> np.ndarray:
        """Newcomers take the given (distinct) slots; returns each newcomer's host (a person whose household
        they join), or -1 for an adult who sets up a household of their own.

        The newcomers' attributes come from a generator of this step: they depend on who left in
        this step only (in paired runs, the same people leave unless their paths diverged)."""
        p, k = self.params, len(slots)
        rng = self.random.generator(step, "newcomers")
        aged_out = self.age[slots] >= p.max_age
        # who ages out is replaced by a young entrant; a migrant by a newcomer of any age
        self.age[slots] = np.where(aged_out, p.min_age, rng.uniform(p.min_age, p.max_age, k))
        self.person_id[slots] = np.arange(self.next_person_id, self.next_person_id + k)
        self.next_person_id += k
        self.entered_step[slots] = step
        self.sex[slots] = rng.random(k) < p.male_share
        hosts = rng.integers(0, self.size, k)
        hosts = np.where(sorted_sets.isin(hosts, slots), -1, hosts)  # a leaver cannot host
        # children join a household; adults set up one of their own only while the town has
        # fewer households than population / mean size, which keeps the mean size at its target
        adults = np.flatnonzero(self.age[slots] >= ADULT_AGE)
        top = self.households.top  # the largest household id, the leavers' included
        self.households.leave(self.household[slots])
        room = max(0, int(round(self.size / p.household_size_mean)) - self.households.count)
        founders = rng.permutation(adults)[:room]
        hosts[founders] = -1
        has_host = hosts >= 0
        self.household[slots] = np.where(has_host, self.household[np.maximum(hosts, 0)], top + 1 + np.arange(k))
        self.households.join(self.household[slots])
        self.neighbourhood[slots] = np.where(has_host, self.neighbourhood[np.maximum(hosts, 0)], rng.integers(0, p.neighbourhoods, k))
        self._draw_traits(slots, rng)
        self._draw_specialisms(slots, rng)
        self._init_status(slots, rng)
        for name, column in COLUMNS.items():
            if column.start is not None:  # every owner's column starts afresh for the newcomer
                getattr(self, name)[slots] = column.start
        return hosts

    # ------------------------------------------------------------------ changes asked by other modules
    def lower_propensity(self, slots: np.ndarray, factor: float) -> None:
        """Propensity falls by `factor` (desistance, a diversion programme)."""
        self.propensity[slots] *= factor

    def start_work(self, slots: np.ndarray) -> None:
        """Persons take up legal work (a diversion programme); their workplace is the venues' to assign."""
        self.status[slots] = WORKER

    # ------------------------------------------------------------------ views
    def free(self) -> np.ndarray:
        """Mask of persons not in prison."""
        return self.prison_until < 0

    def members(self) -> np.ndarray:
        """Slots of current network members."""
        return np.flatnonzero(self.network != NO_NETWORK)
