"""The empirical patterns the model should reproduce (pattern-oriented modelling, Grimm et al. 2005).

Each pattern names the measure it is judged on (a key of sim/analysis/patterns.py's
`pattern_report`, or of a paired measure in sim/analysis/intervention_patterns.py), the threshold,
its source, and the output columns it needs: when a run lacks one, the pattern is "not measured"
rather than failed. Thresholds are ordinal ("more than", "below") as the sources are; where a
number had to be chosen it is marked as an assumption.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

HOLDS_SHARE = 0.8  # a pattern holds overall when it holds in at least this share of seeds (8 of 10)

LKS2017 = "Leukfeldt, Kleemans & Stol 2017 (evidence.md §6)"


@dataclass(frozen=True)
class Pattern:
    key: str
    statement: str
    source: str
    measure: str  # what is measured, for the reader
    value: Callable[[dict], float]  # the measure, from one run's (or one pair's) report
    compare: str  # "<", ">" or "within" (|value| < threshold)
    threshold: float
    threshold_note: str = ""  # e.g. "(assumption)"
    needs: tuple[str, ...] = ()  # output columns the measure needs
    group: str = "baseline"  # baseline, forum_takedown, core_arrests, central_vs_random
    interval: bool = False  # judged overall on the mean's CI instead of the share of seeds (pattern_table.interval_level)

    def holds(self, value: float) -> bool:
        return bool(_COMPARE[self.compare](value, self.threshold))

    @property
    def threshold_text(self) -> str:
        bound = f"within ±{self.threshold:g}" if self.compare == "within" else f"{self.compare} {self.threshold:g}"
        return f"{bound}{' ' + self.threshold_note if self.threshold_note else ''}"


_COMPARE = {"<": operator.lt, ">": operator.gt, "within": lambda value, bound: abs(value) < bound}


def _key(name: str) -> Callable[[dict], float]:
    return lambda r: r.get(name, float("nan"))


def _difference(a: str, b: str) -> Callable[[dict], float]:
    return lambda r: r.get(a, float("nan")) - r.get(b, float("nan"))


BASELINE = (
    Pattern("offline_core", "The majority of networks have an offline core", LKS2017,
            "share of networks of origin offline or offline_core_online_growth", _key("share_offline_core"), ">", 0.5),
    Pattern("online_use", "Most networks use online channels for something", LKS2017,
            "share of networks that recruited anyone online or formed their core online", _key("share_using_online"), ">", 0.5),
    Pattern("online_recruits_enablers", "Online recruits are disproportionately technical enablers and money mules", LKS2017,
            "share enabler/mule among online recruits minus among offline recruits",
            _difference("online_recruits_enabler_or_mule", "offline_recruits_enabler_or_mule"), ">", 0),
    Pattern("offline_recruits_core", "Offline recruits are disproportionately core members", LKS2017,
            "share core among offline recruits minus among online recruits",
            _difference("offline_recruits_core", "online_recruits_core"), ">", 0),
    Pattern("enablers_found_online", "Networks find technical enablers on forums and markets",
            "Bijlenga & Kleemans 2018; Leukfeldt et al. 2017 (issue 8 item 2)",
            "share of technical-enabler recruits recruited online", _key("enablers_recruited_online"), ">", 0.5, "(assumption: 'most')"),
    Pattern("online_origin_fewer", "Networks of origin online are fewer than offline-core ones", LKS2017,
            "share of origin online minus share with an offline core", _difference("share_online_origin", "share_offline_core"), "<", 0),
    Pattern("online_origin_smaller", "Networks of origin online are smaller than offline ones", LKS2017,
            "mean peak size of online-origin minus offline-origin networks", _difference("mean_size_online", "mean_size_offline"), "<", 0),
    Pattern("online_origin_spread", "Networks of origin online are more geographically spread than offline ones", LKS2017,
            "mean home neighbourhoods per member (at the network's largest) of online-origin minus offline-origin networks",
            _difference("mean_spread_online", "mean_spread_offline"), ">", 0),
    Pattern("serious_actors_rare", "Serious actors are a small minority of forum users",
            "Pastrana et al. 2018; Hughes & Hutchings 2023 (evidence.md §6)",
            "forum users who are network members / forum users (last-year means)", _key("forum_serious_share"), "<", 0.1,
            "(assumption: 'small' = under 10%)", needs=("forum_users", "forum_users_in_networks")),
    Pattern("forum_churn", "Forum membership churns", "Pastrana et al. 2018 (evidence.md §6)",
            "forum users quitting in the last year per forum user (a stand-in for 1 - year-to-year retention, "
            "which needs person-level data the outputs do not hold)", _key("forum_quits_per_user_year"), ">", 0.2,
            "(assumption: retention below 80%)", needs=("forum_users", "forum_user_quits")),
    Pattern("forum_inflow", "New users keep joining forums (churn has an inflow too)", "Pastrana et al. 2018",
            "forum users joining in the last year per forum user", _key("forum_joins_per_user_year"), ">", 0.2,
            "(assumption)", needs=("forum_users", "forum_user_joins")),
    Pattern("members_tied", "Members are tied to fellow members (networks are social networks)",
            "Bright et al. 2017; Leukfeldt et al. 2017 (issue 8 item 3)",
            "share of members with no tie to a fellow member, last snapshot", _key("share_members_isolated"), "<", 0.25,
            "(assumption)", needs=("isolated_members",)),
    # One run of a town of 10,000 has a few dozen members, whose number wanders by tens of per cent
    # from year to year: a trend is judged on the mean over seeds (its 95% CI), not seed by seed.
    Pattern("stationary", "Membership is stationary after burn-in", "issue 8 item 4 (model requirement, not an empirical source)",
            "least-squares trend per year of persons involved over the recorded years, relative to their mean",
            _key("involved_trend_per_year"), "within", 0.05, "(assumption: 5%/year)", interval=True),
)

INTERVENTIONS = (
    Pattern("takedown_drop", "After a forum takedown, forum activity drops", "evidence.md §6; Décary-Hétu & Giommoni 2017",
            "forum+market weekly users, first 2 months after the takedown, vs the paired baseline (relative change)",
            _key("takedown_forum_activity_change"), "<", 0, group="forum_takedown"),
    Pattern("takedown_displacement", "Users are displaced to the remaining forums", "evidence.md §6; Décary-Hétu & Giommoni 2017",
            "weekly users of the remaining forums and markets, first half-year, vs the paired baseline (relative change)",
            _key("takedown_remaining_spaces_change"), ">", 0, group="forum_takedown"),
    Pattern("takedown_recovery", "Forum activity partly recovers", "evidence.md §6",
            "share of the early drop recovered in the run's last year (1 = fully)", _key("takedown_recovered_share"), ">", 0,
            group="forum_takedown"),
    Pattern("arrests_regroup", "After core arrests, surviving members regroup (promotions to core)", "evidence.md §6",
            "promotions to core after the first wave vs the paired baseline (relative change)",
            _key("core_arrests_promotions_change"), ">", 0, group="core_arrests"),
    Pattern("arrests_recovery", "Membership recovers over time after core arrests", "evidence.md §6",
            "share of each wave's membership loss (vs baseline) recovered before the next wave, mean over waves",
            _key("core_arrests_recovered_share"), ">", 0, group="core_arrests"),
    Pattern("central_beats_random_members", "Removing the most central members disrupts more than random removal (membership)",
            "Bright et al. 2017; Duijn et al. 2014",
            "mean persons involved from the first wave on, central_arrests minus random_arrests (paired)",
            _key("central_minus_random_involved"), "<", 0, group="central_vs_random", interval=True),
    Pattern("central_beats_random_offences", "Removing the most central members disrupts more than random removal (offences)",
            "Bright et al. 2017; Duijn et al. 2014",
            "offences from the first wave on, central_arrests minus random_arrests (paired)",
            _key("central_minus_random_offences"), "<", 0, group="central_vs_random", interval=True),
)

PATTERNS = BASELINE + INTERVENTIONS
