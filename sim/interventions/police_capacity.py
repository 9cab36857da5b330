"""More police capacity to investigate cybercrime networks (classic law enforcement).

The police can open only so many network investigations a year (`enforcement.investigations_per_10k`);
when more networks come to their attention than they can investigate, each is investigated with
chance capacity / leads (sim/crime/enforcement.py). This intervention multiplies the capacity while
in force, e.g. a specialised cybercrime team. Dutch and British reviews report that police
capacity for cybercrime falls short of the reports received; the size of the effect is an
assumption ([evidence §4](evidence.md#4-interventions-and-what-is-known-of-their-effects)).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sim.interventions.base import InterventionParams, SustainedEffects
from sim.interventions.registry import register


class PoliceCapacityParams(InterventionParams):
    type: Literal["police_capacity"] = Field(description="more police capacity to investigate networks")
    capacity_factor: float = Field(2.0, ge=0, le=100, description="the investigations the police can open per year are multiplied by this (assumption)")


@register("police_capacity")
class PoliceCapacity(SustainedEffects):
    Params = PoliceCapacityParams
    EFFECTS = {"police_capacity": "capacity_factor"}
