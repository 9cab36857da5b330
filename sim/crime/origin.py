"""The origin type of a network, from its recruitment history (docs/evidence.md section 1).

How the *core* formed: online when most core members other than the founder were recruited
through online channels. How the network *grew*: an offline core counts as grown online once
at least `online_growth_min_share` of its non-core recruits came online; an online core counts
as grown offline when most of its non-core recruits came offline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.vocabulary import ORIGINS

if TYPE_CHECKING:
    from sim.scenario.schema import OriginParams

OFFLINE, OFFLINE_CORE_ONLINE_GROWTH, ONLINE, ONLINE_CORE_OFFLINE_GROWTH = range(4)
assert ORIGINS[ONLINE_CORE_OFFLINE_GROWTH] == "online_core_offline_growth"


def origins_of(networks, ids: np.ndarray, params: OriginParams) -> np.ndarray:
    """Origin code of each network id, from the network table's recruitment counters."""
    t = networks
    return classify(t.core_offline[ids], t.core_online[ids], t.growth_offline[ids], t.growth_online[ids], params)


def classify(core_offline, core_online, growth_offline, growth_online, params: OriginParams) -> np.ndarray:
    """Origin code (index into ORIGINS) of each network."""
    core_offline, core_online = np.asarray(core_offline), np.asarray(core_online)
    growth_offline, growth_online = np.asarray(growth_offline), np.asarray(growth_online)
    online_core = core_online > core_offline
    grown = growth_offline + growth_online
    online_share = np.where(grown > 0, growth_online / np.maximum(grown, 1), 0.0)
    grew_online = (growth_online > 0) & (online_share >= params.online_growth_min_share)
    grew_offline = growth_offline > growth_online
    return np.where(
        online_core,
        np.where(grew_offline, ONLINE_CORE_OFFLINE_GROWTH, ONLINE),
        np.where(grew_online, OFFLINE_CORE_ONLINE_GROWTH, OFFLINE),
    )
