"""Experiments: many replications of several scenarios, compared with a baseline.

    from sim.experiment import compare
    result = compare(["scenarios/baseline.yaml", "scenarios/forum_takedown.yaml"], reps=10, workers=2)
    result.summary          # end points per scenario: mean, 95% CI, paired % change vs the baseline
    result.report           # OUT/report.html

See docs/experiments.md. Modules: `spec` (what is compared), `replicate` (one run into one shard),
`backends` (where runs execute), `aggregate` and `endpoints` (statistics), `figures` and `report`
(what a reader sees), `store`, `provenance` and `outputs` (the output directory), `comparison` (all
of it in order).

The names below are imported on first use: a worker process unpickling a task imports this
package, and should pay for the model only, not for scipy.stats and matplotlib.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.experiment.comparison import Comparison, compare, run_experiment
    from sim.experiment.errors import ExperimentError
    from sim.experiment.spec import ExperimentSpec, load_experiment

_HOMES = {
    "Comparison": "comparison", "compare": "comparison", "run_experiment": "comparison",
    "ExperimentError": "errors", "ExperimentSpec": "spec", "load_experiment": "spec",
}
__all__ = ["Comparison", "ExperimentError", "ExperimentSpec", "compare", "load_experiment", "run_experiment"]


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(import_module(f"sim.experiment.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
