"""Money-mule (or scam) awareness campaign: young people in an age band who are reached become
less willing to act as money mules; the effect of each wave fades with its own half-life. Widely used, no outcome evaluations yet
([evidence §4](evidence.md#4-interventions-and-what-is-known-of-their-effects)): the effect size is a parameter to vary, not a finding."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from sim.interventions.base import Intervention, InterventionParams
from sim.interventions.registry import register
from sim.scenario.params import AgeBand, prob


class AwarenessCampaignParams(InterventionParams):
    type: Literal["awareness_campaign"] = Field(description="a money-mule awareness campaign")
    age: AgeBand = Field(default_factory=lambda: AgeBand(min=16, max=30), description="ages the campaign targets")
    reach: float = prob(0.3, "share of persons in the age band reached by one campaign wave (assumption)")
    effect: float = prob(0.5, "relative drop in a reached person's willingness to act as a money mule (no evaluation exists: vary it)")
    half_life_years: float = Field(1.0, gt=0, le=100, description="time for the effect to halve [years] (assumption)")


@register("awareness_campaign")
class AwarenessCampaign(Intervention):
    Params = AwarenessCampaignParams

    def act(self) -> None:
        pop, p = self.model.pop, self.params
        in_band = np.flatnonzero((pop.age >= p.age.min) & (pop.age < p.age.max))
        reached = in_band[self.draws.bernoulli(self.now, in_band, p.reach, draw="reach")]
        # each wave fades with its own half-life, whatever later campaigns do
        self.model.effects.add_to_persons("mule_awareness", self.label, reached, p.effect, p.half_life_years, self.now)
        self.model.recorder.tally["persons_reached"] += len(reached)
