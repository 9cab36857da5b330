"""What an experiment is: its scenarios (the first is the baseline), replications and seed.

Everything is loaded and validated here, before any run starts or anything is written. A spec
holds each scenario as its resolved JSON dump (plain dicts, `Scenario.resolved()`): that is what
travels to worker processes or cluster nodes, which rebuild the `Scenario` themselves with
`Scenario.from_resolved` (spawn-safe, no model objects cross process boundaries). That rebuild is
exact: the dump is never merged into the schema's defaults again, so an entry a scenario removed
(`gated_forum: null`) stays removed in every replication.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sim.errors import ScenarioError
from sim.experiment.endpoints import DEFAULT_PRIMARY, unknown_endpoints
from sim.experiment.errors import ExperimentError
from sim.outputs.manifest import code_identity
from sim.outputs.paths import slug

SPEC_VERSION = 1


@dataclass(frozen=True)
class ScenarioEntry:
    """One scenario of the experiment: its name, where it came from and its resolved parameters."""

    name: str
    slug: str  # its directory name under shards/
    source: str
    dump: dict  # Scenario.resolved(), with the experiment's seed
    overrides: tuple[str, ...] = ()  # KEY.PATH=VALUE given for this scenario alone (`FILE:KEY=VALUE`)

    @property
    def description(self) -> str:
        return " ".join(str(self.dump.get("description") or "").split())

    @property
    def population(self) -> int:
        return int(self.dump["population"]["size"])

    def scenario(self):
        """The validated Scenario (rebuilt from the dump, as a worker does)."""
        from sim.scenario.schema import Scenario

        return Scenario.from_resolved(self.dump)


@dataclass(frozen=True)
class ExperimentSpec:
    """Scenarios (baseline first), `reps` replications of each, one seed for all, and the code
    that runs them (`sim.outputs.manifest.code_identity`).

    Replication i of every scenario runs with `replication=(i,)` and the same seed, so scenarios
    share their random draws rep by rep (common random numbers) and differences are paired.
    """

    scenarios: tuple[ScenarioEntry, ...]
    reps: int
    seed: int
    overrides: tuple[str, ...] = ()
    code: dict = field(default_factory=code_identity)
    # End points judged one by one; the others under false discovery rate control. Not part of
    # the fingerprints: changing them recomputes the statistics of the same runs.
    primary: tuple[str, ...] = DEFAULT_PRIMARY

    @property
    def baseline(self) -> ScenarioEntry:
        return self.scenarios[0]

    @property
    def names(self) -> list[str]:
        return [entry.name for entry in self.scenarios]

    @property
    def steps(self) -> int:
        return int(self.baseline.dump["steps"])

    @property
    def step(self) -> str:
        return str(self.baseline.dump["step"])

    @property
    def steps_per_year(self) -> int:
        from sim.vocabulary import STEPS_PER_YEAR

        return int(round(STEPS_PER_YEAR[self.step]))

    @property
    def years(self) -> float:
        return self.steps / self.steps_per_year

    def intervention_starts(self) -> list[tuple[str, dict, int]]:
        """(scenario name, intervention, the step in which it starts) for every intervention."""
        from sim.timing import Clock

        clock, starts = Clock(self.step), []
        for entry in self.scenarios:
            for spec in entry.dump.get("interventions", []):
                start = spec["at"] if spec.get("at") is not None else spec.get("from_")
                if start is not None:
                    starts.append((entry.name, spec, clock.step_at(start)))  # the schedule's own rounding
        return starts

    @property
    def first_intervention_step(self) -> int | None:
        """The step in which the first intervention of any scenario starts; None if none starts
        within the run. End points "since the first intervention starts" count from there."""
        steps = [step for _, _, step in self.intervention_starts() if step <= self.steps]
        return min(steps, default=None)

    def idle_interventions(self) -> list[str]:
        """Interventions that start after the last step and so cannot change anything (typically
        a shortened `--set steps=...`): worth a warning, not an error. The check `run` makes too."""
        from sim.interventions.checks import idle_interventions

        return [f"{entry.name}: {note}" for entry in self.scenarios for note in idle_interventions(entry.scenario())]

    @cached_property
    def inputs_fingerprint(self) -> str:
        """Identifies the runs' inputs: the scenarios' resolved content, the baseline and the seed.

        The number of replications is left out on purpose: rep i is the same run whatever `reps`
        is, so raising --reps on an existing output directory reuses the shards already there.
        """
        content = {"version": SPEC_VERSION, "seed": self.seed, "baseline": self.baseline.name,
                   "scenarios": {entry.name: entry.dump for entry in self.scenarios}}
        return _sha256(content)

    @cached_property
    def fingerprint(self) -> str:
        """Identifies the runs: their inputs and the code (version, git commit, dirty flag), so
        that shards of other code are never taken for this experiment's without being told."""
        return _sha256({"inputs": self.inputs_fingerprint, "code": self.code})


