"""Designs: points of the unit hypercube, one column per parameter, in the order runs are made.

- grid: every combination of `samples` levels per parameter (a parameter with `values` takes each
  of them); bounded distributions include both ends, unbounded ones take the midpoints of
  `samples` equally likely intervals.
- lhs: `samples` points of a Latin hypercube (`scipy.stats.qmc.LatinHypercube`, seeded).
- sobol: Saltelli's scheme for first and total order indices (`SALib.sample.sobol`, scrambled,
  seeded): N x (D + 2) points for N = `samples` and D parameters.
- morris: `samples` one-at-a-time trajectories on `morris_levels` levels (`SALib.sample.morris`):
  `samples` x (D + 1) points.

Sobol and Morris points must be analysed in the order made (SALib reads the structure from the
row order): `samples.parquet`'s `sample` column is that order.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from sim.experiment.sweep.definition import ExperimentFile, Parameter


def unit_problem(parameters: list[Parameter]) -> dict:
    """SALib's problem on the unit hypercube: values are made by each parameter's quantile function."""
    return {"num_vars": len(parameters), "names": [p.label for p in parameters], "bounds": [[0.0, 1.0]] * len(parameters)}


def design_points(experiment: ExperimentFile, seed: int) -> np.ndarray:
    """The design's points in the unit hypercube, shape (points, parameters)."""
    parameters, n = experiment.parameters, experiment.samples
    if experiment.design == "grid":
        return _grid(parameters, n)
    if experiment.design == "lhs":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d=len(parameters), seed=np.random.default_rng(seed)).random(n)
    if experiment.design == "sobol":
        from SALib.sample import sobol

        return sobol.sample(unit_problem(parameters), n, calc_second_order=False, scramble=True, seed=seed)
    from SALib.sample import morris

    with warnings.catch_warnings():  # SALib's note that the levels should be even: we say so in the docs
        warnings.simplefilter("ignore", UserWarning)
        return morris.sample(unit_problem(parameters), n, num_levels=experiment.morris_levels, seed=seed)


def _grid(parameters: list[Parameter], levels: int) -> np.ndarray:
    axes = [_levels(p, levels) for p in parameters]
    return np.array(list(itertools.product(*axes)), dtype=float).reshape(-1, len(parameters))


def _levels(parameter: Parameter, levels: int) -> np.ndarray:
    if parameter.values is not None:
        k = len(parameter.values)
        return (np.arange(k) + 0.5) / k  # each value once
    if levels == 1:
        return np.array([0.5])
    if parameter.bounded:
        return np.linspace(0.0, 1.0, levels)
    return (np.arange(levels) + 0.5) / levels


def point_count(experiment: ExperimentFile) -> int:
    """How many points the design has (before replications and scenarios), without making them."""
    d, n = len(experiment.parameters), experiment.samples
    if experiment.design == "grid":
        return int(np.prod([len(p.values) if p.values is not None else n for p in experiment.parameters]))
    if experiment.design == "lhs":
        return n
    return n * (d + 2) if experiment.design == "sobol" else n * (d + 1)
