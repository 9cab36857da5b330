"""Adaptive replications: add paired replications in batches until the primary end points are
known precisely enough (`compare --precision 0.1 --max-reps 200`).

Precision is the half-width of the 95% interval of an end point's paired difference, relative to
the baseline mean: 0.1 means the effect is known to within ±10% of the baseline level. The
experiment stops when every primary end point of every intervention is that precise, or at
`max_reps`. Each batch is an ordinary `run_experiment` on the same output directory, so the
shards of earlier batches are reused and an interrupted adaptive comparison resumes by rerunning
the same command (`reps` is not part of the experiment's fingerprint).

Stopping when an interval is narrow enough (not when an effect looks significant) does not bias
the estimate of the effect the way stopping at significance does, but the intervals of the last
batch are slightly optimistic: it stopped because they happened to be narrow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from sim.experiment.errors import ExperimentError
from sim.experiment.spec import ExperimentSpec


@dataclass(frozen=True)
class Precision:
    target: float  # the half-width of the 95% interval of the difference, as a share of the baseline mean
    max_reps: int

    def check(self, reps: int) -> None:
        if not 0 < self.target < float("inf"):
            raise ExperimentError(f"--precision must be a positive share of the baseline mean (0.1 for ±10%), got {self.target}")
        if self.max_reps < max(2, reps):
            raise ExperimentError(f"--max-reps must be at least --reps ({reps}) and 2, got {self.max_reps}")


def relative_precision(summary: pd.DataFrame) -> float:
    """The worst relative half-width over the primary end points of every intervention: half the
    width of the difference's 95% interval over the baseline mean (inf where that mean is 0 or the
    interval cannot be computed yet)."""
    rows = summary[summary["primary"] & summary["diff_mean"].notna()]
    if rows.empty:
        return float("inf")
    base = summary[summary["diff_mean"].isna()].drop_duplicates("endpoint").set_index("endpoint")["mean"]
    half = (rows["diff_ci_high"] - rows["diff_ci_low"]).to_numpy() / 2
    level = np.abs(base.reindex(rows["endpoint"]).to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(level > 0, half / level, np.inf)
    return float(np.nanmax(np.where(np.isnan(relative), np.inf, relative)))


def next_reps(reps: int, max_reps: int) -> int:
    """Batches of as many replications as there are (doubling): few batches, each a fair share."""
    return min(max_reps, 2 * reps)


def precision_record(summary: pd.DataFrame, precision: Precision, reps: int) -> dict:
    """What experiment.json and the report say of the precision: asked for, reached, and whether
    the replications ran out first."""
    reached = relative_precision(summary)
    return {"target": precision.target, "reached": reached if np.isfinite(reached) else None, "reps": reps,
            "max_reps": precision.max_reps, "met": bool(reached <= precision.target)}


def run_until_precise(spec: ExperimentSpec, precision: Precision, run: Callable[[ExperimentSpec], object]) -> object:
    """Run `spec` with its reps, then with more in batches, until the primary end points reach
    `precision` or `precision.max_reps`; `run` runs one batch (the whole spec so far, reusing the
    shards already there) and returns a Comparison with its `precision` record. Returns the last."""
    precision.check(spec.reps)
    reps = max(2, spec.reps)  # one replication has no interval
    while True:
        result = run(replace(spec, reps=reps))
        if result.precision["met"] or reps >= precision.max_reps:
            return result
        reps = next_reps(reps, precision.max_reps)
