"""One replication of one scenario: run it and write its shard, or read the shard already there.

`run_replication` is what executors run. It takes and returns only plain, picklable data (the
resolved scenario as a dict, rebuilt exactly by `Scenario.from_resolved`; the shard path as a
string; back comes the timeseries frame and the intervention marks), so it works the same
in-process, in spawned worker processes, on Dask workers and under MPI. Shards are full run directories (docs/outputs.md) written atomically by
`write_run`: a shard with a manifest.json is complete, anything else is redone.
"""

from __future__ import annotations

import warnings

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.errors import RecruitsimWarning
from sim.errors import OutputError
from sim.outputs.manifest import MANIFEST, code_change_message

TIMESERIES = "timeseries.parquet"


@dataclass(frozen=True)
class RunTask:
    """Replication `rep` of scenario `scenario_name`, to be written to `shard_dir`."""

    scenario_name: str
    rep: int
    dump: dict
    shard_dir: str
    fingerprint: str  # of the inputs and the code (ExperimentSpec.fingerprint)
    inputs_fingerprint: str
    code: dict
    allow_code_change: bool = False  # whether a complete shard of other code may be reused


@dataclass(frozen=True)
class ShardResult:
    """What travels back to the parent: small tables, never the model."""

    scenario_name: str
    rep: int
    timeseries: pd.DataFrame
    marks: list[dict]
    wall_time_s: float
    reused: bool
    code: dict  # the code that ran it (sim.outputs.manifest.code_identity)
    warnings: tuple[str, ...] = ()  # what the run warned of; the parent shows each once, above its progress bar


def shard_path(out_dir: Path, slug: str, rep: int) -> Path:
    return Path(out_dir) / "shards" / slug / f"rep_{rep:03d}"


def is_complete(shard_dir: Path | str) -> bool:
    return (Path(shard_dir) / MANIFEST).is_file()


def run_replication(task: RunTask) -> ShardResult:
    """Run the task's model for its steps, write its shard (no figure) and return its timeseries."""
    # Imported here: a worker process pays for mesa and the model once, at its first task.
    from sim.outputs.writer import write_run
    from sim.runner import simulate
    from sim.scenario.schema import Scenario

    scenario = Scenario.from_resolved(task.dump)  # exactly as resolved in the parent: never merged into the defaults again
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RecruitsimWarning)
        model, results, manifest = simulate(scenario, replication=(task.rep,))
    told = tuple(dict.fromkeys(" ".join(str(w.message).split()) for w in caught if issubclass(w.category, RecruitsimWarning)))
    for w in caught:  # anything else is the caller's to see, as if not caught
        if not issubclass(w.category, RecruitsimWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    marks = model.intervention_schedule.marks()
    manifest["experiment"] = {"fingerprint": task.fingerprint, "inputs_fingerprint": task.inputs_fingerprint, "code": task.code,
                              "replication": task.rep, "intervention_marks": marks}
    write_run(results, task.shard_dir, fmt="parquet", manifest=manifest, plot=False)
    return ShardResult(task.scenario_name, task.rep, results.timeseries, marks, manifest["wall_time_s"], reused=False, code=task.code,
                       warnings=told)


class DamagedShard(Exception):
    """A shard that cannot be trusted: unreadable manifest, a file missing, changed or unreadable."""


def read_shard(task: RunTask) -> ShardResult:
    """The result of a shard a previous invocation completed; DamagedShard if it fails its checks
    (OutputError if it is sound but belongs to another experiment or other code)."""
    shard = Path(task.shard_dir)
    try:
        manifest = json.loads((shard / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DamagedShard(f"its {MANIFEST} cannot be read ({type(exc).__name__})") from None
    experiment = manifest.get("experiment", {}) if isinstance(manifest, dict) else {}
    check_shard_origin(shard, experiment, task)
    verify_checksums(shard, manifest)
    try:
        timeseries = pd.read_parquet(shard / TIMESERIES, engine="pyarrow")
    except Exception as exc:  # pyarrow's errors for a truncated or foreign file have no common base
        raise DamagedShard(f"{TIMESERIES} cannot be read ({type(exc).__name__})") from None
    return ShardResult(task.scenario_name, task.rep, timeseries, experiment.get("intervention_marks", []),
                       float(manifest.get("wall_time_s", 0.0)), reused=True, code=experiment.get("code"))


def verify_checksums(shard: Path, manifest: dict) -> None:
    """DamagedShard unless every file the manifest lists is there with its recorded SHA-256
    (shards written before checksums were recorded are checked for their files only)."""
    from sim.outputs.writer import CHECKSUMS, file_sha256

    recorded = manifest.get(CHECKSUMS) or {}
    for name in [*(manifest.get("files") or {TIMESERIES: None}), *recorded]:
        if not (shard / name).is_file():
            raise DamagedShard(f"{name} is missing")
    for name, expected in recorded.items():
        if file_sha256(shard / name) != expected:
            raise DamagedShard(f"{name} has changed since it was written (its checksum differs)")


def check_shard_origin(shard: Path, experiment: dict, task: RunTask) -> None:
    """OutputError unless the shard was written for this experiment's inputs, and by this code or
    with other code allowed. experiment.json already guards the directory; this catches shards
    copied in by hand."""
    if experiment.get("fingerprint") == task.fingerprint:
        return
    # before code was recorded, `fingerprint` covered the inputs only
    if experiment.get("inputs_fingerprint", experiment.get("fingerprint")) != task.inputs_fingerprint:
        raise OutputError(f"shard {shard} was written by another experiment (its inputs differ); delete it or choose another --out")
    if not task.allow_code_change:
        raise OutputError(code_change_message(f"shard {shard}", experiment.get("code"), task.code))
