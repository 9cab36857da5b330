"""Deciding recruitment attempts, the same way for every channel.

A candidate accepts with probability
    accept_base(channel) x trust x motivation(candidate, role) x fit(candidate, role),
where trust comes from the tie or the place the approach went through. Volunteers
(self-selection) are motivated by definition: there the network decides, on trust and fit.
Every attempt, accepted or refused, is logged with its channel. A network never takes more
people into a role than (1 + growth_slack) x its need, even when several accept in one batch.
An attempt on someone who already joined a network earlier in the batch is never made (with
Poisson counts of approaches a person may be approached twice in one step).

The candidate's answer draws a number keyed by (candidate, network): it does not change when
other candidates come or go (sim/rng.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.crime.roles import fit, motivation
from sim.vocabulary import CHANNEL, MEDIA, MEDIUM, NO_NETWORK, ROLE

if TYPE_CHECKING:
    from sim.recruitment.base import RecruitmentRule
    from sim.recruitment.market import RecruitmentMarket
    from sim.rng import StepRandom


def acceptance_probability(rule: RecruitmentRule, networks, candidates, roles, trust, volunteer: bool = False) -> np.ndarray:
    """Chance that each attempt succeeds (see the module docstring)."""
    m = rule.model
    enabler_fits = m.business.enabler_fits[m.networks.business_model[networks]]
    p = rule.params.accept_base * np.asarray(trust) * fit(m.pop, candidates, roles, enabler_fits)
    if not volunteer:
        p = p * motivation(m.pop, candidates, roles, m.config.recruitment.acceptance)
    trusted_enough = (roles != ROLE["core"]) | (np.asarray(trust) >= m.config.recruitment.acceptance.min_core_trust)
    return np.clip(np.where(trusted_enough, p, 0.0), 0.0, 1.0)


def resolve(rule: RecruitmentRule, market: RecruitmentMarket, draws: StepRandom, networks, candidates, roles, trust,
            medium=None, volunteer: bool = False, attempt: int = 0) -> np.ndarray:
    """Decide a batch of attempts by `rule`; joins the accepted; returns the accepted mask.

    `medium` defaults to the rule's own; a rule whose approaches differ (self-selection) passes
    an array of medium codes, one per attempt. `attempt` numbers a rule's successive batches
    within one step, so that each has its own draws.
    """
    medium = rule.medium if medium is None else medium
    m = rule.model
    networks, candidates, roles = (np.asarray(x, dtype=np.int64) for x in (networks, candidates, roles))
    if len(candidates) == 0:
        return np.zeros(0, dtype=bool)
    media = np.broadcast_to(np.asarray(MEDIUM[medium] if isinstance(medium, str) else medium), candidates.shape)
    keys = m.networks.draw_keys(networks)
    u = draws.uniform(candidates, f"accept:{attempt}", with_units=keys)
    accepted = u < acceptance_probability(rule, networks, candidates, roles, trust, volunteer)
    role_cap = m.business.role_cap(m.networks.business_model[networks], m.config.networks.growth_slack)
    # in a random order (keyed like the answers), so no network wins by its position in the batch
    position = np.empty(len(candidates), dtype=np.int64)
    position[_batch_order(candidates, keys, draws, attempt)] = np.arange(len(candidates))
    joined_at: dict[int, int] = {}
    for i in np.flatnonzero(accepted)[np.argsort(position[accepted])]:
        c, net, role = candidates[i], networks[i], roles[i]
        if m.pop.network[c] != NO_NETWORK or not m.networks.active[net] or m.networks.role_counts[net, role] >= role_cap[i, role]:
            accepted[i] = False  # joined another network earlier, or the role filled up meanwhile
            continue
        m.membership.join(market.step, c, net, roles[i], rule.name, MEDIA[media[i]])
        joined_at[int(c)] = position[i]
        market.taken(c)
    made = _made(candidates, position, joined_at)
    accepted &= made
    _log(rule, market.step, candidates[made], networks[made], media[made], roles[made], accepted[made])
    return accepted


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


def _log(rule: RecruitmentRule, step: int, candidates, networks, media, roles, accepted) -> None:
    rec = rule.model.recorder
    rec.events.add(step, "recruit_attempt", candidates, network=networks, channel=CHANNEL[rule.name],
                   medium=media, role=roles, accepted=accepted)
    rec.tally[f"attempts_{rule.name}"] += len(candidates)
    rec.tally[f"refusals_{rule.name}"] += int(len(candidates) - accepted.sum())
