"""Recruitment online by search: a network picks the role it wants filled first, then looks where
people fit for it are: technical capacity on forums and markets, where the skilled forum users
are (Bijlenga & Kleemans 2018; Leukfeldt et al. 2017), money mules on chat channels and social
media (Bekkers, Leukfeldt & Kleemans 2024). It screens a sample of the users active there and
approaches the best fit. Gated forums vet users and so carry more trust.

On an infiltrated space users trust each other less, but networks cannot see infiltration
exactly: each network perceives only its own keyed share of a space's trust cut, so some keep
recruiting there, and a recruit found there may be an informant, which raises the network's
detection hazard. Networks search in a random order each step (no first pick by age)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
from pydantic import Field

from sim import sorted_sets
from sim.crime.roles import role_draws, sample_roles, scaled_promise
from sim.recruitment.attempts import log_refusals, resolve, uniform_by_number, would_accept
from sim.recruitment.base import RecruitmentRule, RuleParams
from sim.recruitment.registry import register
from sim.sampling import KeyedCircle
from sim.scenario.params import NonNegative, prob, rate
from sim.vocabulary import NO_NETWORK, ONLINE_LAYERS, ROLE, ROLES, OnlineKind, RoleName

if TYPE_CHECKING:
    from sim.recruitment.market import RecruitmentMarket


class ForumsParams(RuleParams):
    search_rate: float = rate(12.0, "searches by a recruiting network (times its recruitment intensity) with a member active online")
    candidates_per_search: int = Field(20, ge=1, le=10_000, description="active users screened per search; the best-fitting one is approached (a count, not a share of the users: searches grow with the population, so a share would make each user screened more often in a bigger town)")
    trust_open: float = prob(0.5, "trust in a contact met on an open forum, market or chat channel")
    trust_gated: float = prob(0.8, "trust in a contact met on a gated (vetted) forum")
    accept_base: float = prob(0.6, "acceptance probability of a fully motivated, fitting candidate met on a forum")
    informant_detection: float = rate(2.0, "added detection hazard of a network that recruited an informant on an infiltrated space")
    role_weights: dict[RoleName, NonNegative] = Field(
        default_factory=lambda: {"core": 0.3, "technical_enabler": 1.0, "recruiter": 0.3, "money_mule": 1.0},
        description="how much networks use online search for each role: mostly enablers and mules (Leukfeldt et al. 2017)",
    )
    role_spaces: dict[RoleName, list[OnlineKind]] = Field(
        default_factory=lambda: {"core": ["open_forum", "gated_forum"], "technical_enabler": ["open_forum", "gated_forum", "market"],
                                 "recruiter": ["open_forum", "gated_forum", "chat"], "money_mule": ["chat", "social_media"]},
        description="the kinds of online space searched for each role: technical capacity is bought or hired on forums and markets "
                    "(Bijlenga & Kleemans 2018; Leukfeldt et al. 2017), mules are approached on chat and social media (Bekkers et al. 2024)",
    )
    infiltration_perceived: float = prob(0.5, "mean share of an infiltrated space's trust cut a network perceives; each network's share is "
                                              "uniform on [0, 2 x mean] (clipped to 1), its own for each space: networks misjudge infiltration (assumption)")


@register("forums")
class ForumsRule(RecruitmentRule):
    Params = ForumsParams
    medium = "online"
    # look the step's searches up at once (`_search_all`), or make each alone in turn (`_search`):
    # the same outcomes, events and draws (tests/test_recruitment_rules.py compares them)
    look_ahead: ClassVar[bool] = True

    def step(self, market: RecruitmentMarket) -> None:
        m, p = self.model, self.params
        pop, online = m.pop, m.online
        draws = self.random.at(market.step)
        codes = [c for c in online.codes_of(self._searched_kinds()) if len(online.active[c])]
        if not codes:
            return
        role_pref = np.array([p.role_weights.get(r, 0.0) for r in ROLES])
        weights = market.role_weights * role_pref
        # networks with a member online now and a role they would fill here
        active = np.concatenate([online.active[c] for c in codes])
        nets = sorted_sets.unique(pop.network[active[pop.network[active] != NO_NETWORK]])
        nets = nets[weights[nets].sum(axis=1) > 0]
        searches = draws.poisson(m.networks.draw_keys(nets), self._expected_searches(market, nets), "searches")
        nets, searches = nets[searches > 0], searches[searches > 0]
        if len(nets) == 0:
            return
        # online contacts of the searching networks' members (trust through a known contact)
        members = m.membership.members()
        contacts = m.ties.incident(members[sorted_sets.isin(pop.network[members], nets)], market.step, ONLINE_LAYERS)
        known = KnownContacts(pop.network[contacts.ego], contacts.alter, contacts.strength, pop.size)
        role_codes = [tuple(c for c in codes if online.spaces[c].kind in p.role_spaces.get(r, [])) for r in ROLES]
        order = draws.ranks(m.networks.draw_keys(nets), "order")  # no network gets first pick by age
        net, number, role = self._searches(draws, nets[order], searches[order], weights)
        # a search for a role with no space of its kinds open and in use is not made
        made = np.array([bool(role_codes[r]) for r in range(len(ROLES))])[role]
        net, number, role = net[made], number[made], role[made]
        if len(net) == 0:
            return
        pools = {here: self._pool(here, draws) for here in {role_codes[r] for r in np.unique(role)}}  # one per set of spaces
        pool_of = [pools[role_codes[r]] for r in role]
        if self.look_ahead:
            self._search_all(market, draws, net, number, role, pool_of, known)
        else:
            for s in range(len(net)):
                self._search(market, draws, int(net[s]), int(number[s]), int(role[s]), pool_of[s], known)

    def _searches(self, draws, nets: np.ndarray, searches: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The step's searches in the order they are made (each network's in turn): network,
        number (its n-th search this step) and the role it is for, drawn first: it decides where to look."""
        net = np.repeat(nets, searches)
        first = np.cumsum(searches) - searches
        number = np.arange(len(net)) - np.repeat(first, searches)
        role = np.empty(len(net), dtype=np.int64)
        keys = self.model.networks.draw_keys(net)
        for n in range(int(searches.max(initial=0))):  # the n-th searches of all networks at once: one label
            these = np.flatnonzero(number == n)
            role[these] = sample_roles(weights[net[these]], role_draws(draws, keys[these], f"role:{n}"))
        return net, number, role

    def _expected_searches(self, market: RecruitmentMarket, nets: np.ndarray) -> np.ndarray:
        """Mean searches this step of networks with a member online now.

        A network searches `search_rate` x intensity times a year, during its members' visits: so
        in a step with a member online it searches rate x dt / P(a member is online in a step),
        where members visit recruiting spaces R times a year in all. Yearly searches then do not
        depend on the step length (with weekly steps and busy members the divisor is about 1).
        """
        m, pop = self.model, self.model.pop
        members = m.membership.members()
        members = members[pop.free()[members]]
        visits = np.bincount(pop.network[members], weights=m.online.yearly_visits(self._searched_kinds(), members),
                             minlength=len(market.intensity))[nets]
        online_share = np.maximum(m.clock.prob(visits), 1e-12)
        return m.clock.expected(self.params.search_rate * market.intensity[nets]) / online_share

    def _searched_kinds(self) -> tuple[str, ...]:
        return tuple(sorted({k for kinds in self.params.role_spaces.values() for k in kinds}))

    def _search(self, market, draws, net: int, number: int, role: int, pool, known: KnownContacts) -> None:
        """One search made alone: the network screens a sample of the active users of the spaces
        searched for the role (`pool`: users, base trust, space codes and the step's circle of
        them) and approaches the best fit (trust x fit x motivation)."""
        (users,), (base_trust,), (where,) = self._screened(market, draws, np.array([net]), np.array([number]), [pool])
        if len(users) == 0:
            return
        n = len(users)
        trust, score, infiltration = self._scores(np.full(n, net), np.full(n, role), users, base_trust, where, known)
        best = int(np.argmax(score))
        if score[best] > 0:  # else nobody here the network would approach for this role
            self._approach(market, draws, net, number, role, int(users[best]), trust[best], infiltration[best])

    def _search_all(self, market, draws, net, number, role, pool_of, known: KnownContacts) -> None:
        """The step's searches, with the outcome of each exactly as if made alone in turn (`_search`).

        All are screened and scored at once, against who is available before the first, and the
        candidates' answers are looked up (`would_accept`: keyed draws). Then in turn: a search
        that screened someone an earlier one took in is made again alone; a refusal is logged (in
        order, with the others); an acceptance is resolved. Only acceptances change who is available.
        """
        users, base_trust, where = self._screened(market, draws, net, number, pool_of)
        screened = np.array([len(u) for u in users], dtype=np.int64)
        search_of = np.repeat(np.arange(len(net)), screened)
        trust, score, infiltration = self._scores(net[search_of], role[search_of], np.concatenate(users),
                                                  np.concatenate(base_trust), np.concatenate(where), known)
        best, has_best = segment_argmax(score, screened)
        best_user = np.concatenate(users)[best] if len(score) else np.zeros(len(net), dtype=np.int64)
        yes = np.zeros(len(net), dtype=bool)
        yes[has_best] = would_accept(self, draws, net[has_best], best_user[has_best], role[has_best], trust[best[has_best]], number[has_best])
        refused: list[int] = []  # searches whose refusal is not logged yet: logged in order, before the next other outcome
        for s in range(len(net)):
            if not market.available[users[s]].all():  # someone it screened was taken in by an earlier search
                self._log_refusals(market, refused, net, best_user, role)
                self._search(market, draws, int(net[s]), int(number[s]), int(role[s]), pool_of[s], known)
            elif has_best[s] and not yes[s]:
                refused.append(s)
            elif has_best[s]:
                self._log_refusals(market, refused, net, best_user, role)
                self._approach(market, draws, int(net[s]), int(number[s]), int(role[s]), int(best_user[s]), trust[best[s]], infiltration[best[s]])
        self._log_refusals(market, refused, net, best_user, role)

    def _log_refusals(self, market, refused: list[int], net, candidate, role) -> None:
        if refused:
            log_refusals(self, market.step, net[refused], candidate[refused], role[refused])
            refused.clear()

    def _screened(self, market, draws, net, number, pool_of) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
        """Per search, the users it screens (with their base trust and the space each was met in):
        the first available users from a keyed point of the step's circle of its pool. A search
        costs the users it screens, and a user's chance does not hinge on the others' draws."""
        start = uniform_by_number(draws, self.model.networks.draw_keys(net), number, lambda n: f"screen:{n}")
        users, trust, where = [], [], []
        for s, (pool_users, pool_trust, pool_where, circle) in enumerate(pool_of):
            pick = circle.sample(start[s], self.params.candidates_per_search, lambda idx: market.available[pool_users[idx]])
            users.append(pool_users[pick])
            trust.append(pool_trust[pick])
            where.append(pool_where[pick])
        return users, trust, where

    def _scores(self, net, role, users, base_trust, where, known: KnownContacts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For users screened by networks `net` for roles `role` (one entry each): trust, the
        score the network ranks them by, and the true infiltration of the space met in."""
        m, pop = self.model, self.model.pop
        keys = m.networks.draw_keys(net)
        trust_factor, infiltration = self._as_perceived(keys, where)
        trust = np.maximum(base_trust * trust_factor, known.strongest(net, users))
        enabler_fits = m.business.enabler_fits[m.networks.business_model[net]]
        acceptance = m.config.recruitment.acceptance
        score = scaled_promise(pop, users, role, enabler_fits, acceptance, trust)
        # only someone trusted enough could join the core
        score = np.where((role != ROLE["core"]) | (trust >= acceptance.min_core_trust), score, 0.0)
        return trust, score, infiltration

    def _approach(self, market, draws, net: int, number: int, role: int, candidate: int, trust: float, infiltration: float) -> None:
        accepted = resolve(self, market, draws, [net], [candidate], [role], [trust], attempt=number)
        # on an infiltrated space the recruit may be an informant: enforcement makes the network easier to detect
        if accepted[0] and draws.uniform(self.model.networks.draw_keys([net]), f"informant:{number}")[0] < infiltration:
            market.informants.append((net, self.params.informant_detection))

    def _pool(self, codes: tuple[int, ...], draws) -> tuple[np.ndarray, np.ndarray, np.ndarray, KeyedCircle]:
        """Active users of the spaces `codes` (in that order), their trust before any
        infiltration, the code of the space each was met in, and the step's circle of them (keyed
        by user: a user active in two of the spaces sits there twice, side by side)."""
        p, online = self.params, self.model.online
        pool, trust, where = [], [], []
        for c in codes:
            users, space = online.active[c], online.spaces[c]
            pool.append(users)
            base = p.trust_gated if space.kind == "gated_forum" else p.trust_open
            trust.append(np.full(len(users), base))
            where.append(np.full(len(users), c))
        users = np.concatenate(pool)
        return users, np.concatenate(trust), np.concatenate(where), KeyedCircle(draws.uniform(users, "circle"))

    def _as_perceived(self, network_keys, where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For contacts met in the spaces `where` by the networks keyed `network_keys` (one, or
        one per contact): the trust factor the network applies (its perceived share of the space's
        trust cut) and the spaces' true infiltration."""
        spaces = self.model.online.spaces
        cut = np.array([1.0 - s.trust_factor for s in spaces])
        infiltration = np.array([s.infiltration for s in spaces])
        # a network's judgement of a space is its own and lasts: keyed by (network, space), not by step
        perceived = np.minimum(1.0, 2.0 * self.params.infiltration_perceived * self.random.uniform(0, where, "perceived", with_units=network_keys))
        return 1.0 - cut[where] * perceived, infiltration[where]


