"""Sensitivity indices of each outcome to each parameter (indices.parquet).

Every index is computed on the mean over replications at each point, for each target: a base
scenario's level, or, where there are several base scenarios, the paired change of each from the
first (the same point and replication in both, so the change is taken with common random numbers).

- sobol (SALib, Saltelli 2002 / Jansen estimators): `S1`, the share of the outcome's variance
  explained by the parameter alone, and `ST`, by the parameter with all its interactions; 95%
  intervals from 1,000 bootstrap resamples of the points (SALib's `*_conf`: value ± conf).
- morris (SALib): `mu_star`, the mean absolute elementary effect (the change of the outcome when the
  parameter moves across its whole range, in the outcome's units), with its bootstrap interval;
  `sigma`, their spread (interactions or non-linearity); `mu`, their signed mean.
- grid and lhs: `spearman`, the rank correlation of outcome and parameter, with a Fisher-z 95%
  interval (monotone effects only; no variance decomposition).

The long table has one row per target, outcome, parameter and index:
kind (level | difference), scenario, outcome, parameter, index, value, ci_low, ci_high.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from sim.experiment.sweep.designs import unit_problem

COLUMNS = ["kind", "scenario", "outcome", "parameter", "index", "value", "ci_low", "ci_high"]
INDICES = {"sobol": ("S1", "ST"), "morris": ("mu_star", "sigma", "mu"), "grid": ("spearman",), "lhs": ("spearman",)}
BOOTSTRAP_RESAMPLES = 1000
CONFIDENCE = 0.95


def point_means(samples: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """Mean over replications per target and point: kind, scenario, sample, outcomes..."""
    return samples.groupby(["kind", "scenario", "sample"], sort=False)[outcomes].mean().reset_index()


def indices(samples: pd.DataFrame, points: np.ndarray, parameters, design: str, outcomes: list[str], *,
            seed: int, morris_levels: int = 4) -> pd.DataFrame:
    """The long table of indices (COLUMNS) for every target and outcome."""
    means = point_means(samples, outcomes)
    rows = []
    for (kind, scenario), group in means.groupby(["kind", "scenario"], sort=False):
        group = group.sort_values("sample")
        for outcome in outcomes:
            y = group[outcome].to_numpy(dtype=float)
            for parameter, index, value, low, high in _indices_of(y, points, parameters, design, seed, morris_levels):
                rows.append((kind, scenario, outcome, parameter, index, value, low, high))
    return pd.DataFrame(rows, columns=COLUMNS)


def _indices_of(y, points, parameters, design, seed, levels):
    names = [p.label for p in parameters]
    if not np.all(np.isfinite(y)) or np.ptp(y) == 0:  # nothing varies: no share of variance to give out
        return [(name, index, np.nan, np.nan, np.nan) for name in names for index in INDICES[design]]
    if design == "sobol":
        return _sobol(y, parameters, seed)
    if design == "morris":
        return _morris(y, points, parameters, seed, levels)
    return _spearman(y, points, names)


def _sobol(y, parameters, seed):
    from SALib.analyze import sobol

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a bootstrap resample with no variance gives NaN, not an error
        # identical outcomes where a parameter cannot act (an intervention's, in the baseline) are expected with common random numbers
        warnings.filterwarnings("ignore", message="Constant values encountered", category=UserWarning)
        result = sobol.analyze(unit_problem(parameters), y, calc_second_order=False, num_resamples=BOOTSTRAP_RESAMPLES,
                               conf_level=CONFIDENCE, seed=seed)
    rows = []
    for j, p in enumerate(parameters):
        for index in ("S1", "ST"):
            value, conf = float(result[index][j]), float(result[f"{index}_conf"][j])
            rows.append((p.label, index, value, value - conf, value + conf))
    return rows


def _morris(y, points, parameters, seed, levels):
    from SALib.analyze import morris

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = morris.analyze(unit_problem(parameters), points, y, num_resamples=BOOTSTRAP_RESAMPLES, conf_level=CONFIDENCE,
                                num_levels=levels, seed=seed)
    rows = []
    for j, p in enumerate(parameters):
        mu_star, conf = float(result["mu_star"][j]), float(result["mu_star_conf"][j])
        rows.append((p.label, "mu_star", mu_star, max(0.0, mu_star - conf), mu_star + conf))
        rows.append((p.label, "sigma", float(result["sigma"][j]), np.nan, np.nan))
        rows.append((p.label, "mu", float(result["mu"][j]), np.nan, np.nan))
    return rows


def _spearman(y, points, names):
    from scipy import stats

    n, rows = len(y), []
    for j, name in enumerate(names):
        x = points[:, j]
        if np.ptp(x) == 0:
            rows.append((name, "spearman", np.nan, np.nan, np.nan))
            continue
        rho = float(stats.spearmanr(x, y).statistic)
        if n > 3 and abs(rho) < 1:
            half = stats.norm.ppf(0.5 + CONFIDENCE / 2) * 1.03 / np.sqrt(n - 3)  # Fisher z, Fieller et al. 1957's 1.03
            low, high = np.tanh(np.arctanh(rho) - half), np.tanh(np.arctanh(rho) + half)
        else:
            low = high = np.nan
        rows.append((name, "spearman", rho, float(low), float(high)))
    return rows
