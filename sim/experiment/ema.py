"""recruitsim as a model of the EMA workbench (Kwakkel 2017), for its scenario discovery (PRIM),
robust decision making and other analyses: `pip install 'recruitsim[ema]'`.

    from ema_workbench import perform_experiments
    from ema_workbench.analysis import prim
    from sim.experiment.ema import model_from_experiment

    model = model_from_experiment("experiments/intervention_effect_sizes.yaml", scenario="unevaluated_interventions",
                                  overrides=["population.size=2000"])
    experiments, outcomes = perform_experiments(model, 200)
    box = prim.Prim(experiments[model.uncertainty_names], outcomes["recruits_all_since_start"] > 100, threshold=0.8)

`model_from_experiment` takes the uncertainties from an experiment file of `recruitsim sweep`
(ranges, values; other distributions as their central 99.8%, since EMA samples uniformly itself);
`ema_model` takes a scenario and {name: key path} for uncertainties you declare yourself. The model
function runs in the calling process or EMA's workers, writes nothing, and returns the mean of each
outcome over its replications (replication i with the same random numbers at every point, as in a
sweep). EMA names must be Python identifiers: an outcome `recruits_all.since_start` is
`recruits_all_since_start` there.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

from sim.experiment.endpoints import DEFAULT_PRIMARY, all_endpoints
from sim.experiment.errors import ExperimentError


def ema_name(key: str) -> str:
    """An end point id as an EMA outcome name (a Python identifier)."""
    return key.replace(".", "_")


class RecruitsimFunction:
    """The model function EMA calls with one keyword per uncertainty: picklable (plain data only),
    so EMA's MultiprocessingEvaluator can send it to its workers."""

    def __init__(self, dump: dict, paths: Mapping[str, str], outcomes: Sequence[str], replications: int = 1):
        from sim.experiment.sweep.keypath import parse_path

        self.dump, self.paths, self.outcomes, self.replications = dump, dict(paths), list(outcomes), int(replications)
        for text in self.paths.values():
            parse_path(text)  # a bad path now, not in EMA's worker
        self._check_windows()

    def _check_windows(self) -> None:
        """An outcome "since the first intervention starts" needs one that starts within the run (as `sweep` checks)."""
        from sim.scenario.schema import Scenario
        from sim.timing import Clock

        since = [key for key in self.outcomes if key.endswith(".since_start")]
        scenario = Scenario.from_resolved(self.dump)
        if since and _first_start(scenario, Clock(scenario.step)) is None:
            raise ExperimentError(f"outcome {since[0]} counts from the step the first intervention starts, but no intervention of "
                                  f"{scenario.name!r} starts within its {scenario.steps} steps; use .total or .last_year")

    def scenario(self, inputs: Mapping[str, object]):
        from sim.experiment.sweep.keypath import parse_path, set_path
        from sim.scenario.schema import Scenario

        dump = self.dump
        for name, value in inputs.items():
            if name not in self.paths:
                raise ExperimentError(f"EMA gave {name!r}, which names no parameter of this model ({', '.join(self.paths)})")
            dump = set_path(dump, parse_path(self.paths[name]), value.item() if hasattr(value, "item") else value)
        return Scenario.from_resolved(dump)

    def __call__(self, **inputs) -> dict[str, float]:
        from sim.runner import simulate
        from sim.timing import Clock
        from sim.vocabulary import STEPS_PER_YEAR

        scenario = self.scenario(inputs)
        endpoints = {e.key: e for e in all_endpoints()}
        steps_per_year = int(round(STEPS_PER_YEAR[scenario.step]))
        start = _first_start(scenario, Clock(scenario.step))
        totals = dict.fromkeys(self.outcomes, 0.0)
        for rep in range(self.replications):
            timeseries = simulate(scenario, replication=(rep,)).results.timeseries
            for key in self.outcomes:
                totals[key] += endpoints[key].value(timeseries, steps_per_year, start)
        return {ema_name(key): total / self.replications for key, total in totals.items()}


def _first_start(scenario, clock) -> int | None:
    """The step the first intervention starts in (end points "since_start" count from there), as compare's spec has it."""
    starts = [clock.step_at(i.start_year) for i in scenario.interventions]
    starts = [s for s in starts if s <= scenario.steps]
    return min(starts, default=None)


