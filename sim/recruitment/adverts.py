"""Recruitment by adverts on social media and chat channels, mostly for money mules, targeted
at young people (Bekkers, Leukfeldt & Kleemans 2024)."""

from __future__ import annotations

from pydantic import Field

from sim.recruitment.base import RecruitmentRule, RuleParams
from sim.recruitment.registry import register
from sim.scenario.params import AgeBand, prob, rate


class AdvertsParams(RuleParams):
    advert_rate: float = rate(12.0, "adverts posted by a network that lacks money mules")
    reach: int = Field(40, ge=1, le=1_000_000, description="social-media or chat users in the target ages who see one advert")
    target_age: AgeBand = Field(default_factory=lambda: AgeBand(min=16, max=30), description="ages the adverts target")
    trust: float = prob(0.3, "trust in an advert's promise (lower than in a personal tie)")
    accept_base: float = prob(0.25, "acceptance probability of a fully motivated, fitting reader")


@register("adverts")
class AdvertsRule(RecruitmentRule):
    Params = AdvertsParams
    medium = "online"
