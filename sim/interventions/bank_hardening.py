"""Bank-side hardening (situational prevention): banks block or recall fraudulent transfers and
flag cash-out, so losses per victim fall and money mules are caught more often. The ICPC (2018)
lists it among situational approaches; effect sizes are assumptions ([evidence §4](evidence.md#4-interventions-and-what-is-known-of-their-effects))."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sim.interventions.base import InterventionParams, SustainedEffects
from sim.interventions.registry import register
from sim.scenario.params import prob


class BankHardeningParams(InterventionParams):
    type: Literal["bank_hardening"] = Field(description="banks harden payments and cash-out")
    loss_factor: float = prob(0.7, "victims' losses are multiplied by this (blocked or recalled transfers) (assumption)")
    mule_detection_factor: float = Field(1.5, ge=0, le=100, description="money mules are detected this many times as often (assumption)")


@register("bank_hardening")
class BankHardening(SustainedEffects):
    Params = BankHardeningParams
    EFFECTS = {"losses": "loss_factor", "mule_detection": "mule_detection_factor"}
