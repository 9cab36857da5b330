"""Compare scenarios: run every replication (resuming from shards), aggregate, write the report.

    compare(["scenarios/baseline.yaml", "scenarios/forum_takedown.yaml"], reps=30, workers=2, out_dir="runs/cmp")

Everything that can be wrong with the input is checked before the first run and before anything
is written: the scenarios (with the overrides), reps and workers, the output directory, dask.
"""

from __future__ import annotations

import shutil
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from sim.errors import DamagedShardWarning
from sim.experiment.adaptive import Precision, precision_record, run_until_precise
from sim.experiment.aggregate import Aggregates, Design, aggregate
from sim.experiment.backends import Backend, given_executor, open_backend
from sim.experiment.outputs import write_outputs
from sim.experiment.provenance import experiment_record, invocation
from sim.experiment.replicate import (
    DamagedShard,
    RunTask,
    ShardResult,
    is_complete,
    read_shard,
    run_replication,
    shard_path,
)
from sim.experiment.spec import ExperimentSpec, load_experiment
from sim.experiment.store import check_experiment_dir, prepare, write_json
from sim.outputs.manifest import MANIFEST
from sim.outputs.paths import timestamped_dir


@dataclass(frozen=True)
class Comparison:
    """The outcome of `compare`: where it is, what was compared, and the aggregated results."""

    out_dir: Path
    spec: ExperimentSpec
    aggregates: Aggregates
    marks: dict[str, list[dict]]  # scenario -> its interventions' timings
    runs_done: int  # simulated by this call
    runs_reused: int  # complete shards found from an earlier call
    wall_time_s: float
    precision: dict | None = None  # with --precision: asked for, reached (sim.experiment.adaptive.precision_record)

    @property
    def summary(self) -> pd.DataFrame:
        return self.aggregates.summary

    @property
    def report(self) -> Path:
        return self.out_dir / "report.html"


def compare(
    scenarios: Sequence[str | Path],
    *,
    reps: int = 10,
    out_dir: str | Path | None = None,
    overrides: Sequence[str] = (),
    seed: int | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    executor: Executor | None = None,
    quiet: bool = False,
    command: str | None = None,
    allow_code_change: bool = False,
    primary: Sequence[str] | None = None,
    precision: float | None = None,
    max_reps: int | None = None,
) -> Comparison:
    """Run `reps` replications of each scenario file (the first is the baseline) and compare them.

    Runs go to `workers` local processes (1: in this process), to the Dask scheduler at
    `scheduler`, or to `executor` (any concurrent.futures.Executor, e.g. MPIPoolExecutor).
    `allow_code_change` lets a resumed experiment keep runs made by other code (recorded as mixed).
    `primary` names the end points judged one by one (default: DEFAULT_PRIMARY). With `precision`
    (e.g. 0.1), replications are added in batches until the primary end points' differences are
    known to ± that share of the baseline mean, or `max_reps` (default 10 x reps) is reached.
    """
    spec = load_experiment(scenarios, reps=reps, overrides=overrides, seed=seed, primary=primary)
    options = dict(workers=workers, scheduler=scheduler, executor=executor, quiet=quiet, command=command, allow_code_change=allow_code_change)
    if precision is None:
        return run_experiment(spec, out_dir, **options)
    return run_adaptive(spec, Precision(precision, max_reps or 10 * reps), out_dir or default_out_dir(), **options)


def run_adaptive(spec: ExperimentSpec, precision: Precision, out_dir: str | Path, **options) -> Comparison:
    """`run_experiment` in batches of replications until `precision` (sim/experiment/adaptive.py)."""
    precision.check(spec.reps)  # before anything runs
    return run_until_precise(spec, precision, lambda batch: run_experiment(batch, out_dir, precision=precision, **options))


def run_experiment(
    spec: ExperimentSpec,
    out_dir: str | Path | None = None,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    executor: Executor | None = None,
    quiet: bool = False,
    command: str | None = None,
    allow_code_change: bool = False,
    precision: Precision | None = None,
) -> Comparison:
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir()
    earlier = check_experiment_dir(out_dir, spec, allow_code_change=allow_code_change)
    if executor is None and scheduler is None:  # local processes share this machine's memory; a cluster's nodes have their own
        _check_local_memory(spec, workers)
    started, clock = datetime.now(UTC), time.perf_counter()
    tasks = make_tasks(spec, out_dir, allow_code_change=allow_code_change)
    total = spec.reps * len(spec.scenarios)
    this = dict(spec=spec, started=started, command=command, allow_code_change=allow_code_change)
    with _backend(workers, scheduler, executor) as backend:  # fails (no dask, no scheduler) before anything is written
        record = dict(spec=spec, started=started, backend=backend.description, command=command)
        prepare(out_dir, experiment_record(status="running", invocations=[*earlier, invocation(status="running", **this)], **record))
        results = collect(tasks, backend, quiet=quiet, total=total)
    runs = {name: [results[(name, rep)].timeseries for rep in range(spec.reps)] for name in spec.names}
    marks = {name: results[(name, 0)].marks for name in spec.names}
    aggregates = aggregate(runs, spec.baseline.name, spec.steps_per_year, design_of(spec))
    counts = run_counts(results.values(), spec.code)
    history = [*earlier, invocation(status="complete", runs=counts, **this)]
    final = experiment_record(status="complete", marks=marks, runs=counts, wall_time_s=time.perf_counter() - clock, invocations=history, **record)
    if precision is not None:
        final["precision"] = precision_record(aggregates.summary, precision, spec.reps)
    final["files"] = write_outputs(out_dir, spec, aggregates, marks, final)
    write_json(out_dir / "experiment.json", final)
    return Comparison(out_dir, spec, aggregates, marks, counts["run"], counts["reused"], final["wall_time_s"], final.get("precision"))


