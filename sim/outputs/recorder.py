"""Collects what a run produces: per-step counts, network snapshots and the event log.

Everything is appended as numpy chunks or small dicts and turned into DataFrames once, at the
end (`RunResults`), so recording costs almost nothing per step.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from sim.outputs.snapshots import snapshot_frame
from sim.population import Population
from sim.vocabulary import CHANNELS, MEDIA, OUTCOMES, ROLES, SPECIALISMS

EVENT_KINDS = ("recruit_attempt", "arrest", "release", "desist", "promoted", "network_founded", "network_dissolved", "exit", "lost_contact")
EVENT = {name: code for code, name in enumerate(EVENT_KINDS)}


class EventLog:
    """One row per event; person attributes are copied at the moment of the event."""

    _COLUMNS = ("step", "kind", "network_id", "person_id", "channel", "medium", "role", "accepted", "outcome", "age", "sex", "it_skill", "specialism")

    def __init__(self, pop: Population):
        self.pop = pop
        self.chunks: dict[str, list[np.ndarray]] = {c: [] for c in self._COLUMNS}
        self.recording = True  # False during the burn-in: events are not kept
        self.offset = 0  # model steps before the outputs' step 1 (the burn-in)

    def add(self, step: int, kind: str, persons=None, network=-1, channel=-1, medium=-1, role=-1, accepted=True, outcome=-1) -> None:
        if not self.recording:
            return
        step = step - self.offset
        persons = np.atleast_1d(np.asarray(persons if persons is not None else -1, dtype=np.int64))
        k = len(persons)
        if k == 0:
            return
        given = {"step": step, "kind": EVENT[kind], "network_id": network, "channel": channel, "medium": medium,
                 "role": role, "accepted": accepted, "outcome": outcome}
        for name, value in given.items():
            if _is_scalar(value):  # a scalar is kept as it is, and fills its rows in `frame`
                # (a column a call made of it with np.full: ~3 us, 15 a step at 10,000 persons)
                self.chunks[name].append(value if isinstance(value, int | float | np.generic) else np.asarray(value)[()])
                continue
            value = np.asarray(value)
            # arrays are copied, so that a caller changing its own array later cannot rewrite the log
            if value.shape == (k,):
                value = value.copy()
            else:
                value = np.broadcast_to(value, (k,)).copy()
            self.chunks[name].append(value)
        for name, value in self._attributes(persons).items():  # new arrays already
            self.chunks[name].append(value)

    def _attributes(self, persons: np.ndarray) -> dict[str, np.ndarray]:
        """The persons' attributes at the event (new arrays); for -1 (no person): -1 or NaN."""
        pop = self.pop
        if persons.min() >= 0:  # the usual case: indexing alone
            return {"person_id": pop.person_id[persons], "age": pop.age[persons], "sex": pop.sex[persons],
                    "it_skill": pop.it_skill[persons], "specialism": pop.specialism[persons]}
        real = persons >= 0
        slots = np.where(real, persons, 0)
        return {"person_id": np.where(real, pop.person_id[slots], -1), "age": np.where(real, pop.age[slots], np.nan),
                "sex": np.where(real, pop.sex[slots], -1), "it_skill": np.where(real, pop.it_skill[slots], np.nan),
                "specialism": np.where(real, pop.specialism[slots], -1)}

    def frame(self) -> pd.DataFrame:
        sizes = [len(ids) for ids in self.chunks["person_id"]]  # (always an array: the persons' own)
        cols = {c: _column(v, sizes) for c, v in self.chunks.items()}
        df = pd.DataFrame({
            "step": cols["step"].astype(np.int64),
            "kind": _labels(cols["kind"], EVENT_KINDS),
            "network_id": cols["network_id"].astype(np.int64),
            "person_id": cols["person_id"].astype(np.int64),
            "channel": _labels(cols["channel"], CHANNELS),
            "medium": _labels(cols["medium"], MEDIA),
            "role": _labels(cols["role"], ROLES),
            "accepted": cols["accepted"].astype(bool),
            "outcome": _labels(cols["outcome"], OUTCOMES),
            "age": cols["age"].astype(float),
            "sex": _labels(cols["sex"], ("F", "M")),
            "it_skill": cols["it_skill"].astype(float),
            "specialism": _labels(cols["specialism"], SPECIALISMS),
        })
        return df


def _is_scalar(value) -> bool:
    """`np.ndim(value) == 0`, without its call for the arrays and numbers events are given (8 a
    call of `EventLog.add`, ~40 a step at 10,000 persons: np.ndim costs ~1 us each)."""
    if isinstance(value, np.ndarray):
        return value.ndim == 0
    return isinstance(value, int | float | np.generic) or np.ndim(value) == 0


def _column(values: list, sizes: list[int]) -> np.ndarray:
    """A column of the log from its calls' values: arrays as they are, a scalar repeated over its call's rows."""
    if all(_is_scalar(v) for v in values):
        return np.repeat(np.array(values), sizes) if values else np.zeros(0)
    return np.concatenate([np.full(k, v) if _is_scalar(v) else v for v, k in zip(values, sizes, strict=True)])


def _labels(codes: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Integer codes to names; negative codes (not applicable) to ''."""
    codes = np.asarray(codes, dtype=np.int64)
    table = np.array(list(names) + [""], dtype=object)
    return table[np.where(codes >= 0, codes, len(names))]


class Recorder:
    """Per-step rows (`tally` counts events within the step) and network snapshots."""

    def __init__(self, pop: Population):
        self.events = EventLog(pop)
        self.tally: Counter[str] = Counter()
        self.rows: list[dict] = []
        self.snapshots: list[dict[str, np.ndarray]] = []  # columns of each network snapshot (sim/outputs/snapshots.py)
        self.graphs: list = []  # MemberGraph per snapshot (sim/outputs/graphs.py), when asked for

    @property
    def recording(self) -> bool:
        """False during the burn-in (sim/model.py): nothing is kept."""
        return self.events.recording

    @recording.setter
    def recording(self, on: bool) -> None:
        self.events.recording = on

    def start(self, offset: int) -> None:
        """Start recording after a burn-in of `offset` model steps (events count steps from its end)."""
        self.events.offset = offset
        self.recording = True
        self.tally = Counter()

    def discard_step(self) -> None:
        """A burn-in step ends: its counts are dropped."""
        self.tally = Counter()

    def end_step(self, row: dict) -> None:
        row.update(self.tally)
        self.rows.append(row)
        self.tally = Counter()

    def timeseries(self, columns: list[str]) -> pd.DataFrame:
        """One row per step (see `timeseries_frame`)."""
        return timeseries_frame(self.rows, columns)

    def networks(self, pending: list[dict[str, np.ndarray]] = ()) -> pd.DataFrame:
        """The snapshots taken, followed by `pending` ones (not stored), as one frame."""
        return snapshot_frame([*self.snapshots, *pending])


REAL_COLUMNS = ("year", "losses")  # every other timeseries column is a count


def timeseries_frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """Timeseries rows as a frame: `columns` first, then any other; counts are int64 (a step
    without an event counts 0), the rest float."""
    df = pd.DataFrame(rows)
    df = df.reindex(columns=columns + [c for c in df.columns if c not in columns], fill_value=0).fillna(0)
    return df.astype({c: ("float64" if c in REAL_COLUMNS else "int64") for c in df.columns})
