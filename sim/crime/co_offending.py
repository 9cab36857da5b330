"""Ties among the members of a network (the `co_offending` layer): made by recruiting, kept up
by offending together, rewired after arrests.

- A recruit is tied to the member who recruited them (`tie_recruits`; the recruitment rules
  name that member, or the network picks one: `pick_recruiters`). Recruitment runs through
  pre-existing relations and leaves a working relation (Kleemans & de Poot 2008).
- Each offence is coordinated by one core member who works with `networks.offence_crew` other
  members (`JointOffending`): a pair who offend together meet (`TieStore.connect`: a new pair
  starts at the layer's initial strength, an old one is strengthened as any meeting does).
  Meetings follow offences, not pairs: a big network is not fully connected, and yearly
  meetings do not depend on the step length. Crews are small (co-offending groups are mostly
  of two or three: Reiss 1988; Carrington 2002) and run through the core: peripheral members
  (money mules) know their handler, not each other (Leukfeldt, Kleemans & Stol 2017).
- Ties fade unless renewed (`ties.half_life_years.co_offending`).
- When a member is arrested, each fellow member who worked with them ties up, with chance
  `networks.rewire_prob`, with another who did (`rewire`): networks rewire around a removed
  node (Duijn, Kashirin & Sloot 2014).
- Ties are what a network works through: a member whom no core member can reach through ties
  among fellow members (their handler arrested, the broker to their cell arrested, their ties
  faded) drifts away at `networks.lost_contact_rate` (`lose_contact`). This is what makes the
  removal of brokers disrupt more than the removal of anyone (Bright et al. 2017) (assumption
  on the rate).

Every draw is keyed (sim/rng.py): crews by (network, member, offence number), rewiring by the
pair, recruiters by (recruit, member).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from sim import compiled, sorted_sets
from sim.sampling import one_per_group
from sim.vocabulary import LAYER, NO_NETWORK, ROLE

if TYPE_CHECKING:
    from sim.model import RecruitModel
    from sim.population import Population
    from sim.rng import StepRandom
    from sim.ties import TieStore

CO_OFFENDING = LAYER["co_offending"]


def members_by_network(pop: Population, members: np.ndarray, networks: np.ndarray, exclude=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each network of `networks`: (owner index, member slot) rows, members sorted by network
    (`members`: the slots of all members, `Membership.members`).

    Returns (owner, member, count): `owner[i]` is the position in `networks` of row i.
    """
    if exclude is not None:
        members = members[~sorted_sets.isin(members, exclude)]
    members = members[np.argsort(pop.network[members], kind="stable")]
    net_of = pop.network[members]
    start = np.searchsorted(net_of, networks, side="left")
    count = np.searchsorted(net_of, networks, side="right") - start
    owner = np.repeat(np.arange(len(networks)), count)
    offset = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
    return owner, members[np.repeat(start, count) + offset], count


def pick_recruiters(pop: Population, members: np.ndarray, draws: StepRandom, networks, recruits, exclude) -> np.ndarray:
    """A recruiter for each recruit among its network's members (not those in `exclude`, the
    recruits of the same batch): a recruiter-role member if there is one, else a core member,
    else anyone; among equals by a keyed exponential race. -1 where the network has no one else."""
    networks, recruits = np.asarray(networks, np.int64), np.asarray(recruits, np.int64)
    owner, member, _ = members_by_network(pop, members, networks, exclude)
    rank = np.where(pop.role[member] == ROLE["recruiter"], 0, np.where(pop.role[member] == ROLE["core"], 1, 2))
    best = np.full(len(networks), 3)
    np.minimum.at(best, owner, rank)
    ok = rank == best[owner]
    owner, member = owner[ok], member[ok]
    pick = one_per_group(owner, np.ones(len(owner)), draws.uniform(recruits[owner], "recruiter", with_units=member))
    out = np.full(len(networks), -1, np.int64)
    out[owner[pick]] = member[pick]
    return out


