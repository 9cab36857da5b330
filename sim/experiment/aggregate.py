"""Across replications: means and 95% intervals, and paired differences from the baseline.

Replication i of every scenario shares its random draws with replication i of the baseline
(common random numbers), so the effect of an intervention is estimated from the paired
differences d_i = x_i - baseline_i.

Over time (aggregates.parquet, the figures' bands): mean and t-interval, mean ± t(0.975, n-1)·sd/√n,
of the level and of d per step and metric. A level's interval is cut at 0 where the metric is never
negative: the true mean lies in the cut interval whenever it lies in the whole one, so the cut
changes no coverage, only removes impossible values.

End points (summary.csv, sim/experiment/intervals.py): bootstrap intervals (BCa) of the level, of
mean(d), and of the ratio mean(x)/mean(baseline) as % change, all with pairs of replications
resampled together; p-values of a paired sign-flip test; primary end points are judged each at
5%, the others with the false discovery rate controlled at 5% (Benjamini-Hochberg) over every
non-primary end point of every scenario. With one replication there is no spread to estimate:
intervals and p-values are NaN (not an error).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sim.experiment.endpoints import DEFAULT_PRIMARY, Endpoint, endpoint_matrix, endpoints_for
from sim.experiment.intervals import difference_interval, level_interval, ratio_interval, sign_flip_p_values

CONFIDENCE = 0.95
FDR = 0.05  # the false discovery rate among non-primary end points called changed
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


@dataclass(frozen=True)
class Design:
    """What the summary needs beyond the runs: the seed of its bootstrap and tests (the
    experiment's), the step in which the first intervention starts (None: none does) and the
    primary end points."""

    seed: int = 0
    start_step: int | None = None
    primary: tuple[str, ...] = DEFAULT_PRIMARY


def aggregate(runs: dict[str, list[pd.DataFrame]], baseline: str, steps_per_year: int, design: Design = Design()) -> Aggregates:
    """`runs` maps each scenario to its timeseries frames, in replication order; `baseline` is a key."""
    runs = {name: [with_derived(f, steps_per_year) for f in frames] for name, frames in runs.items()}
    return Aggregates(timeseries_aggregates(runs, baseline), summary_table(runs, baseline, steps_per_year, design),
                      per_run_table(runs, baseline, steps_per_year, design.start_step))


# --------------------------------------------------------------------------- over time
def timeseries_aggregates(runs: dict[str, list[pd.DataFrame]], baseline: str) -> pd.DataFrame:
    base_frames = runs[baseline]
    parts = []
    for name, frames in runs.items():
        metrics = metrics_of(frames[0])
        parts.append(_long("level", name, frames[0], metrics, stack(frames, metrics), cut_at_zero=True))
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


def _long(kind: str, scenario: str, index: pd.DataFrame, metrics: list[str], values: np.ndarray, cut_at_zero: bool = False) -> pd.DataFrame:
    """Rows per step and metric (metric varying fastest) from a replication x step x metric array;
    with `cut_at_zero`, intervals of metrics never negative in any run and step stop at 0."""
    mean, low, high, n = mean_ci(values, axis=0)
    if cut_at_zero:
        never_negative = ~np.any(values < 0, axis=(0, 1))  # NaN (a rolling sum's first year) is not negative
        low = np.where(never_negative[np.newaxis, :], np.maximum(low, 0.0), low)
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
def summary_table(runs: dict[str, list[pd.DataFrame]], baseline: str, steps_per_year: int, design: Design = Design()) -> pd.DataFrame:
    """Per scenario and end point: mean and CI; for the others also the paired difference and %
    change with their CIs, the p-value, and whether the change counts as found (`significant`)."""
    endpoints = endpoints_for(runs[baseline][0].columns, since_start=design.start_step is not None)
    base_values = endpoint_matrix(runs[baseline], endpoints, steps_per_year, design.start_step)
    primary = primary_flags(endpoints, design.primary)
    parts = []
    for name, frames in runs.items():
        values = endpoint_matrix(frames, endpoints, steps_per_year, design.start_step)
        columns = _describe(endpoints, name, primary, values, design.seed)
        if name != baseline:
            columns.update(_paired(values, base_values, design.seed, name))
        parts.append(pd.DataFrame(columns))
    return judge(pd.concat(parts, ignore_index=True))


def primary_flags(endpoints: list[Endpoint], primary: tuple[str, ...]) -> np.ndarray:
    """Which of `endpoints` are primary: those named, a ".since_start" name standing for its
    ".total" when no intervention starts within the run (the table then has no such rows)."""
    keys = {e.key for e in endpoints}
    named = {key if key in keys else key.replace(".since_start", ".total") for key in primary}
    return np.array([e.key in named for e in endpoints], dtype=bool)


def _describe(endpoints: list[Endpoint], name: str, primary: np.ndarray, values: np.ndarray, seed: int) -> dict:
    """The columns of one scenario's rows, in summary.csv's order (columns added later come last,
    so readers of the earlier files keep working); the paired ones NaN until filled."""
    level, nan = level_interval(values, seed, "level", name), np.full(len(endpoints), np.nan)
    return {
        "scenario": name, "endpoint": [e.key for e in endpoints], "label": [e.label for e in endpoints],
        "group": [e.group for e in endpoints],
        "mean": level.estimate, "ci_low": level.low, "ci_high": level.high, "n": np.int64(values.shape[0]),
        **dict.fromkeys(("diff_mean", "diff_ci_low", "diff_ci_high", "pct_change", "pct_ci_low", "pct_ci_high"), nan),
        "window": [e.window for e in endpoints], "primary": primary, "p_value": nan,
    }


def _paired(values: np.ndarray, base: np.ndarray, seed: int, name: str) -> dict:
    diff = difference_interval(values, base, seed, "paired", name)
    ratio = ratio_interval(values, base, seed, "paired", name)  # the same resamples as the difference
    return {"diff_mean": diff.estimate, "diff_ci_low": diff.low, "diff_ci_high": diff.high,
            "pct_change": 100.0 * (ratio.estimate - 1.0), "pct_ci_low": 100.0 * (ratio.low - 1.0), "pct_ci_high": 100.0 * (ratio.high - 1.0),
            "p_value": sign_flip_p_values(values - base, seed, "test", name)}


def judge(summary: pd.DataFrame) -> pd.DataFrame:
    """Adds q_value (the p-value adjusted for the false discovery rate, Benjamini-Hochberg, over
    every non-primary end point of every scenario; NaN for primary ones) and `significant`: the
    test rejects "no change" at 5% (primary) or at a false discovery rate of 5% (the others), and
    the shown interval of the change (% where defined, else the difference) excludes 0."""
    summary = summary.copy()
    summary["q_value"] = np.nan
    family = ~summary["primary"] & summary["p_value"].notna()
    if family.any():
        summary.loc[family, "q_value"] = stats.false_discovery_control(summary.loc[family, "p_value"].to_numpy(), method="bh")
    evidence = summary["q_value"].where(~summary["primary"], summary["p_value"])
    summary["significant"] = (evidence < FDR) & shown_interval_excludes_zero(summary)
    return summary


def shown_interval_excludes_zero(summary: pd.DataFrame) -> pd.Series:
    pct = summary["pct_change"].notna()
    low = summary["pct_ci_low"].where(pct, summary["diff_ci_low"])
    high = summary["pct_ci_high"].where(pct, summary["diff_ci_high"])
    return (low > 0) | (high < 0)


def per_run_table(runs: dict[str, list[pd.DataFrame]], baseline: str, steps_per_year: int, start_step: int | None = None) -> pd.DataFrame:
    endpoints = endpoints_for(runs[baseline][0].columns, since_start=start_step is not None)
    parts = []
    for name, frames in runs.items():
        values = endpoint_matrix(frames, endpoints, steps_per_year, start_step)
        parts.append(pd.DataFrame({
            "scenario": name,
            "rep": np.repeat(np.arange(len(frames), dtype=np.int64), len(endpoints)),
            "endpoint": np.tile(np.asarray([e.key for e in endpoints], dtype=object), len(frames)),
            "value": values.ravel(),
        }))
    return pd.concat(parts, ignore_index=True)
