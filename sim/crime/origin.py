"""The origin type of a network, from the predominant mechanism of its core formation and of
its growth, as Leukfeldt, Kleemans & Stol (2017) built their four models (docs/ODD.md,
"Origin types").

How the *core* formed: the founding counts once, online for a network founded among forum users
(`founded_online`, sim/crime/founding.py), offline otherwise; each core member recruited later
counts once by the medium of their channel. The core formed online when the online counts are
more than the offline ones. How the network *grew*: by the medium of most of its non-core
recruits: an offline core counts as grown online when more than `online_growth_min_share` (0.5)
of them came online, an online core as grown offline when more than 1 - that share came offline;
a network that has not grown keeps the medium of its core.
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
    return classify(t.core_offline[ids], t.core_online[ids], t.growth_offline[ids], t.growth_online[ids], params,
                    founded_online=t.founded_online[ids])


def classify(core_offline, core_online, growth_offline, growth_online, params: OriginParams,
             founded_online=False) -> np.ndarray:
    """Origin code (index into ORIGINS) of each network (founder excluded from the core counts;
    `founded_online` says how the founding itself went)."""
    founded_online = np.asarray(founded_online, dtype=bool)
    core_offline = np.asarray(core_offline) + ~founded_online
    core_online = np.asarray(core_online) + founded_online
    growth_offline, growth_online = np.asarray(growth_offline), np.asarray(growth_online)
    online_core = core_online > core_offline
    grown = growth_offline + growth_online
    online_share = np.where(grown > 0, growth_online / np.maximum(grown, 1), 0.0)
    offline_share = np.where(grown > 0, growth_offline / np.maximum(grown, 1), 0.0)
    grew_online = online_share > params.online_growth_min_share
    grew_offline = offline_share > 1.0 - params.online_growth_min_share
    return np.where(
        online_core,
        np.where(grew_offline, ONLINE_CORE_OFFLINE_GROWTH, ONLINE),
        np.where(grew_online, OFFLINE_CORE_ONLINE_GROWTH, OFFLINE),
    )
