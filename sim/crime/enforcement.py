"""Detection and arrest. A network's detection hazard grows with its size and with the victims
who reported it over the last year (the police learn of online fraud through reports, and few
victims report); detection leads to arrests of members, core members most, but only as far as
police capacity allows: detected networks compete for a limited number of investigations per
year per 10,000 persons (`investigations_per_10k`; more capacity is an intervention,
sim/interventions/police_capacity.py). Money mules are also caught one by one when banks flag
their accounts. Arrested persons leave their network, spend a sentence away and come back with
a record."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.vocabulary import ROLE

if TYPE_CHECKING:
    from sim.model import RecruitModel
    from sim.rng import StepRandom


def detection_hazard(m: RecruitModel, ids: np.ndarray) -> np.ndarray:
    p, t = m.config.enforcement, m.networks
    """Each network's hazard (per year) of coming to police attention, before capacity rations it."""
    hazard = p.detection_base + p.detection_per_member * t.size(ids) + p.detection_per_report * t.recent_reports[ids] + t.detection_boost[ids]
    has_mules = t.role_counts[ids, ROLE["money_mule"]] > 0
    return hazard * m.effects.factor("network_detection") * np.where(has_mules, m.effects.factor("mule_network_detection"), 1.0)


def investigation_capacity(m: RecruitModel) -> float:
    """Network investigations the police can open per year (scaled to the population)."""
    p = m.config.enforcement
    return p.investigations_per_10k * m.pop.size / 10_000.0 * m.effects.factor("police_capacity")


def investigated_share(capacity: float, leads: float) -> float:
    """Chance that a detected network is investigated: all of them while the expected leads per
    year fit the capacity, else capacity / leads (the leads share the investigations)."""
    return 1.0 if leads <= capacity else capacity / leads


def arrest(m: RecruitModel, slots: np.ndarray, draws: StepRandom, label: str = "sentence") -> None:
    """Arrest persons: they leave their network and are away for a sentence (keyed by person and `label`)."""
    if len(slots) == 0:
        return
    m.membership.leave(m.step_now, slots, "arrest")
    sentence = draws.exponential(slots, m.config.enforcement.sentence_years_mean * m.clock.steps_per_year, label)
    m.pop.prison_until[slots] = m.step_now + np.maximum(1, np.rint(sentence)).astype(np.int32)
    m.pop.arrest_count[slots] += 1
    m.recorder.tally["arrests"] += len(slots)
    m.effects.arrested(slots)  # interventions listening (e.g. a diversion programme) act on them


def shorten_sentences(m: RecruitModel, slots: np.ndarray, factor: float) -> None:
    """The rest of each sentence shrinks to `factor` of itself, at least one step (a diversion programme)."""
    away = m.pop.prison_until[slots] - m.step_now
    m.pop.prison_until[slots] = m.step_now + np.maximum(1, np.ceil(away * factor)).astype(np.int32)


def take_in_informants(m: RecruitModel, informants: list[tuple[int, float]]) -> None:
    """Networks that took in an informant this step are easier to detect for the rest of their life."""
    for net, added_hazard in informants:
        m.networks.detection_boost[net] += added_hazard
    m.recorder.tally["informants_recruited"] += len(informants)


def detect_networks(m: RecruitModel, draws: StepRandom) -> None:
    p, pop = m.config.enforcement, m.pop
    ids = m.networks.active_ids()
    hazard = detection_hazard(m, ids)
    hazard = hazard * investigated_share(investigation_capacity(m), float(hazard.sum()))
    detected = ids[draws.uniform(m.networks.draw_keys(ids), "detect") < m.clock.prob(hazard)]
    for nid in detected:
        members = np.flatnonzero(pop.network == nid)
        share = np.where(pop.role[members] == ROLE["core"], p.core_arrest_share, p.arrest_share)
        arrest(m, members[draws.uniform(members, "arrested") < share], draws)
        m.recorder.tally["networks_detected"] += 1


def detect_mules(m: RecruitModel, draws: StepRandom) -> None:
    members = m.membership.members()
    mules = members[m.pop.role[members] == ROLE["money_mule"]]
    hazard = m.config.enforcement.mule_detection * m.effects.factor("mule_detection")
    arrest(m, mules[draws.uniform(mules, "flagged") < m.clock.prob(hazard)], draws)


def release(m: RecruitModel) -> None:
    pop = m.pop
    out = np.flatnonzero((pop.prison_until >= 0) & (pop.prison_until <= m.step_now))
    if len(out) == 0:
        return
    pop.prison_until[out] = -1
    pop.released_step[out] = m.step_now
    m.recorder.events.add(m.step_now, "release", out)
