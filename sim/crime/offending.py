"""Offending: networks commit offences at a rate set by their capability; each offence has
victims, fewer the more crowded the market (sim/crime/saturation.py), and each victim a
heavy-tailed loss (lognormal, capped: NSCR research for the WODC reports losses from a few
hundred euros to over 200,000). A share of victims report to the police (online fraud is
reported far less than other crime: CSEW; van de Weijer, Leukfeldt & Bernasco 2019); the
reports, not the offences, make a network visible to the police (enforcement.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.crime.saturation import market_yield

if TYPE_CHECKING:
    from sim.model import RecruitModel
    from sim.rng import StepRandom


def offend(m: RecruitModel, draws: StepRandom) -> None:
    """Offences, victims and losses of every active network this step (keyed by network id)."""
    t, b = m.networks, m.business
    ids = t.active_ids()
    yield_now = market_yield(m)  # of the last year's offending, before this step's
    t.recent_offences[ids] *= m.year_decay
    t.recent_reports[ids] *= m.year_decay
    if len(ids) == 0:
        return
    bm = t.business_model[ids]
    capability = b.capability(bm, t.role_counts[ids])
    keys = t.draw_keys(ids)
    offences = draws.poisson(keys, m.clock.expected(b.offence_rate[bm]) * capability, "offences")
    victims = draws.poisson(keys, b.victims_per_offence[bm] * yield_now * offences, "victims")
    reports = np.minimum(draws.poisson(keys, m.config.enforcement.report_share * victims, "reports"), victims)
    owner = np.repeat(np.arange(len(ids)), victims)
    nth = np.arange(len(owner)) - np.repeat(np.cumsum(victims) - victims, victims)  # victim number within its network
    z = draws.normal(keys[owner], "loss", with_units=nth)
    loss = np.minimum(b.loss_median[bm][owner] * np.exp(b.loss_sigma[bm][owner] * z), b.loss_max[bm][owner])
    losses = np.bincount(owner, weights=loss, minlength=len(ids)) * m.effects.factor("losses")
    t.offences_total[ids] += offences
    t.losses_total[ids] += losses
    t.recent_offences[ids] += offences
    t.recent_reports[ids] += reports
    m.recorder.tally["offences"] += int(offences.sum())
    m.recorder.tally["victims"] += int(victims.sum())
    m.recorder.tally["victims_reported"] += int(reports.sum())
    m.recorder.tally["losses"] += float(losses.sum())