def _sha256(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()


# `FILE:KEY.PATH=VALUE[:KEY.PATH=VALUE...]`: a colon followed by a key path and `=` starts an override
# (a YAML value such as `{a: 1}` has a colon followed by a space, never by `key=`).
_OVERRIDE_START = re.compile(r":(?=\s*[A-Za-z_][\w.\[\]-]*\s*=)")


def parse_scenario_argument(text: str | Path) -> tuple[Path, tuple[str, ...]]:
    """`baseline.yaml:population.size=2000:steps=52` -> (Path('baseline.yaml'), ('population.size=2000', 'steps=52')).

    A Path, or a string naming an existing file or bundled scenario as a whole, has no overrides.
    ExperimentError for a colon that starts no KEY.PATH=VALUE."""
    from sim.scenario.bundled import bundled_path

    if isinstance(text, Path) or Path(text).exists() or bundled_path(str(text)) is not None or ":" not in str(text):
        return Path(text), ()
    head, *overrides = _OVERRIDE_START.split(str(text))
    if not overrides or not head or head.endswith(":"):
        raise ExperimentError(f"scenario {str(text)!r}: expected SCENARIO or SCENARIO:KEY.PATH=VALUE[:KEY.PATH=VALUE...], "
                              "e.g. baseline.yaml:population.size=2000 (no such file either)")
    return Path(head), tuple(o.strip() for o in overrides)


def load_experiment(
    paths: Sequence[str | Path],
    *,
    reps: int,
    overrides: Sequence[str] = (),
    seed: int | None = None,
    primary: Sequence[str] | None = None,
) -> ExperimentSpec:
    """Load and validate every scenario (with `overrides` applied to all, then its own); ScenarioError
    or ExperimentError on any problem. A path given as a string may carry overrides of its own
    (`baseline.yaml:population.size=2000`, `parse_scenario_argument`). `seed` defaults to the
    baseline's seed, `primary` (the end points judged one by one) to DEFAULT_PRIMARY."""
    from sim.scenario import load_scenario

    if not paths:
        raise ExperimentError("no scenarios given: name the baseline first, then the scenarios to compare with it")
    if int(reps) < 1:
        raise ExperimentError(f"reps must be at least 1, got {reps}")
    primary = _checked_primary(primary)
    arguments = [parse_scenario_argument(path) for path in paths]  # every syntax error before any file is read
    loaded = [(path, own, load_scenario(_found(path), (*overrides, *own))) for path, own in arguments]
    seed = loaded[0][2].seed if seed is None else int(seed)
    if seed < 0:
        raise ExperimentError(f"seed must be >= 0, got {seed}")
    entries = _deduplicated([_entry(path, scenario, seed, own) for path, own, scenario in loaded])
    _check_comparable(entries)
    return ExperimentSpec(scenarios=tuple(entries), reps=int(reps), seed=seed, overrides=tuple(overrides), code=code_identity(),
                          primary=primary)


def _checked_primary(primary: Sequence[str] | None) -> tuple[str, ...]:
    if primary is None:
        return DEFAULT_PRIMARY
    if isinstance(primary, str):  # one name, not its letters
        primary = (primary,)
    unknown = unknown_endpoints(primary)
    if unknown:
        raise ExperimentError(f"unknown primary end point {', '.join(map(repr, unknown))}: give end point ids as in "
                              "summary.csv's `endpoint` column, e.g. recruits_all.since_start (docs/experiments.md lists them)")
    return tuple(dict.fromkeys(primary))


def _found(path: Path) -> Path:
    from sim.scenario.bundled import find_scenario

    return find_scenario(path)


def _entry(path: Path, scenario, seed: int, own: tuple[str, ...] = ()) -> ScenarioEntry:
    dump = {**scenario.resolved(), "seed": seed}
    return ScenarioEntry(name=scenario.name, slug=slug(scenario.name), source=str(path), dump=dump, overrides=own)


def _deduplicated(entries: list[ScenarioEntry]) -> list[ScenarioEntry]:
    """Drop repeats of a scenario (a file given twice, the baseline caught by a glob again);
    two different scenarios may not share a name (or a directory name)."""
    kept: dict[str, ScenarioEntry] = {}
    for entry in entries:
        same = kept.get(entry.name)
        if same is not None:
            if same.dump != entry.dump:
                raise ScenarioError(f"{entry.source}: two different scenarios are named {entry.name!r} (the other is {same.source}); "
                                    "scenario names must be unique: give one of them another `name:` (or FILE:name=OTHER)")
            continue
        clash = next((other for other in kept.values() if other.slug == entry.slug), None)
        if clash is not None:
            raise ScenarioError(f"{entry.source}: scenario names {entry.name!r} and {clash.name!r} ({clash.source}) "
                                f"both become the directory name {entry.slug!r}; rename one of them")
        kept[entry.name] = entry
    return list(kept.values())


def _check_comparable(entries: list[ScenarioEntry]) -> None:
    """Paired differences are taken step by step: every scenario must run the same steps."""
    base = entries[0]
    for entry in entries[1:]:
        for key in ("steps", "step"):
            if entry.dump[key] != base.dump[key]:
                raise ScenarioError(f"{entry.source}: {key} is {entry.dump[key]!r} but the baseline {base.name!r} has "
                                    f"{base.dump[key]!r}; scenarios compared step by step must agree (use --set {key}=...)")
