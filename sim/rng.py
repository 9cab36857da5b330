"""Named random streams, all derived from one scenario seed.

Every stochastic process (venue visits, each recruitment rule, arrests, ...) draws from its own
stream, keyed by a stable name. Two runs with the same seed that differ only in, say, an
intervention then share every other draw (common random numbers; Klein et al. 2024), so their
difference is the intervention's effect, not noise.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_key(name: str) -> int:
    """A stable 32-bit key for a stream name (Python's hash() is salted per process)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """A factory of independent numpy Generators: one per process name, per replication."""

    def __init__(self, seed: int, replication: tuple[int, ...] = ()):
        self.seed = int(seed)
        self.replication = tuple(int(r) for r in replication)
        self._cache: dict[str, np.random.Generator] = {}

    def get(self, name: str) -> np.random.Generator:
        """The generator of process `name` (the same object on every call)."""
        if name not in self._cache:
            seq = np.random.SeedSequence(self.seed, spawn_key=(*self.replication, stream_key(name)))
            self._cache[name] = np.random.default_rng(seq)
        return self._cache[name]

    def integer_seed(self, name: str) -> int:
        """A plain integer seed for libraries that want one (Mesa's `Model(rng=...)`)."""
        seq = np.random.SeedSequence(self.seed, spawn_key=(*self.replication, stream_key(name)))
        return int(seq.generate_state(1, dtype=np.uint32)[0])

    def describe(self) -> dict:
        return {"seed": self.seed, "replication": list(self.replication), "streams": sorted(self._cache)}
