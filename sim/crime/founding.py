"""New networks: seeded at the start (`networks.initial_per_10k`, per 10,000 persons), and
founded during the run by motivated persons, above all experienced former members (Leukfeldt
et al. 2019: long-career offenders), at rates scaled by what the market pays
(sim/crime/saturation.py): re-founding after arrests exists, but a crowded market holds it back.

Most networks start as their founder (a core member) and recruit everyone else through the
recruitment rules, so their origin type emerges from how they actually grow. Forum users have a
second route (`founding_rate_forum`): a forum is where motivated users meet partners (an online
offender convergence setting: Leukfeldt, Kleemans & Stol 2017 ABS), so they may form a core
there, recruiting `online_cofounders` core members among forum users, their own forum and chat
contacts first (Leukfeldt et al. 2017, CLSC: a few networks originate on forums, with only a few
core members). Such a network is marked `founded_online`; its members trust each other less, so
they desist more often (desistance.py) and the network dissolves more easily (lifecycle.py).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from sim import sorted_sets
from sim.crime.co_offending import tie_recruits
from sim.crime.saturation import market_yield
from sim.errors import ScenarioWarning
from sim.sampling import smallest
from sim.vocabulary import CHANNEL, MEDIUM, OUTCOME, ROLE

if TYPE_CHECKING:
    from sim.model import RecruitModel
    from sim.recruitment.market import RecruitmentMarket
    from sim.rng import StepRandom


def eligible_founders(m: RecruitModel, market: RecruitmentMarket) -> np.ndarray:
    p, pop = m.config.networks, m.pop
    old_enough = (pop.age >= p.founder_min_age) & (pop.age < p.founder_max_age)
    return market.available & (pop.propensity >= p.founder_min_propensity) & old_enough


def found(m: RecruitModel, market: RecruitmentMarket, founder: int, business_model: int, online: bool = False) -> int:
    """Create a network around its founder (`online`: its core forms among forum users); returns the network id."""
    nid = m.networks.add(business_model, market.step, founder)
    m.networks.founded_online[nid] = online
    m.membership.join(market.step, founder, nid, ROLE["core"], "founder", "online" if online else "offline")
    market.taken(founder)
    m.recorder.events.add(market.step, "network_founded", founder, network=nid, role=ROLE["core"],
                          medium=MEDIUM["online" if online else "offline"])
    m.recorder.tally["networks_founded"] += 1
    m.add_network_agent(nid)
    return nid


def initial_counts(per_10k: dict[str, float], size: int) -> dict[str, int]:
    """Networks to seed per business model: per-10,000 counts scaled to the population, rounded so
    that the total is the rounded total (largest remainders). Rounding each business model on its
    own would seed a town of 2,000 with one network instead of two (4, 2, 1, 2 and 1 per 10,000 are
    0.8, 0.4, 0.2, 0.4 and 0.2 there), so per-capita outputs would depend on the population size."""
    exact = np.array([rate * size / 10_000.0 for rate in per_10k.values()], dtype=float)
    counts = np.floor(exact).astype(np.int64)
    missing = int(np.floor(exact.sum() + 0.5)) - int(counts.sum())
    counts[np.argsort(-(exact - counts), kind="stable")[:missing]] += 1
    return dict(zip(per_10k, (int(c) for c in counts)))


def seed_initial_networks(m: RecruitModel, market: RecruitmentMarket, rng: np.random.Generator) -> None:
    """The networks that exist when the run starts, founders drawn by propensity (set-up: a sequential stream)."""
    counts = initial_counts(m.business.initial_per_10k, m.pop.size)
    wanted = sum(counts.values())
    founders = _draw_founders(m.pop.propensity, np.flatnonzero(eligible_founders(m, market)), wanted, rng)
    if len(founders) < wanted:
        _warn_too_few_founders(counts, len(founders))
    business_models = np.repeat([m.business.code[name] for name in counts], list(counts.values()))
    for founder, business_model in zip(founders, business_models):  # in the order of networks.initial_per_10k
        found(m, market, int(founder), int(business_model))


def _draw_founders(propensity: np.ndarray, candidates: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` founders drawn one after another without replacement, each with chance proportional
    to propensity: in one go, as the smallest exponential keys of rate propensity (Efraimidis &
    Spirakis 2006), whose order is that of the draws one after another. (A weighted choice per
    network, renormalised over the candidates left, cost networks x candidates: quadratic in the
    population.) Fewer if fewer candidates have a positive propensity."""
    candidates = candidates[propensity[candidates] > 0]
    keys = rng.exponential(size=len(candidates)) / propensity[candidates]
    return candidates[smallest(keys, count)]


