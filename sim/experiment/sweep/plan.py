"""From an experiment file to every run's scenario, all validated before the first run.

Each point of the design is set on each base scenario's resolved dump (`keypath.set_path`) and the
result validated exactly as a worker will rebuild it (`Scenario.from_resolved`): a value the
schema refuses (a share above 1 from a too-wide range) is one `error:` line naming the sample,
its values and the key, before anything runs or is written.

The runs are an ordinary `ExperimentSpec` (sim/experiment/spec.py) whose scenarios are the
(point, base scenario) pairs, named `<base>#<point>`: so a sweep uses compare's executors,
shards, resumption, fingerprints and provenance unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from sim.experiment.errors import ExperimentError
from sim.experiment.spec import ExperimentSpec, ScenarioEntry, parse_scenario_argument
from sim.experiment.sweep.definition import (
    ExperimentFile,
    default_name,
    describe_problem,
    read_experiment_file,
)
from sim.experiment.sweep.designs import design_points
from sim.experiment.sweep.keypath import PathNotInScenario, parse_path, set_path
from sim.outputs.manifest import code_identity
from sim.outputs.paths import slug

# Keys that say what a run is, not what it assumes: varying them would break pairing or the windows.
FIXED = ("name", "description", "extends", "seed", "steps", "step")


@dataclass(frozen=True)
class SweepSpec:
    name: str
    source: str
    definition: ExperimentFile
    bases: tuple[ScenarioEntry, ...]  # the base scenarios as loaded (with the overrides)
    points: np.ndarray  # the design in the unit hypercube: (samples, parameters)
    values: pd.DataFrame  # the parameters' values per sample: index `sample`, one column per parameter label
    applies: dict[str, tuple[str, ...]]  # parameter label -> the base scenarios it changes
    runs: ExperimentSpec  # every (sample, base) as a scenario, `replications` reps each

    @property
    def parameters(self) -> list[str]:
        return list(self.values.columns)

    @property
    def base_names(self) -> list[str]:
        return [b.name for b in self.bases]

    @property
    def samples(self) -> int:
        return len(self.values)

    @property
    def total_runs(self) -> int:
        return self.samples * len(self.bases) * self.runs.reps


def run_name(base: str, sample: int) -> str:
    return f"{base}#{sample:05d}"


def load_sweep(path: str | Path, *, overrides: tuple[str, ...] = (), samples: int | None = None,
               replications: int | None = None, seed: int | None = None) -> SweepSpec:
    """The experiment file with the command line's changes (`--set` for every scenario, another
    number of samples or replications, another seed), every run's scenario validated."""
    path = Path(path)
    definition = read_experiment_file(path)
    changes = {key: value for key, value in (("samples", samples), ("replications", replications), ("seed", seed)) if value is not None}
    if changes:
        try:
            definition = ExperimentFile.model_validate({**definition.model_dump(exclude_unset=True), **changes})
        except ValidationError as exc:
            raise ExperimentError(f"{path} with {_given(changes)}: {describe_problem(exc.errors(include_url=False)[0])}") from None
    paths = {p.label: parse_path(p.path) for p in definition.parameters}
    for label, key in paths.items():
        if key.parts[0] in FIXED:
            raise ExperimentError(f"{path}: parameter {label!r}: {key.parts[0]} cannot be varied (it says what a run is; "
                                  "runs of a sweep differ only in the parameters)")
    bases = _load_bases(path, definition, overrides)
    run_seed = definition.seed if definition.seed is not None else int(bases[0].dump["seed"])
    bases = tuple(_with_seed(b, run_seed) for b in bases)
    points = design_points(definition, run_seed)
    values = pd.DataFrame({p.label: p.values_at(points[:, j]) for j, p in enumerate(definition.parameters)})
    values.index.name = "sample"
    applies = _applies(path, definition, paths, bases)
    entries = [_sample_entry(path, base, sample, row, paths, applies)
               for sample, row in enumerate(values.to_dict("records")) for base in bases]
    runs = ExperimentSpec(scenarios=tuple(entries), reps=definition.replications, seed=run_seed, overrides=tuple(overrides),
                          code=code_identity(), primary=tuple(definition.outcomes))
    return SweepSpec(definition.name or default_name(path), str(path), definition, bases, points, values, applies, runs)


