"""An existing Dask cluster as an executor (`recruitsim compare --scheduler tcp://HOST:8786`).

dask is an optional dependency (`pip install 'recruitsim[cluster]'`) and is imported only here.
Workers must have recruitsim installed and see the output directory (a shared file system):
each writes its shards there itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sim.experiment.backends import Backend
from sim.experiment.errors import ExperimentError

CONNECT_TIMEOUT = "10s"


@contextmanager
def dask_backend(address: str) -> Iterator[Backend]:
    Client = _client_class()
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ExperimentError(f"cannot reach the Dask scheduler at {address} ({' '.join(str(exc).split()) or type(exc).__name__}); "
                              "is `dask scheduler` running there?") from None
    try:
        threads = sum(client.nthreads().values())
        # two tasks per worker thread; a cluster without workers yet gets everything (they may join later)
        yield Backend(client.get_executor(pure=False), 2 * threads or None, f"Dask cluster at {address} ({threads} worker threads)")
    finally:
        client.close()


def _client_class():
    try:
        from dask.distributed import Client
    except ImportError:
        raise ExperimentError("--scheduler needs dask and distributed, which are not installed: "
                              "pip install 'recruitsim[cluster]'") from None
    return Client
