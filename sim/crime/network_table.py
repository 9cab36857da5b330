"""The state of all criminal networks, one row per network ever founded (ids are row numbers).

Networks are few compared with persons, but their per-step work (offending, detection,
capability) is still done for all of them at once, over these columns. Mesa
`CriminalNetwork` agents are views of a row.
"""

from __future__ import annotations

import numpy as np

from sim.vocabulary import ROLES

_SPEC = {
    "business_model": (np.int16, 0),
    "founded_step": (np.int32, 0),
    "dissolved_step": (np.int32, -1),
    "active": (bool, False),
    "core_offline": (np.int32, 0),  # core members recruited offline (founder excluded)
    "core_online": (np.int32, 0),
    "growth_offline": (np.int32, 0),  # non-core members recruited offline
    "growth_online": (np.int32, 0),
    "offences_total": (np.int64, 0),
    "losses_total": (float, 0.0),
    "recent_offences": (float, 0.0),  # offences over roughly the last year (exponential window)
    "recent_reports": (float, 0.0),  # victims who reported to the police, over roughly the last year
    "founded_online": (bool, False),  # its core formed among forum users (sim/crime/founding.py)
    "low_capability_since": (np.int32, -1),
    "detection_boost": (float, 0.0),  # extra detection hazard per year (e.g. recruited an informant)
    "draw_key": (np.int64, -1),  # founding step and founder's slot: see `draw_keys`
}
FOUNDER_SLOTS = 1 << 24  # more slots than any population the schema allows


class NetworkTable:
    def __init__(self, capacity: int = 64):
        self.n = 0
        self._capacity = capacity
        for name, (dtype, fill) in _SPEC.items():
            setattr(self, name, np.full(capacity, fill, dtype=dtype))
        self.role_counts = np.zeros((capacity, len(ROLES)), dtype=np.int32)

    def _grow(self) -> None:
        extra = self._capacity
        for name, (dtype, fill) in _SPEC.items():
            setattr(self, name, np.concatenate([getattr(self, name), np.full(extra, fill, dtype=dtype)]))
        self.role_counts = np.concatenate([self.role_counts, np.zeros((extra, len(ROLES)), dtype=np.int32)])
        self._capacity += extra

    def add(self, business_model: int, step: int, founder: int) -> int:
        """A new, active, empty network founded by the person in slot `founder`; returns its id."""
        if self.n == self._capacity:
            self._grow()
        nid = self.n
        self.n += 1
        self.business_model[nid] = business_model
        self.founded_step[nid] = step
        self.active[nid] = True
        self.draw_key[nid] = step * FOUNDER_SLOTS + founder
        return nid

    def draw_keys(self, ids) -> np.ndarray:
        """The units by which networks draw random numbers (sim/rng.py): (founding step, founder).

        Ids are row numbers, given in the order of founding: after a founding that happens in
        one of two paired runs only, every later network would get another id, and with it
        other numbers. The same founder founding in the same step keeps the same key."""
        return self.draw_key[np.asarray(ids, dtype=np.int64)]

    def active_ids(self) -> np.ndarray:
        return np.flatnonzero(self.active[: self.n])

    def size(self, ids: np.ndarray) -> np.ndarray:
        return self.role_counts[ids].sum(axis=1)
