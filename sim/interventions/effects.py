"""The one registry of what interventions change in the model, keyed by owner.

An owner is an intervention's label (unique within a model, see schedule.py). Interventions
change model processes only through this registry, and model processes read only what it
derives, so overlapping interventions compose and each owner removes exactly its own part:

- factors on model processes (`factor(name)`: losses, detection hazards): the product of the
  factors in force, 1 when none is;
- online spaces: `trust_factor` is the product of the owners' factors, `infiltration` the
  largest informant share in force (the scenario's own value is the floor);
- persons: awareness of money-mule schemes and deterrence. Each wave of each owner is kept
  with its own strength, start and half-life; the population columns `mule_awareness` and
  `deterrence` are derived from them every step as 1 - prod(1 - e_i), e_i fading by its own
  half-life. A wave reaches persons, not slots: a newcomer in a slot starts with none;
- arrests: owners that are told of every arrest while in force (a diversion programme).

`withdraw(owner)` ends everything an owner holds in force (factors, spaces, listening); waves
on persons are not withdrawn: they fade.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from sim import sorted_sets

if TYPE_CHECKING:
    from sim.places.online_spaces import OnlineSpace, OnlineSpaces
    from sim.population import Population
    from sim.timing import Clock

EFFECTS = ("losses", "mule_detection", "network_detection", "mule_network_detection", "police_capacity")
PERSON_COLUMNS = ("mule_awareness", "deterrence")
NEGLIGIBLE = 1e-12  # a wave weaker than this is dropped: it changes no decision a double can tell


@dataclass
class PersonWave:
    """One owner's effect on a set of persons, set at `start_step`, fading by `decay` per step."""

    owner: str
    slots: np.ndarray
    person_ids: np.ndarray  # who held each slot when reached (a newcomer is not reached)
    strength: float
    start_step: int
    decay: float

    def level(self, step: int) -> float:
        return self.strength * self.decay ** max(0, step - self.start_step)


@dataclass(frozen=True)
class SpaceEffect:
    trust_factor: float
    infiltration: float


class Effects:
    """Everything interventions hold in force, by owner. See the module docstring."""

    def __init__(self, pop: Population, online: OnlineSpaces, clock: Clock):
        self.pop = pop
        self.online = online
        self.clock = clock
        self._factors: dict[str, dict[str, float]] = defaultdict(dict)
        self._spaces: dict[int, dict[str, SpaceEffect]] = defaultdict(dict)
        self._waves: dict[str, list[PersonWave]] = {column: [] for column in PERSON_COLUMNS}
        self._derived: dict[str, bool] = dict.fromkeys(PERSON_COLUMNS, False)
        self._arrest_listeners: dict[str, Callable[[np.ndarray], None]] = {}

    # ------------------------------------------------------------------ factors on processes
    def set(self, effect: str, owner: str, factor: float) -> None:
        if effect not in EFFECTS:
            raise KeyError(f"unknown effect {effect!r} (known: {', '.join(EFFECTS)})")
        self._factors[effect][owner] = factor

    def clear(self, effect: str, owner: str) -> None:
        self._factors[effect].pop(owner, None)

    def factor(self, effect: str) -> float:
        return math.prod(self._factors[effect].values())

    # ------------------------------------------------------------------ online spaces
    def set_space(self, space: OnlineSpace, owner: str, trust_factor: float = 1.0, infiltration: float = 0.0) -> None:
        self._spaces[space.code][owner] = SpaceEffect(trust_factor, infiltration)
        self._apply_to_space(space)

    def clear_space(self, space: OnlineSpace, owner: str) -> None:
        if self._spaces[space.code].pop(owner, None) is not None:
            self._apply_to_space(space)

    def _apply_to_space(self, space: OnlineSpace) -> None:
        """Recompute from the owners in force (never from the previous value, so no drift)."""
        held = self._spaces[space.code].values()
        space.trust_factor = math.prod((e.trust_factor for e in held), start=1.0)
        space.infiltration = max([space.params.infiltration, *(e.infiltration for e in held)])

    # ------------------------------------------------------------------ persons
    def add_to_persons(self, column: str, owner: str, slots: np.ndarray, strength: float,
                       half_life_years: float, step: int) -> None:
        """A wave: the persons in `slots` get `strength` of `column` now, fading with the half-life."""
        if column not in PERSON_COLUMNS:
            raise KeyError(f"unknown person effect {column!r} (known: {', '.join(PERSON_COLUMNS)})")
        slots = sorted_sets.unique(np.asarray(slots, dtype=np.int64))
        wave = PersonWave(owner, slots, self.pop.person_id[slots].copy(), float(strength), int(step),
                          self.clock.decay(half_life_years))
        self._waves[column].append(wave)
        self._derive(column, step)  # in effect at once: what acts later this step sees it

    def fade_to(self, step: int) -> None:
        """Derive the person columns at `step` (called at the start of every step)."""
        for column in PERSON_COLUMNS:
            self._derive(column, step)

    def _derive(self, column: str, step: int) -> None:
        if not self._waves[column] and not self._derived[column]:
            return  # never set, or already zero: leave the column alone
        remaining = np.ones(self.pop.size)  # prod(1 - e_i) per person
        kept = []
        for wave in self._waves[column]:
            level = wave.level(step)
            reached = wave.slots[self.pop.person_id[wave.slots] == wave.person_ids]
            if level < NEGLIGIBLE or len(reached) == 0:
                continue
            remaining[reached] *= 1.0 - level
            kept.append(wave)
        self._waves[column] = kept
        getattr(self.pop, column)[:] = 1.0 - remaining
        self._derived[column] = bool(kept)

    def waves(self, column: str, owner: str | None = None) -> list[PersonWave]:
        """The waves in effect on a column (of one owner, or all)."""
        return [w for w in self._waves[column] if owner is None or w.owner == owner]

    # ------------------------------------------------------------------ arrests
    def listen_to_arrests(self, owner: str, callback: Callable[[np.ndarray], None]) -> None:
        self._arrest_listeners[owner] = callback

    def arrested(self, slots: np.ndarray) -> None:
        """Enforcement reports the slots of every arrest; owners listening act on them."""
        for callback in list(self._arrest_listeners.values()):
            callback(slots)

    # ------------------------------------------------------------------ lapsing
    def withdraw(self, owner: str) -> None:
        """Everything `owner` holds in force ends (its waves on persons keep fading)."""
        for held in self._factors.values():
            held.pop(owner, None)
        for space in self.online.spaces:
            self.clear_space(space, owner)
        self._arrest_listeners.pop(owner, None)
