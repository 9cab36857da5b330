"""Recruitment in offline meeting places: members sound out people they meet at venues,
above all in offender convergence settings."""

from __future__ import annotations

from pydantic import Field

from sim.recruitment.base import RecruitmentRule, RuleParams
from sim.recruitment.registry import register
from sim.scenario.params import prob


class OfflineVenuesParams(RuleParams):
    approach_prob: float = prob(0.03, "chance that a member who meets a non-member at a venue sounds them out")
    convergence_multiplier: float = Field(5.0, ge=0, description="how much likelier an approach is in an offender convergence setting")
    accept_base: float = prob(0.3, "acceptance probability of a fully motivated, fitting candidate met at a venue")


@register("offline_venues")
class OfflineVenuesRule(RecruitmentRule):
    Params = OfflineVenuesParams
    medium = "offline"
