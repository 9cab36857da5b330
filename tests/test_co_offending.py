"""Ties among members (the co_offending layer, sim/crime/co_offending.py): recruiter-recruit
ties, offence crews, rewiring after arrests, the best-connected survivor, isolated members."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import SMALL, cached_run, scenario
from test_recruitment_rules import FixedDraws, candidates_of, decide, network_of, stub_rule

from sim.crime import co_offending, lifecycle
from sim.model import NO_MEETINGS, RecruitModel
from sim.outputs.snapshots import isolated_members
from sim.recruitment.attempts import resolve
from sim.vocabulary import LAYER, NO_NETWORK, ROLE

CO = "co_offending"


@pytest.fixture
def model() -> RecruitModel:
    return RecruitModel(scenario(SMALL, population={"size": 1000}))


@pytest.fixture
def market(model):
    return model._open_market(NO_MEETINGS)


def co_strength(m: RecruitModel, a, b) -> np.ndarray:
    return m.ties.strength_between(np.atleast_1d(a), np.atleast_1d(b), LAYER[CO], m.step_now)


def join(m: RecruitModel, slot: int, net: int, role: str) -> None:
    m.membership.join(m.step_now, int(slot), int(net), ROLE[role], "offline_ties", "offline")


class AcceptAll(FixedDraws):
    """Every candidate accepts; other choices (the recruiter) use the model's keyed draws."""

    def __init__(self, m: RecruitModel):
        super().__init__(0.0)
        self.real = m._draws("test", 1)

    def uniform(self, units, draw=0, with_units=None):
        return self.real.uniform(units, draw, with_units) if draw == "recruiter" else super().uniform(units)


def test_a_recruit_is_tied_to_the_member_who_recruited_them(model, market):
    m = model
    net = network_of(m)
    founder = int(np.flatnonzero(m.pop.network == net)[0])
    c1, c2 = candidates_of(m, 2)
    mule = ROLE["money_mule"]
    resolve(stub_rule(m, "offline_ties"), market, FixedDraws(0.0), [net], [c1], [mule], np.ones(1), "offline", recruiters=[founder])
    assert co_strength(m, founder, c1)[0] == 0  # made when the step's recruitment ends
    market.tie_recruits(m.ties)
    assert co_strength(m, founder, c1)[0] == pytest.approx(m.config.ties.initial_strength[CO], rel=1e-6)
    # no recruiter named: the network picks its recruiter-role member before its core
    join(m, c2, net, "recruiter")
    later = candidates_of(m, 8)[2:]
    for i, c in enumerate(later):  # one batch each (recruits of a batch do not recruit each other)
        resolve(stub_rule(m, "offline_ties"), market, AcceptAll(m), [net], [c], [mule], np.ones(1), "offline", attempt=i)
    market.tie_recruits(m.ties)
    assert (co_strength(m, np.full(6, c2), later) > 0).all() and (co_strength(m, np.full(6, founder), later) == 0).all()


def test_without_a_recruiter_role_the_core_recruits(model, market):
    m = model
    net = network_of(m)
    founder = int(np.flatnonzero(m.pop.network == net)[0])
    c1, c2 = candidates_of(m, 2)
    join(m, c1, net, "money_mule")
    decide(m, market, "adverts", 0.0, [net], [c2], [ROLE["money_mule"]], np.ones(1), "online")
    market.tie_recruits(m.ties)
    assert co_strength(m, founder, c2)[0] > 0 and co_strength(m, c1, c2)[0] == 0


def test_lost_acceptances_are_recorded_as_such_not_as_refusals(model, market):
    m = model
    m.recorder.events.chunks = {c: [] for c in m.recorder.events.chunks}
    m.recorder.tally.clear()
    net = network_of(m)
    enabler = ROLE["technical_enabler"]
    cap = int(np.ceil(m.business.needs[m.networks.business_model[net], enabler] * (1 + m.config.networks.growth_slack)))
    people = candidates_of(m, cap + 2)
    decide(m, market, "forums", 0.0, np.full(len(people), net), people, np.full(len(people), enabler), np.ones(len(people)), "online")
    ev = m.recorder.events.frame()
    assert ev["outcome"].tolist() == ["accepted"] * cap + ["role_full"] * 2
    assert m.recorder.tally["refusals_forums"] == 0


