"""Self-selection: motivated people who know of a network (through a tie to a member or an
online space they share with one) approach it unasked (Bekkers, Leukfeldt & Kleemans 2024)."""

from __future__ import annotations

import numpy as np

from sim.crime.roles import fit
from sim.places.online_spaces import RECRUITING_KINDS
from sim.recruitment.attempts import resolve
from sim.recruitment.base import RecruitmentRule, RuleParams
from sim.recruitment.registry import register
from sim.sampling import first_occurrence
from sim.scenario.params import prob, rate
from sim.vocabulary import MEDIUM, NO_NETWORK, OFFLINE_LAYERS, ROLE, ROLES


class SelfSelectionParams(RuleParams):
    approach_rate: float = rate(0.2, "approaches by a motivated person who is aware of at least one recruiting network")
    min_propensity: float = prob(0.45, "least criminal propensity of a person who approaches a network")
    accept_base: float = prob(0.7, "chance that a network with an open role takes a fitting volunteer")
    online_trust: float = prob(0.4, "trust a network puts in a volunteer who found it online (offline: the tie's strength)")


@register("self_selection")
class SelfSelectionRule(RecruitmentRule):
    Params = SelfSelectionParams
    medium = "offline"  # per approach in step(): online when awareness came from an online space

    def step(self) -> None:
        m, p, pop = self.model, self.params, self.model.pop
        members = pop.members()
        members = members[m.demand_intensity[pop.network[members]] > 0]
        if len(members) == 0:
            return
        motivated = m.available & (pop.propensity >= p.min_propensity)
        person, net, trust, medium = [], [], [], []
        # aware through an offline tie to a member
        ties = m.ties.incident(members, m.step_now, OFFLINE_LAYERS)
        ok = motivated[ties.alter]
        person.append(ties.alter[ok])
        net.append(pop.network[ties.ego[ok]])
        trust.append(ties.strength[ok])
        medium.append(np.full(ok.sum(), MEDIUM["offline"]))
        # aware through an online space where a member is active now
        for code in m.online.codes_of(RECRUITING_KINDS):
            users = m.online.active[code]
            present = users[pop.network[users] != NO_NETWORK]
            present = present[m.demand_intensity[pop.network[present]] > 0]
            seekers = users[motivated[users]]
            if len(present) == 0 or len(seekers) == 0:
                continue
            person.append(seekers)
            net.append(pop.network[self.rng.choice(present, size=len(seekers))])
            trust.append(np.full(len(seekers), p.online_trust))
            medium.append(np.full(len(seekers), MEDIUM["online"]))
        person, net, trust, medium = (np.concatenate(x) for x in (person, net, trust, medium))
        # each motivated person, however many routes they know a network by, approaches at one rate
        keep = first_occurrence(person, self.rng)
        person, net, trust, medium = person[keep], net[keep], trust[keep], medium[keep]
        # a warned person (cease-and-desist) is less likely to seek a network out
        go = self.rng.random(len(person)) < m.clock.prob(p.approach_rate) * (1.0 - pop.deterrence[person])
        person, net, trust, medium = person[go], net[go], trust[go], medium[go]
        roles = self._best_open_role(person, net, trust)
        offer = roles >= 0  # no role the network would trust this volunteer with: no approach
        resolve(self, net[offer], person[offer], roles[offer], trust[offer], medium[offer], volunteer=True)

    def _best_open_role(self, person: np.ndarray, net: np.ndarray, trust: np.ndarray) -> np.ndarray:
        """The open role of the network that the volunteer fits best (core only if trusted enough)."""
        m = self.model
        enabler_fits = m.business.enabler_fits[m.networks.business_model[net]]
        scores = np.stack([fit(m.pop, person, np.full(len(person), r), enabler_fits) for r in range(len(ROLES))], axis=1)
        scores = np.where(m.demand_weights[net] > 0, scores, -1.0)
        untrusted = trust < m.params.recruitment.acceptance.min_core_trust
        scores[untrusted, ROLE["core"]] = -1.0
        best = np.argmax(scores, axis=1)
        return np.where(scores[np.arange(len(best)), best] >= 0, best, -1)