def _given(changes: dict) -> str:
    return ", ".join(f"--{'reps' if key == 'replications' else key} {value}" for key, value in changes.items())


def _load_bases(path: Path, definition: ExperimentFile, overrides: tuple[str, ...]) -> tuple[ScenarioEntry, ...]:
    from sim.experiment.spec import _check_comparable, _deduplicated, _entry
    from sim.scenario import load_scenario
    from sim.scenario.loader import override_strings

    common = (*override_strings(definition.overrides), *overrides)
    entries = []
    for text in definition.scenarios:
        file, own = parse_scenario_argument(_relative_to(path, text))
        entries.append(_entry(file, load_scenario(_scenario_file(file), (*common, *own)), 0, own))
    entries = _deduplicated(entries)
    _check_comparable(entries)
    return tuple(entries)


def _relative_to(experiment: Path, text: str) -> str:
    """A scenario path is relative to the experiment file (as `extends` is); a bundled name stays a name."""
    head = text.split(":", 1)[0]
    if (experiment.parent / head).exists() and not Path(head).is_absolute():
        return str(experiment.parent / text)
    return text


def _scenario_file(file: Path) -> Path:
    from sim.scenario.bundled import find_scenario

    return find_scenario(file)


def _with_seed(entry: ScenarioEntry, seed: int) -> ScenarioEntry:
    from dataclasses import replace

    return replace(entry, dump={**entry.dump, "seed": seed})


def _applies(path: Path, definition: ExperimentFile, paths: dict, bases) -> dict[str, tuple[str, ...]]:
    """Which base scenarios each parameter changes: an intervention's parameter only those that have
    it. ExperimentError for a parameter that changes none (a typo in a label, most likely)."""
    applies = {}
    for parameter in definition.parameters:
        key, found, reasons = paths[parameter.label], [], []
        probe = parameter.values_at(np.array([0.5]))[0]
        for base in bases:
            try:
                set_path(base.dump, key, probe)
                found.append(base.name)
            except PathNotInScenario as missing:
                reasons.append(f"{base.name}: {missing}")
            except ExperimentError as exc:
                raise ExperimentError(f"{path}: {exc}") from None
        if not found:
            raise ExperimentError(f"{path}: parameter {parameter.label!r} changes no scenario ({'; '.join(reasons)})")
        applies[parameter.label] = tuple(found)
    return applies


def _sample_entry(path: Path, base: ScenarioEntry, sample: int, row: dict[str, Any], paths: dict, applies) -> ScenarioEntry:
    from pydantic import ValidationError

    from sim.scenario.schema import Scenario

    dump = dict(base.dump)
    for label, value in row.items():
        if base.name in applies[label]:
            dump = set_path(dump, paths[label], _plain(value))
    name = run_name(base.name, sample)
    dump["name"] = name
    try:
        scenario = Scenario.from_resolved(dump)
    except ValidationError as exc:
        raise ExperimentError(f"{path}: sample {sample} ({_describe_row(row)}) makes scenario {base.name!r} invalid: "
                              f"{_validation_line(exc)}") from None
    return ScenarioEntry(name=name, slug=slug(name), source=f"{base.source} (sample {sample})", dump=scenario.resolved(),
                         overrides=base.overrides)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _describe_row(row: dict[str, Any]) -> str:
    return ", ".join(f"{label}={value:.4g}" if isinstance(value, float) else f"{label}={value!r}" for label, value in row.items())


def _validation_line(exc) -> str:
    from sim.scenario.loader import _without_union_tags, describe_error, dotted

    first = exc.errors(include_url=False)[0]
    where = dotted(_without_union_tags(tuple(first["loc"])))
    message = describe_error(first)
    return f"{where}: {message}" if where else message