def test_offline_ties_ask_for_core_only_through_ties_trusted_enough(monkeypatch):
    """Approaches for core go through ties of at least min_core_trust (weaker: a certain refusal)."""
    import sim.recruitment.offline_ties as rule

    seen = []

    def spy(self, market, draws, networks, candidates, roles, trust, **kw):
        seen.append((np.asarray(roles), np.asarray(trust)))
        return np.zeros(len(roles), bool)

    monkeypatch.setattr(rule, "resolve", spy)
    m = RecruitModel(scenario(SMALL, population={"size": 1000}, steps=20))
    for _ in range(20):
        m.step()
    roles = np.concatenate([r for r, _ in seen])
    trust = np.concatenate([t for _, t in seen])
    core = roles == ROLE["core"]
    assert core.sum() > 0, "the test needs approaches for core"
    assert (trust[core] >= m.config.recruitment.acceptance.min_core_trust).all()


def network_with(m: RecruitModel, roles: list[str]) -> tuple[int, np.ndarray]:
    """A network of the given roles (its founder is the first core member); returns (id, slots)."""
    net = network_of(m)
    founder = int(np.flatnonzero(m.pop.network == net)[0])
    others = candidates_of(m, len(roles) - 1)
    for slot, role in zip(others, roles[1:]):
        join(m, slot, net, role)
    return net, np.concatenate([[founder], others])


def test_each_offence_ties_a_core_member_to_a_crew(model):
    m = model
    crew = m.config.networks.offence_crew
    net, slots = network_with(m, ["core", "money_mule", "money_mule", "money_mule", "money_mule", "technical_enabler"])
    joint = co_offending.JointOffending()
    joint.step(m, m._draws("co_offending", 1))  # learns the offences so far
    m.networks.offences_total[net] += 1
    joint.step(m, m._draws("co_offending", 1))
    f = m.ties.frame(m.step_now)
    f = f[f["layer"] == CO]
    assert len(f) == crew, "one offence: the coordinator and `offence_crew` partners"
    assert set(f["lo"]).union(f["hi"]) <= set(slots.tolist())
    assert (np.isin(f["lo"], slots[0]) | np.isin(f["hi"], slots[0])).all(), "crews run through the core member"
    m.networks.offences_total[net] += 200
    joint.step(m, m._draws("co_offending", 2))
    f = m.ties.frame(m.step_now)
    f = f[f["layer"] == CO]
    assert len(f) == len(slots) - 1, "mules are tied to their coordinator, not to each other"


def test_an_arrest_rewires_the_arrested_members_partners(model):
    m = model
    net, slots = network_with(m, ["core", "money_mule", "money_mule", "money_mule", "money_mule"])
    hub, partners, outsider = slots[0], slots[1:4], slots[4]
    m.ties.connect(np.full(3, hub), partners, LAYER[CO], m.step_now)
    m.membership.rewire_prob = 1.0
    m.membership.leave(m.step_now, [hub], "arrest")
    i, j = np.triu_indices(3, k=1)
    tied = co_strength(m, partners[i], partners[j]) > 0
    for k in range(3):
        assert tied[(i == k) | (j == k)].any(), "each partner ties up with another"
    assert co_strength(m, partners, np.full(3, outsider)).max() == 0, "only the arrested member's partners rewire"


