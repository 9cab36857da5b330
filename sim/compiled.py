"""Compiled kernels for the hot loops: numba when it is installed, numpy twins otherwise.

A step's work is many small array operations; at 10,000 persons each numpy call costs more in
overhead and temporaries than in arithmetic. A kernel fuses a chain of them into one loop.
Every kernel has a numpy twin that gives bit-identical results (tests/test_compiled.py compares
them, and whole runs with and without kernels), so outputs never depend on whether numba is
there: it is a speed-up, not a requirement.

    RECRUITSIM_KERNELS=numpy recruitsim run baseline   # the numpy twins only

Kernels are compiled on first use and cached on disk (numba's `cache=True`), so a worker or a
second run loads them instead of compiling again. numba renews a kernel's cache only when the
file that defines it changes, but kernels call kernels of other files (the tie store's sort is
in sorted_sets.py) and numba compiles them in: after an edit of one, the others would run the
old code from the cache. So the cache lives in a directory named after a digest of every file
that defines kernels (`kernel_cache_dir`): an edit of any of them starts a new one.

Threads: kernels release the GIL, so a large batch of work can be split into independent parts
run at once (`in_threads`). The parts are fixed by the data, never by the number of threads, and
write to disjoint rows: outputs are identical with 1 thread or many. The number is 1 unless set
(`set_threads`, `RECRUITSIM_THREADS`): `recruitsim run`, the dashboard and the benchmark have the
machine to themselves and use its cores; the workers of `compare` and `sweep` are processes that
share it, and keep to 1 each.

    RECRUITSIM_THREADS=2 python my_script.py            # a script's models use two threads
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar

import numpy as np

try:  # optional: absent on a platform without numba wheels
    import numba
except ImportError:  # pragma: no cover - exercised by RECRUITSIM_KERNELS=numpy instead
    numba = None

_enabled = numba is not None and os.environ.get("RECRUITSIM_KERNELS", "numba").strip().lower() != "numpy"


def _threads_from_environment() -> int:
    text = os.environ.get("RECRUITSIM_THREADS", "1").strip()
    if not text.isdigit() or int(text) < 1:
        raise SystemExit(f"error: RECRUITSIM_THREADS={text!r} is not a number of threads (1, 2, ...); unset it or give one")
    return int(text)


_threads = _threads_from_environment()
_pool: ThreadPoolExecutor | None = None
T = TypeVar("T")


def threads() -> int:
    """How many threads kernels may use at once (1: none besides the caller's)."""
    return _threads


def set_threads(n: int) -> None:
    """Let kernels use `n` threads at once (outputs do not depend on it)."""
    global _threads, _pool
    if n < 1:
        raise ValueError(f"threads must be at least 1, not {n}")
    if n != _threads and _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None
    _threads = n


@contextmanager
def using_threads(n: int) -> Iterator[None]:
    """Within the block, kernels may use `n` threads (for tests and comparisons)."""
    before = _threads
    set_threads(n)
    try:
        yield
    finally:
        set_threads(before)


def in_threads(parts: Sequence[Callable[[], object]]) -> list:
    """Each part's result, the parts run at once on up to `threads()` threads (the first in the
    caller's thread; asked for in one of the other threads, all in that one). Parts must be
    independent: kernels that release the GIL, writing disjoint rows."""
    if _threads == 1 or len(parts) < 2 or _on_other_thread.active or _others_busy():
        return [part() for part in parts]
    others = [_submit(part) for part in parts[1:]]
    try:
        first = parts[0]()
    finally:
        wait(others)  # never return (or raise) while another part may still be writing
    return [first, *(future.result() for future in others)]


def started(part: Callable[[], T]) -> Callable[[], T]:
    """Start `part` on another thread, if kernels may use more than one, and return a function
    that waits for its result (raising its error). With one thread, `part` runs when its result
    is asked for. The caller goes on meanwhile, on inputs that neither changes until the result
    is in: `part` is a kernel's work (it releases the GIL), or Python work that runs while the
    caller is inside kernels (the venue kernel, while the online visits are made: `Venues.visit`)."""
    if _threads == 1 or _on_other_thread.active:
        return part
    return _submit(part).result


def _other_threads() -> ThreadPoolExecutor:
    """The threads besides the caller's (`threads()` - 1), made on first use."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_threads - 1, thread_name_prefix="recruitsim-kernel",
                                   initializer=_mark_other_thread)
    return _pool


def _submit(part: Callable[[], T]) -> Future[T]:
    """`part` given to the other threads, counted as under way until it is done (`_others_busy`)."""
    global _under_way
    with _under_way_lock:
        _under_way += 1
    try:
        return _other_threads().submit(_counted, part)
    except BaseException:
        with _under_way_lock:
            _under_way -= 1
        raise


def _counted(part: Callable[[], T]) -> T:
    global _under_way
    try:
        return part()
    finally:  # before its result is seen: a caller waiting for it finds the other threads free
        with _under_way_lock:
            _under_way -= 1


def _others_busy() -> bool:
    """Whether every other thread has work already (e.g. `SharedWork` started there): parts
    given to them would wait for it, so `in_threads` runs them in the caller's thread instead."""
    return _under_way >= _threads - 1


_under_way = 0  # parts given to the other threads and not done
_under_way_lock = threading.Lock()


class _ThreadMark(threading.local):
    active = False  # in one of the other threads: work it gives to `in_threads` or `started` runs in it
    # (waiting there for the other threads could wait for itself, for ever)


_on_other_thread = _ThreadMark()


def _mark_other_thread() -> None:
    _on_other_thread.active = True


class SharedWork:
    """Independent parts of one piece of work (kernels that release the GIL, each writing only
    its own rows), taken one at a time, in order, by whichever thread is free: the thread that
    `start`s them keeps taking, and another joins in when its own work is done (`help`). The
    result (`join` of the parts' results, in part order) does not depend on which thread ran
    which part. Made empty, so that a thread may offer to help before the parts exist."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offered = threading.Event()  # parts offered, or none will be: helpers stop waiting
        self._parts: Sequence[Callable[[], object]] | None = None
        self._join: Callable[[list], object] | None = None
        self._results: list = []
        self._next = 0

    @property
    def started(self) -> bool:
        return self._parts is not None

    def start(self, parts: Sequence[Callable[[], object]], join: Callable[[list], object]) -> None:
        """Offer the parts, then take them until none is left."""
        with self._lock:
            if self._parts is not None:
                raise RuntimeError("internal error: shared work started twice")
            self._parts, self._join, self._results = parts, join, [None] * len(parts)
        self._offered.set()
        self._take()

    def close(self) -> None:
        """No parts will be offered now (if none were): helpers waiting for them go on."""
        self._offered.set()

    def help(self) -> None:
        """Wait until the parts are offered (or `close`), then take them until none is left."""
        self._offered.wait()
        self._take()

    def _take(self) -> None:
        while True:
            with self._lock:
                if self._parts is None or self._next >= len(self._parts):
                    return
                i, self._next = self._next, self._next + 1
            self._results[i] = self._parts[i]()

    def result(self) -> object:
        """The joined result, once every thread that took parts has returned from taking them."""
        if self._parts is None or self._next < len(self._parts):
            raise RuntimeError("internal error: the result of shared work asked for before its parts were taken")
        return self._join(self._results)


def even_split(n: int, parts: int) -> np.ndarray:
    """Where `n` items split into `parts` consecutive parts of nearly equal size begin (and, last,
    end): 0, ..., n (not `np.linspace`, ~10 us a call, several calls a step)."""
    return np.arange(parts + 1, dtype=np.int64) * n // parts


def in_threads_by_weight(parts: Sequence[Callable[[], object]], weights: Sequence[float]) -> list:
    """Each part's result, in order, the parts shared among up to `threads()` threads so that each
    thread's parts weigh about the same (the heaviest first, each to the least loaded thread).
    Parts must be independent, as for `in_threads`; which thread runs a part changes no result."""
    if _threads == 1 or len(parts) < 2 or _on_other_thread.active or _others_busy():
        return [part() for part in parts]
    shares: list[list[int]] = [[] for _ in range(min(_threads, len(parts)))]
    load = [0.0] * len(shares)
    for i in sorted(range(len(parts)), key=lambda i: -weights[i]):
        lightest = load.index(min(load))
        shares[lightest].append(i)
        load[lightest] += weights[i]
    results: list = [None] * len(parts)

    def run(share: list[int]) -> None:
        for i in share:
            results[i] = parts[i]()

    in_threads([lambda share=share: run(share) for share in shares])
    return results


def broken_cache_message(exc: BaseException) -> str | None:
    """One line for a run that failed because numba's on-disk cache of the kernels is inconsistent
    (None for any other failure). Seen once, after kernels were edited, run and reverted: numba
    then loaded cached code whose runtime environment was missing, and every run failed the same
    way until the cache was deleted."""
    if isinstance(exc, RuntimeError) and "NRT_adapt_ndarray_to_python" in str(exc):
        here = os.path.dirname(os.path.abspath(__file__))
        return (f"the cache of compiled kernels is inconsistent (numba: {exc}); delete it with "
                f"`find {here} -name '*.nb[ic]' -delete` and run again (or set RECRUITSIM_KERNELS=numpy)")
    return None


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
    before = numba.config.CACHE_DIR  # (numba picks a kernel's cache directory when it is decorated)
    numba.config.CACHE_DIR = kernel_cache_dir()
    try:
        return numba.njit(cache=True, nogil=True)(function)
    finally:
        numba.config.CACHE_DIR = before


PACKAGE = os.path.dirname(os.path.abspath(__file__))
_cache_dir: str | None = None


def kernel_sources_digest(package: str = PACKAGE) -> str:
    """A digest of the source of every module of the package that defines kernels, and of this
    one (how they are compiled)."""
    digest = hashlib.sha256()
    for folder, _, files in sorted(os.walk(package)):
        for name in sorted(files):
            if name.endswith(".py"):
                with open(os.path.join(folder, name), "rb") as source:
                    text = source.read()
                if b"@compiled.kernel" in text or os.path.join(folder, name) == os.path.abspath(__file__):
                    digest.update(os.path.relpath(os.path.join(folder, name), package).encode() + b"\0" + text)
    return digest.hexdigest()[:16]


def kernel_cache_dir() -> str:
    """Where the kernels' cache lives: `kernels-<digest of their sources>`, in numba's cache
    directory if one is set (NUMBA_CACHE_DIR), else in the package's __pycache__, where the
    caches of earlier sources are removed once unchanged for a day (a process still running
    earlier sources may yet compile a kernel into its own). numba falls back to its usual
    places if the directory is not writable."""
    global _cache_dir
    if _cache_dir is None:
        base = numba.config.CACHE_DIR or os.path.join(PACKAGE, "__pycache__")
        _cache_dir = os.path.join(base, f"kernels-{kernel_sources_digest()}")
        if not numba.config.CACHE_DIR and os.path.isdir(base):
            for name in os.listdir(base):
                earlier = os.path.join(base, name)
                if name.startswith("kernels-") and earlier != _cache_dir and _unchanged_for_a_day(earlier):
                    shutil.rmtree(earlier, ignore_errors=True)
    return _cache_dir


def _unchanged_for_a_day(path: str) -> bool:
    try:
        return time.time() - os.path.getmtime(path) > 86_400
    except OSError:  # removed meanwhile (by another process)
        return False

