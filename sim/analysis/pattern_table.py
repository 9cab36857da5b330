"""Judge patterns over seeds: per pattern the measured values (median, range), in how many seeds
the pattern holds, and whether it holds overall (sim/analysis/pattern_catalogue.py)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.analysis.pattern_catalogue import HOLDS_SHARE, Pattern
from sim.experiment.intervals import difference_interval

NOT_MEASURED = "not measured (column missing: {})"
COLUMNS = ["pattern", "statement", "source", "measure", "threshold", "median", "mean", "min", "max", "seeds", "seeds_holding",
           "share_holding", "ci_level", "ci_low", "ci_high", "holds"]


def interval_level(pattern: Pattern) -> float:
    """Confidence level of the interval an interval pattern is judged on.

    A directional claim ("central arrests lower membership": "<" or ">") holds when the 95%
    interval lies beyond the threshold, as issue 8 asks ("the paired CI excludes zero"): a one-sided
    test at 2.5%. An equivalence claim ("the trend lies within ±5%/year") is two one-sided tests,
    one per bound, each at 5% (Schuirmann 1987), and so holds when the 90% interval lies inside
    the band: a 95% interval would test each bound at 2.5%, stricter than either test asks."""
    return 0.90 if pattern.compare == "within" else 0.95


def pattern_row(pattern: Pattern, reports: Sequence[dict], columns: set[str], seed: int = 0, by_mean: bool = False) -> dict:
    """One row of the table: `reports` are one per seed (or per pair of paired runs); `columns`
    are the output columns the runs have. Seeds where the measure is undefined (e.g. no network of
    origin online) count as not holding. With `by_mean`, an interval pattern is judged on its mean
    alone (the sensitivity runs: a few seeds cannot narrow an interval enough to say anything)."""
    row = {"pattern": pattern.key, "statement": pattern.statement, "source": pattern.source, "measure": pattern.measure,
           "threshold": pattern.threshold_text, "seeds": len(reports), "ci_level": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    missing = [c for c in pattern.needs if c not in columns]
    values = np.array([pattern.value(r) for r in reports], dtype=float)
    if missing or not len(values):
        return {**row, "median": np.nan, "mean": np.nan, "min": np.nan, "max": np.nan, "seeds_holding": 0, "share_holding": np.nan,
                "holds": NOT_MEASURED.format(", ".join(missing)) if missing else "not measured (no runs)"}
    if np.isnan(values).all():
        return {**row, "median": np.nan, "mean": np.nan, "min": np.nan, "max": np.nan, "seeds_holding": 0, "share_holding": 0.0,
                "holds": "not measured (undefined in every seed, e.g. no such networks or the intervention after the run's end)"}
    holding = int(sum(pattern.holds(v) for v in values if not np.isnan(v)))
    measured = values[~np.isnan(values)]
    share = holding / len(values)
    row |= {"median": _stat(np.median, measured), "mean": _stat(np.mean, measured), "min": _stat(np.min, measured),
            "max": _stat(np.max, measured), "seeds_holding": holding, "share_holding": share}
    if pattern.interval and by_mean:
        verdict = pattern.holds(row["mean"])
    elif pattern.interval and len(measured) >= 2:
        level = interval_level(pattern)
        ci = difference_interval(measured[:, None], np.zeros((len(measured), 1)), seed, "patterns", pattern.key, confidence=level)
        row |= {"ci_level": level, "ci_low": float(ci.low[0]), "ci_high": float(ci.high[0])}
        # the whole interval beyond the threshold (inside the band for "within")
        ends = {"<": [row["ci_high"]], ">": [row["ci_low"]], "within": [row["ci_low"], row["ci_high"]]}[pattern.compare]
        verdict = all(pattern.holds(end) for end in ends)
    else:
        verdict = share >= HOLDS_SHARE
    return {**row, "holds": "yes" if verdict else "no"}


def _stat(f, values: np.ndarray) -> float:
    return float(f(values)) if len(values) else np.nan


def pattern_table(patterns: Sequence[Pattern], reports: dict[str, Sequence[dict]], columns: set[str], seed: int = 0,
                  by_mean: bool = False) -> pd.DataFrame:
    """The table of `patterns`; `reports` maps a pattern group (Pattern.group) to its per-seed reports."""
    rows = [pattern_row(p, reports[p.group], columns, seed, by_mean) for p in patterns if p.group in reports]
    return pd.DataFrame(rows, columns=COLUMNS)


def columns_of(results) -> set[str]:
    """Every column name of a run's three tables (a pattern is measurable when its `needs` are among them)."""
    return {*results.timeseries.columns, *results.networks.columns, *results.events.columns}