@pytest.mark.parametrize("kind", ["desist", "exit", "network_dissolved", "lost_contact"])
def test_only_arrests_rewire(model, kind):
    m = model
    net, slots = network_with(m, ["core", "money_mule", "money_mule"])
    m.ties.connect(np.full(2, slots[0]), slots[1:], LAYER[CO], m.step_now)
    m.membership.rewire_prob = 1.0
    m.membership.leave(m.step_now, [slots[0]], kind)
    assert co_strength(m, slots[1], slots[2])[0] == 0


def test_each_partner_rewires_with_the_rewiring_chance():
    """Each partner of the arrested member starts one tie with chance rewire_prob: about
    k x rewire_prob new ties among k partners (a pair that picked each other counts once)."""
    m = RecruitModel(scenario(SMALL, population={"size": 1000}))
    k = 150
    net, slots = network_with(m, ["core"] + ["money_mule"] * k)
    hub, partners = slots[0], slots[1:]
    m.ties.connect(np.full(k, hub), partners, LAYER[CO], m.step_now)
    chance = m.config.networks.rewire_prob
    m.membership.leave(m.step_now, [hub], "arrest")
    i, j = np.triu_indices(k, k=1)
    new = (co_strength(m, partners[i], partners[j]) > 0).sum()
    assert abs(new - k * chance) < 4 * np.sqrt(k * chance * (1 - chance)) + 1


def test_members_cut_off_from_their_network_lose_contact(model):
    m = model
    net, slots = network_with(m, ["core", "money_mule", "money_mule"])
    core, tied, alone = slots
    m.ties.connect([core], [tied], LAYER[CO], m.step_now)
    sizes = m.networks.size(m.networks.active_ids())
    lonely_founder = int(np.flatnonzero(m.pop.network == m.networks.active_ids()[sizes == 1][0])[0])
    m.config.networks.lost_contact_rate = 1e6
    co_offending.lose_contact(m, m._draws("co_offending", 1))
    assert m.pop.network[alone] == NO_NETWORK
    assert m.pop.network[tied] == net and m.pop.network[core] == net
    assert m.pop.network[lonely_founder] != NO_NETWORK, "a network's only member is not cut off"
    assert m.recorder.tally["lost_contact"] == 1
    assert m.results().events["kind"].iloc[-1] == "lost_contact"


def strangers_network(m: RecruitModel, roles: list[str]) -> tuple[int, np.ndarray]:
    """A network of the given roles whose members have no tie of any layer to each other (the
    founder is the first core member); returns (id, slots)."""
    net = network_of(m)
    slots = [int(np.flatnonzero(m.pop.network == net)[0])]
    for slot in candidates_of(m, 200):
        known = m.ties.incident(np.array([slot]), m.step_now).alter
        if len(slots) < len(roles) and not np.isin(known, slots).any():
            slots.append(int(slot))
    for slot, role in zip(slots[1:], roles[1:]):
        join(m, slot, net, role)
    return net, np.array(slots)


def test_a_cell_left_without_a_path_to_the_core_is_cut_off(model):
    """The broker between the core and a cell of two leaves: the cell is still tied among itself
    but can no longer reach the core, so both drift away; the member tied to the core stays."""
    m = model
    net, slots = strangers_network(m, ["core", "recruiter", "money_mule", "money_mule", "money_mule"])
    core, broker, cell_a, cell_b, direct = slots
    m.ties.connect([core, broker, cell_a, core], [broker, cell_a, cell_b, direct], LAYER[CO], m.step_now)
    assert not np.isin(slots, co_offending.cut_off(m, m.pop.members())).any(), "everyone reaches the core"
    m.membership.leave(m.step_now, [broker], "exit")  # an exit: nobody rewires
    m.config.networks.lost_contact_rate = 1e6
    co_offending.lose_contact(m, m._draws("co_offending", 1))
    assert m.pop.network[cell_a] == NO_NETWORK and m.pop.network[cell_b] == NO_NETWORK
    assert m.pop.network[core] == net and m.pop.network[direct] == net