def tie_recruits(ties: TieStore, step: int, recruiters, recruits) -> None:
    """Recruiter and recruit become co-offenders (or their tie is strengthened)."""
    known = np.asarray(recruiters) >= 0
    ties.connect(np.asarray(recruiters)[known], np.asarray(recruits)[known], CO_OFFENDING, step)


class JointOffending:
    """Members who offend together meet: one crew per offence (see the module docstring); then
    members cut off from their network drift away (`lose_contact`)."""

    def __init__(self) -> None:
        self._offences_seen = np.zeros(0, np.int64)  # each network's offences_total at the last call

    def offend_together(self, m: RecruitModel, draws: StepRandom) -> None:
        """The crews of this step's offences meet."""
        t, pop = m.networks, m.pop
        seen = np.zeros(t.n, np.int64)
        seen[: len(self._offences_seen)] = self._offences_seen[: t.n]
        offences = t.offences_total[: t.n] - seen
        self._offences_seen = t.offences_total[: t.n].copy()
        ids = np.flatnonzero(t.active[: t.n] & (offences > 0))
        if len(ids) == 0:
            return
        owner, member, count = members_by_network(pop, m.membership.members(), ids)
        start = np.cumsum(count) - count
        a, b = [], []
        for j, nid in enumerate(ids):
            crew_of = member[start[j]: start[j] + count[j]]
            key = np.full(len(crew_of), t.draw_keys([nid])[0])
            for nth in range(int(offences[nid])):
                lead, partners = _crew(pop, draws, crew_of, key, nth, m.config.networks.offence_crew)
                a.append(np.full(len(partners), lead))
                b.append(partners)
        if a:
            m.ties.connect(np.concatenate(a), np.concatenate(b), CO_OFFENDING, m.step_now)

    def step(self, m: RecruitModel, draws: StepRandom) -> None:
        """After offending (once per step): crews meet, then cut-off members drift away."""
        self.offend_together(m, draws)
        lose_contact(m, draws)


def _crew(pop: Population, draws: StepRandom, members: np.ndarray, key: np.ndarray, nth: int, size: int):
    """Offence `nth` of a network: its coordinator (a core member, else anyone) and `size` others."""
    if len(members) < 2 or size <= 0:
        return -1, np.zeros(0, np.int64)
    lead_u = draws.uniform(members, f"lead:{nth}", with_units=key)
    core = pop.role[members] == ROLE["core"]
    lead = int(np.argmin(np.where(core, lead_u, 2.0) if core.any() else lead_u))
    crew_u = draws.uniform(members, f"crew:{nth}", with_units=key)
    crew_u[lead] = np.inf
    return members[lead], members[np.argsort(crew_u, kind="stable")[: min(size, len(members) - 1)]]


def rewire(ties: TieStore, pop: Population, draws: StepRandom, leavers: np.ndarray, step: int, chance: float) -> None:
    """Before `leavers` leave by arrest: each fellow member who worked with one of them
    (co_offending) ties up, with `chance`, with one other fellow member who worked with them
    (picked by a keyed race: whom they knew through the arrested member)."""
    if chance <= 0 or len(leavers) == 0:
        return
    inc = ties.incident(leavers, step, ("co_offending",))
    keep = (pop.network[inc.alter] == pop.network[inc.ego]) & (pop.network[inc.ego] != NO_NETWORK) & ~sorted_sets.isin(inc.alter, leavers)
    ego, alter = inc.ego[keep], inc.alter[keep]
    order = np.argsort(ego, kind="stable")
    ego, alter = ego[order], alter[order]
    orphan, other, via = [], [], []
    for group in np.split(np.arange(len(ego)), np.flatnonzero(np.diff(ego)) + 1):
        if len(group) < 2:
            continue
        i, j = np.meshgrid(alter[group], alter[group], indexing="ij")
        off = i != j
        orphan.append(i[off])
        other.append(j[off])
        via.append(np.full(off.sum(), ego[group[0]]))
    if not orphan:
        return
    orphan, other, via = np.concatenate(orphan), np.concatenate(other), np.concatenate(via)
    # one new partner per (orphan, arrested member): a race among the arrested member's other partners
    group = orphan * pop.size + via
    pick = one_per_group(group, np.ones(len(group)), draws.uniform(orphan, "rewire_partner", with_units=other))
    orphan, other, via = orphan[pick], other[pick], via[pick]
    go = draws.uniform(orphan, "rewire", with_units=via) < chance
    ties.connect(orphan[go], other[go], CO_OFFENDING, step)


