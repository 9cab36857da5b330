"""What is recorded of the model's networks: snapshots (the output contract, docs/outputs.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim import sorted_sets
from sim.crime.co_offending import fellow_ties
from sim.crime.origin import origins_of
from sim.vocabulary import CHANNELS, ORIGINS, ROLES

if TYPE_CHECKING:
    from sim.model import RecruitModel


def network_snapshot(m: RecruitModel, since: int, origin_step: int = 0) -> dict[str, np.ndarray]:
    """Rows for networks active now or dissolved since the previous snapshot (`since`), with
    steps counted from `origin_step` (the outputs count from the burn-in's end), as columns:
    the run's snapshots become one DataFrame at the end (`snapshot_frame`; a DataFrame per
    snapshot cost ~0.1 ms a step at 10,000 persons, a tenth of the step's recording)."""
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
        "step": np.full(len(ids), m.step_now - origin_step, dtype=np.int64),
        "network_id": ids.astype(np.int64),
        "business_model": np.array(m.business.names, dtype=object)[bm],
        "status": np.where(t.active[ids], "active", "dissolved").astype(object),
        "size": t.role_counts[ids].sum(axis=1).astype(np.int64),
        **{f"members_{r}": t.role_counts[ids, i].astype(np.int64) for i, r in enumerate(ROLES)},
        **{f"members_{c}": by_channel[ids, i].astype(np.int64) for i, c in enumerate(CHANNELS)},
        "origin": np.array(ORIGINS, dtype=object)[origins_of(t, ids, m.config.origin)],
        "capability": m.business.capability(bm, t.role_counts[ids]),
        "neighbourhoods": neighbourhoods[ids].astype(np.int64),
        "isolated_members": isolated_members(m, members, n)[ids],
        "founded_step": t.founded_step[ids].astype(np.int64) - origin_step,  # during the burn-in: zero or negative
        "offences_total": t.offences_total[ids].astype(np.int64),
        "losses_total": t.losses_total[ids].astype(float),
    }
    return frame


def snapshot_frame(snapshots: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """Snapshots (`network_snapshot`'s columns) one after another, as one frame."""
    if not snapshots:
        return pd.DataFrame()
    return pd.DataFrame({name: np.concatenate([s[name] for s in snapshots]) for name in snapshots[0]})


def isolated_members(m: RecruitModel, members: np.ndarray, n: int) -> np.ndarray:
    """Per network id: members with no tie (of any layer) to a fellow member of their network."""
    pop = m.pop
    ego, _ = fellow_ties(m.ties, pop, members)
    alone = members[~sorted_sets.isin(members, ego)]
    return np.bincount(pop.network[alone], minlength=n).astype(np.int64)
