"""`recruitsim patterns`: run the scenario over seeds (and the intervention scenarios, and the
sensitivity runs, if asked), judge every pattern, write the report (sim/analysis/pattern_output.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sim.analysis.pattern_output import write_report
from sim.analysis.pattern_runs import (
    RunOptions,
    baseline_table,
    interventions_table,
    sensitive_to,
    sensitivity_table,
)


@dataclass(frozen=True)
class PatternJob:
    scenario: Path
    seeds: int
    out_dir: Path
    workers: int = 1
    overrides: tuple[str, ...] = ()
    interventions: bool = True
    intervention_seeds: int = 10
    sensitivity: bool = False
    sensitivity_seeds: int = 3
    quiet: bool = False
    allow_code_change: bool = False
    command: str | None = None


def run_pattern_report(job: PatternJob, say: Callable[[str], None] = lambda text: None) -> pd.DataFrame:
    """Run everything `job` asks for (resuming runs already in its directory) and write the report; the table."""
    if job.sensitivity and job.sensitivity_seeds > job.seeds:
        from sim.experiment.errors import ExperimentError

        raise ExperimentError(f"--sensitivity-seeds ({job.sensitivity_seeds}) must not exceed --seeds ({job.seeds}): the nominal "
                              "verdicts it is compared with come from the first replications of the main run")
    options = RunOptions(workers=job.workers, quiet=job.quiet, allow_code_change=job.allow_code_change,
                         overrides=tuple(job.overrides), command=job.command)
    runs = job.out_dir / "runs"
    say(f"patterns: {job.scenario} over {job.seeds} seeds")
    table, reports, columns, spec = baseline_table(job.scenario, job.seeds, runs / "baseline", options)
    if job.interventions:
        say(f"patterns: intervention scenarios over {job.intervention_seeds} seeds, paired with the baseline")
        table = pd.concat([table, interventions_table(job.scenario, job.intervention_seeds, runs / "interventions", options, columns)],
                          ignore_index=True)
    sensitivity = None
    if job.sensitivity:
        say(f"patterns: one-at-a-time sensitivity (x0.5, x1.5) over {job.sensitivity_seeds} seeds")
        sensitivity = sensitivity_table(job.scenario, job.sensitivity_seeds, runs / "sensitivity", options, reports, columns, spec.seed)
        table["sensitive_to"] = table["pattern"].map(sensitive_to(sensitivity))
    write_report(job.out_dir, table, header(job, spec), sensitivity)
    held = (table["holds"] == "yes").sum()
    say(f"patterns: {held} of {len(table)} hold; not measured: {table['holds'].str.startswith('not measured').sum()}")
    return table


def header(job: PatternJob, spec) -> list[str]:
    from sim.outputs.manifest import describe_code

    base = spec.baseline
    lines = [f"- Scenario: `{base.name}` ({_shown(job.scenario)}), {base.population} persons, {spec.steps} steps of one {spec.step}, seed {spec.seed}",
             f"- Seeds (replications): {job.seeds}" + (f"; intervention scenarios: {job.intervention_seeds}" if job.interventions else
                                                       "; intervention patterns not run (--no-interventions)"),
             f"- Code: {describe_code(spec.code)}; written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"]
    if job.overrides:
        lines.append(f"- Overrides: {', '.join(f'`{o}`' for o in job.overrides)}")
    if job.sensitivity:
        lines.append(f"- Sensitivity: each parameter of sim/analysis/pattern_runs.py SENSITIVITY_PARAMETERS at x0.5 and x1.5, "
                     f"{job.sensitivity_seeds} seeds each, compared with the nominal over the same seeds (sensitivity.csv)")
    if job.command:
        lines.append(f"- Command: `{job.command}`")
    return lines


def _shown(path: Path) -> str:
    """A scenario's path as the reader should see it: relative to here, or a bundled scenario's file name
    (no machine-specific absolute paths in docs/patterns.md)."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path.name
