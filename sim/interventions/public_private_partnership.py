"""Public-private partnership: banks and police share money-mule data, so mules are detected
more often, and so are the networks that use them. The ICPC (2018) partnership approach;
effect sizes are assumptions ([evidence §4](evidence.md#4-interventions-and-what-is-known-of-their-effects))."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sim.interventions.base import InterventionParams, SustainedEffects
from sim.interventions.registry import register


class PublicPrivatePartnershipParams(InterventionParams):
    type: Literal["public_private_partnership"] = Field(description="banks and police share mule data")
    mule_detection_factor: float = Field(2.0, ge=0, le=100, description="money mules are detected this many times as often (assumption)")
    network_detection_factor: float = Field(1.3, ge=0, le=100, description="networks with money mules are detected this many times as often (assumption)")


@register("public_private_partnership")
class PublicPrivatePartnership(SustainedEffects):
    Params = PublicPrivatePartnershipParams
    EFFECTS = {"mule_detection": "mule_detection_factor", "mule_network_detection": "network_detection_factor"}
