"""Refuse, before any work, a run the machine cannot hold; tell how many CPUs a run may use;
let a process reuse the memory of freed arrays.

The model keeps numpy columns per person and its ties, so its memory grows linearly with
`population.size`. Measured (Linux, peak RSS after 10 weekly steps with the default tie
densities, 5,000 vs 50,000 persons): 2.3 KiB per person on top of about 170 MB for Python,
numpy, pandas and mesa. The estimate rounds both up; it is a guard against a population that
cannot fit (10 million persons need about 24 GiB), not a prediction.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from sim.errors import ResourceError

BYTES_PER_PERSON = 2_560
BASE_BYTES = 256 * 2**20
GIB = 2**30


def estimated_bytes(population: int) -> int:
    """Memory one run of `population` persons needs (see the module docstring)."""
    return BASE_BYTES + BYTES_PER_PERSON * int(population)


def available_cpus() -> int:
    """The CPUs this process may run on (a cluster job's share, not the whole node's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
REUSED_ARRAY_BYTES = 32 * 2**20  # freed blocks up to this size stay with the process, for the next step's arrays


def reuse_freed_memory() -> bool:
    """Have the C library keep the memory of freed arrays (up to `REUSED_ARRAY_BYTES` each) for
    the next ones, rather than give it back to the system and fault fresh zeroed pages in again.

    A step makes and frees arrays of millions of elements; by default glibc maps each one anew,
    and at a million persons one step's meetings faulted in ~37,000 pages. With this, steps at a
    million persons ran ~12% faster (3 pairs of runs, medians 1,008 -> 889 ms) for ~4% more peak
    memory (1,312 -> 1,365 MiB). It is a choice for the whole process, so the commands that own
    theirs make it (`recruitsim run`, the workers of `compare` and `sweep`, the benchmark); importing
    the package does not. Returns whether it took effect (False without glibc: macOS, musl)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this interpreter runs on
    except (OSError, AttributeError):  # pragma: no cover - no mallopt (macOS, Windows)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # a fixed threshold (glibc's own grows with the largest block freed, and misses the arrays below
    # it until then); freed memory at the heap's top is kept up to 1 GiB
    return bool(mallopt(_M_MMAP_THRESHOLD, REUSED_ARRAY_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**30))


def available_bytes() -> int | None:
    """Memory this process may still use: the smaller of the system's available memory and a
    cgroup (container) limit; None where neither can be read (the check is then skipped)."""
    limits = [value for value in (_meminfo_available(), _cgroup_room()) if value is not None]
    return min(limits) if limits else None


def check_memory(population: int, *, runs: int = 1, what: str = "") -> None:
    """ResourceError (one line) if `runs` concurrent runs of `population` persons cannot fit."""
    available = available_bytes()
    need = runs * estimated_bytes(population)
    if available is None or need <= available:
        return
    each = f" ({runs} concurrent runs of {_gib(estimated_bytes(population))} each)" if runs > 1 else ""
    fewer = "; use fewer --workers" if runs > 1 else ""
    raise ResourceError(f"{what}population.size {population:,} needs about {_gib(need)} of memory{each} and "
                        f"{_gib(available)} is available; lower population.size{fewer} or run on a larger machine")


def _gib(n: int) -> str:
    return f"{n / GIB:.1f} GiB"


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_room() -> int | None:
    """cgroup v2 limit minus current use, if this process runs under a limit."""
    root = Path("/sys/fs/cgroup")
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return int(limit) - int((root / "memory.current").read_text().strip())
    except (OSError, ValueError):
        return None
