"""Forum infiltration: undercover officers and informants on an online space. Users trust each
other less there, though each network perceives only its own share of that cut, so some keep
recruiting there; a network that recruits an informant becomes easier to detect (the
mechanism lives in sim/recruitment/forums.py). No outcome evaluations exist ([evidence §4](evidence.md#4-interventions-and-what-is-known-of-their-effects))."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sim.interventions.base import Intervention, InterventionParams
from sim.interventions.registry import register
from sim.scenario.params import prob


class ForumInfiltrationParams(InterventionParams):
    type: Literal["forum_infiltration"] = Field(description="undercover presence on an online space")
    target: str = Field(description="name of the online space infiltrated (a key of places.online_spaces)")
    share: float = prob(0.05, "share of the space's users who are undercover officers or informants (assumption)")
    trust_reduction: float = prob(0.3, "relative drop in the trust networks place in contacts met there (assumption)")


@register("forum_infiltration")
class ForumInfiltration(Intervention):
    Params = ForumInfiltrationParams

    def begin(self) -> None:
        # held in the registry under this label: overlapping infiltrations compose, and `end`
        # (the base class) removes only this one
        space = self.model.online.by_name(self.params.target)
        self.model.effects.set_space(space, self.label, trust_factor=1.0 - self.params.trust_reduction,
                                     infiltration=self.params.share)
