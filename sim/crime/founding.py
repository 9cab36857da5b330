"""New networks: seeded at the start, and founded during the run by motivated persons,
above all experienced former members (Leukfeldt et al. 2019: long-career offenders).

A network starts as its founder (a core member) and recruits everyone else through the
recruitment rules, so its origin type emerges from how it actually grows.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from sim.errors import ScenarioWarning
from sim.vocabulary import ROLE

if TYPE_CHECKING:
    from sim.model import RecruitModel
    from sim.recruitment.market import RecruitmentMarket
    from sim.rng import StepRandom


def eligible_founders(m: RecruitModel, market: RecruitmentMarket) -> np.ndarray:
    p, pop = m.config.networks, m.pop
    old_enough = (pop.age >= p.founder_min_age) & (pop.age < p.founder_max_age)
    return market.available & (pop.propensity >= p.founder_min_propensity) & old_enough


def found(m: RecruitModel, market: RecruitmentMarket, founder: int, business_model: int) -> int:
    """Create a network around its founder; returns the network id."""
    nid = m.networks.add(business_model, market.step, founder)
    m.membership.join(market.step, founder, nid, ROLE["core"], "founder", "offline")
    market.taken(founder)
    m.recorder.events.add(market.step, "network_founded", founder, network=nid, role=ROLE["core"])
    m.recorder.tally["networks_founded"] += 1
    m.add_network_agent(nid)
    return nid


def seed_initial_networks(m: RecruitModel, market: RecruitmentMarket, rng: np.random.Generator) -> None:
    """The networks that exist when the run starts, founders drawn by propensity (set-up: a sequential stream)."""
    seeded = 0
    for name, count in m.business.initial.items():
        for _ in range(count):
            candidates = np.flatnonzero(eligible_founders(m, market))
            if len(candidates) == 0:
                _warn_too_few_founders(m.business.initial, seeded)
                return
            weight = m.pop.propensity[candidates]
            found(m, market, int(rng.choice(candidates, p=weight / weight.sum())), m.business.code[name])
            seeded += 1


def _warn_too_few_founders(initial: dict[str, int], seeded: int) -> None:
    """Say that networks.initial asked for more networks than the population has founders for
    (a network's founder must be of founding age and propensity, and in no network yet)."""
    asked = sum(initial.values())
    warnings.warn(ScenarioWarning(
        f"networks.initial asks for {asked} networks but only {seeded} persons could found one (of founding age and "
        f"propensity, see networks.founder_*); {seeded} were seeded, in the order of networks.initial, and the rest "
        "skipped: lower networks.initial or raise population.size"), stacklevel=2)


def found_new_networks(m: RecruitModel, market: RecruitmentMarket, draws: StepRandom) -> None:
    """Founding is a one-off hazard (the founder is then in a network): 1 - exp(-rate dt) per step."""
    p, pop = m.config.networks, m.pop
    candidates = np.flatnonzero(eligible_founders(m, market))
    experienced = pop.experience[candidates] >= p.min_experience_years
    rate = np.where(experienced, p.founding_rate_experienced, p.founding_rate_novice)
    # deterrence (a warning) also holds back would-be founders
    chance = m.clock.prob(rate) * (1.0 - pop.deterrence[candidates])
    founders = candidates[draws.uniform(candidates, "found") < chance]
    prevalence = np.array([m.business.initial[n] for n in m.business.names], dtype=float)
    prevalence = prevalence / prevalence.sum() if prevalence.sum() > 0 else np.full(len(prevalence), 1 / len(prevalence))
    kinds = np.minimum(np.searchsorted(np.cumsum(prevalence), draws.uniform(founders, "business_model"), side="right"),
                       len(prevalence) - 1)
    for founder, kind in zip(founders, kinds):
        found(m, market, int(founder), int(kind))
