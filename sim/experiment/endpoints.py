"""The end points of the summary table: one number per run, e.g. members involved in the last year.

Each end point sums one or more timeseries columns per step, then takes the mean (stocks: persons,
networks) or the total (flows: recruits, offences, arrests) over a window: the whole run, its
last year, or, when an intervention acts, from the step in which the first intervention starts
to the end (totals over the whole run dilute an effect with the years before it could act).
Columns a run does not have are skipped, so the table follows the output contract.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.vocabulary import CHANNELS, ORIGINS, ROLES, readable

# The primary end points unless an experiment names its own (`compare --primary`), each judged at
# 5% on its own: members, new recruits and offences, since the first intervention starts where one
# does (".since_start"), else over the whole run. Short on purpose: every primary end point is one
# more chance of 5% to call a change that is not there; the others share a false discovery rate.
DEFAULT_PRIMARY = ("involved.last_year_mean", "recruits_all.since_start", "offences.since_start")

# Wording for names that read badly with underscores replaced by spaces alone.
APPROACHED = tuple(c for c in CHANNELS if c != "founder")


def name_of(code: str) -> str:
    """A code in words, roles in the plural ("money mules"), as tables and figures of experiments use them."""
    return readable(code, plural=True)


@dataclass(frozen=True)
class Endpoint:
    key: str  # stable id, e.g. "recruits_forums.last_year"
    label: str  # what a reader sees
    group: str  # section of the table
    columns: tuple[str, ...]  # summed per step
    window: str  # "run", "last_year" or "since_start" (from the first intervention's start step)
    statistic: str  # "mean" or "total"

    def value(self, timeseries: pd.DataFrame, steps_per_year: int, start_step: int | None = None) -> float:
        """This end point for one run; `start_step` is the first intervention's (for "since_start")."""
        per_step = timeseries[list(self.columns)].to_numpy(dtype=float).sum(axis=1)
        if self.window == "last_year":
            per_step = per_step[-max(1, min(steps_per_year, len(per_step))):]
        elif self.window == "since_start":
            if start_step is None:
                raise ValueError(f"{self.key} needs the step in which the first intervention starts")
            per_step = per_step[timeseries["step"].to_numpy() >= start_step]
        return float(per_step.mean() if self.statistic == "mean" else per_step.sum())

    @property
    def since_start(self) -> bool:
        return self.window == "since_start"


def _stock(key: str, label: str, group: str, column: str) -> Endpoint:
    return Endpoint(f"{key}.last_year_mean", f"{label} (mean over the last year)", group, (column,), "last_year", "mean")


SINCE_START = "since the first intervention starts"


def _flows(key: str, label: str, group: str, columns: tuple[str, ...]) -> list[Endpoint]:
    return [Endpoint(f"{key}.total", f"{label}, whole run", group, columns, "run", "total"),
            Endpoint(f"{key}.since_start", f"{label}, {SINCE_START}", group, columns, "since_start", "total"),
            Endpoint(f"{key}.last_year", f"{label}, last year", group, columns, "last_year", "total")]


def _total(key: str, label: str, group: str, column: str) -> list[Endpoint]:
    return [Endpoint(f"{key}.total", f"{label} (total)", group, (column,), "run", "total"),
            Endpoint(f"{key}.since_start", f"{label} ({SINCE_START})", group, (column,), "since_start", "total")]


def all_endpoints() -> list[Endpoint]:
    """Every end point the summary table can show, in table order."""
    members = [_stock("involved", "Members involved", "Members", "involved")]
    members += [_stock(f"members_{r}", f"Members: {name_of(r)}", "Members", f"members_{r}") for r in ROLES]
    recruits = _flows("recruits_all", "New recruits, all channels", "Recruitment", ("recruits_offline", "recruits_online"))
    for medium in ("offline", "online"):
        recruits += _flows(f"recruits_{medium}", f"New recruits approached {medium}", "Recruitment", (f"recruits_{medium}",))
    for channel in APPROACHED:
        recruits += _flows(f"recruits_{channel}", f"New recruits via {name_of(channel)}", "Recruitment", (f"recruits_{channel}",))
    recruits += _flows("recruits_founder", "Founders of new networks (not recruited by anyone)", "Recruitment", ("recruits_founder",))
    networks = [_stock("networks_active", "Active networks", "Networks", "networks_active")]
    networks += [_stock(f"networks_{o}", f"Networks of origin: {name_of(o)}", "Networks", f"networks_{o}") for o in ORIGINS]
    crime = [*_total("offences", "Offences", "Crime", "offences"), *_total("victims", "Victims", "Crime", "victims"),
             *_total("losses", "Losses [euro]", "Crime", "losses")]
    police = [*_total("arrests", "Arrests by routine policing", "Enforcement", "arrests"),
              *_total("arrests_intervention", "Arrests by interventions", "Enforcement", "arrests_intervention")]
    return [*members, *recruits, *networks, *crime, *police]


def endpoints_for(columns, *, since_start: bool = False) -> list[Endpoint]:
    """The end points whose columns a timeseries has; those since the first intervention's start
    only if `since_start` (there is an intervention that starts within the run)."""
    present = set(columns)
    return [e for e in all_endpoints() if present.issuperset(e.columns) and (since_start or not e.since_start)]


def endpoint_matrix(frames: list[pd.DataFrame], endpoints: list[Endpoint], steps_per_year: int,
                    start_step: int | None = None) -> np.ndarray:
    """Values of each end point (columns) in each run (rows)."""
    values = [[e.value(frame, steps_per_year, start_step) for e in endpoints] for frame in frames]
    return np.array(values, dtype=float).reshape(len(frames), len(endpoints))


def unknown_endpoints(keys) -> list[str]:
    """The keys that name no end point (for a one-line error before anything runs)."""
    known = {e.key for e in all_endpoints()}
    return [key for key in keys if key not in known]
