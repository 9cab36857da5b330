"""Networks regroup after losing their core, and dissolve when their capability collapses, when
the market no longer pays (a hazard `market_exit_rate x (1 - yield)`, sim/crime/saturation.py), or,
for networks whose core formed online, at an extra hazard of their own (less mutual trust)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.crime.co_offending import best_connected
from sim.crime.saturation import market_yield
from sim.vocabulary import ROLE

if TYPE_CHECKING:
    from sim.model import RecruitModel
    from sim.rng import StepRandom


def regroup(m: RecruitModel, draws: StepRandom) -> None:
    """A network without core members promotes, at `regroup_rate`, the member with the strongest
    co-offending ties to the others (the most senior among equals): the one the rest worked with,
    so that the members still reachable from the new core are as many as possible (co_offending.cut_off)."""
    t, pop = m.networks, m.pop
    ids = t.active_ids()
    headless = ids[(t.role_counts[ids, ROLE["core"]] == 0) & (t.size(ids) > 0)]
    headless = headless[draws.uniform(t.draw_keys(headless), "regroup") < m.clock.prob(m.config.networks.regroup_rate)]
    for nid in headless:
        members = np.flatnonzero(pop.network == nid)
        seniority = pop.experience[members] + (m.step_now - pop.joined_step[members]) * m.clock.dt
        m.membership.promote(m.step_now, int(members[best_connected(m.ties, members, seniority, m.step_now)]))


def exit_hazard(m: RecruitModel, ids: np.ndarray) -> np.ndarray:
    """Per-year hazard that a network gives up: the market pays too little, or (online-born) its
    members do not trust each other enough to carry on."""
    p = m.config.networks
    return p.market_exit_rate * (1.0 - market_yield(m)) + p.online_born_dissolution_rate * m.networks.founded_online[ids]


def dissolve(m: RecruitModel, draws: StepRandom) -> None:
    """Dissolve networks that are empty, have had too little capability for too long, or give up
    (`exit_hazard`, keyed by network)."""
    t, p = m.networks, m.config.networks
    ids = t.active_ids()
    low = m.business.capability(t.business_model[ids], t.role_counts[ids]) < p.dissolve_capability
    since = t.low_capability_since[ids]
    t.low_capability_since[ids] = np.where(low, np.where(since < 0, m.step_now, since), -1)
    too_long = low & (m.step_now - t.low_capability_since[ids] >= m.clock.steps(p.dissolve_after_years))
    gives_up = draws.uniform(t.draw_keys(ids), "give_up") < m.clock.prob(exit_hazard(m, ids))
    for nid in ids[too_long | gives_up | (t.size(ids) == 0)]:
        members = np.flatnonzero(m.pop.network == nid)
        if len(members):
            m.membership.leave(m.step_now, members, "network_dissolved")
        else:
            m.recorder.events.add(m.step_now, "network_dissolved", None, network=nid)
        t.active[nid] = False
        t.dissolved_step[nid] = m.step_now
        m.remove_network_agent(int(nid))
        m.recorder.tally["networks_dissolved"] += 1
