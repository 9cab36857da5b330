"""Where replications run: every backend is a `concurrent.futures.Executor`.

- `workers=1`: in the calling process (no pickling, easiest to debug and profile);
- `workers=N`: a `ProcessPoolExecutor` of N spawned processes;
- `scheduler="tcp://HOST:8786"`: an existing Dask cluster (`Client.get_executor()`);
- anything else with the Executor interface (e.g. `mpi4py.futures.MPIPoolExecutor`) can be
  passed to `sim.experiment.compare(executor=...)` directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass

from sim.experiment.errors import ExperimentError


@dataclass(frozen=True)
class Backend:
    """An executor, how many tasks to keep submitted to it (None: the comparison's default) and a description."""

    executor: Executor
    queue_depth: int | None
    description: str


@contextmanager
def open_backend(workers: int = 1, scheduler: str | None = None) -> Iterator[Backend]:
    """The local backend with `workers` processes, or the Dask cluster at `scheduler`."""
    if scheduler is not None:
        check_scheduler_address(scheduler)
        from sim.experiment.backends.dask import (
            dask_backend,  # dask is optional: import on demand
        )

        with dask_backend(scheduler) as backend:
            yield backend
        return
    if int(workers) < 1:
        raise ExperimentError(f"workers must be at least 1, got {workers}")
    from sim.experiment.backends.local import local_backend

    with local_backend(int(workers)) as backend:
        yield backend


# What Dask's Client accepts: [protocol://]host[:port], the host a name, an IPv4 or a [bracketed IPv6] address.
_ADDRESS = re.compile(r"((tcp|tls|ws|wss|ucx|inproc)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(:\d{1,5})?/?")


def check_scheduler_address(address: str) -> str:
    """ExperimentError at once for an address no scheduler can have (Dask would try for 20 s)."""
    if not _ADDRESS.fullmatch(address.strip()):
        raise ExperimentError(f"--scheduler {address!r} is not a Dask scheduler address; expected e.g. tcp://HOST:8786 "
                              "(what `dask scheduler` prints as 'Scheduler at:')")
    return address


@contextmanager
def given_executor(executor: Executor) -> Iterator[Backend]:
    """A caller's own executor (MPI, a shared pool): used as is, never shut down here."""
    yield Backend(executor, None, f"{type(executor).__module__}.{type(executor).__name__}")


__all__ = ["Backend", "check_scheduler_address", "given_executor", "open_backend"]
