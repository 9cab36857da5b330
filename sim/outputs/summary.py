"""The few lines `recruitsim run` prints when a run ends: what the run produced, at a glance.

Members and networks are counted at the last step; recruits, offences, victims and losses are
summed over the run. Everything is read from the run's own tables (docs/outputs.md), so the
summary and the files can never disagree.
"""

from __future__ import annotations

import pandas as pd

from sim.outputs.plots import label
from sim.vocabulary import ORIGINS, ROLES


def run_summary(timeseries: pd.DataFrame, manifest: dict) -> list[str]:
    """The summary lines of a run, from its timeseries table and manifest."""
    if timeseries.empty:
        return [_headline(manifest)]
    last = timeseries.iloc[-1]
    members = {label(role): int(last[f"members_{role}"]) for role in ROLES}
    networks = {label(origin): int(last[f"networks_{origin}"]) for origin in ORIGINS}
    total = timeseries[["recruits_offline", "recruits_online", "offences", "victims", "losses"]].sum()
    return [
        _headline(manifest),
        f"members at the end: {sum(members.values()):,} ({_listing(members)})",
        f"active networks at the end: {int(last['networks_active']):,} by origin ({_listing(networks)})",
        f"recruits over the run: {int(total['recruits_offline']):,} offline, {int(total['recruits_online']):,} online",
        f"offences: {int(total['offences']):,}; victims: {int(total['victims']):,}; losses: {_euro(float(total['losses']))}",
    ]


def _headline(manifest: dict) -> str:
    scenario = manifest.get("scenario", {})
    wall = manifest.get("wall_time_s")
    took = f" in {_duration(wall)}" if wall is not None else ""
    return f"{scenario.get('name', 'run')} (seed {scenario.get('seed')}): {manifest.get('steps')} steps of one {scenario.get('step')}{took}"


def _listing(counts: dict[str, int]) -> str:
    return "; ".join(f"{name} {count:,}" for name, count in counts.items())


def _euro(amount: float) -> str:
    if amount >= 1e6:
        return f"{amount / 1e6:,.1f} million euro"
    return f"{amount:,.0f} euro"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"
