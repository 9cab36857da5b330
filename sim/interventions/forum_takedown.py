"""Forum takedown: an online space goes offline. Part of its users move to the remaining spaces
(preferring larger ones, after a while), taking their visits with them; the others' visits to it
are lost (they go on using the other spaces as before); a successor may open later. Ties made there survive as contacts. Evidence: large immediate drops, then displacement and recovery
(Décary-Hétu & Giommoni 2017; ElBahrawy et al. 2020; Collier et al. 2019).

Each takedown (each act, with `every`) makes its own `Displacement`; its movers' arrivals and its
successor are follow-up events of the schedule, so they happen whatever the intervention's
window, and a later takedown never touches the users an earlier one set moving."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from sim.interventions.base import MAX_YEARS, Intervention, InterventionParams
from sim.interventions.registry import register
from sim.places.online_spaces import FORUM_KINDS, RECRUITING_KINDS
from sim.scenario.params import prob


class ForumTakedownParams(InterventionParams):
    type: Literal["forum_takedown"] = Field(description="take an online space down")
    target: str = Field(description="name of the online space taken down (a key of places.online_spaces)")
    displacement_share: float = prob(0.6, "share of the space's users who move to other spaces, taking their visits with them (the others' visits to it are lost) (assumption; displacement: Décary-Hétu & Giommoni 2017)")
    size_preference: float = Field(1.0, ge=0, le=10, description="movers pick a space with probability proportional to its active users to this power (0 = uniformly)")
    move_time_years: float = Field(0.1, ge=0, le=10, description="mean time a mover takes to settle in another space (exponential) [years]")
    successor_after_years: float | None = Field(None, gt=0, le=MAX_YEARS, description="a successor space opens in its place after this long; none = never [years]")
    successor_share: float = prob(0.5, "share of the original space's activity the successor wins back: its routine visits, and the movers who return from other spaces (assumption; partial recovery: ElBahrawy et al. 2020)")


@register("forum_takedown")
class ForumTakedown(Intervention):
    Params = ForumTakedownParams

    def __init__(self, model, params):
        super().__init__(model, params)
        self.displacements: list[Displacement] = []

    def act(self) -> None:
        online, p, schedule = self.model.online, self.params, self.model.intervention_schedule
        space = online.by_name(p.target)
        if not space.is_open:
            return
        rate = online.visit_rate(space)  # each person's visits to the space before it went down
        if space.code in online.members:  # a gated forum: only its members were users
            rate = np.where(online.members[space.code], rate, 0.0)
        online.close(space)
        movers = self._movers(space, rate)
        displacement = Displacement(self, space, movers)
        self.displacements.append(displacement)
        for step in np.unique(displacement.due):
            schedule.call_at(int(step), displacement.arrive)
        if p.successor_after_years is not None:
            schedule.call_at(self.now + self.model.clock.steps(p.successor_after_years), displacement.open_successor)

    def _movers(self, space, rate: np.ndarray) -> Movers:
        """Who moves (a keyed draw per user), when they settle and where (by size of the space)."""
        p, clock, now = self.params, self.model.clock, self.now
        destinations = self._destinations(space)
        users = np.flatnonzero(rate > 0) if destinations else np.zeros(0, dtype=np.int64)
        movers = users[self.draws.bernoulli(now, users, p.displacement_share, draw="moves")]
        delay = -np.log1p(-self.draws.uniform(now, movers, draw="delay")) * p.move_time_years * clock.steps_per_year
        sizes = np.array([max(len(self.model.online.active[c]), 1) for c in destinations], dtype=float) ** p.size_preference
        cumulative = np.cumsum(sizes) / sizes.sum() if destinations else np.ones(1)
        pick = np.searchsorted(cumulative, self.draws.uniform(now, movers, draw="destination"), side="right")
        where = np.array(destinations or [-1])[np.minimum(pick, len(cumulative) - 1)]
        return Movers(movers, self.model.pop.person_id[movers].copy(), now + np.ceil(delay).astype(np.int64), where, rate[movers])

    def _destinations(self, space) -> list[int]:
        """Open spaces of the same kind, or else any open forum-like space."""
        online = self.model.online
        same = [s.code for s in online.spaces if s.is_open and s.kind == space.kind]
        kinds = FORUM_KINDS if space.kind in FORUM_KINDS else RECRUITING_KINDS
        return same or [s.code for s in online.spaces if s.is_open and s.kind in kinds]


@dataclass
class Movers:
    slots: np.ndarray
    person_ids: np.ndarray  # who held each slot when they set off (a newcomer does not arrive)
    due: np.ndarray  # step of arrival; -1 = stays away (went back to the successor)
    destination: np.ndarray  # code of the space each settles in
    rate: np.ndarray  # visits per year each takes along


class Displacement:
    """The users one takedown set moving, and its successor."""

    def __init__(self, takedown: ForumTakedown, space, movers: Movers):
        self.model = takedown.model
        self.draws = takedown.draws
        self.share = takedown.params.successor_share
        self.space = space
        self.step = takedown.now
        self.movers = movers
        self.arrived = np.zeros(len(movers.slots), dtype=bool)

    @property
    def due(self) -> np.ndarray:
        return self.movers.due

    def _same_persons(self) -> np.ndarray:
        return self.model.pop.person_id[self.movers.slots] == self.movers.person_ids

    def arrive(self) -> None:
        """Movers due by now start visiting their new space."""
        m = self.movers
        arriving = ~self.arrived & (m.due >= 0) & (m.due <= self.model.step_now) & self._same_persons()
        self.arrived |= arriving
        self.model.online.add_visits(m.destination[arriving], m.slots[arriving], m.rate[arriving])

    def open_successor(self) -> None:
        """The successor opens with a share of the old activity; that share of movers come back:
        the settled take their visits back, those still on their way stay home."""
        m, now = self.movers, self.model.step_now
        self.model.online.reopen(self.space, rate_factor=self.share)
        back = self.draws.bernoulli(now, m.slots, self.share, draw=f"returns:{self.step}")
        settled = self.arrived & back & self._same_persons()
        self.model.online.add_visits(m.destination[settled], m.slots[settled], -m.rate[settled])
        m.due = np.where(~self.arrived & back, -1, m.due)
