"""Deciding recruitment attempts, the same way for every channel.

A candidate accepts with probability
    accept_base(channel) x trust x motivation(candidate, role) x fit(candidate, role),
where trust comes from the tie or the place the approach went through. Volunteers
(self-selection) are motivated by definition: there the network decides, on trust and fit.
Every attempt is logged with its channel and its outcome: `accepted`, `refused` (the candidate
or, for a volunteer, the network said no), or lost although both said yes: `role_full` (the role
filled up earlier in the batch), `taken` (the person joined another network earlier in the
batch), `network_gone` (the network dissolved). Only `refused` counts as a refusal. A network
never takes more people into a role than (1 + growth_slack) x its need, even when several
accept in one batch.
An attempt on someone who already joined a network earlier in the batch is never made (with
Poisson counts of approaches a person may be approached twice in one step).

Every recruit is tied to the member who recruited them (layer `co_offending`,
sim/crime/co_offending.py): the member the rule names in `recruiters` (the approacher, the
member met, the member a volunteer knows), or else one the network picks. The ties of a step's
recruits are made together when its recruitment ends (no rule reads co-offending ties).

The candidate's answer draws a number keyed by (candidate, network): it does not change when
other candidates come or go (sim/rng.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.crime import co_offending
from sim.crime.roles import scaled_promise
from sim.vocabulary import CHANNEL, MEDIA, MEDIUM, NO_NETWORK, OUTCOME, ROLE

if TYPE_CHECKING:
    from sim.recruitment.base import RecruitmentRule
    from sim.recruitment.market import RecruitmentMarket
    from sim.rng import StepRandom


def acceptance_probability(rule: RecruitmentRule, networks, candidates, roles, trust, volunteer: bool = False) -> np.ndarray:
    """Chance that each attempt succeeds (see the module docstring)."""
    m = rule.model
    enabler_fits = m.business.enabler_fits[m.networks.business_model[networks]]
    p = scaled_promise(m.pop, candidates, roles, enabler_fits, m.config.recruitment.acceptance,
                       rule.params.accept_base * np.asarray(trust), motivated=not volunteer)
    trusted_enough = (roles != ROLE["core"]) | (np.asarray(trust) >= m.config.recruitment.acceptance.min_core_trust)
    return np.clip(np.where(trusted_enough, p, 0.0), 0.0, 1.0)


def resolve(rule: RecruitmentRule, market: RecruitmentMarket, draws: StepRandom, networks, candidates, roles, trust,
            medium=None, volunteer: bool = False, attempt: int = 0, recruiters=None) -> np.ndarray:
    """Decide a batch of attempts by `rule`; joins the accepted; returns the accepted mask.

    `medium` defaults to the rule's own; a rule whose approaches differ (self-selection) passes
    an array of medium codes, one per attempt. `attempt` numbers a rule's successive batches
    within one step, so that each has its own draws. `recruiters` gives the member behind each
    attempt (-1 or omitted: the network picks one, `co_offending.pick_recruiters`).
    """
    medium = rule.medium if medium is None else medium
    m = rule.model
    networks, candidates, roles = (np.asarray(x, dtype=np.int64) for x in (networks, candidates, roles))
    if len(candidates) == 0:
        return np.zeros(0, dtype=bool)
    recruiters = np.full(len(candidates), -1, np.int64) if recruiters is None else np.asarray(recruiters, np.int64)
    media = np.full(len(candidates), MEDIUM[medium]) if isinstance(medium, str) else np.broadcast_to(medium, candidates.shape)
    keys = m.networks.draw_keys(networks)
    u = draws.uniform(candidates, _answer_label(attempt), with_units=keys)
    accepted = u < acceptance_probability(rule, networks, candidates, roles, trust, volunteer)
    outcome = np.where(accepted, OUTCOME["accepted"], OUTCOME["refused"])
    if not accepted.any():  # most batches: all refused, so no one joins and every attempt is made
        _log(rule, market.step, candidates, networks, media, roles, accepted, outcome)
        return accepted
    role_cap = m.business.role_cap(m.networks.business_model[networks], m.config.networks.growth_slack)
    # in a random order (keyed like the answers), so no network wins by its position in the batch
    position = np.empty(len(candidates), dtype=np.int64)
    position[_batch_order(candidates, keys, draws, attempt)] = np.arange(len(candidates))
    joined_at: dict[int, int] = {}
    for i in np.flatnonzero(accepted)[np.argsort(position[accepted])]:
        c, net, role = candidates[i], networks[i], roles[i]
        lost = _lost(m, c, net, role, role_cap[i, role])
        if lost:
            accepted[i] = False  # said yes, but cannot join (see the module docstring)
            outcome[i] = OUTCOME[lost]
            continue
        m.membership.join(market.step, c, net, roles[i], rule.name, MEDIA[media[i]])
        joined_at[int(c)] = position[i]
        market.taken(c)
    made = _made(candidates, position, joined_at)
    accepted &= made
    _tie_recruits(m, market, draws, networks[accepted], candidates[accepted], recruiters[accepted])
    _log(rule, market.step, candidates[made], networks[made], media[made], roles[made], accepted[made], outcome[made])
    return accepted


def would_accept(rule: RecruitmentRule, draws: StepRandom, networks, candidates, roles, trust, attempts) -> np.ndarray:
    """The answers `resolve` would draw for attempts each made alone (`attempts`: the number
    each would get). Its draws are keyed by candidate, network and attempt number, so a rule can
    look them up ahead of making the attempts; an attempt found refused changes nothing but the
    log (`log_refusals`)."""
    networks, candidates, roles, attempts = (np.asarray(x, dtype=np.int64) for x in (networks, candidates, roles, attempts))
    keys = rule.model.networks.draw_keys(networks)
    u = uniform_by_number(draws, candidates, attempts, _answer_label, with_units=keys)
    return u < acceptance_probability(rule, networks, candidates, roles, trust)


def uniform_by_number(draws: StepRandom, units: np.ndarray, numbers: np.ndarray, label, with_units=None) -> np.ndarray:
    """One keyed uniform per unit, drawn under `label(number)` of its own number (a rule's n-th
    attempt or search of the step): what a call per unit would draw, in one call per number."""
    u = np.empty(len(units))
    for number in np.unique(numbers):
        these = numbers == number
        u[these] = draws.uniform(units[these], label(int(number)), with_units=None if with_units is None else with_units[these])
    return u


def _answer_label(attempt: int) -> str:
    return f"accept:{attempt}"


def log_refusals(rule: RecruitmentRule, step: int, networks, candidates, roles) -> None:
    """Record attempts made alone that `would_accept` found refused, as `resolve` records them."""
    n = len(candidates)
    _log(rule, step, np.asarray(candidates, np.int64), np.asarray(networks, np.int64), np.full(n, MEDIUM[rule.medium]),
         np.asarray(roles, np.int64), np.zeros(n, dtype=bool), np.full(n, OUTCOME["refused"]))


def _lost(m, candidate: int, network: int, role: int, cap: int) -> str | None:
    """Why a yes cannot become a join (None: it can)."""
    if m.pop.network[candidate] != NO_NETWORK:
        return "taken"
    if not m.networks.active[network]:
        return "network_gone"
    if m.networks.role_counts[network, role] >= cap:
        return "role_full"
    return None


def _tie_recruits(m, market: RecruitmentMarket, draws: StepRandom, networks, recruits, recruiters) -> None:
    """A tie between each recruit and their recruiter (the network picks one where none is given),
    made when the step's recruitment ends (`RecruitmentMarket.recruited_by`)."""
    if len(recruits) == 0:
        return
    missing = recruiters < 0
    if missing.any():
        recruiters = recruiters.copy()
        recruiters[missing] = co_offending.pick_recruiters(m.pop, m.membership.members(), draws, networks[missing], recruits[missing], recruits)
    market.recruited_by.append((recruiters, recruits))


def _made(candidates, position, joined_at: dict[int, int]) -> np.ndarray:
    """Attempts that happen: none on a person after they joined a network in this batch."""
    if not joined_at:
        return np.ones(len(candidates), dtype=bool)
    joined = np.array(list(joined_at.items()), dtype=np.int64)
    order = np.argsort(joined[:, 0])
    keys, when = joined[order, 0], joined[order, 1]
    at = np.minimum(np.searchsorted(keys, candidates), len(keys) - 1)
    return ~((keys[at] == candidates) & (position > when[at]))


def _batch_order(candidates, network_keys, draws: StepRandom, attempt: int) -> np.ndarray:
    return draws.ranks(candidates, f"order:{attempt}", with_units=network_keys)


def _log(rule: RecruitmentRule, step: int, candidates, networks, media, roles, accepted, outcome) -> None:
    rec = rule.model.recorder
    rec.events.add(step, "recruit_attempt", candidates, network=networks, channel=CHANNEL[rule.name],
                   medium=media, role=roles, accepted=accepted, outcome=outcome)
    rec.tally[f"attempts_{rule.name}"] += len(candidates)
    rec.tally[f"refusals_{rule.name}"] += int((outcome == OUTCOME["refused"]).sum())
