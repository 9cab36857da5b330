"""Recruitment on forums and markets: networks look for the skills they lack (technical enablers,
cash-out) among active users; gated forums vet users and so carry more trust
(Leukfeldt, Kleemans & Stol 2017; Bijlenga & Kleemans 2018). A recruit found on an infiltrated
space may be an informant, which raises the network's detection hazard."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from sim import sorted_sets
from sim.crime.roles import fit, motivation, role_draws, sample_roles
from sim.places.online_spaces import RECRUITING_KINDS
from sim.recruitment.attempts import resolve
from sim.recruitment.base import RecruitmentRule, RuleParams
from sim.recruitment.registry import register
from sim.sampling import smallest
from sim.scenario.params import NonNegative, prob, rate
from sim.vocabulary import NO_NETWORK, ONLINE_LAYERS, ROLE, ROLES, RoleName

if TYPE_CHECKING:
    from sim.recruitment.market import RecruitmentMarket


class ForumsParams(RuleParams):
    search_rate: float = rate(12.0, "searches by a recruiting network (times its recruitment intensity) with a member active online")
    candidates_per_search: int = Field(20, ge=1, le=10_000, description="active users screened per search; the best-fitting one is approached")
    trust_open: float = prob(0.5, "trust in a contact met on an open forum, market or chat channel")
    trust_gated: float = prob(0.8, "trust in a contact met on a gated (vetted) forum")
    accept_base: float = prob(0.6, "acceptance probability of a fully motivated, fitting candidate met on a forum")
    informant_detection: float = rate(2.0, "added detection hazard of a network that recruited an informant on an infiltrated space")
    role_weights: dict[RoleName, NonNegative] = Field(
        default_factory=lambda: {"core": 0.3, "technical_enabler": 1.0, "recruiter": 0.3, "money_mule": 1.0},
        description="how much networks use forums for each role: mostly enablers and mules (Leukfeldt et al. 2017)",
    )


@register("forums")
class ForumsRule(RecruitmentRule):
    Params = ForumsParams
    medium = "online"

    def step(self, market: RecruitmentMarket) -> None:
        m, p = self.model, self.params
        pop, online = m.pop, m.online
        draws = self.random.at(market.step)
        codes = [c for c in online.codes_of(RECRUITING_KINDS) if len(online.active[c])]
        if not codes:
            return
        role_pref = np.array([p.role_weights.get(r, 0.0) for r in ROLES])
        weights = market.role_weights * role_pref
        # networks with a member online now and a role they would fill here
        active_members = sorted_sets.unique(np.concatenate([online.active[c] for c in codes]))
        active_members = active_members[pop.network[active_members] != NO_NETWORK]
        nets = sorted_sets.unique(pop.network[active_members])
        nets = nets[weights[nets].sum(axis=1) > 0]
        searches = draws.poisson(m.networks.draw_keys(nets), self._expected_searches(market, nets), "searches")
        nets, searches = nets[searches > 0], searches[searches > 0]
        if len(nets) == 0:
            return
        # online contacts of the searching networks' members (trust through a known contact)
        members = pop.members()
        contacts = m.ties.incident(members[np.isin(pop.network[members], nets)], market.step, ONLINE_LAYERS)
        # the networks with a member active in each space (who is active does not change during the step)
        present = {c: sorted_sets.unique(pop.network[online.active[c]]) for c in codes}
        pools: dict[tuple[int, ...], tuple] = {}  # networks present in the same spaces screen the same pool
        for net, count in zip(nets, searches):
            here = tuple(c for c in codes if _contains(present[c], net))
            if not here:
                continue
            if here not in pools:
                pools[here] = self._pool(here)
            for search in range(int(count)):
                self._search(market, draws, int(net), search, pools[here], weights[net], contacts)

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
        visits = np.bincount(pop.network[members], weights=m.online.yearly_visits(RECRUITING_KINDS)[members],
                             minlength=len(market.intensity))[nets]
        online_share = np.maximum(m.clock.prob(visits), 1e-12)
        return m.clock.expected(self.params.search_rate * market.intensity[nets]) / online_share

    def _search(self, market, draws, net, search, pool, weights, contacts) -> None:
        """One network screens a sample of the active users of the spaces where its members are
        (`pool`: users, trust, infiltration) and approaches the best."""
        m, p, pop = self.model, self.params, self.model.pop
        users, trust, infiltration = pool
        ok = np.flatnonzero(market.available[users])
        if len(ok) == 0:
            return
        # screen the users with the smallest keyed numbers: a user's chance does not hinge on the others' draws
        key = m.networks.draw_keys(net)
        pick = ok[smallest(draws.uniform(users[ok], f"screen:{search}", with_units=key), p.candidates_per_search)]
        pool, trust, infiltration = users[pick], trust[pick], infiltration[pick]
        mine = pop.network[contacts.ego] == net
        trust = np.maximum(trust, _strongest_tie(pool, contacts.alter[mine], contacts.strength[mine]))
        role = sample_roles(weights[None, :], role_draws(draws, [key], f"role:{search}")).repeat(len(pool))
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

    def _pool(self, codes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Active users of the spaces `codes` (in that order), their trust and the spaces' infiltration."""
        p, online = self.params, self.model.online
        pool, trust, infiltration = [], [], []
        for c in codes:
            users, space = online.active[c], online.spaces[c]
            pool.append(users)
            base = p.trust_gated if space.kind == "gated_forum" else p.trust_open
            trust.append(np.full(len(users), base * space.trust_factor))
            infiltration.append(np.full(len(users), space.infiltration))
        return np.concatenate(pool), np.concatenate(trust), np.concatenate(infiltration)


def _contains(sorted_values: np.ndarray, value) -> bool:
    i = np.searchsorted(sorted_values, value)
    return bool(i < len(sorted_values) and sorted_values[i] == value)


def _strongest_tie(users: np.ndarray, alter: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """For each user, the strongest of the ties (alter, strength) to them; 0 if none."""
    distinct = sorted_sets.unique(users)
    at = np.minimum(np.searchsorted(distinct, alter), len(distinct) - 1)
    hit = distinct[at] == alter
    known = np.zeros(len(distinct))
    np.maximum.at(known, at[hit], strength[hit])
    return known[np.searchsorted(distinct, users)]
