"""The criminal networks as graphs, for network analysts (Gephi, UCINET, igraph, networkx).

At each snapshot (`outputs.snapshot_every`, and the last step), when `outputs.network_graphs`
is on, the members of every active network become nodes (person id, network, role, how they
joined, the network's origin type) and the live ties among members become edges, one per layer
(family, friend, forum, ..., and co_offending: the ties made by recruiting and offending together,
sim/crime/co_offending.py), with their current strength. The writer stores one GraphML file
per snapshot (`graphs/step_000052.graphml`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.crime.origin import origins_of
from sim.vocabulary import CHANNELS, LAYERS, MEDIA, ORIGINS, ROLES

if TYPE_CHECKING:
    import networkx as nx

    from sim.model import RecruitModel


@dataclass
class MemberGraph:
    """Members and the ties among them at one step (plain arrays: cheap to keep for a whole run)."""

    step: int
    person_id: np.ndarray
    network: np.ndarray
    role: np.ndarray
    channel: np.ndarray
    medium: np.ndarray
    origin: np.ndarray  # of the member's network
    tie_a: np.ndarray  # person ids, a < b
    tie_b: np.ndarray
    tie_layer: np.ndarray
    tie_strength: np.ndarray

    def to_networkx(self) -> nx.MultiGraph:
        import networkx as nx

        graph = nx.MultiGraph(step=int(self.step))
        for i, pid in enumerate(self.person_id.tolist()):
            graph.add_node(pid, network=int(self.network[i]), role=ROLES[self.role[i]], channel=CHANNELS[self.channel[i]],
                           medium=MEDIA[self.medium[i]], origin=ORIGINS[self.origin[i]])
        for a, b, layer, strength in zip(self.tie_a.tolist(), self.tie_b.tolist(), self.tie_layer.tolist(), self.tie_strength.tolist()):
            graph.add_edge(a, b, key=LAYERS[layer], layer=LAYERS[layer], strength=float(strength))
        return graph


def member_graph(m: RecruitModel) -> MemberGraph:
    pop, step = m.pop, m.step_now
    members = pop.members()
    ties = m.ties.incident(members, step)
    is_member = np.zeros(pop.size, dtype=bool)
    is_member[members] = True
    keep = is_member[ties.alter] & (ties.ego < ties.alter)  # each tie among members once
    origin = np.zeros(m.networks.n, dtype=np.int64)
    ids = m.networks.active_ids()
    origin[ids] = origins_of(m.networks, ids, m.config.origin)
    return MemberGraph(
        step, pop.person_id[members], pop.network[members], pop.role[members], pop.join_channel[members],
        pop.join_medium[members], origin[pop.network[members]],
        pop.person_id[ties.ego[keep]], pop.person_id[ties.alter[keep]], ties.layer[keep], ties.strength[keep],
    )


def graph_file_name(step: int) -> str:
    return f"step_{step:06d}.graphml"
