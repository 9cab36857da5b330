"""Public-private partnership: banks and police share money-mule data, so mules are detected
more often, and so are the networks that use them. The ICPC (2018) partnership approach;
effect sizes are assumptions (DOMAIN.md section 4)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sim.interventions.base import Intervention, InterventionParams
from sim.interventions.registry import register


class PublicPrivatePartnershipParams(InterventionParams):
    type: Literal["public_private_partnership"] = Field(description="banks and police share mule data")
    mule_detection_factor: float = Field(2.0, ge=0, le=100, description="money mules are detected this many times as often (assumption)")
    network_detection_factor: float = Field(1.3, ge=0, le=100, description="networks with money mules are detected this many times as often (assumption)")


@register("public_private_partnership")
class PublicPrivatePartnership(Intervention):
    Params = PublicPrivatePartnershipParams

    def begin(self) -> None:
        self.model.effects.set("mule_detection", self.index, self.params.mule_detection_factor)
        self.model.effects.set("mule_network_detection", self.index, self.params.network_detection_factor)

    def end(self) -> None:
        self.model.effects.clear("mule_detection", self.index)
        self.model.effects.clear("mule_network_detection", self.index)
