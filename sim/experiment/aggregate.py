"""Across replications: means and 95% t-intervals, and paired differences from the baseline.

Replication i of every scenario shares its random draws with replication i of the baseline
(common random numbers), so the effect of an intervention is estimated from the paired
differences d_i = x_i - baseline_i, whose spread is far smaller than that of either arm.

- level:       mean of x over replications, with the t-interval mean ± t(0.975, n-1)·sd/√n;
- difference:  the same for d (scenario minus baseline, rep by rep);
- % change:    100·mean(d)/mean(baseline), with interval 100·[CI of d]/mean(baseline). It treats
               the baseline mean as known, so its interval excludes 0 exactly when the paired
               t-test on d rejects "no effect" at 5%. Undefined (NaN) when the baseline mean is 0.

With one replication there is no spread to estimate: intervals are NaN (not an error).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sim.experiment.endpoints import endpoint_matrix, endpoints_for

CONFIDENCE = 0.95
INDEX_COLUMNS = ("step", "year")
LONG_COLUMNS = ["kind", "scenario", "step", "year", "metric", "mean", "ci_low", "ci_high", "n"]
# Derived per-step metrics worth a band of their own: all new recruits, and the same over the past year
# (a rolling sum is smoother to read than weekly counts of a few persons).
RECRUITS_ALL = "recruits_all"
RECRUITS_PAST_YEAR = "recruits_all_past_year"


@dataclass(frozen=True)
class Aggregates:
    timeseries: pd.DataFrame  # long: kind (level | difference), scenario, step, year, metric, mean, ci_low, ci_high, n
    summary: pd.DataFrame  # one row per scenario and end point
    per_run: pd.DataFrame  # the end points of every run: scenario, rep, endpoint, value (for one's own statistics)


def mean_ci(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Mean and 95% t-interval along `axis` (the replications), and the number of replications."""
    values = np.asarray(values, dtype=float)
    n = values.shape[axis]
    mean = values.mean(axis=axis)
    if n < 2:
        nan = np.full_like(mean, np.nan)
        return mean, nan, nan.copy(), n
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * values.std(axis=axis, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half, n


def with_derived(timeseries: pd.DataFrame, steps_per_year: int) -> pd.DataFrame:
    """The timeseries plus all new recruits per step and over the past year (NaN until a full year)."""
    frame = timeseries.copy()
    if {"recruits_offline", "recruits_online"}.issubset(frame.columns):
        frame[RECRUITS_ALL] = frame["recruits_offline"] + frame["recruits_online"]
        window = max(1, min(steps_per_year, len(frame)))
        frame[RECRUITS_PAST_YEAR] = frame[RECRUITS_ALL].rolling(window, min_periods=window).sum().astype(float)
    return frame


def stack(frames: list[pd.DataFrame], metrics: list[str]) -> np.ndarray:
    """The runs' values as one array: replication x step x metric."""
    steps = frames[0]["step"].to_numpy()
    for frame in frames[1:]:
        if not np.array_equal(frame["step"].to_numpy(), steps):
            raise ValueError("replications of a scenario have different steps")
    return np.stack([frame[metrics].to_numpy(dtype=float) for frame in frames])


def metrics_of(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in INDEX_COLUMNS and pd.api.types.is_numeric_dtype(frame[c])]


def aggregate(runs: dict[str, list[pd.DataFrame]], baseline: str, steps_per_year: int) -> Aggregates:
    """`runs` maps each scenario to its timeseries frames, in replication order; `baseline` is a key."""
    runs = {name: [with_derived(f, steps_per_year) for f in frames] for name, frames in runs.items()}
    return Aggregates(timeseries_aggregates(runs, baseline), summary_table(runs, baseline, steps_per_year),
                      per_run_table(runs, baseline, steps_per_year))


# --------------------------------------------------------------------------- over time
def timeseries_aggregates(runs: dict[str, list[pd.DataFrame]], baseline: str) -> pd.DataFrame:
    base_frames = runs[baseline]
    parts = []
    for name, frames in runs.items():
        metrics = metrics_of(frames[0])
        parts.append(_long("level", name, frames[0], metrics, stack(frames, metrics)))
        if name != baseline:
            shared = [m for m in metrics if m in base_frames[0].columns]
            _check_paired(name, frames, baseline, base_frames)
            parts.append(_long("difference", name, frames[0], shared, stack(frames, shared) - stack(base_frames, shared)))
    return pd.concat(parts, ignore_index=True)


def _check_paired(name: str, frames: list, baseline: str, base_frames: list) -> None:
    if len(frames) != len(base_frames):
        raise ValueError(f"{name} has {len(frames)} replications and {baseline} {len(base_frames)}: differences are paired rep by rep")
    if not np.array_equal(frames[0]["step"].to_numpy(), base_frames[0]["step"].to_numpy()):
        raise ValueError(f"{name} and {baseline} have different steps: differences are paired step by step")


def _long(kind: str, scenario: str, index: pd.DataFrame, metrics: list[str], values: np.ndarray) -> pd.DataFrame:
    """Rows per step and metric (metric varying fastest) from a replication x step x metric array."""
    mean, low, high, n = mean_ci(values, axis=0)
    n_steps, n_metrics = mean.shape
    return pd.DataFrame({
        "kind": kind,
        "scenario": scenario,
        "step": np.repeat(index["step"].to_numpy(dtype=np.int64), n_metrics),
        "year": np.repeat(index["year"].to_numpy(dtype=float), n_metrics),
        "metric": np.tile(np.asarray(metrics, dtype=object), n_steps),
        "mean": mean.ravel(), "ci_low": low.ravel(), "ci_high": high.ravel(),
        "n": np.int64(n),
    }, columns=LONG_COLUMNS)


# --------------------------------------------------------------------------- end points
def summary_table(runs: dict[str, list[pd.DataFrame]], baseline: str, steps_per_year: int) -> pd.DataFrame:
    """Per scenario and end point: mean and CI; for the others also the paired difference and % change."""
    endpoints = endpoints_for(runs[baseline][0].columns)
    base_values = endpoint_matrix(runs[baseline], endpoints, steps_per_year)
    base_mean = base_values.mean(axis=0)
    rows = []
    for name, frames in runs.items():
        values = endpoint_matrix(frames, endpoints, steps_per_year)
        level = mean_ci(values)
        diff = mean_ci(values - base_values) if name != baseline else None
        for j, endpoint in enumerate(endpoints):
            rows.append({
                "scenario": name, "endpoint": endpoint.key, "label": endpoint.label, "group": endpoint.group,
                "mean": level[0][j], "ci_low": level[1][j], "ci_high": level[2][j], "n": level[3],
                **_paired(diff, j, base_mean[j]),
            })
    return pd.DataFrame(rows)


def per_run_table(runs: dict[str, list[pd.DataFrame]], baseline: str, steps_per_year: int) -> pd.DataFrame:
    endpoints = endpoints_for(runs[baseline][0].columns)
    parts = []
    for name, frames in runs.items():
        values = endpoint_matrix(frames, endpoints, steps_per_year)
        parts.append(pd.DataFrame({
            "scenario": name,
            "rep": np.repeat(np.arange(len(frames), dtype=np.int64), len(endpoints)),
            "endpoint": np.tile(np.asarray([e.key for e in endpoints], dtype=object), len(frames)),
            "value": values.ravel(),
        }))
    return pd.concat(parts, ignore_index=True)


def _paired(diff, j: int, base_mean: float) -> dict[str, float]:
    if diff is None:
        return dict.fromkeys(("diff_mean", "diff_ci_low", "diff_ci_high", "pct_change", "pct_ci_low", "pct_ci_high"), np.nan)
    mean, low, high = (float(part[j]) for part in diff[:3])
    pct = (lambda v: 100.0 * v / base_mean) if base_mean != 0 else (lambda v: np.nan)
    return {"diff_mean": mean, "diff_ci_low": low, "diff_ci_high": high,
            "pct_change": pct(mean), "pct_ci_low": pct(low), "pct_ci_high": pct(high)}
