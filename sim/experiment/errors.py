"""The error a user can fix in an experiment's set-up (reps, workers, scheduler, output directory)."""

from sim.errors import RecruitsimError


class ExperimentError(RecruitsimError):
    """A comparison cannot start: bad reps or workers, no dask, unreachable scheduler, ...

    A RecruitsimError, so the CLI prints it as one `error:` line with exit code 2.
    """
