"""Self-selection: motivated people who know of a network (through a tie to a member or an
online space they share with one) approach it unasked (Bekkers, Leukfeldt & Kleemans 2024)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.crime.roles import fit
from sim.places.online_spaces import RECRUITING_KINDS
from sim.recruitment.attempts import resolve
from sim.recruitment.base import RecruitmentRule, RuleParams
from sim.recruitment.registry import register
from sim.sampling import first_occurrence
from sim.scenario.params import prob, rate
from sim.vocabulary import MEDIUM, NO_NETWORK, OFFLINE_LAYERS, ROLE, ROLES

if TYPE_CHECKING:
    from sim.recruitment.market import RecruitmentMarket


class SelfSelectionParams(RuleParams):
    approach_rate: float = rate(0.2, "approaches by a motivated person who is aware of at least one recruiting network")
    min_propensity: float = prob(0.45, "least criminal propensity of a person who approaches a network")
    accept_base: float = prob(0.7, "chance that a network with an open role takes a fitting volunteer")
    online_trust: float = prob(0.4, "trust a network puts in a volunteer who found it online (offline: the tie's strength)")


@register("self_selection")
class SelfSelectionRule(RecruitmentRule):
    Params = SelfSelectionParams
    medium = "offline"  # per approach in step(): online when awareness came from an online space

    def step(self, market: RecruitmentMarket) -> None:
        m, p, pop = self.model, self.params, self.model.pop
        draws = self.random.at(market.step)
        members = pop.members()
        members = members[market.intensity[pop.network[members]] > 0]
        if len(members) == 0:
            return
        person, net, trust, medium = self._routes(market, draws, members)
        # each motivated person, however many routes they know a network by, approaches at one rate
        keep = first_occurrence(person, draws.uniform(person, "route", with_units=net))
        person, net, trust, medium = person[keep], net[keep], trust[keep], medium[keep]
        # approaches are repeatable (a Poisson number per step); a warned person (cease-and-desist) makes fewer
        expected = m.clock.expected(p.approach_rate) * (1.0 - pop.deterrence[person])
        count = draws.poisson(person, expected, "approaches")
        roles = self._best_open_role(market, person, net, trust)
        offer = (roles >= 0) & (count > 0)  # no role the network would trust this volunteer with: no approach
        person, net, trust, medium, roles, count = (x[offer] for x in (person, net, trust, medium, roles, count))
        for attempt in range(int(count.max(initial=0))):
            again = (count > attempt) & market.available[person]
            resolve(self, market, draws, net[again], person[again], roles[again], trust[again], medium[again],
                    volunteer=True, attempt=attempt)

    def _routes(self, market: RecruitmentMarket, draws, members: np.ndarray):
        """(person, network, trust, medium) of every way a motivated person knows of a recruiting network."""
        m, p, pop = self.model, self.params, self.model.pop
        motivated = market.available & (pop.propensity >= p.min_propensity)
        person, net, trust, medium = [], [], [], []
        # aware through an offline tie to a member
        ties = m.ties.incident(members, market.step, OFFLINE_LAYERS)
        ok = motivated[ties.alter]
        person.append(ties.alter[ok])
        net.append(pop.network[ties.ego[ok]])
        trust.append(ties.strength[ok])
        medium.append(np.full(ok.sum(), MEDIUM["offline"]))
        # aware through an online space where a member is active now
        for code in m.online.codes_of(RECRUITING_KINDS):
            users = m.online.active[code]
            present = users[pop.network[users] != NO_NETWORK]
            present = present[market.intensity[pop.network[present]] > 0]
            seekers = users[motivated[users]]
            if len(present) == 0 or len(seekers) == 0:
                continue
            seen = np.minimum((draws.uniform(seekers, f"noticed:{code}") * len(present)).astype(np.int64), len(present) - 1)
            person.append(seekers)
            net.append(pop.network[present[seen]])
            trust.append(np.full(len(seekers), p.online_trust))
            medium.append(np.full(len(seekers), MEDIUM["online"]))
        return tuple(np.concatenate(x) for x in (person, net, trust, medium))

    def _best_open_role(self, market: RecruitmentMarket, person: np.ndarray, net: np.ndarray, trust: np.ndarray) -> np.ndarray:
        """The open role of the network that the volunteer fits best (core only if trusted enough)."""
        m = self.model
        enabler_fits = m.business.enabler_fits[m.networks.business_model[net]]
        scores = np.stack([fit(m.pop, person, np.full(len(person), r), enabler_fits) for r in range(len(ROLES))], axis=1)
        scores = np.where(market.role_weights[net] > 0, scores, -1.0)
        untrusted = trust < m.params.recruitment.acceptance.min_core_trust
        scores[untrusted, ROLE["core"]] = -1.0
        best = np.argmax(scores, axis=1)
        return np.where(scores[np.arange(len(best)), best] >= 0, best, -1)
