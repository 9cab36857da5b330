"""A stable, millisecond layout of the criminal networks for the dashboard's network view.

Never a spring layout of the population (ENGINEERING.md): only network members are drawn, and
their positions follow two rules that need no optimisation at all:

- each network gets a cell of a fixed grid the first time it is seen (the lowest free cell,
  networks taken in id order); the cell is freed when the network is gone;
- within its cell, the k-th spot of a network lies on a sunflower (Vogel) spiral around the
  cell's centre: radius ``SPACING * sqrt(k + 0.5)``, angle ``k * golden angle``. A member keeps
  its spot for as long as it stays in the network; a newcomer takes the lowest free spot
  (newcomers taken in the order they joined, then by person id).

So nothing already placed ever moves, the same sequence of inputs always gives the same
positions, and one frame costs a few dictionary look-ups per member (well under a millisecond
for the few hundred members a classroom population has).
"""

from __future__ import annotations

import heapq
import math

import numpy as np

GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))
SPACING = 0.1  # cell units; spot 16 lies at radius ~0.41, inside a unit cell (networks here have up to ~15 members)
COLUMNS = 5


class _FreeList:
    """The lowest free non-negative integer, with release: a heap of released numbers."""

    def __init__(self):
        self._next = 0
        self._released: list[int] = []

    def take(self) -> int:
        if self._released:
            return heapq.heappop(self._released)
        self._next += 1
        return self._next - 1

    def release(self, number: int) -> None:
        heapq.heappush(self._released, number)


def cell_centre(cell: int, columns: int = COLUMNS) -> tuple[float, float]:
    """Centre of grid cell `cell` (row by row, left to right, top row first)."""
    return float(cell % columns), -float(cell // columns)


def spot_offset(spot: int) -> tuple[float, float]:
    """Offset of spot `spot` from its cell's centre on the sunflower spiral."""
    radius = SPACING * math.sqrt(spot + 0.5)
    angle = spot * GOLDEN_ANGLE
    return radius * math.cos(angle), radius * math.sin(angle)


class StableLayout:
    """Positions of network members that never move once placed (see the module docstring).

    Call `update` once per frame with every current member; it returns their positions.
    """

    def __init__(self, columns: int = COLUMNS):
        self.columns = columns
        self._cells = _FreeList()
        self.cell: dict[int, int] = {}  # network id -> grid cell
        self._spots: dict[int, _FreeList] = {}  # network id -> its free spots
        self.spot: dict[int, tuple[int, int]] = {}  # person id -> (network id, spot)

    def update(self, person_ids: np.ndarray, network_ids: np.ndarray, joined_step: np.ndarray | None = None) -> np.ndarray:
        """Positions (n x 2) of the given members of networks, in the order given.

        Args:
            person_ids: unique identifier of each member (person ids, not slots: slots are reused).
            network_ids: the network of each member.
            joined_step: when each member joined (orders newcomers of one frame); default: person id order.
        """
        person_ids = np.asarray(person_ids, dtype=np.int64)
        network_ids = np.asarray(network_ids, dtype=np.int64)
        joined = np.zeros(len(person_ids), np.int64) if joined_step is None else np.asarray(joined_step, np.int64)
        current = dict(zip(person_ids.tolist(), network_ids.tolist()))
        # members who left (or moved to another network) free their spots
        for person, (net, spot) in list(self.spot.items()):
            if current.get(person) != net:
                del self.spot[person]
                self._spots[net].release(spot)
        # networks with no member left free their cells
        present = set(current.values())
        for net in [n for n in self.cell if n not in present]:
            self._cells.release(self.cell.pop(net))
            del self._spots[net]
        for net in sorted(present - self.cell.keys()):
            self.cell[net] = self._cells.take()
            self._spots[net] = _FreeList()
        # newcomers take the lowest free spot, in the order they joined
        for i in np.lexsort((person_ids, joined)):
            person = int(person_ids[i])
            if person not in self.spot:
                net = int(network_ids[i])
                self.spot[person] = (net, self._spots[net].take())
        return self.positions(person_ids)

    def positions(self, person_ids: np.ndarray) -> np.ndarray:
        """Positions of placed persons (n x 2)."""
        out = np.zeros((len(person_ids), 2))
        for i, person in enumerate(np.asarray(person_ids).tolist()):
            net, spot = self.spot[person]
            cx, cy = cell_centre(self.cell[net], self.columns)
            dx, dy = spot_offset(spot)
            out[i] = cx + dx, cy + dy
        return out

    def rows(self) -> int:
        """Grid rows in use (at least one)."""
        return 1 + max(self.cell.values(), default=0) // self.columns
