"""Cease-and-desist: warning visits or private messages to identified users of forums and
markets (the police identify the most suspicious: members first, then by propensity). Warned
persons are deterred from joining networks, the effect fading; some warned members desist at
once. Private warnings reduced repeat offending in field experiments (Maimon et al. 2021);
visits themselves are unevaluated ([evidence §4](evidence.md#4-interventions-and-what-is-known-of-their-effects))."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from sim.crime import desistance
from sim.interventions.base import Intervention, InterventionParams
from sim.interventions.registry import register
from sim.places.online_spaces import FORUM_KINDS
from sim.scenario.params import prob
from sim.vocabulary import NO_NETWORK


class CeaseAndDesistParams(InterventionParams):
    type: Literal["cease_and_desist"] = Field(description="warnings to identified forum users")
    warnings_per_10k: float = Field(25.0, gt=0, le=10_000, description="persons warned per wave, per 10,000 residents (rounded to whole persons; at least one)")
    effect: float = prob(0.4, "deterrence: relative drop in a warned person's willingness to join a network (assumption; direction: Maimon et al. 2021)")
    desist_share: float = prob(0.2, "share of warned members who desist at once (assumption)")
    half_life_years: float = Field(1.0, gt=0, le=100, description="time for the deterrence to halve [years] (assumption)")


@register("cease_and_desist")
class CeaseAndDesist(Intervention):
    Params = CeaseAndDesistParams

    def act(self) -> None:
        m, p, pop = self.model, self.params, self.model.pop
        users = np.flatnonzero(m.online.active_mask(FORUM_KINDS))
        if len(users) == 0:
            return
        tie_break = self.draws.uniform(self.now, users, draw="tie_break") * 1e-6
        suspicion = pop.propensity[users] + (pop.network[users] != NO_NETWORK) + tie_break
        warned = users[np.argsort(-suspicion, kind="stable")[: self.warnings_per_wave()]]
        m.effects.add_to_persons("deterrence", self.label, warned, p.effect, p.half_life_years, self.now)
        members = warned[pop.network[warned] != NO_NETWORK]
        desistance.make_desist(m, members[self.draws.bernoulli(self.now, members, p.desist_share, draw="desist")])
        m.recorder.tally["persons_warned"] += len(warned)

    def warnings_per_wave(self) -> int:
        """Persons warned in a wave: a count per 10,000 residents, so a bigger town gets
        proportionally more warnings and the scenario means the same at any population size."""
        return max(1, round(self.params.warnings_per_10k * self.model.pop.size / 10_000))