def test_a_network_without_a_core_loses_only_its_isolated_members(model):
    """Headless networks wait to regroup (lifecycle.regroup): a pair tied to each other stays, an
    isolated member drifts away."""
    m = model
    net, slots = strangers_network(m, ["core", "money_mule", "money_mule", "money_mule"])
    core, pair_a, pair_b, alone = slots
    m.ties.connect([core, pair_a], [pair_a, pair_b], LAYER[CO], m.step_now)
    m.membership.leave(m.step_now, [core], "exit")
    m.config.networks.lost_contact_rate = 1e6
    co_offending.lose_contact(m, m._draws("co_offending", 1))
    assert m.pop.network[pair_a] == net and m.pop.network[pair_b] == net
    assert m.pop.network[alone] == NO_NETWORK


def test_regroup_promotes_the_member_the_others_worked_with(model):
    m = model
    net, slots = strangers_network(m, ["core", "money_mule", "money_mule", "money_mule"])
    core, hub, a, b = slots
    m.ties.connect([core, hub, hub], [hub, a, b], LAYER[CO], m.step_now)
    m.pop.experience[a] = 50.0  # the most senior is not the best connected
    m.membership.leave(m.step_now, [core], "exit")
    m.config.networks.regroup_rate = 1e6
    lifecycle.regroup(m, m._draws("lifecycle", 1))
    assert m.pop.role[hub] == ROLE["core"] and m.pop.role[a] != ROLE["core"]


def test_best_connected_member_has_the_strongest_ties_to_the_others(model):
    m = model
    net, slots = network_with(m, ["core", "money_mule", "money_mule", "recruiter"])
    m.ties.connect(np.full(2, slots[3]), slots[1:3], LAYER[CO], m.step_now)
    survivors = slots[1:]
    assert survivors[co_offending.best_connected(m.ties, survivors, np.zeros(3), m.step_now)] == slots[3]
    seniority = np.array([5.0, 0.0, 0.0])
    alone = candidates_of(m, 10)[-3:]
    assert co_offending.best_connected(m.ties, alone, seniority, m.step_now) == 0, "no ties: the most senior"


def test_isolated_members_counts_members_without_a_tie_to_a_fellow(model):
    m = model
    net, slots = network_with(m, ["core", "money_mule", "money_mule"])
    ties = m.ties.incident(slots, m.step_now)
    for s in slots:  # a clean start: none of them tied to the others on any layer
        assert not np.isin(ties.alter[ties.ego == s], slots).any()
    m.ties.connect([slots[0]], [slots[1]], LAYER[CO], m.step_now)
    assert isolated_members(m, m.pop.members(), m.networks.n)[net] == 1


def test_members_of_a_run_are_tied_to_fellow_members():
    """Recruitment and offending together leave few members without a tie to a fellow member."""
    m, res = cached_run(scenario(SMALL))
    # over every snapshot: a 2,000-person town holds only one or two networks at a time
    active = res.networks[res.networks["status"] == "active"]
    assert active["size"].sum() > 300
    # "few": under a quarter, the threshold of the pattern report's `members_tied` (an assumption);
    # one run of this town sits near 10% (9.1% before and 10.0% after the lost-contact rule
    # covered cells cut off from the core), so a tighter bound would test the seed, not the rule
    assert active["isolated_members"].sum() < 0.25 * active["size"].sum()
    members = m.pop.members()
    f = m.ties.frame(m.step_now)
    f = f[f["layer"] == CO]
    assert len(f) > 0 and set(f["lo"]).union(f["hi"]) <= set(np.flatnonzero(m.pop.ever_member | (m.pop.network != NO_NETWORK)).tolist())
    assert len(members) > 0


def test_the_network_export_holds_co_offending_ties():
    from sim.outputs.graphs import member_graph

    m, _ = cached_run(scenario(SMALL))
    graph = member_graph(m).to_networkx()
    layers = {d["layer"] for _, _, d in graph.edges(data=True)}
    assert CO in layers
