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

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from sim import sorted_sets
from sim.crime.roles import fit, motivation, role_draws, sample_roles
from sim.recruitment.attempts import resolve
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
        members = pop.members()
        contacts = m.ties.incident(members[np.isin(pop.network[members], nets)], market.step, ONLINE_LAYERS)
        pools: dict[tuple[int, ...], tuple] = {}  # searches of the same spaces screen the same pool
        role_codes = [[c for c in codes if online.spaces[c].kind in p.role_spaces.get(r, [])] for r in ROLES]
        order = draws.ranks(m.networks.draw_keys(nets), "order")  # no network gets first pick by age
        for net, count in zip(nets[order], searches[order]):
            key = m.networks.draw_keys(net)
            for search in range(int(count)):
                # the role first: it decides where to look
                role = int(sample_roles(weights[net][None, :], role_draws(draws, [key], f"role:{search}"))[0])
                here = tuple(role_codes[role])
                if not here:
                    continue  # no space of the kinds searched for the role is open and in use
                if here not in pools:
                    pools[here] = self._pool(here, draws)
                self._search(market, draws, int(net), search, role, pools[here], contacts)

    def _expected_searches(self, market: RecruitmentMarket, nets: np.ndarray) -> np.ndarray:
        """Mean searches this step of networks with a member online now.

        A network searches `search_rate` x intensity times a year, during its members' visits: so
        in a step with a member online it searches rate x dt / P(a member is online in a step),
        where members visit recruiting spaces R times a year in all. Yearly searches then do not
        depend on the step length (with weekly steps and busy members the divisor is about 1).
        """
        m, pop = self.model, self.model.pop
        members = pop.members()
        members = members[pop.free()[members]]
        visits = np.bincount(pop.network[members], weights=m.online.yearly_visits(self._searched_kinds())[members],
                             minlength=len(market.intensity))[nets]
        online_share = np.maximum(m.clock.prob(visits), 1e-12)
        return m.clock.expected(self.params.search_rate * market.intensity[nets]) / online_share

    def _searched_kinds(self) -> tuple[str, ...]:
        return tuple(sorted({k for kinds in self.params.role_spaces.values() for k in kinds}))

    def _search(self, market, draws, net, search, role, pool, contacts) -> None:
        """One network screens a sample of the active users of the spaces searched for the role
        where its members are (`pool`: users, base trust, space codes and the step's circle of
        them) and approaches the best fit (trust x fit x motivation)."""
        m, p, pop = self.model, self.params, self.model.pop
        users, trust, where, circle = pool
        # screen the first available users from a keyed point of the step's circle of the pool: a
        # search costs the users it screens, and a user's chance does not hinge on the others' draws
        key = m.networks.draw_keys(net)
        start = draws.uniform([key], f"screen:{search}")[0]
        pick = circle.sample(start, p.candidates_per_search, lambda idx: market.available[users[idx]])
        if len(pick) == 0:
            return
        pool, where = users[pick], where[pick]
        trust_factor, infiltration = self._as_perceived(key, where)
        trust = trust[pick] * trust_factor
        mine = pop.network[contacts.ego] == net
        trust = np.maximum(trust, _strongest_tie(pool, contacts.alter[mine], contacts.strength[mine]))
        role = np.full(len(pool), role)
        enabler_fits = m.business.enabler_fits[np.full(len(pool), m.networks.business_model[net])]
        score = trust * fit(pop, pool, role, enabler_fits) * motivation(pop, pool, role, m.config.recruitment.acceptance)
        if role[0] == ROLE["core"]:  # only someone trusted enough could join the core
            score = np.where(trust >= m.config.recruitment.acceptance.min_core_trust, score, 0.0)
        best = int(np.argmax(score))
        if score[best] <= 0:
            return  # nobody here the network would approach for this role
        accepted = resolve(self, market, draws, [net], pool[best:best + 1], role[:1], trust[best:best + 1], attempt=search)
        # on an infiltrated space the recruit may be an informant: enforcement makes the network easier to detect
        if accepted[0] and draws.uniform([key], f"informant:{search}")[0] < infiltration[best]:
            market.informants.append((net, p.informant_detection))

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

    def _as_perceived(self, network_key: int, where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For contacts met in the spaces `where`: the trust factor the network applies (its
        perceived share of each space's trust cut) and the spaces' true infiltration."""
        spaces = self.model.online.spaces
        cut = np.array([1.0 - s.trust_factor for s in spaces])
        infiltration = np.array([s.infiltration for s in spaces])
        codes = np.arange(len(spaces))
        # a network's judgement of a space is its own and lasts: keyed by (network, space), not by step
        perceived = np.minimum(1.0, 2.0 * self.params.infiltration_perceived * self.random.uniform(0, codes, "perceived", with_units=network_key))
        return (1.0 - cut * perceived)[where], infiltration[where]


def _strongest_tie(users: np.ndarray, alter: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """For each user, the strongest of the ties (alter, strength) to them; 0 if none."""
    distinct = sorted_sets.unique(users)
    at = np.minimum(np.searchsorted(distinct, alter), len(distinct) - 1)
    hit = distinct[at] == alter
    known = np.zeros(len(distinct))
    np.maximum.at(known, at[hit], strength[hit])
    return known[np.searchsorted(distinct, users)]
