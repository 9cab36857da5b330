"""Offending: networks commit offences at a rate set by their capability; each offence has
victims, and each victim a heavy-tailed loss (lognormal, capped: NSCR research for the WODC
reports losses from a few hundred euros to over 200,000)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model import RecruitModel
    from sim.rng import StepRandom


def offend(m: RecruitModel, draws: StepRandom) -> None:
    """Offences, victims and losses of every active network this step (keyed by network id)."""
    t, b = m.networks, m.business
    ids = t.active_ids()
    t.recent_offences[ids] *= m.year_decay
    if len(ids) == 0:
        return
    bm = t.business_model[ids]
    capability = b.capability(bm, t.role_counts[ids])
    keys = t.draw_keys(ids)
    offences = draws.poisson(keys, m.clock.expected(b.offence_rate[bm]) * capability, "offences")
    extra = draws.poisson(keys, np.maximum(b.victims_per_offence[bm] - 1.0, 0.0) * offences, "victims")
    victims = offences + extra
    owner = np.repeat(np.arange(len(ids)), victims)
    nth = np.arange(len(owner)) - np.repeat(np.cumsum(victims) - victims, victims)  # victim number within its network
    z = draws.normal(keys[owner], "loss", with_units=nth)
    loss = np.minimum(b.loss_median[bm][owner] * np.exp(b.loss_sigma[bm][owner] * z), b.loss_max[bm][owner])
    losses = np.bincount(owner, weights=loss, minlength=len(ids)) * m.effects.factor("losses")
    t.offences_total[ids] += offences
    t.losses_total[ids] += losses
    t.recent_offences[ids] += offences
    m.recorder.tally["offences"] += int(offences.sum())
    m.recorder.tally["victims"] += int(victims.sum())
    m.recorder.tally["losses"] += float(losses.sum())
