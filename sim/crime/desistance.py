"""Desistance: members leave crime at a rate that rises with age and is higher for those living
with a partner (Weulen Kranenbarg et al. 2018) and just after release from prison; a job is a
parameter whose default has no effect (the same study: employment is not protective for
cyber-offending). Members of networks whose core formed online (founding.py) leave more
often: partners who met online trust each other less (assumption; Leukfeldt et al. 2017 CLSC
describe such networks as few and small). Desisters' propensity drops, so they are less likely
to be drawn back in."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.population import WORKER

if TYPE_CHECKING:
    from sim.model import RecruitModel
    from sim.rng import StepRandom


def desist(m: RecruitModel, draws: StepRandom) -> None:
    p, pop = m.config.desistance, m.pop
    members = m.membership.members()
    if len(members) == 0:
        return
    rate = p.base_rate * np.exp(p.age_slope * (pop.age[members] - 25.0))
    rate = rate * np.where(pop.partner[members], p.partner_multiplier, 1.0)
    rate = rate * np.where(pop.status[members] == WORKER, p.employment_multiplier, 1.0)
    recently_released = (m.step_now - pop.released_step[members]) < m.clock.steps_per_year
    rate = rate * np.where(recently_released, p.after_arrest_multiplier, 1.0)
    rate = rate * np.where(m.networks.founded_online[pop.network[members]], p.online_born_multiplier, 1.0)
    make_desist(m, members[draws.uniform(members, "desist") < m.clock.prob(rate)])


def make_desist(m: RecruitModel, slots: np.ndarray) -> None:
    """Members leave crime: out of their network, with lower propensity and no experience bonus."""
    pop = m.pop
    m.membership.leave(m.step_now, slots, "desist")
    pop.lower_propensity(slots, m.config.desistance.propensity_factor)
    m.recorder.tally["desistances"] += len(slots)
