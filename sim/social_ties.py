"""Social ties made outside chance meetings: at the start for everyone, and for each newcomer
on arrival (family, school/work, friendship, neighbourhood and chat ties).

Friendships are homophilous by neighbourhood, sex and age (McPherson et al. 2001): a person's
friends are drawn near them in a list sorted by age within their group, so age differences
are small. Everything is vectorised over all persons at once.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim import sorted_sets
from sim.places.copresence import group_bounds, random_order
from sim.places.venues import Venues
from sim.population import Population
from sim.ties import TieStore
from sim.vocabulary import LAYER

if TYPE_CHECKING:
    from sim.scenario.schema import TieParams


def _initiations(slots: np.ndarray, mean_degree: float, share: float, rng: np.random.Generator, weight=None) -> np.ndarray:
    """Egos of new ties: each of `slots` starts about `share` x `mean_degree` ties (x its relative weight)."""
    relative = np.ones(len(slots)) if weight is None else weight[slots] / max(weight.mean(), 1e-12)
    return np.repeat(slots, rng.poisson(mean_degree * share * relative))


def partners_in_groups(egos: np.ndarray, group: np.ndarray, order_key: np.ndarray, spread: float | None,
                       rng: np.random.Generator, pool: CandidatePool | None = None, by_key: np.ndarray | None = None) -> np.ndarray:
    """A partner for each ego in the ego's group: near in `order_key` rank (Gaussian rank offset
    of sd `spread` x group density), or uniform in the group when `spread` is None.

    With `pool`, partners are drawn from the pool's sample plus the egos only (`CandidatePool`).
    `by_key` (without `pool`) is `np.argsort(order_key, kind="stable")`, when the caller has it already.
    """
    if pool is not None:
        candidates, by_key = pool.with_egos(egos)
        local = partners_in_groups(np.searchsorted(candidates, egos), group[candidates], order_key[candidates], spread, rng,
                                   by_key=by_key)
        return candidates[local]
    order = _by_group_then_key(group, stable_order(order_key) if by_key is None else by_key)
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


def stable_order(values: np.ndarray) -> np.ndarray:
    """`np.argsort(values, kind="stable")`; for non-negative values (ages) by `random_order`'s
    O(n) sort of numbers in [0, 1), after scaling them by a power of two, which is exact (for
    values far from the smallest double): they keep their order and their ties. A million ages:
    63-69 ms against numpy's 115-130 (measured)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0 or not values.min() >= 0 or not np.isfinite(values.max()):
        return np.argsort(values, kind="stable")
    return random_order(np.ldexp(values, -math.frexp(float(values.max()))[1]))  # max = m x 2^e, m < 1


def _by_group_then_key(group: np.ndarray, by_key: np.ndarray) -> np.ndarray:
    """`np.lexsort((order_key, group))` from the stable order by key: a stable sort by group of
    that order (groups are small integers: numpy sorts 16-bit ones by radix). At a million persons
    0.14 s against lexsort's 0.22 s, and the order by key (0.12 s of it) is shared by all groupings."""
    in_order = group[by_key]
    if len(in_order) and in_order.min() >= 0 and in_order.max() < 2**16:
        in_order = in_order.astype(np.uint16)
    return by_key[np.argsort(in_order, kind="stable")]


