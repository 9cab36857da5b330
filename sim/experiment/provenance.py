"""experiment.json: what was compared, how, with which versions, and how long it took."""

from __future__ import annotations

from datetime import UTC, datetime

from sim.experiment.spec import ExperimentSpec
from sim.outputs.manifest import SOURCE_TREE, git_state, package_versions, platform_info

EXPERIMENT_VERSION = 2  # 2: the code in the fingerprint, `inputs_fingerprint`, `code`, `invocations`


def invocation(
    spec: ExperimentSpec,
    *,
    status: str,
    started: datetime,
    command: str | None,
    allow_code_change: bool,
    runs: dict | None = None,
) -> dict:
    """One entry of experiment.json's `invocations`: who ran what, with which code."""
    return {
        "started_utc": started.astimezone(UTC).isoformat(timespec="seconds"),
        "status": status,
        "command": command,
        "reps": spec.reps,
        "code": spec.code,
        "allow_code_change": allow_code_change,
        "runs": runs,
    }


def experiment_record(
    spec: ExperimentSpec,
    *,
    status: str,
    started: datetime,
    backend: str,
    command: str | None,
    invocations: list[dict],
    marks: dict[str, list[dict]] | None = None,
    runs: dict | None = None,
    wall_time_s: float | None = None,
    files: list[str] | None = None,
) -> dict:
    """The content of experiment.json; `status` is "running" until the report is written.
    `invocations` lists every invocation on this directory, this one last."""
    marks = marks or {}
    return {
        "experiment_version": EXPERIMENT_VERSION,
        "status": status,
        "fingerprint": spec.fingerprint,
        "inputs_fingerprint": spec.inputs_fingerprint,
        "code": spec.code,
        "mixed_code": any(inv.get("code") != spec.code for inv in invocations),
        "baseline": spec.baseline.name,
        "seed": spec.seed,
        "reps": spec.reps,
        "steps": spec.steps,
        "step": spec.step,
        "overrides": list(spec.overrides),
        "primary_endpoints": list(spec.primary),
        "first_intervention_step": spec.first_intervention_step,
        "command": command,
        "backend": backend,
        "started_utc": started.astimezone(UTC).isoformat(timespec="seconds"),
        "wall_time_s": None if wall_time_s is None else round(float(wall_time_s), 3),
        "runs": runs,
        "scenarios": [
            {"name": e.name, "description": e.description, "source": e.source, "overrides": list(e.overrides), "population": e.population,
             "interventions": marks.get(e.name), "scenario": e.dump}
            for e in spec.scenarios
        ],
        "versions": package_versions(),
        "git": git_state(SOURCE_TREE),
        "platform": platform_info(),
        "invocations": invocations,
        "files": files,
    }