def design_of(spec: ExperimentSpec) -> Design:
    return Design(seed=spec.seed, start_step=spec.first_intervention_step, primary=spec.primary)


def _check_local_memory(spec: ExperimentSpec, workers: int) -> None:
    """ResourceError before anything runs if `workers` runs of the largest scenario cannot fit."""
    from sim.resources import check_memory

    largest = max(spec.scenarios, key=lambda entry: entry.population)
    check_memory(largest.population, runs=min(int(workers), spec.reps * len(spec.scenarios)), what=f"{largest.name}: ")


def run_counts(results: Iterable[ShardResult], code: dict) -> dict[str, int]:
    """How many runs there are, were simulated now, were reused, and were made by other code."""
    results = list(results)
    done = sum(not r.reused for r in results)
    counts = {"total": len(results), "run": done, "reused": len(results) - done}
    other_code = sum(r.code != code for r in results)
    return {**counts, "other_code": other_code} if other_code else counts


def default_out_dir(now: datetime | None = None) -> Path:
    """runs/compare-<YYYYmmdd-HHMMSS> (local time)."""
    return timestamped_dir("compare", now)


def make_tasks(spec: ExperimentSpec, out_dir: Path, *, allow_code_change: bool = False) -> Iterator[RunTask]:
    """One task per replication and scenario, replication-major: an interrupted experiment still
    has every scenario's first replications, which is what a paired comparison needs. Made one at
    a time, as they are submitted: `--reps` can be large without the tasks filling memory first."""
    root = out_dir.absolute()  # workers (other processes, other machines) may not share our working directory
    return (RunTask(e.name, rep, e.dump, str(shard_path(root, e.slug, rep)), spec.fingerprint, spec.inputs_fingerprint, spec.code,
                    allow_code_change)
            for rep in range(spec.reps) for e in spec.scenarios)


def _backend(workers: int, scheduler: str | None, executor: Executor | None) -> AbstractContextManager[Backend]:
    if executor is not None:
        return given_executor(executor)
    return open_backend(workers, scheduler)


# --------------------------------------------------------------------------- running
def collect(tasks: Iterable[RunTask], backend: Backend, *, quiet: bool = False, total: int | None = None, desc: str = "compare",
            keep: Callable[[ShardResult], Any] | None = None) -> dict[tuple[str, int], Any]:
    """Every task's result: read from its shard if complete, else run; with a progress bar over runs.
    `keep` reduces each result as it arrives (a sweep keeps its outcomes, not thousands of timeseries)."""
    results: dict[tuple[str, int], Any] = {}
    keep = keep or (lambda result: result)
    with tqdm(total=total, unit="run", desc=desc, disable=quiet, dynamic_ncols=True) as bar:

        def to_run() -> Iterator[RunTask]:
            for task in tasks:  # sound complete shards are read as they come up, the others run
                reused = _reuse(task)
                if reused is not None:
                    results[(task.scenario_name, task.rep)] = keep(reused)
                    bar.update()
                else:
                    yield task

        told: set[str] = set()
        for result in execute(to_run(), backend):
            results[(result.scenario_name, result.rep)] = keep(result)
            for message in result.warnings:  # once each, above the bar (workers share the terminal)
                if message not in told:
                    told.add(message)
                    bar.write(f"warning: {message}", file=sys.stderr)
            bar.set_postfix_str(f"{result.scenario_name} rep {result.rep}", refresh=False)
            bar.update()
    return results


def _reuse(task: RunTask) -> ShardResult | None:
    """The result of the task's shard if an earlier invocation completed it soundly. A damaged
    shard (or a directory left without its manifest) is removed, with a warning, to be run again."""
    shard = Path(task.shard_dir)
    if not shard.exists():
        return None
    try:
        if not is_complete(shard):
            raise DamagedShard(f"it has no {MANIFEST}")
        return read_shard(task)
    except DamagedShard as damage:
        warnings.warn(DamagedShardWarning(f"shard {shard} is damaged ({damage}); running it again"), stacklevel=2)
        shutil.rmtree(shard)
        return None


# Tasks kept submitted to an executor that does not say how many it wants (a caller's own, e.g. MPI).
DEFAULT_QUEUE_DEPTH = 64


def execute(tasks: Iterable[RunTask], backend: Backend) -> Iterator[ShardResult]:
    """Results in completion order. Only `backend.queue_depth` tasks are made and submitted at a
    time, so a Ctrl-C or an error has little to cancel, memory holds few tasks however many there
    are, and the progress bar moves with in-process runs too."""
    pending = iter(tasks)
    in_flight: dict[Future, RunTask] = {}
    depth = backend.queue_depth or DEFAULT_QUEUE_DEPTH

    def refill() -> None:
        while len(in_flight) < depth and (task := next(pending, None)) is not None:
            in_flight[backend.executor.submit(run_replication, task)] = task

    refill()
    try:
        while in_flight:
            done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for future in done:
                task = in_flight.pop(future)
                yield _result(future, task)
            refill()
    finally:
        for future in in_flight:
            future.cancel()


def _result(future: Future, task: RunTask) -> ShardResult:
    try:
        return future.result()
    except Exception as exc:
        exc.add_note(f"(in replication {task.rep} of scenario {task.scenario_name!r}, shard {task.shard_dir})")
        raise
