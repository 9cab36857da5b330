"""The social network at the start: family, school/work, friendship, neighbourhood and chat ties.

Friendships are homophilous by neighbourhood, sex and age (McPherson et al. 2001): a person's
friends are drawn near them in a list sorted by age within their group, so age differences
are small. Everything is vectorised over all persons at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.places.copresence import group_bounds
from sim.places.venues import Venues
from sim.population import Population
from sim.ties import TieStore
from sim.vocabulary import LAYER

if TYPE_CHECKING:
    from sim.scenario.schema import TieParams


def _initiations(n: int, mean_degree: float, rng: np.random.Generator, weight=None) -> np.ndarray:
    """Egos of new ties so that the mean degree is about `mean_degree` (each tie has two ends)."""
    lam = mean_degree / 2.0 * (np.ones(n) if weight is None else weight / max(weight.mean(), 1e-12))
    return np.repeat(np.arange(n), rng.poisson(lam))


def partners_in_groups(egos: np.ndarray, group: np.ndarray, order_key: np.ndarray, spread: float | None, rng: np.random.Generator) -> np.ndarray:
    """A partner for each ego in the ego's group: near in `order_key` rank (Gaussian rank offset
    of sd `spread` x group density), or uniform in the group when `spread` is None."""
    order = np.lexsort((order_key, group))
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = np.arange(len(group))
    start, size = group_bounds(group[order])
    pos = rank[egos]
    g_start, g_size = start[pos], size[pos]
    if spread is None:
        offset = rng.integers(1, np.maximum(g_size, 2))
        target = g_start + (pos - g_start + offset) % np.maximum(g_size, 1)
    else:
        key_span = np.ptp(order_key) or 1.0
        sd = np.maximum(spread * g_size / key_span, 1.0)
        step = np.rint(rng.normal(0.0, sd)).astype(np.int64)
        step = np.where(step == 0, np.where(rng.random(len(step)) < 0.5, -1, 1), step)
        target = np.clip(pos + step, g_start, g_start + g_size - 1)
    return order[target]


def family_ties(pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of persons sharing a household."""
    order = np.argsort(pop.household, kind="stable")
    hh = pop.household[order]
    a, b = [], []
    for k in range(1, int(np.bincount(hh).max()) if len(hh) else 1):
        same = hh[:-k] == hh[k:]
        a.append(order[:-k][same])
        b.append(order[k:][same])
    return (np.concatenate(a), np.concatenate(b)) if a else (np.zeros(0, np.int64),) * 2


def build_initial_ties(ties: TieStore, pop: Population, venues: Venues, params: TieParams, rng: np.random.Generator) -> None:
    n = pop.size
    a, b = family_ties(pop)
    ties.add_initial(a, b, LAYER["family"])

    egos = _initiations(n, params.friends_mean, rng)
    same_nbh = rng.random(len(egos)) < params.friend_same_neighbourhood
    same_sex = rng.random(len(egos)) < params.friend_same_sex
    for nbh_flag in (True, False):
        for sex_flag in (True, False):
            sel = egos[(same_nbh == nbh_flag) & (same_sex == sex_flag)]
            group = (pop.neighbourhood.astype(np.int64) if nbh_flag else np.zeros(n, np.int64)) * 2 + (pop.sex if sex_flag else 0)
            ties.add_initial(sel, partners_in_groups(sel, group, pop.age, params.friend_age_sd, rng), LAYER["friend"])

    egos = _initiations(n, params.neighbours_mean, rng)
    ties.add_initial(egos, partners_in_groups(egos, pop.neighbourhood.astype(np.int64), pop.age, None, rng), LAYER["neighbourhood"])

    for assigned in venues.assigned.values():
        members = np.flatnonzero(assigned >= 0)
        egos = members[_initiations(len(members), params.school_work_mean, rng)]
        group = np.where(assigned >= 0, assigned + 1, 0).astype(np.int64)  # 0 = none: a group of its own
        ties.add_initial(egos, partners_in_groups(egos, group, pop.age, None, rng), LAYER["school_work"])

    egos = _initiations(n, params.online_contacts_mean, rng, weight=pop.online)
    partners = rng.choice(n, size=len(egos), p=pop.online / pop.online.sum())
    ties.add_initial(egos, partners, LAYER["chat"])
