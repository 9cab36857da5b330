"""Recruitment in offline meeting places: members sound out people they meet at venues,
above all in offender convergence settings."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.crime.roles import sample_roles
from sim.recruitment.attempts import resolve
from sim.recruitment.base import RecruitmentRule, RuleParams
from sim.recruitment.registry import register
from sim.sampling import first_occurrence
from sim.scenario.params import prob
from sim.vocabulary import NO_NETWORK


class OfflineVenuesParams(RuleParams):
    approach_prob: float = prob(0.05, "chance that a member who meets a non-member at a venue sounds them out")
    convergence_multiplier: float = Field(5.0, ge=0, description="how much likelier an approach is in an offender convergence setting")
    accept_base: float = prob(0.4, "acceptance probability of a fully motivated, fitting candidate met at a venue")
    stranger_trust: float = prob(0.2, "trust between people who met at a venue and have no tie")


@register("offline_venues")
class OfflineVenuesRule(RecruitmentRule):
    Params = OfflineVenuesParams
    medium = "offline"

    def step(self) -> None:
        m, p = self.model, self.params
        met = m.offline_meetings
        # both directions of every meeting: (member, other) pairs
        member = np.concatenate([met.a, met.b])
        other = np.concatenate([met.b, met.a])
        venue_type = np.concatenate([met.venue_type, met.venue_type])
        convergence = np.concatenate([met.convergence, met.convergence])
        net = m.pop.network[member]
        ok = (net != NO_NETWORK) & m.available[other]
        member, other, venue_type, convergence, net = member[ok], other[ok], venue_type[ok], convergence[ok], net[ok]
        chance = p.approach_prob * np.where(convergence, p.convergence_multiplier, 1.0) * m.demand_intensity[net]
        go = self.rng.random(len(member)) < np.minimum(chance, 1.0)
        member, other, venue_type, net = member[go], other[go], venue_type[go], net[go]
        keep = first_occurrence(other, self.rng)  # one approach per person per step
        member, other, venue_type, net = member[keep], other[keep], venue_type[keep], net[keep]
        if len(other) == 0:
            return
        roles = sample_roles(m.demand_weights[net], self.rng)
        tie = m.ties.strength_between(member, other, m.venues.layer_codes()[venue_type], m.step_now)
        trust = np.maximum(tie, p.stranger_trust)
        resolve(self, net, other, roles, trust)
