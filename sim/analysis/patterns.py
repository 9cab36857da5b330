"""The measures behind the calibration patterns of docs/evidence.md section 6, from one run's outputs.

These are patterns, not point values: the evidence comes from few, police-selected cases.
`pattern_report` returns the measured quantities of one run (NaN where the outputs lack what a
measure needs, e.g. a column a later model version adds); sim/analysis/pattern_catalogue.py says
what each pattern requires of them, and sim/analysis/pattern_table.py judges them over seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.outputs.results import RunResults

ONLINE_ROLES = ("technical_enabler", "money_mule")
ONLINE_CORE_ORIGINS = ("online", "online_core_offline_growth")
NAN = float("nan")


def final_networks(results: RunResults, min_recruits: int = 1) -> pd.DataFrame:
    """The last snapshot row (with peak size and spread) of every network that recruited at least `min_recruits` people.

    `spread` is the members' home neighbourhoods per member when the network was at its largest
    (1: no two members live in the same neighbourhood): geographic spread as dispersion, not as a
    count of neighbourhoods, which grows with size and would make "smaller" networks "less spread"."""
    snaps = results.networks.sort_values("step", kind="stable")
    nets = snaps.groupby("network_id").tail(1).set_index("network_id")
    # size and spread at the network's largest, not at its end (a dissolved network has size 0)
    peak = snaps.groupby("network_id")[["size", "neighbourhoods"]].max()
    at_largest = snaps.loc[snaps.groupby("network_id")["size"].idxmax()].set_index("network_id")
    spread = at_largest["neighbourhoods"] / at_largest["size"].where(at_largest["size"] > 0)
    nets = nets.assign(size=peak["size"], neighbourhoods=peak["neighbourhoods"], spread=spread).reset_index()
    recruits = results.events.query("kind == 'recruit_attempt' and accepted").groupby("network_id").size()
    nets = nets.assign(recruits=nets["network_id"].map(recruits).fillna(0).astype(int))
    return nets[nets["recruits"] >= min_recruits]


def last_year(ts: pd.DataFrame) -> pd.DataFrame:
    return ts[ts["year"] > ts["year"].max() - 1]


def forum_activity_columns(ts: pd.DataFrame) -> list[str]:
    """The weekly-active-user columns of the forums and markets (not chat or social media)."""
    return [c for c in ts.columns if c.startswith("active_users_") and ("forum" in c or "market" in c)]


def _share(part: pd.Series) -> float:
    return float(part.mean()) if len(part) else NAN


def pattern_report(results: RunResults) -> dict[str, float]:
    ev = results.events
    joins = ev[(ev["kind"] == "recruit_attempt") & ev["accepted"]]
    nets = final_networks(results)
    origin_share = nets["origin"].value_counts(normalize=True)
    online_joins, offline_joins = joins[joins["medium"] == "online"], joins[joins["medium"] == "offline"]
    enablers = joins[joins["role"] == "technical_enabler"]
    by_origin = nets.groupby("origin")[["size", "neighbourhoods", "spread"]].mean()
    return {
        "networks_classified": float(len(nets)),
        "share_offline_core": float(origin_share.get("offline", 0) + origin_share.get("offline_core_online_growth", 0)),
        "share_online_origin": float(origin_share.get("online", 0)),
        # P2: a network uses online channels if it recruited anyone online or formed its core online (its
        # origin says only which medium *predominated*, so 1 - share `offline` would undercount)
        "share_using_online": _share(nets["network_id"].isin(online_joins["network_id"]) | nets["origin"].isin(ONLINE_CORE_ORIGINS)),
        "recruits_total": float(len(joins)),
        "share_recruits_online": float(len(online_joins) / max(len(joins), 1)),
        "online_recruits_enabler_or_mule": _share(online_joins["role"].isin(ONLINE_ROLES)),
        "offline_recruits_enabler_or_mule": _share(offline_joins["role"].isin(ONLINE_ROLES)),
        "offline_recruits_core": _share(offline_joins["role"] == "core"),
        "online_recruits_core": _share(online_joins["role"] == "core"),
        "enablers_recruited_online": _share(enablers["medium"] == "online"),
        "mean_size_offline": float(by_origin["size"].get("offline", NAN)),
        "mean_size_online": float(by_origin["size"].get("online", NAN)),
        "mean_neighbourhoods_offline": float(by_origin["neighbourhoods"].get("offline", NAN)),
        "mean_neighbourhoods_online": float(by_origin["neighbourhoods"].get("online", NAN)),
        "mean_spread_offline": float(by_origin["spread"].get("offline", NAN)),
        "mean_spread_online": float(by_origin["spread"].get("online", NAN)),
        **membership_trend(results.timeseries),
        **forum_user_measures(results.timeseries),
        **isolation_measures(results.networks),
        **refusal_measures(ev),
    }


def membership_trend(ts: pd.DataFrame) -> dict[str, float]:
    """Mean persons involved in the last year, and the least-squares trend of persons involved over
    the whole run, per year, relative to its mean (near 0 in a stationary state; the trend uses
    every step, so it is less noisy than the change between two years)."""
    end = last_year(ts)
    level = float(ts["involved"].mean())
    trend = float(np.polyfit(ts["year"], ts["involved"], 1)[0]) / level if level > 0 and len(ts) > 2 else NAN
    return {"involved_last_year": float(end["involved"].mean()), "involved_trend_per_year": trend,
            "networks_active_last_year": float(end["networks_active"].mean())}


def forum_user_measures(ts: pd.DataFrame) -> dict[str, float]:
    """Forum users who are network members, and joins and quits per year per forum user, over the
    last year; NaN without the columns (the timeseries holds counts, not persons, so year-to-year
    retention of the same people cannot be computed here: a quit rate per user stands in for it)."""
    end = last_year(ts)
    users = float(end["forum_users"].mean()) if "forum_users" in ts else NAN

    def yearly_rate(column: str) -> float:  # `end` spans one year: its sum is a count per year
        if column not in ts or not users > 0:
            return NAN
        return float(end[column].sum()) / users

    in_networks = float(end["forum_users_in_networks"].mean()) / users if "forum_users_in_networks" in ts and users > 0 else NAN
    return {"forum_users_last_year": users, "forum_serious_share": in_networks,
            "forum_joins_per_user_year": yearly_rate("forum_user_joins"), "forum_quits_per_user_year": yearly_rate("forum_user_quits")}


def isolation_measures(snapshots: pd.DataFrame) -> dict[str, float]:
    """Share of members with no tie to a fellow member, at the last snapshot (NaN without `isolated_members`)."""
    if "isolated_members" not in snapshots or snapshots.empty:
        return {"share_members_isolated": NAN}
    last = snapshots[snapshots["step"] == snapshots["step"].max()]
    size = float(last["size"].sum())
    return {"share_members_isolated": float(last["isolated_members"].sum()) / size if size > 0 else NAN}


def refusal_measures(events: pd.DataFrame) -> dict[str, float]:
    """Of the recruit attempts that did not end in a join, the share the candidate refused
    (NaN without the events' `outcome`)."""
    if "outcome" not in events:
        return {"failed_attempts_refused": NAN}
    failed = events[(events["kind"] == "recruit_attempt") & ~events["accepted"].astype(bool)]
    return {"failed_attempts_refused": _share(failed["outcome"] == "refused")}