class KnownContacts:
    """The online ties of the searching networks' members: a network trusts a user at least as
    much as its members' strongest tie to them."""

    def __init__(self, network: np.ndarray, alter: np.ndarray, strength: np.ndarray, n_slots: int):
        self.n_slots = n_slots
        key = network.astype(np.int64) * n_slots + alter
        order = np.argsort(key, kind="stable")
        key, strength = key[order], strength[order]
        first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, dtype=np.int64)
        self.key = key[first]
        self.strength = np.maximum.reduceat(strength, first) if len(key) else np.zeros(0)

    def strongest(self, network: np.ndarray, users: np.ndarray) -> np.ndarray:
        """For each (network, user): the strongest tie of a member of the network to the user; 0 if none."""
        if len(self.key) == 0:
            return np.zeros(len(users))
        key = np.asarray(network, np.int64) * self.n_slots + users
        at = np.minimum(np.searchsorted(self.key, key), len(self.key) - 1)
        return np.where(self.key[at] == key, self.strength[at], 0.0)


def segment_argmax(values: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For consecutive segments of `values` (non-negative) of the given lengths: the index of each
    segment's first largest value (as `np.argmax`), and whether it is positive."""
    ends = np.cumsum(lengths)
    best = np.zeros(len(lengths), dtype=np.int64)
    if len(values) == 0:
        return best, np.zeros(len(lengths), dtype=bool)
    width = int(lengths.max())
    table = np.full((len(lengths), width), -1.0)
    search = np.repeat(np.arange(len(lengths)), lengths)
    table[search, np.arange(len(values)) - (ends - lengths)[search]] = values
    column = np.argmax(table, axis=1)
    positive = table[np.arange(len(lengths)), column] > 0  # an empty segment's row is all -1
    return np.where(lengths > 0, ends - lengths + column, 0), positive
