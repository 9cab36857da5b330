"""Run a sweep: every (point, base scenario, replication) through compare's machinery, then the
tables, indices, figures and report.

    from sim.experiment.sweep.run import sweep
    result = sweep("experiments/intervention_effect_sizes.yaml", overrides=["population.size=1000"], samples=8, workers=2)
    result.samples, result.indices, result.report

Runs go to the same executors as `compare` (in-process, local processes, a Dask cluster, any
Executor), into the same checksummed shards (OUT/shards/<base>_<point>/rep_000/), and an
interrupted sweep resumes from them when run again with the same command. Only each run's
outcomes are kept in memory, not its timeseries.
"""

from __future__ import annotations

import time
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sim.experiment.comparison import (
    _backend,
    _check_local_memory,
    collect,
    make_tasks,
    run_counts,
)
from sim.experiment.endpoints import all_endpoints
from sim.experiment.errors import ExperimentError
from sim.experiment.provenance import experiment_record, invocation
from sim.experiment.replicate import ShardResult
from sim.experiment.store import check_experiment_dir, prepare, write_json
from sim.experiment.sweep.plan import SweepSpec, load_sweep, run_name
from sim.outputs.paths import timestamped_dir


@dataclass(frozen=True)
class RunOutcome:
    """What a sweep keeps of one run: its outcomes (and what `run_counts` needs)."""

    scenario_name: str
    rep: int
    values: dict[str, float]
    reused: bool
    code: dict
    wall_time_s: float


@dataclass(frozen=True)
class SweepResult:
    out_dir: Path
    spec: SweepSpec
    samples: pd.DataFrame  # one row per kind, scenario, point and replication
    indices: pd.DataFrame  # sim/experiment/sweep/sensitivity.py
    runs_done: int
    runs_reused: int
    wall_time_s: float

    @property
    def report(self) -> Path:
        return self.out_dir / "report.html"


def sweep(path: str | Path, *, out_dir: str | Path | None = None, overrides=(), samples: int | None = None,
          replications: int | None = None, seed: int | None = None, **options) -> SweepResult:
    """Load and validate the experiment file (every run's scenario), then `run_sweep`."""
    spec = load_sweep(path, overrides=tuple(overrides), samples=samples, replications=replications, seed=seed)
    return run_sweep(spec, out_dir, **options)


def default_out_dir(spec: SweepSpec) -> Path:
    return timestamped_dir(f"sweep-{spec.name}")


def run_sweep(
    spec: SweepSpec,
    out_dir: str | Path | None = None,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    executor: Executor | None = None,
    quiet: bool = False,
    command: str | None = None,
    allow_code_change: bool = False,
) -> SweepResult:
    runs = spec.runs
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir(spec)
    _check_windows(spec)
    earlier = check_experiment_dir(out_dir, runs, allow_code_change=allow_code_change)
    if executor is None and scheduler is None:
        _check_local_memory(runs, workers)
    started, clock = datetime.now(UTC), time.perf_counter()
    this = dict(spec=runs, started=started, command=command, allow_code_change=allow_code_change)
    outcomes = _outcome_reader(spec)
    with _backend(workers, scheduler, executor) as backend:
        record = dict(spec=runs, started=started, backend=backend.description, command=command)
        prepare(out_dir, _with_sweep(experiment_record(status="running", invocations=[*earlier, invocation(status="running", **this)],
                                                       **record), spec))
        results = collect(make_tasks(runs, out_dir, allow_code_change=allow_code_change), backend, quiet=quiet,
                          total=spec.total_runs, desc="sweep", keep=outcomes)
    table = samples_table(spec, results)
    from sim.experiment.sweep.sensitivity import indices

    found = indices(table, spec.points, spec.definition.parameters, spec.definition.design, spec.definition.outcomes,
                    seed=runs.seed, morris_levels=spec.definition.morris_levels)
    counts = run_counts(results.values(), runs.code)
    history = [*earlier, invocation(status="complete", runs=counts, **this)]
    final = _with_sweep(experiment_record(status="complete", runs=counts, wall_time_s=time.perf_counter() - clock,
                                          invocations=history, **record), spec)
    final["simulation_time_s"] = round(sum(r.wall_time_s for r in results.values() if not r.reused), 3)
    from sim.experiment.sweep.outputs import write_sweep_outputs

    final["files"] = write_sweep_outputs(out_dir, spec, table, found, final)
    write_json(out_dir / "experiment.json", final)
    return SweepResult(out_dir, spec, table, found, counts["run"], counts["reused"], final["wall_time_s"])


def _check_windows(spec: SweepSpec) -> None:
    """An outcome "since the first intervention starts" needs one that starts within the run."""
    since = [o for o in spec.definition.outcomes if o.endswith(".since_start")]
    if since and spec.runs.first_intervention_step is None:
        raise ExperimentError(f"{spec.source}: outcome {since[0]} counts from the step the first intervention starts, but no "
                              f"intervention starts within the {spec.runs.steps} steps; use .total or .last_year, or run longer")


def _outcome_reader(spec: SweepSpec):
    endpoints = {e.key: e for e in all_endpoints()}
    wanted = [endpoints[key] for key in spec.definition.outcomes]
    steps_per_year, start = spec.runs.steps_per_year, spec.runs.first_intervention_step

    def outcomes(result: ShardResult) -> RunOutcome:
        values = {e.key: e.value(result.timeseries, steps_per_year, start) for e in wanted}
        return RunOutcome(result.scenario_name, result.rep, values, result.reused, result.code, result.wall_time_s)

    return outcomes


def samples_table(spec: SweepSpec, results: dict) -> pd.DataFrame:
    """One row per base scenario, point and replication (kind `level`), and, with several base
    scenarios, the paired change of each from the first (kind `difference`): kind, scenario,
    sample, rep, the parameters' values, the outcomes."""
    outcomes = spec.definition.outcomes
    values = spec.values.reset_index()
    rows = []
    for base in spec.base_names:
        for sample in range(spec.samples):
            for rep in range(spec.runs.reps):
                rows.append({"kind": "level", "scenario": base, "sample": sample, "rep": rep,
                             **results[(run_name(base, sample), rep)].values})
    levels = pd.DataFrame(rows, columns=["kind", "scenario", "sample", "rep", *outcomes])
    frames = [levels]
    first = levels[levels["scenario"] == spec.base_names[0]].set_index(["sample", "rep"])[outcomes]
    for base in spec.base_names[1:]:
        other = levels[levels["scenario"] == base].set_index(["sample", "rep"])[outcomes]
        change = (other - first).reset_index()
        change.insert(0, "scenario", base)
        change.insert(0, "kind", "difference")
        frames.append(change[levels.columns])
    table = pd.concat(frames, ignore_index=True).merge(values, on="sample", how="left")
    return table[["kind", "scenario", "sample", "rep", *spec.parameters, *outcomes]]


def _with_sweep(record: dict, spec: SweepSpec) -> dict:
    """experiment.json's `sweep`: the experiment as validated, its size, which scenarios each parameter changes."""
    record["sweep"] = {
        "name": spec.name, "source": spec.source, "definition": spec.definition.model_dump(mode="json"),
        "base_scenarios": spec.base_names, "points": spec.samples, "replications": spec.runs.reps, "runs": spec.total_runs,
        "applies": {label: list(bases) for label, bases in spec.applies.items()},
    }
    return record
