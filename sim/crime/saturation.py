"""The finite market of victims and cash-out opportunities: density dependence.

There are only so many people to defraud and so many ways to cash out, and networks compete for
them (criminal opportunities are finite: Cohen & Felson 1979; illegal markets are competitive:
Reuter 1983). The yield of an offence (its victims, hence its losses) falls as total offending per
capita rises:

    yield = 1 / (1 + O / market_half_saturation),

O being the offences of all networks over roughly the last year per 10,000 persons. A market that
pays less attracts fewer founders (founding rates are multiplied by the yield: founding.py) and
keeps fewer networks alive (a dissolution hazard `market_exit_rate x (1 - yield)`: lifecycle.py).
These are the model's negative feedbacks on the number of networks; the functional form and its
sizes are assumptions (docs/ODD.md, "Offending").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.model import RecruitModel

PER = 10_000.0  # per-capita quantities are per 10,000 persons


def offences_per_10k(m: RecruitModel) -> float:
    """Offences of all active networks over roughly the last year, per 10,000 persons."""
    t = m.networks
    return float(t.recent_offences[t.active_ids()].sum()) * PER / m.pop.size


def market_yield(m: RecruitModel) -> float:
    """Share (0-1] of an offence's full yield that the market still pays at today's offending."""
    return 1.0 / (1.0 + offences_per_10k(m) / m.config.networks.market_half_saturation)
