"""Arrests: waves (`at`, `every`) or a sustained rate (`rate`) of police arrests of network
members, targeted at random members, core members, the most central members (by degree or
betweenness among fellow members), the money component (money mules and cash-out specialists)
or one network. Arrested persons leave for a sentence and return; survivors regroup
(sim/crime/lifecycle.py) and rewire (sim/crime/co_offending.py). Evidence: networks rewire and
can become more efficient (Duijn, Kashirin & Sloot 2014); removal by betweenness disrupts
fastest in simulations (Bright et al. 2017).

Centrality is computed in the graph of the ties that link fellow members (every layer: family,
friends, ..., and the co_offending ties made by recruiting and offending together). The police
analyse each network they investigate: a wave takes the most central members *of each network*
(each network's share of the wave is what a random wave would take from it), so central and
random waves of the same share differ in whom they take within networks, not in which networks
they hit. Ranking all members of all networks on one scale would spare small networks, whose
members all have zero betweenness."""

from __future__ import annotations

import warnings
from typing import Literal

import networkx as nx
import numpy as np
from pydantic import Field, model_validator

from sim.crime import enforcement
from sim.crime.co_offending import fellow_ties
from sim.errors import ScenarioWarning
from sim.interventions.base import Intervention, InterventionParams
from sim.interventions.registry import register
from sim.scenario.params import prob, rate
from sim.vocabulary import ROLE, SPECIALISM, RoleName

Targeting = Literal["random", "core", "central_degree", "central_betweenness", "money", "network"]


class ArrestsParams(InterventionParams):
    type: Literal["arrests"] = Field(description="police arrest network members")
    targeting: Targeting = Field("core", description="whom: random members, core members, the most central (degree or betweenness), the money component, or one network")
    network: int | Literal["largest"] = Field("largest", description="with targeting 'network': a network id, or the largest network at the moment of the wave")
    role: RoleName | None = Field(None, description="only members holding this role (e.g. targeting 'network' with role 'core': the core of one network)")
    share: float = prob(0.5, "share of the targeted members arrested in a wave")
    rate: float = rate(0.0, "sustained arrests of each targeted member while in force (0 = waves only)")

    @model_validator(mode="after")
    def _something_to_do(self):
        if self.share == 0 and self.rate == 0:
            raise ValueError("share and rate are both 0: this intervention would arrest no one")
        if isinstance(self.network, int) and self.network < 0:
            raise ValueError(f"network: network ids start at 0, got {self.network}; no network could ever be arrested")
        return self

    def default_label(self) -> str:
        """`arrests:` and the targeting (and the network and role when they narrow it)."""
        parts = [self.type, self.targeting]
        if self.targeting == "network":
            parts.append(str(self.network))
        if self.role is not None:
            parts.append(self.role)
        return ":".join(parts)


@register("arrests")
class Arrests(Intervention):
    Params = ArrestsParams

    def act(self) -> None:
        targets = self.targets()
        chosen = self._most_targeted(targets, int(round(self.params.share * len(targets))))
        self._arrest(chosen, "wave")

    def each_step(self) -> None:
        if self.params.rate > 0:
            targets = self.targets()
            caught = self.draws.bernoulli(self.now, targets, self.model.clock.prob(self.params.rate), draw="sustained")
            self._arrest(targets[caught], "sustained")

    def _arrest(self, slots: np.ndarray, why: str) -> None:
        # sentences keyed by person, step and purpose: a wave and the sustained rate draw apart
        enforcement.arrest(self.model, slots, self.draws.at(self.now), f"sentence:{why}")
        self.model.recorder.tally["arrests_intervention"] += len(slots)

    def targets(self) -> np.ndarray:
        """Members the police go after, most important first for the central targetings."""
        pop, p = self.model.pop, self.params
        members = self.model.membership.members()
        if p.role is not None:
            members = members[pop.role[members] == ROLE[p.role]]
        if p.targeting == "core":
            return members[pop.role[members] == ROLE["core"]]
        if p.targeting == "money":
            money = (pop.role[members] == ROLE["money_mule"]) | (pop.specialism[members] == SPECIALISM["cash_out"])
            return members[money]
        if p.targeting == "network":
            network = self._network_id()
            self._warn_if_absent(network)
            return members[pop.network[members] == network]
        if p.targeting.startswith("central"):
            return members[self._central_first(members)]
        return members

    def _most_targeted(self, targets: np.ndarray, k: int) -> np.ndarray:
        """The k first of the central ranking; otherwise the k targets with the smallest keyed
        numbers, so whether a person is chosen does not depend on the order of the others."""
        if self.params.targeting.startswith("central"):
            return targets[:k]  # already ranked
        return targets[self.draws.ranks(self.now, targets, draw="wave")[:k]]

    def _network_id(self) -> int:
        if self.params.network != "largest":
            return int(self.params.network)
        t = self.model.networks
        ids = t.active_ids()
        return int(ids[np.argmax(t.size(ids))]) if len(ids) else -1

    def _warn_if_absent(self, network: int) -> None:
        """Say so (once) when the network this intervention targets does not exist when it acts."""
        t = self.model.networks
        if self.params.network == "largest" or (network < t.n and t.active[network]) or getattr(self, "_warned", False):
            return
        self._warned = True
        when = (self.now - 1) * self.model.clock.dt
        warnings.warn(ScenarioWarning(
            f"{self.label}: network {network} does not exist at year {when:.4g} ({t.n} networks have been founded, ids 0 to "
            f"{t.n - 1}, {len(t.active_ids())} active), so no one is arrested; pick an id from networks.parquet"), stacklevel=2)

    def _central_first(self, members: np.ndarray) -> np.ndarray:
        """An order of `members` in which any first share of the list holds about that share of
        each network, its most central members: members are ranked within their network (most
        central first, r = 0, 1, ...) and ordered by (r + u) / size, u a keyed uniform, so a
        wave of share s takes a network's r-th member if (r + u) / size < s (on average s x size)."""
        pop = self.model.pop
        net = pop.network[members]
        within = np.lexsort((-self._centrality(members), net))  # by network, most central first
        sorted_net = net[within]
        first = np.searchsorted(sorted_net, sorted_net, side="left")
        rank = np.empty(len(members), dtype=np.int64)
        rank[within] = np.arange(len(members)) - first
        size = np.bincount(net, minlength=int(net.max(initial=0)) + 1)[net]
        u = self.draws.uniform(self.now, members, draw="share_rounding")
        return np.argsort((rank + u) / size, kind="stable")

    def _centrality(self, members: np.ndarray) -> np.ndarray:
        """Centrality of each member among the members of its own network (ties of every layer,
        co_offending included), plus a tiny keyed tie-break."""
        pop = self.model.pop
        ego, alter = fellow_ties(self.model.ties, pop, members)
        if self.params.targeting == "central_degree":
            degree = np.zeros(pop.size)
            np.add.at(degree, ego, 1.0)
            return degree[members] + self._tie_break(members)
        graph = nx.Graph()
        graph.add_nodes_from(members.tolist())
        graph.add_edges_from(zip(ego.tolist(), alter.tolist()))
        score = nx.betweenness_centrality(graph, seed=int(self.draws.generator(self.now, "betweenness").integers(2**31)))
        return np.array([score[int(s)] for s in members]) + self._tie_break(members)

    def _tie_break(self, members: np.ndarray) -> np.ndarray:
        """A tiny keyed number per member: equally central members are ranked at random."""
        return self.draws.uniform(self.now, members, draw="tie_break") * 1e-6
