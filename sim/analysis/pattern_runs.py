"""Run what the pattern report needs with the experiment machinery (sim/experiment: replications,
local workers or Dask, resumable shards, provenance) and turn the shards into pattern tables.

Layout of the output directory:
    runs/baseline/         the scenario over --seeds replications (a `compare` experiment directory)
    runs/interventions/    baseline + the intervention scenarios, paired by replication
    runs/sensitivity/<parameter>-x<factor>/   the scenario with one parameter changed, fewer seeds
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.analysis.intervention_patterns import (
    core_arrest_measures,
    removal_measures,
    takedown_measures,
    with_marks,
)
from sim.analysis.pattern_catalogue import BASELINE, INTERVENTIONS
from sim.analysis.pattern_table import columns_of, pattern_table
from sim.analysis.patterns import pattern_report
from sim.experiment.comparison import run_experiment
from sim.experiment.replicate import shard_path
from sim.experiment.spec import ExperimentSpec, load_experiment
from sim.outputs.writer import read_run

INTERVENTION_SCENARIOS = ("forum_takedown", "core_arrests", "central_arrests", "random_arrests")

# One-at-a-time sensitivity: key parameters, each run at these factors of its value (issue 8: ±50%).
SENSITIVITY_PARAMETERS = (
    "recruitment.rules.offline_ties.attempt_rate",
    "recruitment.rules.forums.search_rate",
    "recruitment.rules.adverts.advert_rate",
    "recruitment.acceptance.min_core_trust",
    "enforcement.detection_base",
    "networks.founding_rate_experienced",
    "networks.founding_rate_novice",
    "networks.founding_rate_forum",
    "networks.lost_contact_rate",
    "desistance.base_rate",
)
SENSITIVITY_FACTORS = (0.5, 1.5)


@dataclass
class RunOptions:
    workers: int = 1
    scheduler: str | None = None
    quiet: bool = False
    allow_code_change: bool = False
    overrides: tuple[str, ...] = ()
    seed: int | None = None
    command: str | None = None
    progress: list[str] = field(default_factory=list)


def run_all(paths: Sequence[Path | str], reps: int, out_dir: Path, options: RunOptions, extra: Sequence[str] = ()) -> ExperimentSpec:
    """Run (or resume) `reps` replications of each scenario in `out_dir`; the spec says where the shards are."""
    spec = load_experiment(tuple(paths), reps=reps, overrides=(*options.overrides, *extra), seed=options.seed)
    run_experiment(spec, out_dir, workers=options.workers, scheduler=options.scheduler, quiet=options.quiet,
                   command=options.command, allow_code_change=options.allow_code_change)
    return spec


def shard(spec: ExperimentSpec, out_dir: Path, name: str, rep: int):
    entry = next(e for e in spec.scenarios if e.name == name)
    return read_run(shard_path(out_dir, entry.slug, rep))


def recorded_marks(spec: ExperimentSpec, out_dir: Path, name: str) -> list[dict]:
    """The intervention timings replication 0 of scenario `name` recorded in its shard's manifest."""
    from sim.outputs.manifest import MANIFEST

    entry = next(e for e in spec.scenarios if e.name == name)
    manifest = json.loads((shard_path(out_dir, entry.slug, 0) / MANIFEST).read_text(encoding="utf-8"))
    return manifest.get("experiment", {}).get("intervention_marks", [])


def baseline_reports(spec: ExperimentSpec, out_dir: Path) -> tuple[list[dict], set[str]]:
    """One `pattern_report` per replication of the first scenario, and the columns its outputs have."""
    reports, columns = [], set()
    for rep in range(spec.reps):
        results = shard(spec, out_dir, spec.baseline.name, rep)
        reports.append(pattern_report(results))
        columns |= columns_of(results)
    return reports, columns


