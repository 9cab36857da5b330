"""Diversion programme (Hack_Right in the Netherlands, Cyber Choices in the UK): young offenders
caught early are diverted instead of serving their full sentence; their propensity drops and some
take up legal IT work. Widely used, no outcome evaluations yet ([evidence §4](evidence.md#4-interventions-and-what-is-known-of-their-effects))."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from sim.interventions.base import Intervention, InterventionParams
from sim.interventions.registry import register
from sim.crime import enforcement
from sim.population import STUDENT
from sim.scenario.params import prob

WORKING_AGE = 16.0  # younger diverted persons, and students, stay in school


class DiversionProgrammeParams(InterventionParams):
    type: Literal["diversion_programme"] = Field(description="divert young first offenders")
    max_age: float = Field(25.0, gt=0, le=120, description="offenders younger than this are eligible [years]")
    first_arrest_only: bool = Field(True, description="only offenders arrested for the first time are eligible")
    uptake: float = prob(0.6, "share of eligible arrested persons who are diverted (assumption)")
    sentence_factor: float = prob(0.1, "diverted persons are away for this share of the sentence (assumption)")
    propensity_reduction: float = prob(0.5, "relative drop in a diverted person's propensity (no evaluation exists: vary it)")
    legal_work: float = prob(0.3, "chance that a diverted person of working age (16+) not in education takes up legal work (status worker) (assumption)")


@register("diversion_programme")
class DiversionProgramme(Intervention):
    Params = DiversionProgrammeParams

    def begin(self) -> None:
        # told of every arrest while in force; `end` (the base class) withdraws it from the registry
        self.model.effects.listen_to_arrests(self.label, self.on_arrest)

    def on_arrest(self, slots: np.ndarray) -> None:
        m, p, pop = self.model, self.params, self.model.pop
        eligible = slots[pop.age[slots] < p.max_age]
        if p.first_arrest_only:
            eligible = eligible[pop.arrest_count[eligible] == 1]
        diverted = eligible[self.draws.bernoulli(m.step_now, eligible, p.uptake, draw="uptake")]
        enforcement.shorten_sentences(m, diverted, p.sentence_factor)
        pop.lower_propensity(diverted, 1.0 - p.propensity_reduction)
        working_age = diverted[(pop.age[diverted] >= WORKING_AGE) & (pop.status[diverted] != STUDENT)]
        to_work = working_age[self.draws.bernoulli(m.step_now, working_age, p.legal_work, draw="legal_work")]
        pop.start_work(to_work)
        m.venues.assign(to_work, m.step_now)
        m.recorder.tally["persons_diverted"] += len(diverted)
