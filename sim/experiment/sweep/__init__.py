"""Sweeps and global sensitivity analysis: `recruitsim sweep EXPERIMENT.yaml`.

    from sim.experiment.sweep import sweep
    result = sweep("experiments/intervention_effect_sizes.yaml", overrides=["population.size=1000"], samples=8, workers=2)
    result.samples          # one row per kind, scenario, point and replication: inputs and outcomes
    result.indices          # Sobol S1/ST, Morris mu*/sigma or rank correlations, with 95% intervals
    result.report           # OUT/report.html

Modules: `definition` (the experiment file), `keypath` (setting values inside scenarios),
`designs` (points), `plan` (every run's scenario, validated), `run` (on compare's machinery),
`sensitivity` (indices), `figures`, `report` and `outputs` (what a reader sees). See
docs/experiments.md.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.experiment.sweep.plan import SweepSpec, load_sweep
    from sim.experiment.sweep.run import SweepResult, run_sweep, sweep

_HOMES = {"SweepSpec": "plan", "load_sweep": "plan", "SweepResult": "run", "run_sweep": "run", "sweep": "run"}
__all__ = ["SweepResult", "SweepSpec", "load_sweep", "run_sweep", "sweep"]


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(import_module(f"sim.experiment.sweep.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
