"""What is recorded of the model: one timeseries row per step and network snapshots.

The column names here are the output contract (docs/outputs.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.crime.origin import classify
from sim.vocabulary import CHANNELS, LAYERS, ORIGINS, ROLES

if TYPE_CHECKING:
    from sim.model import RecruitModel

TALLIED = ("offences", "victims", "losses", "arrests", "desistances", "networks_founded", "networks_dissolved", "networks_detected",
           "informants_recruited", "arrests_intervention", "persons_reached", "persons_warned", "persons_diverted")


def timeseries_columns(m: RecruitModel) -> list[str]:
    attempted = [c for c in CHANNELS if c != "founder"]
    return [
        "step", "year", "population", "in_prison", "involved",
        *[f"members_{r}" for r in ROLES],
        "networks_active", *[f"networks_{o}" for o in ORIGINS],
        *[f"recruits_{c}" for c in CHANNELS], "recruits_offline", "recruits_online",
        *[f"attempts_{c}" for c in attempted], *[f"refusals_{c}" for c in attempted],
        *TALLIED,
        *[f"active_users_{s.name}" for s in m.online.spaces],
        *[f"ties_{layer}" for layer in LAYERS],
    ]


def origins(m: RecruitModel, ids: np.ndarray) -> np.ndarray:
    t = m.networks
    return classify(t.core_offline[ids], t.core_online[ids], t.growth_offline[ids], t.growth_online[ids], m.config.origin)


def timeseries_row(m: RecruitModel) -> dict:
    t, pop = m.networks, m.pop
    ids = t.active_ids()
    counts = t.role_counts[ids].sum(axis=0) if len(ids) else np.zeros(len(ROLES), dtype=np.int64)
    row = {
        "step": m.step_now,
        "year": m.step_now * m.clock.dt,
        "population": pop.size,
        "in_prison": int((pop.prison_until >= 0).sum()),
        "involved": int(counts.sum()),
        **{f"members_{r}": int(c) for r, c in zip(ROLES, counts)},
        "networks_active": len(ids),
        **{f"networks_{o}": int(c) for o, c in zip(ORIGINS, np.bincount(origins(m, ids), minlength=len(ORIGINS)))},
        **{f"active_users_{s.name}": len(m.online.active[s.code]) for s in m.online.spaces},
        **{f"ties_{layer}": int(c) for layer, c in zip(LAYERS, m.ties.count_by_layer())},
    }
    return row


def network_snapshot(m: RecruitModel, since: int) -> pd.DataFrame:
    """Rows for networks active now or dissolved since the previous snapshot (`since`)."""
    t, pop = m.networks, m.pop
    n = t.n
    ids = np.flatnonzero(t.active[:n] | (t.dissolved_step[:n] > since))
    members = pop.members()
    net = pop.network[members]
    by_channel = np.bincount(net * len(CHANNELS) + pop.join_channel[members], minlength=n * len(CHANNELS)).reshape(n, len(CHANNELS))
    pairs = np.unique(net.astype(np.int64) * (pop.params.neighbourhoods + 1) + pop.neighbourhood[members])
    neighbourhoods = np.bincount(pairs // (pop.params.neighbourhoods + 1), minlength=n)
    bm = t.business_model[ids]
    frame = {
        "step": np.full(len(ids), m.step_now, dtype=np.int64),
        "network_id": ids.astype(np.int64),
        "business_model": np.array(m.business.names, dtype=object)[bm],
        "status": np.where(t.active[ids], "active", "dissolved").astype(object),
        "size": t.role_counts[ids].sum(axis=1).astype(np.int64),
        **{f"members_{r}": t.role_counts[ids, i].astype(np.int64) for i, r in enumerate(ROLES)},
        **{f"members_{c}": by_channel[ids, i].astype(np.int64) for i, c in enumerate(CHANNELS)},
        "origin": np.array(ORIGINS, dtype=object)[origins(m, ids)],
        "capability": m.business.capability(bm, t.role_counts[ids]),
        "neighbourhoods": neighbourhoods[ids].astype(np.int64),
        "founded_step": t.founded_step[ids].astype(np.int64),
        "offences_total": t.offences_total[ids].astype(np.int64),
        "losses_total": t.losses_total[ids].astype(float),
    }
    return pd.DataFrame(frame)
