"""The in-memory result of one run: the three tables of the output contract (docs/outputs.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class RunResults:
    """What a run produced.

    timeseries: one row per step (column `step` first).
    networks:   one row per network per snapshot.
    events:     one row per event (recruitment attempts, arrests, desistance, foundings, ...).
    """

    timeseries: pd.DataFrame
    networks: pd.DataFrame
    events: pd.DataFrame
    graphs: list = field(default_factory=list)  # MemberGraph per snapshot, with outputs.network_graphs (sim/outputs/graphs.py)
