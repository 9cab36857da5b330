"""Measures of the intervention patterns, each from a pair of runs of the same replication
(baseline and intervention scenario, as `recruitsim compare` pairs them: same seed, same draws).

Times are in years, so they mean the same at any step length: the intervention marks the run
recorded (`start_year`, `every_years`, on the timeseries' own year axis, as the plots draw them),
else the intervention's settings in the scenario dump (`at`, `from`, `every`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.patterns import NAN, forum_activity_columns, last_year
from sim.outputs.results import RunResults

EARLY_WINDOW_YEARS = 1 / 6  # "right after a takedown": its first two months
DISPLACEMENT_WINDOW_YEARS = 0.5  # users move within weeks (forum_takedown.yaml: move_time_years 0.1)


def intervention_of(dump: dict, kind: str) -> dict | None:
    return next((i for i in dump.get("interventions", []) if i.get("type") == kind), None)


def start_year(spec: dict) -> float:
    """When an intervention starts, in years: `at` for one-off ones, `from` (dumped as `from_`) for repeated ones."""
    for key in ("start_year", "at", "from_", "from"):
        if spec.get(key) is not None:
            return float(spec[key])
    return 0.0


def with_marks(dump: dict, marks: list[dict]) -> dict:
    """`dump` with each intervention's recorded timing (`start_year`, `every_years`) added, matched in order."""
    if len(marks) != len(dump.get("interventions", [])):
        return dump
    timed = [{**i, **{k: m[k] for k in ("start_year", "every_years") if k in m}} for i, m in zip(dump["interventions"], marks)]
    return {**dump, "interventions": timed}


def _window(ts: pd.DataFrame, start: float, end: float) -> pd.DataFrame:
    return ts[(ts["year"] > start) & (ts["year"] <= end)]


def _relative(value: float, base: float) -> float:
    return value / base - 1 if base > 0 else NAN


def takedown_measures(base: RunResults, taken: RunResults, dump: dict) -> dict[str, float]:
    """Change of forum and market activity (weekly active users) right after the takedown, on the
    remaining spaces, and the share of the early drop recovered by the last year of the run."""
    spec = intervention_of(dump, "forum_takedown")
    if spec is None:
        return {}
    at, target = start_year(spec), f"active_users_{spec['target']}"
    columns = forum_activity_columns(base.timeseries)
    remaining = [c for c in columns if c != target]

    def total(ts: pd.DataFrame, cols: list[str]) -> float:
        return float(ts[cols].sum(axis=1).mean()) if len(ts) else NAN

    early = [_window(r.timeseries, at, at + EARLY_WINDOW_YEARS) for r in (base, taken)]
    moved = [_window(r.timeseries, at, at + DISPLACEMENT_WINDOW_YEARS) for r in (base, taken)]
    late = [last_year(r.timeseries) for r in (base, taken)]
    early_gap = total(early[0], columns) - total(early[1], columns)
    late_gap = total(late[0], columns) - total(late[1], columns)
    return {
        "takedown_forum_activity_change": _relative(total(early[1], columns), total(early[0], columns)),
        "takedown_remaining_spaces_change": _relative(total(moved[1], remaining), total(moved[0], remaining)),
        "takedown_recovered_share": 1 - late_gap / early_gap if early_gap > 0 else NAN,
    }


def core_arrest_measures(base: RunResults, arrested: RunResults, dump: dict) -> dict[str, float]:
    """Promotions to core after the first wave (relative to the baseline's in the same years), and
    the share of each wave's membership loss (vs the baseline) recovered before the next wave."""
    spec = intervention_of(dump, "arrests")
    if spec is None:
        return {}
    start, every = start_year(spec), float(spec.get("every_years") or spec.get("every") or 0)
    end = float(base.timeseries["year"].max())

    def promotions(r: RunResults) -> int:
        ev = r.events
        return int(((ev["kind"] == "promoted") & (ev["step"] > _step_at(r.timeseries, start))).sum())

    waves = np.arange(start, end, every) if every > 0 else np.array([start])
    recovered = [_wave_recovery(base.timeseries, arrested.timeseries, w, min(w + every, end) if every > 0 else end) for w in waves]
    recovered = [r for r in recovered if not np.isnan(r)]
    return {"core_arrests_promotions_change": _relative(promotions(arrested), promotions(base)),
            "core_arrests_recovered_share": float(np.mean(recovered)) if recovered else NAN}


def _step_at(ts: pd.DataFrame, year: float) -> int:
    after = ts.loc[ts["year"] >= year, "step"]
    return int(after.iloc[0]) if len(after) else int(ts["step"].max()) + 1


def _wave_recovery(base: pd.DataFrame, arrested: pd.DataFrame, wave: float, next_wave: float) -> float:
    """1 - (membership gap just before the next wave) / (gap just after this one); NaN if the wave removed no one."""
    def gap(pick) -> float:
        b, a = pick(base), pick(arrested)
        return float(b["involved"]) - float(a["involved"]) if b is not None and a is not None else NAN

    first_after = lambda ts: ts[ts["year"] > wave].iloc[0] if (ts["year"] > wave).any() else None
    last_before = lambda ts: ts[ts["year"] < next_wave].iloc[-1] if (ts["year"] < next_wave).any() else None
    after, before = gap(first_after), gap(last_before)
    return 1 - before / after if after > 0 else NAN


def removal_measures(central: RunResults, random: RunResults, dump: dict) -> dict[str, float]:
    """Paired differences central - random from the first wave on: mean persons involved, and offences.

    Both over the same window, the years in which the waves act ("disrupts fastest": Bright et al.
    2017). The last year alone (`central_minus_random_involved_last_year`, not a pattern) shows
    the long run, after networks have recovered from the last wave."""
    spec = intervention_of(dump, "arrests")
    start = start_year(spec) if spec else 0.0

    def offences(r: RunResults) -> float:
        return float(r.timeseries.loc[r.timeseries["year"] >= start, "offences"].sum())

    def involved(r: RunResults) -> float:
        return float(r.timeseries.loc[r.timeseries["year"] >= start, "involved"].mean())

    def involved_last_year(r: RunResults) -> float:
        return float(last_year(r.timeseries)["involved"].mean())

    return {"central_minus_random_involved": involved(central) - involved(random),
            "central_minus_random_involved_last_year": involved_last_year(central) - involved_last_year(random),
            "central_minus_random_offences": offences(central) - offences(random)}
