"""Deciding recruitment attempts, the same way for every channel.

A candidate accepts with probability
    accept_base(channel) x trust x motivation(candidate, role) x fit(candidate, role),
where trust comes from the tie or the place the approach went through. Volunteers
(self-selection) are motivated by definition: there the network decides, on trust and fit.
Every attempt, accepted or refused, is logged with its channel. A network never takes more
people into a role than (1 + growth_slack) x its need, even when several accept in one batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.crime.roles import fit, motivation
from sim.vocabulary import CHANNEL, MEDIA, MEDIUM, NO_NETWORK, ROLE

if TYPE_CHECKING:
    from sim.recruitment.base import RecruitmentRule


def acceptance_probability(rule: RecruitmentRule, networks, candidates, roles, trust, volunteer: bool = False) -> np.ndarray:
    m = rule.model
    enabler_fits = m.business.enabler_fits[m.networks.business_model[networks]]
    p = rule.params.accept_base * np.asarray(trust) * fit(m.pop, candidates, roles, enabler_fits)
    if not volunteer:
        p = p * motivation(m.pop, candidates, roles, m.params.recruitment.acceptance)
    trusted_enough = (roles != ROLE["core"]) | (np.asarray(trust) >= m.params.recruitment.acceptance.min_core_trust)
    return np.clip(np.where(trusted_enough, p, 0.0), 0.0, 1.0)


def resolve(rule: RecruitmentRule, networks, candidates, roles, trust, medium=None, volunteer: bool = False) -> np.ndarray:
    """Decide a batch of attempts by `rule`; joins the accepted; returns the accepted mask.

    `medium` defaults to the rule's own; a rule whose approaches differ (self-selection) passes
    an array of medium codes, one per attempt.
    """
    medium = rule.medium if medium is None else medium
    m = rule.model
    networks, candidates, roles = (np.asarray(x, dtype=np.int64) for x in (networks, candidates, roles))
    if len(candidates) == 0:
        return np.zeros(0, dtype=bool)
    media = np.broadcast_to(np.asarray(MEDIUM[medium] if isinstance(medium, str) else medium), candidates.shape)
    accepted = rule.rng.random(len(candidates)) < acceptance_probability(rule, networks, candidates, roles, trust, volunteer)
    role_cap = m.business.role_cap(m.networks.business_model[networks], m.params.networks.growth_slack)
    for i in rule.rng.permutation(np.flatnonzero(accepted)):  # random order: no network wins by position
        c, net, role = candidates[i], networks[i], roles[i]
        if m.pop.network[c] != NO_NETWORK or not m.networks.active[net] or m.networks.role_counts[net, role] >= role_cap[i, role]:
            accepted[i] = False  # joined another network earlier in this step, or the role filled up meanwhile
            continue
        m.membership.join(m.step_now, c, net, roles[i], rule.name, MEDIA[media[i]])
        m.available[c] = False
    m.recorder.events.add(m.step_now, "recruit_attempt", candidates, network=networks, channel=CHANNEL[rule.name],
                          medium=media, role=roles, accepted=accepted)
    m.recorder.tally[f"attempts_{rule.name}"] += len(candidates)
    m.recorder.tally[f"refusals_{rule.name}"] += int(len(candidates) - accepted.sum())
    return accepted