def family_ties(pop: Population, slots: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of persons (among `slots`, default everyone) sharing a household."""
    slots = np.arange(pop.size) if slots is None else np.asarray(slots, np.int64)
    order = slots[np.argsort(pop.household[slots], kind="stable")]
    hh = pop.household[order]
    a, b = [], []
    for k in range(1, int(np.bincount(hh).max()) if len(hh) else 1):
        same = hh[:-k] == hh[k:]
        a.append(order[:-k][same])
        b.append(order[k:][same])
    return (np.concatenate(a), np.concatenate(b)) if a else (np.zeros(0, np.int64),) * 2


POOL_PER_GROUP = 100  # candidates per neighbourhood-and-sex group when newcomers make friends


def _candidate_pool(pop: Population, rng: np.random.Generator) -> np.ndarray:
    """A random sample of persons from which newcomers draw partners (large enough for age-matching)."""
    size = min(pop.size, POOL_PER_GROUP * 2 * pop.params.neighbourhoods)
    return sorted_sets.unique(rng.integers(0, pop.size, size))


class CandidatePool:
    """The persons newcomers draw partners from: a sample (`_candidate_pool`) plus the egos of
    each grouping, in slot order, with their order by `order_key` worked out once for all groupings.

    The sample grows with the neighbourhoods, so at a million persons it is most of the town:
    sorting it by age once, not once per grouping (7), took a prune step's newcomer ties from
    0.59-0.62 s to 0.25-0.31 s (measured). A grouping's candidates are a subset of the sample plus all
    newcomers, in slot order, so the stable order by key of the whole, restricted to them, is
    exactly their own stable order by key.
    """

    def __init__(self, sample: np.ndarray, newcomers: np.ndarray, order_key: np.ndarray):
        self._everyone = sorted_sets.union(sample, newcomers)
        self._in_sample = np.zeros(len(self._everyone), dtype=bool)
        self._in_sample[np.searchsorted(self._everyone, sample)] = True
        self._by_key = stable_order(order_key[self._everyone])

    def with_egos(self, egos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The candidates for `egos` (the sample and the egos, sorted) and their stable order by key."""
        chosen = self._in_sample.copy()
        chosen[np.searchsorted(self._everyone, egos)] = True
        local = np.cumsum(chosen) - 1  # a chosen person's index among the candidates
        by_key = self._by_key[chosen[self._by_key]]
        return self._everyone[chosen], local[by_key]


def build_initial_ties(ties: TieStore, pop: Population, venues: Venues, params: TieParams, rng: np.random.Generator) -> None:
    """The whole starting network: households and everyone's social ties, added in one go (the
    tie store then takes them as its first run: no merge into an earlier one, whose two copies
    were the peak of a set-up's memory)."""
    family_a, family_b = family_ties(pop)
    a, b, layer = social_pairs(pop, venues, params, rng)
    ties.add_initial(np.concatenate([family_a, a]), np.concatenate([family_b, b]),
                     np.concatenate([np.full(len(family_a), LAYER["family"], np.int8), layer]), step=0)


def social_ties(ties: TieStore, pop: Population, venues: Venues, params: TieParams, rng: np.random.Generator,
                step: int, slots: np.ndarray) -> None:
    """The friendship, neighbourhood, school/work and chat ties of newcomers (`slots`)."""
    ties.add_initial(*social_pairs(pop, venues, params, rng, slots), step)


def social_pairs(pop: Population, venues: Venues, params: TieParams, rng: np.random.Generator,
                 slots: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Friendship, neighbourhood, school/work and chat ties started by `slots`: (a, b, layer).

    At set-up (`slots` None) everyone starts half of their expected ties and receives the other
    half from others; a newcomer starts all of its own, so it arrives with a typical network.
    """
    n = pop.size
    pool = None if slots is None else CandidatePool(_candidate_pool(pop, rng), np.asarray(slots, np.int64), pop.age)
    share = 0.5 if slots is None else 1.0
    slots = np.arange(n) if slots is None else np.asarray(slots, np.int64)
    by_age = None if pool is not None else stable_order(pop.age)  # every grouping sorts by age within groups
    new: list[tuple[np.ndarray, np.ndarray, int]] = []

    egos = _initiations(slots, params.friends_mean, share, rng)
    same_nbh = rng.random(len(egos)) < params.friend_same_neighbourhood
    same_sex = rng.random(len(egos)) < params.friend_same_sex
    for nbh_flag in (True, False):
        for sex_flag in (True, False):
            sel = egos[(same_nbh == nbh_flag) & (same_sex == sex_flag)]
            group = (pop.neighbourhood.astype(np.int64) if nbh_flag else np.zeros(n, np.int64)) * 2 + (pop.sex if sex_flag else 0)
            new.append((sel, partners_in_groups(sel, group, pop.age, params.friend_age_sd, rng, pool, by_age), LAYER["friend"]))

    egos = _initiations(slots, params.neighbours_mean, share, rng)
    new.append((egos, partners_in_groups(egos, pop.neighbourhood.astype(np.int64), pop.age, None, rng, pool, by_age), LAYER["neighbourhood"]))

    for assigned in venues.assigned.values():
        members = slots[assigned[slots] >= 0]
        egos = _initiations(members, params.school_work_mean, share, rng)
        group = np.where(assigned >= 0, assigned + 1, 0).astype(np.int64)  # 0 = none: a group of its own
        new.append((egos, partners_in_groups(egos, group, pop.age, None, rng, pool, by_age), LAYER["school_work"]))

    egos = _initiations(slots, params.online_contacts_mean, share, rng, weight=pop.online_activity)
    partners = rng.choice(n, size=len(egos), p=pop.online_activity / pop.online_activity.sum())
    new.append((egos, partners, LAYER["chat"]))
    return (np.concatenate([a for a, _, _ in new]), np.concatenate([b for _, b, _ in new]),
            np.concatenate([np.full(len(a), layer, np.int8) for a, _, layer in new]))
