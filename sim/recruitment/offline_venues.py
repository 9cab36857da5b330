"""Recruitment in offline meeting places: members sound out people they meet at venues,
above all in offender convergence settings. The recruit is tied to the member they met
(co_offending)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from sim import compiled
from sim.crime.roles import role_draws, sample_roles
from sim.recruitment.attempts import resolve
from sim.recruitment.base import RecruitmentRule, RuleParams
from sim.recruitment.registry import register
from sim.sampling import occurrence_number
from sim.scenario.params import prob
from sim.vocabulary import NO_NETWORK

if TYPE_CHECKING:
    from sim.recruitment.market import RecruitmentMarket


class OfflineVenuesParams(RuleParams):
    approach_prob: float = prob(0.05, "chance that a member who meets a non-member at a venue sounds them out")
    convergence_multiplier: float = Field(5.0, ge=0, description="how much likelier an approach is in an offender convergence setting")
    accept_base: float = prob(0.4, "acceptance probability of a fully motivated, fitting candidate met at a venue")
    stranger_trust: float = prob(0.2, "trust between people who met at a venue and have no tie")


@register("offline_venues")
class OfflineVenuesRule(RecruitmentRule):
    Params = OfflineVenuesParams
    medium = "offline"

    def step(self, market: RecruitmentMarket) -> None:
        m, p = self.model, self.params
        draws = self.random.at(market.step)
        met = market.meetings
        # both directions of every meeting: (member, other) pairs, a member met by someone available
        # (found per direction first: members are rare, so the pairs are few)
        forward, backward = members_meeting_available(met.a, met.b, m.pop.network, market.available)
        member = np.concatenate([met.a[forward], met.b[backward]])
        other = np.concatenate([met.b[forward], met.a[backward]])
        venue_type = np.concatenate([met.venue_type[forward], met.venue_type[backward]])
        convergence = np.concatenate([met.convergence[forward], met.convergence[backward]])
        net = m.pop.network[member]
        # one chance per meeting: meetings themselves already scale with the step length
        chance = p.approach_prob * np.where(convergence, p.convergence_multiplier, 1.0) * market.intensity[net]
        go = draws.uniform(member, "approach", with_units=other) < np.minimum(chance, 1.0)
        member, other, venue_type, net = member[go], other[go], venue_type[go], net[go]
        # a person sounded out by several members is asked by one after the other (in a keyed order)
        # until they join: so yearly approaches do not depend on how many meetings one step holds
        nth = occurrence_number(other, draws.uniform(other, "turn", with_units=member))
        if len(other) == 0:
            return
        roles = sample_roles(market.role_weights[net], role_draws(draws, other, "role", with_units=member))
        tie = m.ties.strength_between(member, other, m.venues.layer_codes()[venue_type], market.step)
        trust = np.maximum(tie, p.stranger_trust)
        for attempt in range(int(nth.max()) + 1):
            turn = (nth == attempt) & market.available[other]
            resolve(self, market, draws, net[turn], other[turn], roles[turn], trust[turn], attempt=attempt,
                    recruiters=member[turn])


def members_meeting_available(a: np.ndarray, b: np.ndarray, network: np.ndarray, available: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The meetings (a[i], b[i]) in which a is a network member and b is available (forward),
    and those in which b is a member and a available (backward), in order."""
    if compiled.enabled():
        return _members_meeting_available_kernel(a, b, network, available)
    forward = np.flatnonzero((network[a] != NO_NETWORK) & available[b])
    backward = np.flatnonzero((network[b] != NO_NETWORK) & available[a])
    return forward, backward


@compiled.kernel
def _members_meeting_available_kernel(a, b, network, available):
    # one pass over the meetings, no temporaries of their length (a million persons' 2.6 million
    # meetings: 30-40 ms by the numpy twin's eight passes); members are rare, so the second
    # look-up is rarely made
    forward, backward = np.empty(len(a), dtype=np.int64), np.empty(len(a), dtype=np.int64)
    n_forward = n_backward = 0
    for i in range(len(a)):
        if network[a[i]] != NO_NETWORK and available[b[i]]:
            forward[n_forward] = i
            n_forward += 1
        if network[b[i]] != NO_NETWORK and available[a[i]]:
            backward[n_backward] = i
            n_backward += 1
    return forward[:n_forward].copy(), backward[:n_backward].copy()
