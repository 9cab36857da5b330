"""Recruitment through offline ties: members approach family, friends, classmates, colleagues
and neighbours (Kleemans & de Poot 2008; Leukfeldt, Kleemans & Stol 2017)."""

from __future__ import annotations

from pydantic import Field

from sim.recruitment.base import RecruitmentRule, RuleParams
from sim.recruitment.registry import register
from sim.scenario.params import NonNegative, prob, rate


class OfflineTiesParams(RuleParams):
    attempt_rate: float = rate(4.0, "approaches by one recruiting member (core or recruiter) through an offline tie")
    recruiter_boost: float = Field(3.0, ge=0, description="how many times more often a recruiter approaches than a core member")
    layer_weights: dict[str, NonNegative] = Field(
        default_factory=lambda: {"family": 1.0, "school_work": 0.6, "friend": 1.0, "neighbourhood": 0.4},
        description="relative chance that an approach goes through a tie of this offline layer (assumption)",
    )
    accept_base: float = prob(0.6, "acceptance probability of a fully motivated, fitting candidate through a maximally strong tie")


@register("offline_ties")
class OfflineTiesRule(RecruitmentRule):
    Params = OfflineTiesParams
    medium = "offline"
