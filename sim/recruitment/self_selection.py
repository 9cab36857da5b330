"""Self-selection: motivated people who know of a network (through a tie to a member or an
online space they share with one) approach it unasked (Bekkers, Leukfeldt & Kleemans 2024)."""

from __future__ import annotations

from sim.recruitment.base import RecruitmentRule, RuleParams
from sim.recruitment.registry import register
from sim.scenario.params import prob, rate


class SelfSelectionParams(RuleParams):
    approach_rate: float = rate(0.3, "approaches by a motivated person who is aware of a network")
    min_propensity: float = prob(0.45, "least criminal propensity of a person who approaches a network")
    accept_base: float = prob(0.7, "chance that a network with an open role takes a fitting volunteer")


@register("self_selection")
class SelfSelectionRule(RecruitmentRule):
    Params = SelfSelectionParams
    medium = "offline"  # set per approach: online when awareness came from an online space