def ema_model(scenario: str | Path, parameters: Mapping[str, str], *, outcomes: Sequence[str] = DEFAULT_PRIMARY,
              replications: int = 1, overrides: Sequence[str] = (), seed: int | None = None, name: str = "recruitsim"):
    """An `ema_workbench.Model` of `scenario` (a file or bundled name, with `overrides`) whose
    uncertainties are named by `parameters` ({EMA name: scenario key path}); set
    `model.uncertainties` yourself (RealParameter(name, low, high), ...). Its outcomes are the end
    points `outcomes`, as ScalarOutcomes named by `ema_name`."""
    from sim.experiment.spec import load_experiment

    entry = load_experiment([scenario], reps=1, overrides=overrides, seed=seed).baseline
    return _model(name, RecruitsimFunction(entry.dump, parameters, _checked(outcomes), replications))


def model_from_experiment(path: str | Path, *, scenario: str | None = None, overrides: Sequence[str] = (),
                          replications: int | None = None, name: str | None = None):
    """An `ema_workbench.Model` with the uncertainties, outcomes and replications of a sweep's
    experiment file, on one of its base scenarios (default: the last, typically the interventions)."""
    from sim.experiment.sweep.plan import load_sweep

    spec = load_sweep(path, overrides=tuple(overrides), samples=_fewest(path), replications=replications)
    bases = {b.name: b for b in spec.bases}
    chosen = bases[spec.base_names[-1]] if scenario is None else bases.get(scenario)
    if chosen is None:
        raise ExperimentError(f"{path}: no base scenario {scenario!r} (base scenarios: {', '.join(bases)})")
    paths = {p.label: p.path for p in spec.definition.parameters if chosen.name in spec.applies[p.label]}
    function = RecruitsimFunction(chosen.dump, paths, spec.definition.outcomes, spec.runs.reps)
    model = _model(name or _identifier(spec.name), function)
    model.uncertainties = [_uncertainty(p, chosen.dump) for p in spec.definition.parameters if p.label in paths]
    return model


def _fewest(path) -> int | None:
    """The experiment's design is not used here (EMA samples): the smallest valid size keeps loading quick."""
    from sim.experiment.sweep.definition import read_experiment_file

    return 1 if read_experiment_file(path).design in ("grid", "lhs", "sobol") else 2


def _uncertainty(parameter, dump: dict):
    import numpy as np

    from sim.experiment.sweep.keypath import get_path, parse_path

    ema = _ema()
    if not parameter.label.isidentifier():
        raise ExperimentError(f"parameter {parameter.label!r}: EMA needs names that are Python identifiers; give it a `name:`")
    if parameter.values is not None:
        return ema.CategoricalParameter(parameter.label, list(parameter.values))
    low, high = parameter.values_at(np.array([0.0 if parameter.bounded else 0.001, 1.0 if parameter.bounded else 0.999]))
    current = get_path(dump, parse_path(parameter.path))
    if isinstance(current, int) and not isinstance(current, bool):
        return ema.IntegerParameter(parameter.label, int(round(low)), int(round(high)))
    return ema.RealParameter(parameter.label, float(low), float(high))


def _model(name: str, function: RecruitsimFunction):
    ema = _ema()
    model = ema.Model(_identifier(name), function=function)
    model.outcomes = [ema.ScalarOutcome(ema_name(key)) for key in function.outcomes]
    return model


def _identifier(name: str) -> str:
    import re

    text = re.sub(r"\W+", "_", name).strip("_") or "recruitsim"
    return text if text[0].isalpha() else f"m_{text}"


def _checked(outcomes: Sequence[str]) -> list[str]:
    from sim.experiment.endpoints import unknown_endpoints

    unknown = unknown_endpoints(outcomes)
    if unknown:
        raise ExperimentError(f"unknown outcome {', '.join(map(repr, unknown))} (end point ids as in compare's summary.csv)")
    return list(outcomes)


def _ema():
    """ema_workbench, imported on first use (an optional extra) without its import-time chatter
    (it warns that optional evaluators such as ipyparallel are missing)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import ema_workbench
    except ImportError:
        raise ExperimentError("the EMA adapter needs the EMA workbench, which is not installed: pip install 'recruitsim[ema]'") from None
    return ema_workbench
