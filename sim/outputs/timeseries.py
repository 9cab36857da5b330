"""What is recorded of the model each step: one timeseries row (the output contract,
docs/outputs.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.crime.origin import origins_of
from sim.vocabulary import CHANNELS, LAYERS, NO_NETWORK, ORIGINS, ROLES

if TYPE_CHECKING:
    from sim.model import RecruitModel

TALLIED = ("offences", "victims", "victims_reported", "losses", "arrests", "desistances", "networks_founded", "networks_dissolved", "networks_detected",
           "informants_recruited", "arrests_intervention", "persons_reached", "persons_warned", "persons_diverted",
           "lost_contact")

FORUM_USE = ("forum_users", "forum_user_joins", "forum_user_quits", "forum_users_in_networks")


def forum_use(m: RecruitModel) -> dict:
    """Forum users at the end of the step, those who joined and quit in it, and the users who
    are network members (the serious actors)."""
    users = m.online.forum_user
    return {"forum_users": int(users.sum()), "forum_user_joins": m.online.forum_user_joins,
            "forum_user_quits": m.online.forum_user_quits,
            "forum_users_in_networks": int(np.count_nonzero(users & (m.pop.network != NO_NETWORK)))}


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
        *FORUM_USE,
        *[f"ties_{layer}" for layer in LAYERS],
    ]


def timeseries_row(m: RecruitModel) -> dict:
    t, pop = m.networks, m.pop
    ids = t.active_ids()
    counts = t.role_counts[ids].sum(axis=0) if len(ids) else np.zeros(len(ROLES), dtype=np.int64)
    row = {
        "step": m.output_step,
        "year": m.output_step * m.clock.dt,
        "population": pop.size,
        "in_prison": int((pop.prison_until >= 0).sum()),
        "involved": int(counts.sum()),
        **{f"members_{r}": int(c) for r, c in zip(ROLES, counts)},
        "networks_active": len(ids),
        **{f"networks_{o}": int(c) for o, c in zip(ORIGINS, np.bincount(origins_of(t, ids, m.config.origin), minlength=len(ORIGINS)))},
        **{f"active_users_{s.name}": len(m.online.active[s.code]) for s in m.online.spaces},
        **forum_use(m),
        **{f"ties_{layer}": int(c) for layer, c in zip(LAYERS, m.ties.count_by_layer())},
    }
    return row
