"""Recruitment on forums and markets: networks look for the skills they lack (technical enablers,
cash-out) among active users; gated forums vet users and so carry more trust
(Leukfeldt, Kleemans & Stol 2017; Bijlenga & Kleemans 2018)."""

from __future__ import annotations

from pydantic import Field

from sim.recruitment.base import RecruitmentRule, RuleParams
from sim.recruitment.registry import register
from sim.scenario.params import prob, rate


class ForumsParams(RuleParams):
    search_rate: float = rate(12.0, "searches by a network with an unfilled technical or money role and a member active online")
    candidates_per_search: int = Field(20, ge=1, le=10_000, description="active users screened per search; the best-fitting one is approached")
    trust_open: float = prob(0.35, "trust in a contact met on an open forum, market or chat channel")
    trust_gated: float = prob(0.8, "trust in a contact met on a gated (vetted) forum")
    accept_base: float = prob(0.5, "acceptance probability of a fully motivated, fitting candidate met on a forum")


@register("forums")
class ForumsRule(RecruitmentRule):
    Params = ForumsParams
    medium = "online"
