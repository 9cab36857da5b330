"""Joining and leaving networks: the only code that changes who belongs where.

Keeping every membership change here maintains the invariants (one network per person,
role counts equal to the members' roles, origin counters) in one place. An arrest also rewires
the network: fellow members who worked with the arrested person tie up with each other
(sim/crime/co_offending.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import sorted_sets
from sim.crime import co_offending
from sim.crime.network_table import NetworkTable
from sim.outputs.recorder import Recorder
from sim.population import Population
from sim.vocabulary import CHANNEL, MEDIUM, NO_NETWORK, ROLE

if TYPE_CHECKING:
    from sim.rng import ProcessRandom
    from sim.ties import TieStore


class Membership:
    def __init__(self, pop: Population, table: NetworkTable, recorder: Recorder, dt: float,
                 ties: TieStore | None = None, rewiring: ProcessRandom | None = None, rewire_prob: float = 0.0):
        self.pop = pop
        self.table = table
        self.recorder = recorder
        self.dt = dt
        self.ties = ties  # for rewiring after arrests (None: no rewiring)
        self.rewiring = rewiring
        self.rewire_prob = rewire_prob
        self._members: np.ndarray | None = None  # the slots of members, kept until membership changes

    def members(self) -> np.ndarray:
        """Slots of current network members, in slot order: `pop.members()` without a pass over
        the population each time it is asked (recruiters are picked after every accepted
        recruitment: at 10 million persons those passes cost about 1.5 s of a 21 s step). Joins
        and departures update the list (a few thousand slots) rather than drop it: at a million
        persons a step made 40 passes of 0.5 ms each when they dropped it, and makes 0.4 now
        (the snapshots' own; measured)."""
        if self._members is None:
            self._update_members(self.pop.members())
        return self._members

    def _update_members(self, members: np.ndarray) -> None:
        members.flags.writeable = False  # shared by every caller until membership changes: a new array each time
        self._members = members

    def join(self, step: int, slot: int, network: int, role: int, channel: str, medium: str) -> None:
        pop, t = self.pop, self.table
        assert pop.network[slot] == NO_NETWORK, "a person can belong to one network at a time"
        pop.network[slot] = network
        if self._members is not None:
            self._update_members(np.insert(self._members, np.searchsorted(self._members, slot), slot))
        pop.role[slot] = role
        pop.desisted[slot] = False  # back in: a later exit is judged afresh
        pop.join_channel[slot] = CHANNEL[channel]
        pop.join_medium[slot] = MEDIUM[medium]
        pop.joined_step[slot] = step
        t.role_counts[network, role] += 1
        if channel != "founder":
            online = medium == "online"
            if role == ROLE["core"]:
                (t.core_online if online else t.core_offline)[network] += 1
            else:
                (t.growth_online if online else t.growth_offline)[network] += 1
            self.recorder.tally[f"recruits_{channel}"] += 1
            self.recorder.tally[f"recruits_{medium}"] += 1
        else:
            self.recorder.tally["recruits_founder"] += 1

    def leave(self, step: int, slots: np.ndarray, kind: str) -> None:
        """Members leave their network (desistance, arrest, exit, dissolution); logged as `kind`."""
        pop = self.pop
        slots = np.asarray(slots, dtype=np.int64)
        slots = slots[pop.network[slots] != NO_NETWORK]
        if len(slots) == 0:
            return
        if kind == "arrest" and self.ties is not None:
            co_offending.rewire(self.ties, pop, self.rewiring.at(step), slots, step, self.rewire_prob)
        networks, roles = pop.network[slots], pop.role[slots]
        self.recorder.events.add(step, kind, slots, network=networks, role=roles,
                                 channel=pop.join_channel[slots], medium=pop.join_medium[slots])
        np.subtract.at(self.table.role_counts, (networks, roles), 1)
        pop.experience[slots] += (step - pop.joined_step[slots]) * self.dt
        pop.ever_member[slots] = True
        pop.desisted[slots] = kind == "desist"  # a desister is no longer counted as experienced (roles.motivation)
        pop.network[slots] = NO_NETWORK
        if self._members is not None:
            self._update_members(self._members[~sorted_sets.isin(self._members, slots)])
        pop.role[slots] = -1
        pop.join_channel[slots] = -1
        pop.join_medium[slots] = -1
        pop.joined_step[slots] = -1

    def promote(self, step: int, slot: int) -> None:
        """A surviving member becomes core (the network regroups after losing its core)."""
        pop, t = self.pop, self.table
        net, old = pop.network[slot], pop.role[slot]
        t.role_counts[net, old] -= 1
        t.role_counts[net, ROLE["core"]] += 1
        pop.role[slot] = ROLE["core"]
        self.recorder.events.add(step, "promoted", slot, network=net, role=ROLE["core"])