def _warn_too_few_founders(initial: dict[str, int], seeded: int) -> None:
    """Say that networks.initial_per_10k asked for more networks than the population has founders for
    (a network's founder must be of founding age and propensity, and in no network yet)."""
    asked = sum(initial.values())
    warnings.warn(ScenarioWarning(
        f"networks.initial_per_10k asks for {asked} networks but only {seeded} persons could found one (of founding age and "
        f"propensity, see networks.founder_*); {seeded} were seeded, in the order of networks.initial_per_10k, and the rest "
        "skipped: lower networks.initial_per_10k"), stacklevel=2)


def found_new_networks(m: RecruitModel, market: RecruitmentMarket, draws: StepRandom) -> None:
    """Founding is a one-off hazard (the founder is then in a network): 1 - exp(-rate dt) per step,
    the rate scaled by the market's yield. A forum user's rate adds the forum route; which of the
    two competing routes a founding took is drawn in proportion to their rates."""
    p, pop = m.config.networks, m.pop
    candidates = np.flatnonzero(eligible_founders(m, market))
    experienced = pop.experience[candidates] >= p.min_experience_years
    # the forum route recruits its co-founders through the forums channel: off with that rule
    forum_route = p.founding_rate_forum if m.config.recruitment.rules.forums.enabled else 0.0
    forum_rate = forum_route * pop.forum_user[candidates]
    rate = np.where(experienced, p.founding_rate_experienced, p.founding_rate_novice) + forum_rate
    # deterrence (a warning) also holds back would-be founders
    chance = m.clock.prob(rate * market_yield(m)) * (1.0 - pop.deterrence[candidates])
    found_now = draws.uniform(candidates, "found") < chance
    founders = candidates[found_now]
    online = draws.uniform(founders, "online") * rate[found_now] < forum_rate[found_now]
    prevalence = np.array([m.business.initial_per_10k[n] for n in m.business.names], dtype=float)
    prevalence = prevalence / prevalence.sum() if prevalence.sum() > 0 else np.full(len(prevalence), 1 / len(prevalence))
    kinds = np.minimum(np.searchsorted(np.cumsum(prevalence), draws.uniform(founders, "business_model"), side="right"),
                       len(prevalence) - 1)
    for founder, kind, is_online in zip(founders, kinds, online):
        if not market.available[founder]:
            continue  # became an online co-founder of another network this step
        nid = found(m, market, int(founder), int(kind), bool(is_online))
        if is_online:
            recruit_online_core(m, market, nid, int(founder), draws)


def recruit_online_core(m: RecruitModel, market: RecruitmentMarket, nid: int, founder: int, draws: StepRandom) -> None:
    """An online founder takes `online_cofounders` motivated forum users into the core: their
    forum and chat contacts first, otherwise any (random, keyed by founder). Founder and
    co-founders become co-offenders, as a recruiter and recruit do."""
    p, pop = m.config.networks, m.pop
    pool = np.flatnonzero(market.available & pop.forum_user & (pop.propensity >= p.founder_min_propensity)
                          & (pop.age >= p.founder_min_age))
    if len(pool) == 0 or p.online_cofounders == 0:
        return
    contacts = m.ties.alters(np.array([founder]), ("forum", "chat"))
    priority = draws.uniform(pool, "cofounder", with_units=np.full(len(pool), founder)) - sorted_sets.isin(pool, contacts)
    cofounders = pool[smallest(priority, p.online_cofounders)]
    for slot in cofounders:
        m.membership.join(market.step, int(slot), nid, ROLE["core"], "forums", "online")
        market.taken(int(slot))
    tie_recruits(m.ties, market.step, np.full(len(cofounders), founder), cofounders)  # they formed the core together
    # logged and tallied as accepted forum recruitments, so that the outputs add up
    m.recorder.events.add(market.step, "recruit_attempt", cofounders, network=nid, channel=CHANNEL["forums"],
                          medium=MEDIUM["online"], role=ROLE["core"], accepted=True, outcome=OUTCOME["accepted"])
    m.recorder.tally["attempts_forums"] += len(cofounders)
