"""Forum takedown: an online space goes offline. Part of its users move to the remaining spaces
(preferring larger ones, after a while), the rest drop out; a successor may open later. Ties made
there survive as contacts. Evidence: large immediate drops, then displacement and recovery
(Décary-Hétu & Giommoni 2017; ElBahrawy et al. 2020; Collier et al. 2019)."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from sim.interventions.base import Intervention, InterventionParams
from sim.interventions.registry import register
from sim.places.online_spaces import FORUM_KINDS, RECRUITING_KINDS
from sim.scenario.params import prob


class ForumTakedownParams(InterventionParams):
    type: Literal["forum_takedown"] = Field(description="take an online space down")
    target: str = Field(description="name of the online space taken down (a key of places.online_spaces)")
    displacement_share: float = prob(0.6, "share of the space's users who move to other spaces, taking their visits with them (the rest drop out) (assumption; displacement: Décary-Hétu & Giommoni 2017)")
    size_preference: float = Field(1.0, ge=0, le=10, description="movers pick a space with probability proportional to its active users to this power (0 = uniformly)")
    move_time_years: float = Field(0.1, ge=0, le=10, description="mean time a mover takes to settle in another space (exponential) [years]")
    successor_after_years: float | None = Field(None, gt=0, description="a successor space opens in its place after this long; none = never [years]")
    successor_share: float = prob(0.5, "share of the original space's activity the successor wins back: its routine visits, and the movers who return from other spaces (assumption; partial recovery: ElBahrawy et al. 2020)")


@register("forum_takedown")
class ForumTakedown(Intervention):
    Params = ForumTakedownParams

    def act(self) -> None:
        online, p = self.model.online, self.params
        space = online.by_name(p.target)
        if not space.is_open:
            return
        rate = online.visit_rate(space)  # each person's visits to the space before it went down
        if space.code in online.members:  # a gated forum: only its members were users
            rate = np.where(online.members[space.code], rate, 0.0)
        online.close(space)
        destinations = self._destinations(space)
        if not destinations:
            return
        users = np.flatnonzero(rate > 0)
        movers = users[self.rng.random(len(users)) < p.displacement_share]
        delay = self.rng.exponential(p.move_time_years * self.model.clock.steps_per_year, len(movers))
        self._due = self.model.step_now + np.ceil(delay).astype(np.int64)
        self._movers, self._moved_rate = movers, rate[movers]
        sizes = np.array([max(len(online.active[c]), 1) for c in destinations], dtype=float) ** p.size_preference
        self._choice = np.array(destinations)[self.rng.choice(len(destinations), size=len(movers), p=sizes / sizes.sum())]
        self._successor_step = None if p.successor_after_years is None else self.model.step_now + self.model.clock.steps(p.successor_after_years)
        self._space = space

    def _destinations(self, space) -> list[int]:
        """Open spaces of the same kind, or else any open forum-like space."""
        online = self.model.online
        same = [s.code for s in online.spaces if s.is_open and s.kind == space.kind]
        kinds = FORUM_KINDS if space.kind in FORUM_KINDS else RECRUITING_KINDS
        return same or [s.code for s in online.spaces if s.is_open and s.kind in kinds]

    def each_step(self) -> None:
        if not hasattr(self, "_due"):
            return
        now = self.model.step_now
        arriving = self._due == now
        if arriving.any():
            self.model.online.add_visits(self._choice[arriving], self._movers[arriving], self._moved_rate[arriving])
        if self._successor_step is not None and now == self._successor_step:
            self._open_successor()

    def _open_successor(self) -> None:
        """The successor opens with a share of the old activity; that share of movers come back."""
        online, share = self.model.online, self.params.successor_share
        online.reopen(self._space, rate_factor=share)
        settled = self._due <= self.model.step_now
        returning = settled & (self.rng.random(len(self._movers)) < share)
        online.add_visits(self._choice[returning], self._movers[returning], -self._moved_rate[returning])
        # movers still on their way and returning do not arrive elsewhere any more
        self._due = np.where(~settled & (self.rng.random(len(self._movers)) < share), -1, self._due)