def intervention_reports(spec: ExperimentSpec, out_dir: Path) -> dict[str, list[dict]]:
    """Per replication, the paired measures of each intervention pattern group."""
    dumps = {e.name: with_marks(e.dump, recorded_marks(spec, out_dir, e.name)) for e in spec.scenarios}
    groups: dict[str, list[dict]] = {"forum_takedown": [], "core_arrests": [], "central_vs_random": []}
    for rep in range(spec.reps):
        base = shard(spec, out_dir, spec.baseline.name, rep)
        groups["forum_takedown"].append(takedown_measures(base, shard(spec, out_dir, "forum_takedown", rep), dumps["forum_takedown"]))
        groups["core_arrests"].append(core_arrest_measures(base, shard(spec, out_dir, "core_arrests", rep), dumps["core_arrests"]))
        central = shard(spec, out_dir, "central_arrests", rep)
        groups["central_vs_random"].append(removal_measures(central, shard(spec, out_dir, "random_arrests", rep), dumps["central_arrests"]))
    return groups


def baseline_table(scenario: Path | str, reps: int, out_dir: Path, options: RunOptions) -> tuple[pd.DataFrame, list[dict], set[str], ExperimentSpec]:
    spec = run_all([scenario], reps, out_dir, options)
    reports, columns = baseline_reports(spec, out_dir)
    return pattern_table(BASELINE, {"baseline": reports}, columns, spec.seed), reports, columns, spec


def interventions_table(scenario: Path | str, reps: int, out_dir: Path, options: RunOptions, columns: set[str]) -> pd.DataFrame:
    from sim.scenario.bundled import find_scenario

    paths = [scenario, *(find_scenario(Path(name)) for name in INTERVENTION_SCENARIOS)]
    spec = run_all(paths, reps, out_dir, options)
    return pattern_table(INTERVENTIONS, intervention_reports(spec, out_dir), columns, spec.seed)


def nominal_value(scenario: Path | str, key: str, overrides: Sequence[str]) -> float:
    from sim.experiment.sweep.keypath import get_path, parse_path
    from sim.scenario import load_scenario

    return float(get_path(load_scenario(scenario, tuple(overrides)).resolved(), parse_path(key)))


def sensitivity_table(scenario: Path | str, reps: int, out_dir: Path, options: RunOptions, nominal_reports: list[dict],
                      columns: set[str], seed: int, parameters: Sequence[str] = SENSITIVITY_PARAMETERS) -> pd.DataFrame:
    """Whether each baseline pattern holds with each parameter at each factor, next to whether it holds
    at the nominal values over the same replications (the first `reps` of the main run: same draws).

    A pattern judged on its mean's interval is judged here on the mean alone: a few seeds cannot
    narrow an interval enough to say anything (three seeds of the membership trend give an interval
    about ±15%/year wide against a band of ±5%), so its interval verdict would flip at random."""
    nominal = pattern_table(BASELINE, {"baseline": nominal_reports[:reps]}, columns, seed, by_mean=True).set_index("pattern")["holds"]
    rows = []
    for key in parameters:
        for factor in SENSITIVITY_FACTORS:
            value = nominal_value(scenario, key, options.overrides) * factor
            where = out_dir / f"{key}-x{factor:g}"
            spec = run_all([scenario], reps, where, options, extra=(f"{key}={value:g}",))
            reports, _ = baseline_reports(spec, where)
            table = pattern_table(BASELINE, {"baseline": reports}, columns, seed, by_mean=True).set_index("pattern")
            for pattern, holds in table["holds"].items():
                rows.append({"pattern": pattern, "parameter": key, "factor": factor, "value": value, "holds": holds,
                                 "share_holding": table.loc[pattern, "share_holding"], "nominal": nominal[pattern],
                                 "flips": _verdict(holds) is not None and _verdict(nominal[pattern]) is not None
                                 and _verdict(holds) != _verdict(nominal[pattern])})
    return pd.DataFrame(rows)


def _verdict(holds: str) -> bool | None:
    return {"yes": True, "no": False}.get(holds)


def sensitive_to(sensitivity: pd.DataFrame) -> dict[str, str]:
    """Per pattern, the parameter changes that flip it ("none" when none does)."""
    out = {}
    for pattern, rows in sensitivity.groupby("pattern", sort=False):
        flips = rows[rows["flips"]]
        out[pattern] = ", ".join(f"{_short(r.parameter)} x{r.factor:g}" for r in flips.itertuples()) or "none"
    return out


def _short(key: str) -> str:
    return ".".join(key.split(".")[-2:])
