"""Social ties as edge arrays, one row per (pair, layer).

Ties are undirected: each is stored once with `lo < hi` (person slots) and kept sorted by the
key (lo, hi, layer), so finding, strengthening and adding a batch of ties is a searchsorted and
an insert, not a Python loop. Strength decays lazily: a tie stores the strength it had at its
last use (`last_step`), and its current strength is computed from the layer's half-life only
when needed; forgotten ties are pruned every few steps. That keeps per-step work proportional
to the number of meetings, not to the number of ties.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.timing import Clock
from sim.vocabulary import LAYER, LAYERS

if TYPE_CHECKING:
    from sim.scenario.schema import TieParams

NO_PLACE = -1  # ties made at set-up (household, school, initial friendships)
_COLUMNS = ("lo", "hi", "layer", "strength", "last_step", "made_step", "made_place")


class TieStore:
    """All ties of all layers. Columns are numpy arrays of equal length, sorted by `key`."""

    def __init__(self, n_slots: int, params: TieParams, clock: Clock):
        self.n_slots = n_slots
        self.params = params
        self.n_layers = len(LAYERS)
        self.initial_strength = np.array([params.initial_strength[name] for name in LAYERS])
        # per-step log2 decay per layer (0 = no decay)
        self.log2_decay = np.array([
            0.0 if params.half_life_years[name] <= 0 else clock.dt / params.half_life_years[name] for name in LAYERS
        ])
        self.key = np.zeros(0, dtype=np.int64)
        self.lo = np.zeros(0, dtype=np.int32)
        self.hi = np.zeros(0, dtype=np.int32)
        self.layer = np.zeros(0, dtype=np.int8)
        self.strength = np.zeros(0, dtype=np.float32)
        self.last_step = np.zeros(0, dtype=np.int32)
        self.made_step = np.zeros(0, dtype=np.int32)
        self.made_place = np.zeros(0, dtype=np.int16)

    def __len__(self) -> int:
        return len(self.key)

    # ------------------------------------------------------------------ keys
    def _keys(self, lo: np.ndarray, hi: np.ndarray, layer: np.ndarray) -> np.ndarray:
        return (lo.astype(np.int64) * self.n_slots + hi) * self.n_layers + layer

    def current_strength(self, step: int, index: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Strength of the ties at `index` now, after decay since their last use."""
        age = step - self.last_step[index]
        return self.strength[index] * np.exp2(-self.log2_decay[self.layer[index]] * age)

    def find(self, a: np.ndarray, b: np.ndarray, layer: np.ndarray | int) -> np.ndarray:
        """Row of each tie (a, b, layer), or -1 where there is none."""
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        keys = self._keys(lo, hi, np.broadcast_to(layer, lo.shape))
        pos = np.searchsorted(self.key, keys)
        pos_clipped = np.minimum(pos, max(len(self.key) - 1, 0))
        found = (pos < len(self.key)) & (self.key[pos_clipped] == keys) if len(self.key) else np.zeros(len(keys), bool)
        return np.where(found, pos_clipped, -1)

    # ------------------------------------------------------------------ changes
    def meet(self, a: np.ndarray, b: np.ndarray, layer: np.ndarray | int, step: int, place: np.ndarray | int = NO_PLACE,
             rng: np.random.Generator | None = None) -> None:
        """Meetings: strengthen the tie of each pair on `layer`; strangers make a new tie.

        With `rng`, a meeting of strangers leaves a tie only with chance `new_tie_chance`, at
        `acquaintance_strength` (chance encounters); without, every new pair becomes a tie at the
        layer's initial strength (ties made at set-up, household members).
        Pairs may repeat within a batch; each pair meets at most once per call.
        """
        a, b = np.asarray(a), np.asarray(b)
        layer = np.broadcast_to(np.asarray(layer, dtype=np.int8), a.shape)
        place = np.broadcast_to(np.asarray(place, dtype=np.int16), a.shape)
        keep = a != b
        lo, hi = np.minimum(a, b)[keep], np.maximum(a, b)[keep]
        keys = self._keys(lo, hi, layer[keep])
        keys, first = np.unique(keys, return_index=True)
        if len(keys) == 0:
            return
        lo, hi, lay, plc = lo[first], hi[first], layer[keep][first], place[keep][first]
        pos = np.searchsorted(self.key, keys)
        exists = pos < len(self.key)
        exists[exists] = self.key[pos[exists]] == keys[exists]
        rows = pos[exists]
        now = self.current_strength(step, rows)
        self.strength[rows] = now + self.params.meeting_gain * (1.0 - now)
        self.last_step[rows] = step
        new = ~exists
        if rng is not None:
            new &= rng.random(len(new)) < self.params.new_tie_chance
        if new.any():
            strength = self.initial_strength[lay[new]] if rng is None else self.params.acquaintance_strength
            self._insert(pos[new], keys[new], lo[new], hi[new], lay[new], step, plc[new], strength)

    def _insert(self, pos, keys, lo, hi, layer, step, place, strength) -> None:
        values = {
            "key": keys, "lo": lo, "hi": hi, "layer": layer,
            "strength": strength, "last_step": step, "made_step": step, "made_place": place,
        }
        for name, value in values.items():
            column = getattr(self, name)
            setattr(self, name, np.insert(column, pos, np.broadcast_to(value, pos.shape).astype(column.dtype)))

    def add_initial(self, a: np.ndarray, b: np.ndarray, layer: int) -> None:
        """Ties made at set-up (step 0, no place)."""
        self.meet(a, b, layer, step=0, place=NO_PLACE)

    def _keep(self, mask: np.ndarray) -> None:
        for name in ("key", *_COLUMNS):
            setattr(self, name, getattr(self, name)[mask])

    def remove_persons(self, slots: np.ndarray) -> None:
        """Forget every tie of the given persons (they left the population)."""
        if len(slots) == 0 or len(self.key) == 0:
            return
        gone = np.zeros(self.n_slots, dtype=bool)
        gone[slots] = True
        self._keep(~(gone[self.lo] | gone[self.hi]))

    def prune(self, step: int) -> int:
        """Remove ties decayed below `min_strength`; returns how many were removed."""
        keep = self.current_strength(step) >= self.params.min_strength
        removed = int(len(keep) - keep.sum())
        if removed:
            self._keep(keep)
        return removed

    # ------------------------------------------------------------------ queries
    def incident(self, slots: np.ndarray, layers: tuple[str, ...] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ties touching the given persons: (ego, alter, row) with ego in `slots`.

        A tie between two of the given persons appears twice, once from each side.
        """
        flag = np.zeros(self.n_slots, dtype=bool)
        flag[slots] = True
        mask = np.ones(len(self.key), dtype=bool) if layers is None else np.isin(self.layer, [LAYER[x] for x in layers])
        from_lo = np.flatnonzero(mask & flag[self.lo])
        from_hi = np.flatnonzero(mask & flag[self.hi])
        ego = np.concatenate([self.lo[from_lo], self.hi[from_hi]])
        alter = np.concatenate([self.hi[from_lo], self.lo[from_hi]])
        return ego, alter, np.concatenate([from_lo, from_hi])

    def count_by_layer(self) -> np.ndarray:
        return np.bincount(self.layer, minlength=self.n_layers)

    def degree(self, layers: tuple[str, ...] | None = None) -> np.ndarray:
        """Number of ties of each person (optionally within some layers)."""
        mask = np.ones(len(self.key), dtype=bool) if layers is None else np.isin(self.layer, [LAYER[x] for x in layers])
        return np.bincount(self.lo[mask], minlength=self.n_slots) + np.bincount(self.hi[mask], minlength=self.n_slots)
