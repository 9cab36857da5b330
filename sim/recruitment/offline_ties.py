"""Recruitment through offline ties: members approach family, friends, classmates, colleagues
and neighbours (Kleemans & de Poot 2008; Leukfeldt, Kleemans & Stol 2017).

A member looking for a core member approaches only contacts trusted enough for core
(`recruitment.acceptance.min_core_trust`), as the other rules do: a weaker tie would be a
certain refusal. The recruit is tied to the member who approached them (co_offending)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from sim.crime.roles import role_draws, sample_roles, scaled_promise
from sim.recruitment.attempts import resolve
from sim.recruitment.base import RecruitmentRule, RuleParams
from sim.recruitment.registry import register
from sim.sampling import one_per_group
from sim.scenario.params import NonNegative, prob, rate
from sim.vocabulary import LAYERS, OFFLINE_LAYERS, ROLE

if TYPE_CHECKING:
    from sim.recruitment.market import RecruitmentMarket
    from sim.rng import StepRandom
    from sim.ties import Incident


class OfflineTiesParams(RuleParams):
    attempt_rate: float = rate(12.0, "approaches by one recruiting member (core or recruiter) through an offline tie")
    recruiter_boost: float = Field(3.0, ge=0, description="how many times more often a recruiter approaches than a core member")
    layer_weights: dict[Literal["family", "school_work", "friend", "neighbourhood"], NonNegative] = Field(
        default_factory=lambda: {"family": 1.0, "school_work": 0.6, "friend": 1.0, "neighbourhood": 0.4},
        description="relative chance that an approach goes through a tie of this offline layer (assumption)",
    )
    accept_base: float = prob(0.8, "acceptance probability of a fully motivated, fitting candidate through a maximally strong tie")


@register("offline_ties")
class OfflineTiesRule(RecruitmentRule):
    Params = OfflineTiesParams
    medium = "offline"

    def step(self, market: RecruitmentMarket) -> None:
        m, p, pop = self.model, self.params, self.model.pop
        draws = self.random.at(market.step)
        members = m.membership.members()
        approachers = members[(pop.role[members] == ROLE["core"]) | (pop.role[members] == ROLE["recruiter"])]
        boost = np.where(pop.role[approachers] == ROLE["recruiter"], p.recruiter_boost, 1.0)
        # approaches are repeatable: a Poisson number per step, so yearly counts do not depend on the step length
        expected = m.clock.expected(p.attempt_rate * boost * market.intensity[pop.network[approachers]])
        count = draws.poisson(approachers, expected, "approaches")
        if not count.any():
            return
        # looked up once: no tie changes during recruitment (recruits' ties are made when it ends)
        ties = m.ties.incident(approachers[count > 0], market.step, OFFLINE_LAYERS)
        count_of_ego = count[np.searchsorted(approachers, ties.ego)]  # (members, and so approachers, are sorted slots)
        for attempt in range(int(count.max())):
            self._approach(market, draws, approachers[count > attempt], ties.take(count_of_ego > attempt), attempt)

    def _approach(self, market: RecruitmentMarket, draws: StepRandom, approachers: np.ndarray, ties: Incident, attempt: int) -> None:
        """Each approacher decides which role to fill, then picks a contact (of `ties`, their
        offline ties), the promising ones likelier."""
        m, p, pop = self.model, self.params, self.model.pop
        role_of = np.full(pop.size, -1, dtype=np.int64)
        role_of[approachers] = sample_roles(market.role_weights[pop.network[approachers]],
                                            role_draws(draws, approachers, f"role:{attempt}"))
        ego, alter, strength = ties.ego, ties.alter, ties.strength
        roles = role_of[ego]
        layer_weight = np.array([p.layer_weights.get(name, 0.0) for name in LAYERS])[ties.layer]
        enabler_fits = m.business.enabler_fits[m.networks.business_model[pop.network[ego]]]
        promise = scaled_promise(pop, alter, roles, enabler_fits, m.config.recruitment.acceptance, 1.0)
        trusted_enough = (roles != ROLE["core"]) | (strength >= m.config.recruitment.acceptance.min_core_trust)
        weight = layer_weight * strength * promise * market.available[alter] * trusted_enough
        pick = one_per_group(ego, weight, draws.uniform(ego, f"contact:{attempt}", with_units=alter))
        resolve(self, market, draws, pop.network[ego[pick]], alter[pick], roles[pick], strength[pick], attempt=attempt,
                recruiters=ego[pick])
