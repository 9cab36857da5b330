"""Local backends: the calling process (workers=1) or a pool of spawned processes."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager

from sim import compiled
from sim.errors import show_warnings_in_one_line
from sim.experiment.backends import Backend
from sim.resources import reuse_freed_memory


class InProcessExecutor(Executor):
    """Runs each task at `submit`, in this process: tracebacks, debuggers and profilers just work."""

    def submit(self, fn: Callable, /, *args, **kwargs) -> Future:
        future: Future = Future()
        future.set_running_or_notify_cancel()
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # handed over through the future, as a pool would; Ctrl-C is not caught
            future.set_exception(exc)
        else:
            future.set_result(result)
        return future


@contextmanager
def local_backend(workers: int) -> Iterator[Backend]:
    if workers == 1:
        yield Backend(InProcessExecutor(), 1, "in-process (1 worker)")
        return
    # spawn, not fork: forking a process that has threads (tqdm's monitor, a Dask client) can
    # deadlock (Python 3.12 warns about it), and spawn behaves the same on Linux, macOS and Windows.
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_signals, initargs=(os.getpid(),))
    try:
        # two tasks per worker: each has its next one queued, and little is left to cancel on Ctrl-C
        yield Backend(pool, 2 * workers, f"local process pool ({workers} workers)")
    except BaseException:
        _stop_now(pool)
        raise
    pool.shutdown(wait=True)


def _worker_signals(parent: int) -> None:
    """Ctrl-C reaches the whole process group; only the parent reacts to it (one message, not a
    traceback per worker), and then stops the workers itself. A parent that cannot stop them
    (kill -9, the OOM killer) is noticed by the watchdog instead."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    show_warnings_in_one_line()  # as the parent shows them
    compiled.set_threads(1)  # the workers share the machine already
    reuse_freed_memory()
    # the parent's pid as the parent knew it: a worker that starts after its parent died sees init's
    threading.Thread(target=_exit_when_orphaned, args=(parent,), name="parent-watchdog", daemon=True).start()


PARENT_CHECK_S = 0.5  # how soon a worker notices that its parent is gone


def _exit_when_orphaned(parent: int) -> None:
    """End this worker as soon as its parent is gone: an orphan would go on running and writing
    shards nobody collects, then block for ever. Its shard in progress is a hidden temporary
    directory, removed by the next invocation. (Polling, not PR_SET_PDEATHSIG: that signal fires
    when the parent's spawning *thread* ends, and it is Linux-only.)"""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


def _stop_now(pool: ProcessPoolExecutor) -> None:
    """Ctrl-C or an error: drop queued tasks and stop the runs in flight at once instead of waiting
    for them (the next invocation redoes their shards and removes their temporary directories)."""
    if hasattr(pool, "terminate_workers"):  # Python >= 3.14
        pool.terminate_workers()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())  # shutdown() forgets them: take them first
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