def lose_contact(m: RecruitModel, draws: StepRandom) -> None:
    """Members whom no core member of their network can reach leave it at
    `networks.lost_contact_rate` (`cut_off`): a mule whose handler was arrested, a cell left on
    the far side of an arrested broker."""
    cut = cut_off(m, m.membership.members())
    gone = cut[draws.uniform(cut, "lost_contact") < m.clock.prob(m.config.networks.lost_contact_rate)]
    m.membership.leave(m.step_now, gone, "lost_contact")
    m.recorder.tally["lost_contact"] += len(gone)


def fellow_ties(ties: TieStore, pop: Population, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ego, alter) of the live ties (any layer) of `members` to fellow members of their own
    network: the graph a network works through (lost contact, snapshots, central arrests)."""
    ego, alter = ties.links(members)
    fellow = pop.network[alter] == pop.network[ego]
    return ego[fellow], alter[fellow]


def cut_off(m: RecruitModel, members: np.ndarray) -> np.ndarray:
    """The members of `members` (all current members) who cannot work with their network: those
    with no live tie (any layer) to a fellow member, and, in a network that has a core, those
    with no path of ties among fellow members to a core member. Offences are coordinated by the
    core (`_crew`), so a part of the network that lost its only link to the core (the broker
    between them was arrested and nobody rewired) is cut off as a whole: this is why removing
    brokers disrupts more than removing anyone (Bright et al. 2017). A network's only member is
    alone, not cut off; a network without a core (waiting to regroup) loses only its isolated members."""
    pop, t = m.pop, m.networks
    ego, alter = fellow_ties(m.ties, pop, members)
    index = np.full(pop.size, -1, np.int64)
    index[members] = np.arange(len(members))
    component = components(len(members), index[ego], index[alter])
    has_core = np.zeros(len(members), bool)
    has_core[component[pop.role[members] == ROLE["core"]]] = True
    net = pop.network[members]
    has_tie = np.zeros(len(members), bool)
    has_tie[index[ego]] = True
    isolated = ~has_tie & (t.size(net) > 1)
    unreachable = (t.role_counts[net, ROLE["core"]] > 0) & ~has_core[component]
    return members[isolated | unreachable]


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A label per node 0..n-1, the same for two nodes exactly when edges (a[i], b[i]) join them
    (which label a component gets is not meaningful)."""
    if compiled.enabled():
        return _component_labels_kernel(n, np.asarray(a, np.int64), np.asarray(b, np.int64))
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


@compiled.kernel
def _component_labels_kernel(n, a, b):
    # union-find: each edge joins the two roots, the larger under the smaller, so a root is its
    # component's smallest node. Every step at 10,000 persons: scipy's sparse graph and its
    # components cost ~0.35 ms of the 0.5 of `cut_off` (measured)
    parent = np.arange(n)
    for i in range(len(a)):
        x, y = _root(parent, a[i]), _root(parent, b[i])
        if x < y:
            parent[y] = x
        elif y < x:
            parent[x] = y
    for i in range(n):
        parent[i] = _root(parent, i)
    return parent


@compiled.kernel
def _root(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]  # path halving: later searches are shorter
        x = parent[x]
    return x


def best_connected(ties: TieStore, members: np.ndarray, seniority: np.ndarray, step: int) -> int:
    """The member with the strongest co-offending ties to the others (ties broken by seniority):
    whom a network that lost its core would put in charge. Returns a position in `members`."""
    inc = ties.incident(members, step, ("co_offending",))
    fellow = sorted_sets.isin(inc.alter, members)
    sorter = np.argsort(members)
    weight = np.zeros(len(members))
    np.add.at(weight, sorter[np.searchsorted(members[sorter], inc.ego[fellow])], inc.strength[fellow])
    return int(np.lexsort((seniority, weight))[-1])
