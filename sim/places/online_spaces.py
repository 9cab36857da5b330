"""Online spaces: open and gated forums, markets, chat channels and social media.

Chat channels and social media are mass spaces: everyone visits them by online activity.
Forums and markets are used by a self-selected minority, the forum users (`forum_user`): people
become users by a join hazard driven by IT skill, criminal propensity, youth and ties to users,
and stop by a quit hazard, so that membership churns (Pastrana et al. 2018; Hughes & Hutchings
2023). The run starts at the stationary share of users, so there is no warm-up.

Each step users churn, then people visit spaces by interest (online activity; IT skill draws
users to forums, propensity to markets), make contacts with co-visitors, and build forum
reputation. Gated forums admit only vetted users with enough skill and reputation, which keeps
them small and trusted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass

import numpy as np

from sim import compiled, sorted_sets
from sim.places.copresence import meetings_of_batches
from sim.population import YOUTH_AGE, Population
from sim.rng import ProcessRandom, StepRandom, keyed_uniform
from sim.ties import TieStore
from sim.timing import Clock
from sim.vocabulary import LAYER, NO_NETWORK, OFFLINE_LAYERS

if TYPE_CHECKING:
    from sim.scenario.schema import OnlineSpaceParams, PlacesParams

FORUM_KINDS = ("open_forum", "gated_forum", "market")  # visits here build reputation; ties are forum ties
RECRUITING_KINDS = ("open_forum", "gated_forum", "market", "chat")  # where networks look for co-offenders
ADVERT_KINDS = ("social_media", "chat")  # where adverts are seen


@dataclass
class OnlineSpace:
    code: int  # index among online spaces
    name: str
    params: OnlineSpaceParams
    is_open: bool = True  # False after a takedown
    infiltration: float = 0.0  # share of users who are informants (scenario value, raised by interventions)
    trust_factor: float = 1.0  # multiplies the trust of contacts met here (lowered by infiltration)
    rate_factor: float = 1.0  # multiplies routine visits (a successor space starts with a share)

    def __post_init__(self):
        self.infiltration = self.params.infiltration

    @property
    def kind(self) -> str:
        return self.params.kind


@dataclass
class OnlineMeetings:
    a: np.ndarray
    b: np.ndarray
    space: np.ndarray
    layer: np.ndarray  # int8: the layer of the tie it makes (its space's)


@compiled.kernel
def _join_hazard_kernel(activity, skill, propensity, age, peers, network, join_rate, propensity_weight, youth_factor,
                        peer_factor, member_factor):
    # `OnlineSpaces.join_hazard` of the numpy twin in one pass (its products in its order: the
    # same numbers), where the twin's nine passes over the town took ~11 ms a step at a million
    hazard = np.empty(len(activity))
    for i in range(len(activity)):
        h = join_rate * activity[i] * skill[i] * (1.0 + propensity_weight * propensity[i])
        h = h * (youth_factor if age[i] < YOUTH_AGE else 1.0) * (peer_factor if peers[i] else 1.0)
        hazard[i] = h * (member_factor if network[i] != NO_NETWORK else 1.0)
    return hazard


SKILL_PULL, PROPENSITY_PULL = 1, 2  # what draws a person to a kind of space beyond online activity (`interest`)
PULL = {"open_forum": SKILL_PULL, "gated_forum": SKILL_PULL, "market": PROPENSITY_PULL}  # other kinds: nothing more


@compiled.kernel
def _candidates_kernel(free, forum_user, activity, skill, propensity, members, member_row, pull, forum, is_open, scale):
    # every space's candidates in one call: for each space in turn, the slots of the persons who
    # may visit it (`OnlineSpaces._can_visit`) and their routine visit rates (`visit_rate` without
    # displaced visits, its products in its order: the same numbers; a forum's candidates are
    # users, so its rates are not multiplied by `forum_user`), and where each space's begin.
    # The free persons, and the free users, are listed once for all spaces; lists are made
    # without branches (each slot written, kept if it passes: whether it does is a coin flip to
    # the processor). (Six spaces a step took ~20 numpy calls each at 10,000 persons.)
    n, n_spaces = len(free), len(scale)
    everyone, users = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    n_free = n_users = 0
    for s in range(n):
        everyone[n_free], users[n_users] = s, s
        n_free += free[s]
        n_users += free[s] & forum_user[s]
    bounds = np.zeros(n_spaces + 1, dtype=np.int64)
    for i in range(n_spaces):
        if not is_open[i]:
            bounds[i + 1] = bounds[i]
        elif member_row[i] >= 0:  # gated: its members among the free users
            bounds[i + 1] = bounds[i] + members[member_row[i]][users[:n_users]].sum()
        else:
            bounds[i + 1] = bounds[i] + (n_users if forum[i] else n_free)
    # (one slot of room: a gated space's list writes each user, kept or not, one past its last member)
    slots, rate = np.empty(bounds[-1] + 1, dtype=np.int64), np.empty(bounds[-1])
    for i in range(n_spaces):
        lo, hi = bounds[i], bounds[i + 1]
        if hi == lo:
            continue
        if member_row[i] >= 0:
            mine, k = members[member_row[i]], lo
            for s in users[:n_users]:
                slots[k] = s
                k += mine[s]
        else:
            slots[lo:hi] = users[:n_users] if forum[i] else everyone[:n_free]
        if pull[i] == SKILL_PULL:
            for j in range(lo, hi):
                rate[j] = scale[i] * (activity[slots[j]] * (0.25 + 0.75 * skill[slots[j]]))
        elif pull[i] == PROPENSITY_PULL:
            for j in range(lo, hi):
                rate[j] = scale[i] * (activity[slots[j]] * (0.25 + 0.75 * propensity[slots[j]]))
        else:
            for j in range(lo, hi):
                rate[j] = scale[i] * (activity[slots[j]] * 1.0)
    return slots[:bounds[-1]], rate, bounds


@compiled.kernel
def _visitors_kernel(slots, rate, chance, bounds, keys, contacts_per_visit, dt):
    # every space's visitors in one call: the candidates whose keyed uniform (the space's key) is
    # below their chance (`StepRandom.below`, without branches), then the contacts each seeks,
    # `contacts_per_visit` times their visits given one (`Clock.visits_given_any`'s arithmetic);
    # and where each space's begin
    kept = np.empty(len(slots), dtype=np.int64)
    out = np.zeros(len(bounds), dtype=np.int64)
    c = 0
    for i in range(len(keys)):
        for j in range(bounds[i], bounds[i + 1]):
            kept[c] = j
            c += keyed_uniform(slots[j], keys[i]) < chance[j]
        out[i + 1] = c
    people, contacts = np.empty(c, dtype=np.int64), np.empty(c)
    for i in range(len(keys)):
        for k in range(out[i], out[i + 1]):
            j = kept[k]
            lam = rate[j] * dt
            people[k] = slots[j]
            contacts[k] = contacts_per_visit[i] * (lam / max(chance[j], 1e-300) if lam > 1e-9 else 1.0)
    return people, contacts, out


class OnlineSpaces:
    def __init__(self, params: PlacesParams, population: Population, clock: Clock, rng: np.random.Generator,
                 random: ProcessRandom, ties: TieStore | None = None):
        self.params = params
        self.pop = population
        self.clock = clock
        self.rng = rng  # set-up only
        self.random = random  # during the run: keyed by step and slot
        self.ties = ties  # whose ties to forum users raise the join hazard (None: no peer effect)
        self.forum_user_joins = self.forum_user_quits = 0  # in the latest step
        self._quits_pending = 0  # quits between two churns (leavers, takedown drop-outs)
        self.spaces = [OnlineSpace(code, name, sp) for code, (name, sp) in enumerate(params.online_spaces.items())]
        self._by_name = {s.name: s for s in self.spaces}
        self.extra_rate: dict[int, np.ndarray] = {}  # visits per year added by displacement, per space
        n = population.size
        self.members = {s.code: np.zeros(n, dtype=bool) for s in self.spaces if s.kind == "gated_forum"}
        self.active: list[np.ndarray] = [np.zeros(0, dtype=np.int64) for _ in self.spaces]
        self.reputation_decay = clock.decay(params.reputation_half_life_years)
        self._init_forum_users()
        self._init_reputation()
        for code in self.members:
            self._admit_initial(self.spaces[code])

    # ------------------------------------------------------------------ forum users
    @property
    def forum_user(self) -> np.ndarray:
        """Per person: a user of forums and markets (the population column this module owns)."""
        return self.pop.forum_user

    def join_hazard(self, peers: np.ndarray) -> np.ndarray:
        """Each person's hazard per year of becoming a forum user (whether or not they are one).

        Interest grows with online activity and IT skill, with criminal propensity, in the young,
        and with a tie to a user (`peers`, a mask): interest in hacking starts in youth, with peers.
        Network members are drawn too (they go online for tools and co-offenders).
        """
        pop, f = self.pop, self.params.forum_use
        factors = (f.join_rate, f.propensity_weight, f.youth_factor, f.peer_factor, f.member_factor)
        if compiled.enabled():
            return _join_hazard_kernel(pop.online_activity, pop.it_skill, pop.propensity, pop.age, peers, pop.network, *factors)
        young = pop.age < YOUTH_AGE
        return (f.join_rate * pop.online_activity * pop.it_skill * (1.0 + f.propensity_weight * pop.propensity)
                * np.where(young, f.youth_factor, 1.0) * np.where(peers, f.peer_factor, 1.0)
                * np.where(pop.network != NO_NETWORK, f.member_factor, 1.0))

    def _peers_of_users(self) -> np.ndarray:
        """Mask of persons with a live offline tie (family, friend, school or work, neighbourhood)
        to a forum user: interest in IT is picked up from people one knows."""
        if self.ties is None:
            return np.zeros(self.pop.size, dtype=bool)
        return self.ties.tied_to(np.flatnonzero(self.pop.forum_user), OFFLINE_LAYERS)

    def _init_forum_users(self) -> None:
        """Each person is a user with their stationary chance join / (join + quit). Peers depend
        on who is a user, so the draw is repeated with the same numbers until it settles (users
        only ever get added, so a few rounds suffice)."""
        u, quit_rate = self.rng.random(self.pop.size), self.params.forum_use.quit_rate
        users = self.pop.forum_user
        users[:] = False
        for _ in range(20):
            join = self.join_hazard(self._peers_of_users())
            stationary = np.divide(join, join + quit_rate, out=np.ones_like(join), where=(join + quit_rate) > 0)
            before = int(users.sum())
            users[:] = u < stationary
            if int(users.sum()) == before:
                break

    def churn(self, step: int, draws: StepRandom) -> None:
        """Users quit and non-users join by their hazards; quitters leave gated forums and drop
        their displaced habits."""
        users, f = self.pop.forum_user, self.params.forum_use
        current = np.flatnonzero(users)
        others = np.flatnonzero(~users)
        quits = current[draws.below(current, self.clock.prob(f.quit_rate), "forum_quit")]
        joins = others[draws.below(others, self.clock.prob(self.join_hazard(self._peers_of_users())[others]), "forum_join")]
        self.stop_forum_use(quits)
        users[joins] = True
        self.forum_user_joins, self.forum_user_quits = len(joins), self._quits_pending
        self._quits_pending = 0

    def stop_forum_use(self, slots: np.ndarray) -> None:
        """The persons stop using forums and markets (they quit, or left the town)."""
        slots = np.asarray(slots, dtype=np.int64)
        self._quits_pending += int(np.count_nonzero(self.pop.forum_user[slots]))
        self.pop.forum_user[slots] = False
        for members in self.members.values():
            members[slots] = False
        for code, extra in self.extra_rate.items():
            if self.spaces[code].kind in FORUM_KINDS:
                extra[slots] = 0.0

    # ------------------------------------------------------------------ interest and set-up
    def interest(self, kind: str, slots=slice(None)) -> np.ndarray:
        """How much a space of this kind draws each person (0-1), times their online activity."""
        pop, drawn_by = self.pop, PULL.get(kind)
        if drawn_by == SKILL_PULL:
            pull = 0.25 + 0.75 * pop.it_skill[slots]
        elif drawn_by == PROPENSITY_PULL:
            pull = 0.25 + 0.75 * pop.propensity[slots]
        else:
            pull = 1.0
        return pop.online_activity[slots] * pull

    def visit_rate(self, space: OnlineSpace, slots=slice(None)) -> np.ndarray:
        """Each person's (or the persons `slots`') visits to the space per year: routine interest
        plus any displaced visits (forums and markets: forum users only)."""
        rate = space.params.visit_rate * space.rate_factor * self.interest(space.kind, slots)
        if space.code in self.extra_rate:
            rate = rate + self.extra_rate[space.code][slots]
        return rate * self.pop.forum_user[slots] if space.kind in FORUM_KINDS else rate

    def _visit_prob(self, space: OnlineSpace) -> np.ndarray:
        return self.clock.prob(self.visit_rate(space))

    def _init_reputation(self) -> None:
        """Start reputation at the level that forum routines would sustain (no empty warm-up)."""
        visits = sum(self._visit_prob(s) for s in self.spaces if s.kind in FORUM_KINDS and s.kind != "gated_forum")
        gain, loss = self.params.reputation_gain * visits, 1.0 - self.reputation_decay
        self.pop.reputation[:] = gain / (gain + loss) if np.any(gain + loss) else 0.0

    def _eligible_for(self, space: OnlineSpace) -> np.ndarray:
        pop, p = self.pop, space.params
        return pop.forum_user & (pop.it_skill >= p.min_skill) & (pop.reputation >= p.min_reputation) & ~self.members[space.code]

    def _admit_initial(self, space: OnlineSpace) -> None:
        eligible = self._eligible_for(space)
        self.members[space.code] |= eligible & (self.rng.random(self.pop.size) < space.params.vetting_pass)

    # ------------------------------------------------------------------ each step
    def visit(self, free: np.ndarray, step: int) -> OnlineMeetings:
        """Forum users churn; then all visits to online spaces this step: fills `self.active` and
        returns the contacts made."""
        draws = self.random.at(step)
        self.churn(step, draws)
        visits = self._visits_compiled(free, draws) if compiled.enabled() else [self._visits(s, free, draws) for s in self.spaces]
        batches = []
        for s, (people, contacts) in zip(self.spaces, visits):
            self.active[s.code] = people
            batches.append((people, None, contacts, draws.labelled(s.name)))
        met = meetings_of_batches(batches)  # the spaces' meetings are independent
        self._update_reputation()
        self._admit_applicants(draws)
        count = met.count
        return OnlineMeetings(met.a, met.b, np.repeat(np.array([s.code for s in self.spaces], np.int16), count),
                              np.repeat(self.layer_codes(), count))

    def _visits(self, space: OnlineSpace, free: np.ndarray, draws: StepRandom) -> tuple[np.ndarray, np.ndarray]:
        """The persons who visit the space this step, and the contacts each seeks there."""
        candidates = np.flatnonzero(self._can_visit(space, free))
        rate = self.visit_rate(space, candidates)
        chance = self.clock.prob(rate)
        visiting = draws.below(candidates, chance, f"visit:{space.name}")
        # a step may hold several visits: contacts scale with them, so yearly contacts do not depend on step length
        return candidates[visiting], space.params.contacts_per_visit * self.clock.visits_given_any(rate[visiting], chance[visiting])

    def _visits_compiled(self, free: np.ndarray, draws: StepRandom) -> list[tuple[np.ndarray, np.ndarray]]:
        """`_visits` of every space, by two kernels and one numpy pass between them (the chances:
        numpy's expm1, which a kernel's may differ from in the last bit): the same numbers."""
        pop, spaces, gated = self.pop, self.spaces, list(self.members)
        members = np.stack([self.members[code] for code in gated]) if gated else np.zeros((0, pop.size), dtype=bool)
        slots, rate, bounds = _candidates_kernel(
            free, pop.forum_user, pop.online_activity, pop.it_skill, pop.propensity, members,
            np.array([gated.index(s.code) if s.code in self.members else -1 for s in spaces], dtype=np.int64),
            np.array([PULL.get(s.kind, 0) for s in spaces], dtype=np.int64), np.array([s.kind in FORUM_KINDS for s in spaces]),
            np.array([s.is_open for s in spaces]), np.array([s.params.visit_rate * s.rate_factor for s in spaces]))
        for code, extra in self.extra_rate.items():  # displaced visits (`visit_rate`)
            rate[bounds[code]:bounds[code + 1]] += extra[slots[bounds[code]:bounds[code + 1]]]
        people, contacts, bounds = _visitors_kernel(
            slots, rate, self.clock.prob(rate), bounds, np.array([draws.key(f"visit:{s.name}") for s in spaces], dtype=np.uint64),
            np.array([s.params.contacts_per_visit for s in spaces], dtype=float), self.clock.dt)
        return [(people[bounds[i]:bounds[i + 1]], contacts[bounds[i]:bounds[i + 1]]) for i in range(len(spaces))]

    def _can_visit(self, space: OnlineSpace, free: np.ndarray) -> np.ndarray:
        """Mask of the persons who may visit the space this step. Non-users never visit forums or
        markets (their rate is 0): they are left out before the draws, which are keyed by person
        and so do not change for the others."""
        if not space.is_open:
            return np.zeros_like(free)
        can_visit = free & self.members[space.code] if space.code in self.members else free
        return can_visit & self.pop.forum_user if space.kind in FORUM_KINDS else can_visit

    def _forum_visitors(self) -> np.ndarray:
        return sorted_sets.unique(np.concatenate([self.active[s.code] for s in self.spaces if s.kind in FORUM_KINDS] or [np.zeros(0, np.int64)]))

    def _update_reputation(self) -> None:
        rep = self.pop.reputation
        rep *= self.reputation_decay
        visitors = self._forum_visitors()
        rep[visitors] += self.params.reputation_gain * (1.0 - rep[visitors])

    def _admit_applicants(self, draws: StepRandom) -> None:
        """Visitors of open forums hear of gated ones; the eligible apply and some pass vetting."""
        open_visitors = np.zeros(self.pop.size, dtype=bool)
        for s in self.spaces:
            if s.kind == "open_forum":
                open_visitors[self.active[s.code]] = True
        for code in self.members:
            s = self.spaces[code]
            if not s.is_open:
                continue
            chance = self.clock.prob(s.params.apply_rate) * s.params.vetting_pass
            applicants = np.flatnonzero(open_visitors & self._eligible_for(s))
            self.members[code][applicants[draws.uniform(applicants, f"vetting:{s.name}") < chance]] = True

    # ------------------------------------------------------------------ interventions
    def by_name(self, name: str) -> OnlineSpace:
        return self._by_name[name]

    def close(self, space: OnlineSpace) -> None:
        """Take a space down: nobody visits it, gated membership is void, displaced visits to it end."""
        space.is_open = False
        if space.code in self.members:
            self.members[space.code][:] = False
        self.extra_rate.pop(space.code, None)
        self.active[space.code] = np.zeros(0, dtype=np.int64)

    def reopen(self, space: OnlineSpace, rate_factor: float = 1.0) -> None:
        """A successor opens in the space's place (gated ones start with no members)."""
        space.is_open = True
        space.rate_factor = rate_factor

    def add_visits(self, codes: np.ndarray, persons: np.ndarray, rate: np.ndarray) -> None:
        """Displaced users start visiting other spaces: `rate` visits per year each."""
        for code in np.unique(codes):
            mine = codes == code
            extra = self.extra_rate.setdefault(int(code), np.zeros(self.pop.size))
            np.add.at(extra, persons[mine], rate[mine])
            np.maximum(extra, 0.0, out=extra)  # returning movers take back what they brought

    def forget_persons(self, slots: np.ndarray) -> None:
        """Leavers stop forum use and lose memberships and displaced habits (their slots will hold newcomers)."""
        self.stop_forum_use(slots)
        for members in self.members.values():
            members[slots] = False
        for extra in self.extra_rate.values():
            extra[slots] = 0.0

    # ------------------------------------------------------------------ queries
    def layer_codes(self) -> np.ndarray:
        return np.array([LAYER["forum"] if s.kind in FORUM_KINDS else LAYER["chat"] for s in self.spaces], dtype=np.int8)

    def codes_of(self, kinds: tuple[str, ...]) -> list[int]:
        return [s.code for s in self.spaces if s.kind in kinds]

    def yearly_visits_to(self, space: OnlineSpace, slots=slice(None)) -> np.ndarray:
        """Each person's (or the persons `slots`') visits per year to the space: 0 if it is closed or gated to them."""
        if not space.is_open:
            return self._zeros(slots)
        rate = self.visit_rate(space, slots)
        return rate * self.members[space.code][slots] if space.code in self.members else rate

    def yearly_visits(self, kinds: tuple[str, ...], slots=slice(None)) -> np.ndarray:
        """Each person's (or the persons `slots`') visits per year to the open spaces of the given kinds they may enter."""
        return sum((self.yearly_visits_to(self.spaces[c], slots) for c in self.codes_of(kinds)), self._zeros(slots))

    def _zeros(self, slots) -> np.ndarray:
        """Zeros for the persons `slots` (a slice, or slots: then not a town's worth, indexed)."""
        return np.zeros(self.pop.size)[slots] if isinstance(slots, slice) else np.zeros(len(slots))

    def most_yearly_visits(self, kinds: tuple[str, ...]) -> float:
        """Routine visits per year to the open spaces of the given kinds by a fully online, fully
        interested person: the most anyone visits them, displaced visits aside."""
        return float(sum(s.params.visit_rate * s.rate_factor for s in self.spaces if s.kind in kinds and s.is_open))

    def active_mask(self, kinds: tuple[str, ...]) -> np.ndarray:
        """Persons active this step in any space of the given kinds."""
        mask = np.zeros(self.pop.size, dtype=bool)
        for code in self.codes_of(kinds):
            mask[self.active[code]] = True
        return mask

