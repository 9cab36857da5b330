"""Compiled kernels for the hot loops: numba when it is installed, numpy twins otherwise.

A step's work is many small array operations; at 10,000 persons each numpy call costs more in
overhead and temporaries than in arithmetic. A kernel fuses a chain of them into one loop.
Every kernel has a numpy twin that gives bit-identical results (tests/test_compiled.py compares
them, and whole runs with and without kernels), so outputs never depend on whether numba is
there: it is a speed-up, not a requirement.

    RECRUITSIM_KERNELS=numpy recruitsim run baseline   # the numpy twins only

Kernels are compiled on first use and cached on disk (numba's `cache=True`), so a worker or a
second run loads them instead of compiling again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

try:  # optional: absent on a platform without numba wheels
    import numba
except ImportError:  # pragma: no cover - exercised by RECRUITSIM_KERNELS=numpy instead
    numba = None

_enabled = numba is not None and os.environ.get("RECRUITSIM_KERNELS", "numba").strip().lower() != "numpy"


def enabled() -> bool:
    """Whether callers should use the compiled kernels (checked per call, so tests can switch)."""
    return _enabled


@contextmanager
def numpy_twins() -> Iterator[None]:
    """Within the block, every kernel's numpy twin runs instead (for tests and comparisons)."""
    global _enabled
    before, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = before


def kernel(function: Callable) -> Callable:
    """Compile `function` with numba (nopython, cached, releasing the GIL); without numba, return
    it as it is: callers then use its numpy twin, never this pure-Python loop."""
    if numba is None:  # pragma: no cover
        return function
    return numba.njit(cache=True, nogil=True)(function)

