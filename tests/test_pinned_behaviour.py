"""Tests that pin behaviour, not just run it (issue 7, item 6).

Each test sets up a small model by hand (persons put into networks with chosen roles, ages,
partners, ties) and calls one mechanism directly, with parameters at extremes (a hazard so large
that the event is certain, a share of 0 or 1) so that the outcome does not depend on which
random numbers are drawn. Where a probability cannot be made 0 or 1, the test compares a share
over many persons with the probability the code implies, within a tolerance of a few binomial
(or Poisson) standard errors at a fixed seed. Each test names the plausible mistake it catches.

The model's processes take a sequential random generator today; they are called only through
the small wrappers below, so that a change of how randomness is passed in is adapted in one place.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from helpers import deep_update

from sim.crime import desistance, enforcement, founding, lifecycle, offending
from sim.model import NO_MEETINGS, RecruitModel
from sim.scenario import load_scenario
from sim.scenario.schema import Scenario
from sim.vocabulary import LAYER, NO_NETWORK, ROLE, SPECIALISM

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
CERTAIN = 1e6  # a hazard per year so large that the event happens in any step (1 - exp(-CERTAIN dt) == 1)
NO_INITIAL_NETWORKS = {name: 0 for name in ("phishing", "banking_malware", "ransomware_affiliate", "carding", "ddos_for_hire")}

# A small town with no networks at the start, nobody leaving, every person in a household of their
# own and no initial social ties, so that tests put in exactly the networks and ties they need.
BASE: dict = {
    "name": "pinned",
    "seed": 7,
    "steps": 20,
    "burn_in_years": 0,  # tests start from the set-up state they build
    "population": {"size": 600, "neighbourhood_size": 300, "migration_rate": 0.0, "household_size_mean": 1.0, "max_age": 100.0},
    "ties": {"friends_mean": 0.0, "neighbours_mean": 0.0, "school_work_mean": 0.0, "online_contacts_mean": 0.0},
    "networks": {"initial_per_10k": NO_INITIAL_NETWORKS},
}
# Everyone with any online activity and IT skill uses forums (no quitting): the forum tests below
# need many forum users in a small town, where the default self-selected minority would be a handful.
EVERYONE_ON_FORUMS = {"forum_use": {"join_rate": CERTAIN, "quit_rate": 0.0}}
NO_POLICE = {"detection_base": 0.0, "detection_per_member": 0.0, "detection_per_report": 0.0, "mule_detection": 0.0}


# =========================================================================== set-up helpers
def small_model(size: int = 600, **changes) -> RecruitModel:
    """A model of BASE (with `size` persons and nested `changes` merged in), not yet stepped."""
    data = deep_update(BASE, {"population": {"size": size}})
    return RecruitModel(Scenario.model_validate(deep_update(data, changes)))


def network(m: RecruitModel, business_model: str, founder: int, members=(), channel: str = "offline_ties", medium: str = "offline") -> int:
    """A network founded by `founder` (core) with `members` = [(slot, role name), ...] joined through
    `channel`; returns its id."""
    nid = founding.found(m, m._open_market(NO_MEETINGS), founder, m.business.code[business_model])
    for slot, role in members:
        m.membership.join(m.step_now, int(slot), nid, ROLE[role], channel, medium)
    return nid


def set_person(m: RecruitModel, slots, **columns) -> None:
    """Set population columns (age, partner, propensity, ...) of the given slots."""
    for name, value in columns.items():
        getattr(m.pop, name)[np.asarray(slots)] = value


def in_prison(m: RecruitModel, slots) -> np.ndarray:
    return m.pop.prison_until[np.asarray(slots)] >= 0


def members_of(m: RecruitModel, nid: int) -> np.ndarray:
    return np.flatnonzero(m.pop.network == nid)


# --- the one place that knows how a process gets its random numbers --------------------------
def _rng(m: RecruitModel, process: str):
    return m.streams.process(process).at(m.step_now)


def run_desistance(m: RecruitModel) -> None:
    desistance.desist(m, _rng(m, "desistance"))


def run_detection(m: RecruitModel) -> None:
    enforcement.detect_networks(m, _rng(m, "enforcement.networks"))


def run_offending(m: RecruitModel) -> None:
    offending.offend(m, _rng(m, "offending"))


def run_regroup(m: RecruitModel) -> None:
    lifecycle.regroup(m, _rng(m, "regroup"))


def run_dissolve(m: RecruitModel) -> None:
    lifecycle.dissolve(m, _rng(m, "dissolve"))


def run_rule(m: RecruitModel, name: str) -> None:
    """One recruitment rule's step, as the model runs it (availability and demand fresh)."""
    market = m._open_market(NO_MEETINGS)
    next(rule for rule in m.rules if rule.name == name).step(market)
    enforcement.take_in_informants(m, market.informants)  # what the model does with the rules' informants


def binomial_tolerance(p: float, n: int, z: float = 4.5) -> float:
    """Half-width of a z-sigma band around a share with probability p over n trials."""
    return z * np.sqrt(p * (1.0 - p) / n)


# =========================================================================== forum takedown
def takedown_model(**entry) -> tuple[RecruitModel, np.ndarray, np.ndarray]:
    """A takedown of open_forum_a in the first step; returns the model (not stepped), each person's
    visit rate to open_forum_a and to open_forum_b (its only destination) before it."""
    spec = {"type": "forum_takedown", "target": "open_forum_a", "at": 0.0, "move_time_years": 0.0, **entry}
    m = small_model(size=800, interventions=[spec], places=EVERYONE_ON_FORUMS)
    online = m.online
    return m, online.visit_rate(online.by_name("open_forum_a")).copy(), online.visit_rate(online.by_name("open_forum_b")).copy()


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_a_takedown_displaces_exactly_its_displacement_share(share):
    """Mutation caught: the takedown ignores `displacement_share` (all, or a fixed share, move)."""
    m, rate_a, rate_b = takedown_model(displacement_share=share)
    ids = m.pop.person_id.copy()
    for _ in range(3):
        m.step()
    stayed = m.pop.person_id == ids  # a slot may hold a newcomer by now
    added = m.online.visit_rate(m.online.by_name("open_forum_b")) - rate_b
    users = (rate_a > 0) & stayed
    assert users.sum() > 100 and not m.online.by_name("open_forum_a").is_open
    # share 1: every user of a takes all their visits to b; share 0: nobody does
    np.testing.assert_allclose(added[users], share * rate_a[users], atol=1e-9)
    np.testing.assert_allclose(added[~users & stayed], 0.0, atol=1e-9)


def test_a_successor_takes_back_its_share_of_the_movers():
    """Mutation caught: the successor forum does not take back its users (the movers' visits
    elsewhere stay); with successor_share 1 it wins back all of them and all routine visits."""
    m, rate_a, rate_b = takedown_model(displacement_share=1.0, successor_after_years=6 / 52, successor_share=1.0)
    ids = m.pop.person_id.copy()
    space_a, space_b = m.online.by_name("open_forum_a"), m.online.by_name("open_forum_b")
    for _ in range(3):
        m.step()
    moved = (rate_a > 0) & (m.pop.person_id == ids)
    # the movers settled in b (else the test below could not fail)
    np.testing.assert_allclose(m.online.visit_rate(space_b)[moved] - rate_b[moved], rate_a[moved], atol=1e-9)
    for _ in range(7):  # the successor opens about 6 steps after the takedown
        m.step()
    stayed = m.pop.person_id == ids
    assert space_a.is_open
    np.testing.assert_allclose(m.online.visit_rate(space_b)[stayed], rate_b[stayed], atol=1e-9)
    np.testing.assert_allclose(m.online.visit_rate(space_a)[stayed], rate_a[stayed], atol=1e-9)


# =========================================================================== origin counters
def test_core_recruits_count_as_core_not_as_growth():
    """Mutation caught: core recruits count as growth in the origin counters. An offline founder
    who takes two core members from a forum leads an online-core network (the core's online
    recruits outnumber its offline founding)."""
    m = small_model()
    nid = network(m, "phishing", founder=0, members=[(1, "core"), (6, "core")], channel="forums", medium="online")
    agent = m.network_agents[nid]
    assert agent.origin == "online"
    # then a non-core member recruited offline: an online core that grew offline
    m.membership.join(m.step_now, 2, nid, ROLE["money_mule"], "offline_ties", "offline")
    assert agent.origin == "online_core_offline_growth"
    # a network whose only recruits are core members recruited offline never counts as grown online
    other = network(m, "phishing", founder=3, members=[(4, "core")], channel="offline_ties", medium="offline")
    m.membership.join(m.step_now, 5, other, ROLE["money_mule"], "forums", "online")
    assert m.network_agents[other].origin == "offline_core_online_growth"


# =========================================================================== desistance
@pytest.mark.parametrize("factor", ["age", "partner"])
def test_desistance_depends_on_age_and_partner(factor):
    """Mutation caught: desistance ignores age (or partner). One network of 300 money mules; half
    of them differ in the factor only; parameters make one half's desistance certain and the
    other's all but impossible."""
    if factor == "age":
        # base rate 1 at 25, slope 1 per year: e^-13 per year at 12, e^+15 at 40
        params, older = {"base_rate": 1.0, "age_slope": 1.0, "partner_multiplier": 1.0}, {"age": 40.0}
        younger = {"age": 12.0}
    else:
        params, older = {"base_rate": CERTAIN, "age_slope": 0.0, "partner_multiplier": 0.0}, {"partner": False}
        younger = {"partner": True}  # "younger": the half that should stay
    m = small_model(desistance=params)
    slots = np.arange(1, 301)
    nid = network(m, "phishing", founder=0, members=[(s, "money_mule") for s in slots])
    set_person(m, slots, age=30.0, partner=False, status=0)
    set_person(m, [0], age=12.0 if factor == "age" else 30.0, partner=factor == "partner")  # the founder stays
    leave, stay = slots[::2], slots[1::2]
    set_person(m, leave, **older)
    set_person(m, stay, **younger)
    run_desistance(m)
    assert np.all(m.pop.network[leave] == NO_NETWORK), f"every member whose {factor} makes desistance certain desists"
    assert np.all(m.pop.network[stay] == nid), f"no member whose {factor} makes desistance negligible desists"
    assert np.all(m.pop.desisted[leave]) and m.recorder.tally["desistances"] == len(leave)


# =========================================================================== arrests after detection
@pytest.mark.parametrize(("core_share", "member_share"), [(1.0, 0.0), (0.0, 1.0)])
def test_detection_arrests_core_and_other_members_at_their_own_shares(core_share, member_share):
    """Mutation caught: the core and member arrest shares are swapped."""
    m = small_model(enforcement={"detection_base": CERTAIN, "investigations_per_10k": CERTAIN, "core_arrest_share": core_share,
                                 "arrest_share": member_share})  # capacity enough to investigate every lead
    nid = network(m, "phishing", founder=0, members=[(1, "core"), (2, "technical_enabler"), (3, "recruiter"),
                                                     (4, "money_mule"), (5, "money_mule")])
    core, others = np.array([0, 1]), np.array([2, 3, 4, 5])
    run_detection(m)
    assert m.recorder.tally["networks_detected"] == 1
    assert np.all(in_prison(m, core) == bool(core_share)) and np.all(in_prison(m, others) == bool(member_share))
    remaining = core if core_share == 0 else others
    assert sorted(members_of(m, nid).tolist()) == remaining.tolist()


# =========================================================================== offending
def test_offences_scale_with_capability():
    """Mutation caught: offending ignores capability. A network without core offends not at all;
    one with half its roles filled offends at half the rate of a full one (Poisson error)."""
    per_year = 52_000.0  # about 1,000 offences a week at full capability
    m = small_model(networks={"business_models": {"ddos_for_hire": {"offence_rate": per_year, "victims_per_offence": 1.0}}})
    full = network(m, "ddos_for_hire", founder=0, members=[(1, "technical_enabler")])
    half = network(m, "ddos_for_hire", founder=2)
    headless = network(m, "ddos_for_hire", founder=3, members=[(4, "technical_enabler")])
    m.membership.leave(m.step_now, np.array([3]), "exit")  # the core leaves: capability 0
    capability = {nid: m.network_agents[nid].capability for nid in (full, half, headless)}
    assert capability == {full: 1.0, half: 0.5, headless: 0.0}
    run_offending(m)
    offences = m.networks.offences_total
    assert offences[headless] == 0
    for nid in (full, half):
        expected = float(m.clock.expected(per_year)) * capability[nid]
        assert abs(offences[nid] - expected) < 5 * np.sqrt(expected), (nid, offences[nid], expected)


# =========================================================================== regrouping
def test_regrouping_promotes_the_most_senior_member():
    """Mutation caught: regrouping promotes the least senior member. Seniority is career
    experience plus time in this network; two headless networks, one differing in each."""
    m = small_model(networks={"regroup_rate": CERTAIN})
    m.step_now = 10
    by_experience = network(m, "phishing", founder=0, members=[(1, "money_mule"), (2, "technical_enabler"), (3, "recruiter")])
    set_person(m, [1, 2, 3], experience=[0.5, 4.0, 1.0])
    by_tenure = network(m, "phishing", founder=4, members=[(5, "money_mule")])  # joined at step 10
    m.step_now = 90
    m.membership.join(m.step_now, 6, by_tenure, ROLE["money_mule"], "offline_ties", "offline")  # joined at step 90
    m.step_now = 100
    m.membership.leave(m.step_now, np.array([0, 4]), "exit")  # both lose their only core member
    run_regroup(m)
    assert m.pop.role[2] == ROLE["core"] and m.pop.role[5] == ROLE["core"]
    assert (m.pop.role[[1, 3, 6]] != ROLE["core"]).all()
    assert m.networks.role_counts[[by_experience, by_tenure], ROLE["core"]].tolist() == [1, 1]


# =========================================================================== dissolution
@pytest.mark.parametrize("after_steps", [0, 3])
def test_a_network_dissolves_in_the_step_its_low_capability_has_lasted_long_enough(after_steps):
    """Mutation caught: networks dissolve a step late. A founder-only phishing network has
    capability 1/8 (< 0.15) from step 10; it survives `after_steps` steps and dissolves at
    10 + after_steps. A full-capability network does not."""
    m = small_model(networks={"dissolve_after_years": after_steps / 52})
    weak = network(m, "phishing", founder=0)
    strong = network(m, "ddos_for_hire", founder=1, members=[(2, "technical_enabler")])
    assert m.network_agents[weak].capability < m.config.networks.dissolve_capability
    active = {}
    for step in range(10, 16):
        m.step_now = step
        run_dissolve(m)
        active[step] = bool(m.networks.active[weak])
    assert active == {step: step < 10 + after_steps for step in range(10, 16)}
    assert m.networks.dissolved_step[weak] == 10 + after_steps
    assert m.networks.active[strong]
    assert m.pop.network[0] == NO_NETWORK


# =========================================================================== offline ties
def test_an_offline_approach_goes_through_stronger_ties_more_often():
    """Mutation caught: offline-tie choice ignores tie strength. 300 founders each have two friends
    alike in every trait, one tie strong and one weak: the strong one is approached with
    probability strong / (strong + weak) (binomial error), not one half."""
    n = 300
    m = small_model(size=3 * n, ties={"initial_strength": {"family": 0.9, "school_work": 0.4, "friend": 0.2, "neighbourhood": 0.3,
                                                            "forum": 0.2, "chat": 0.3, "co_offending": 0.5}},
                    recruitment={"rules": {"offline_ties": {"attempt_rate": 3 * 52.0, "accept_base": 0.0}}})  # ~3 approaches a week
    founders, strong, weak = np.arange(n), np.arange(n, 2 * n), np.arange(2 * n, 3 * n)
    twins = np.concatenate([strong, weak])
    set_person(m, twins, age=20.0, propensity=1.0, need=1.0, it_skill=1.0, specialism=SPECIALISM["coder"], partner=False,
               ever_member=False, deterrence=0.0)
    for f in founders:
        network(m, "ddos_for_hire", founder=int(f))  # looks for a technical enabler
    m.ties.add_initial(np.concatenate([founders, founders]), twins, LAYER["friend"], m.step_now)
    for _ in range(10):  # meetings strengthen the strong ties
        m.ties.connect(founders, strong, LAYER["friend"], m.step_now)
    s = m.ties.strength_between(founders, strong, LAYER["friend"], m.step_now)
    w = m.ties.strength_between(founders, weak, LAYER["friend"], m.step_now)
    assert np.allclose(s, s[0]) and np.allclose(w, w[0]) and s[0] > 3 * w[0]
    run_rule(m, "offline_ties")
    events = m.recorder.events.frame()
    approached = events.loc[events["kind"] == "recruit_attempt", "person_id"].to_numpy()
    assert len(approached) > n, "founders approach their friends (a Poisson number of times each)"
    p = s[0] / (s[0] + w[0])
    share = np.isin(approached, m.pop.person_id[strong]).mean()
    assert abs(share - p) < binomial_tolerance(p, len(approached)), (share, p)


# =========================================================================== informants
@pytest.mark.parametrize("infiltration", [0.0, 1.0])
def test_recruiting_on_an_infiltrated_space_raises_detection(infiltration):
    """A network that recruits on a fully infiltrated space takes in an informant and its
    detection hazard rises by `informant_detection`; on a clean space it does not. The network
    here does not notice the infiltration (`infiltration_perceived` 0), so it keeps searching
    there; it looks for a technical enabler, a role searched on forums."""
    boost = 2.5
    forums = {"search_rate": 5 * 52.0, "trust_open": 1.0, "accept_base": 1.0, "informant_detection": boost, "infiltration_perceived": 0.0,
              "role_weights": {"core": 0.0, "technical_enabler": 1.0, "recruiter": 0.0, "money_mule": 0.0}}
    m = small_model(recruitment={"rules": {"forums": forums}}, enforcement=NO_POLICE,
                    places={"online_spaces": {"open_forum_a": {"infiltration": infiltration}}, **EVERYONE_ON_FORUMS})
    nid = network(m, "phishing", founder=0)
    users = np.arange(1, 21)
    # perfect coders: acceptance probability 1 on a space trusted fully
    set_person(m, users, age=20.0, propensity=1.0, need=1.0, it_skill=1.0, specialism=SPECIALISM["coder"], partner=False,
               deterrence=0.0, ever_member=False)
    online = m.online
    for space in online.spaces:
        online.active[space.code] = np.zeros(0, dtype=np.int64)
    online.active[online.by_name("open_forum_a").code] = np.concatenate([[0], users])
    hazard_before = enforcement.detection_hazard(m, np.array([nid]))[0]
    run_rule(m, "forums")
    recruits = int(m.networks.role_counts[nid, ROLE["technical_enabler"]])
    assert recruits >= 1, "the network recruited on the forum"
    hazard_after = enforcement.detection_hazard(m, np.array([nid]))[0]
    informants = m.recorder.tally["informants_recruited"]
    assert informants == (recruits if infiltration else 0), "on a fully infiltrated space every recruit is an informant"
    assert hazard_after - hazard_before == pytest.approx(boost * informants + m.config.enforcement.detection_per_member * recruits)


# =========================================================================== central arrests
def test_betweenness_arrests_take_the_brokers_first():
    """`central_betweenness` targeting: in a network whose members form a path 0-1-2-3-4, a wave
    of one fifth (one arrest) takes the middle member 2, the one with the most betweenness among
    fellow members, not a best-connected one (1, 2 and 3 have two ties each). Ties to four
    non-members hang on member 0: counted, they would make 0 the broker (ties only within the
    network count). No offences, so no crew ties change the graph before the wave."""
    arrests = {"type": "arrests", "targeting": "central_betweenness", "at": 0.0, "share": 0.2}
    m = small_model(interventions=[arrests], enforcement=NO_POLICE, desistance={"base_rate": 0.0},
                    networks={"offence_crew": 0, "lost_contact_rate": 0.0})
    path = network(m, "phishing", founder=0, members=[(1, "money_mule"), (2, "money_mule"), (3, "technical_enabler"), (4, "recruiter")])
    m.ties.add_initial([0, 1, 2, 3], [1, 2, 3, 4], LAYER["friend"], 0)
    m.ties.add_initial([0, 0, 0, 0], [5, 6, 7, 8], LAYER["friend"], 0)  # ties to non-members do not count
    m.step()
    assert np.flatnonzero(in_prison(m, np.arange(9))).tolist() == [2]
    assert m.results().timeseries["arrests_intervention"].tolist() == [1]
    assert m.networks.size(np.array([path])).tolist() == [4]


# =========================================================================== bundled scenarios
def bundled(name: str, *overrides: str) -> RecruitModel:
    """A bundled scenario at 1,000 persons (unless overridden) and monthly steps: its interventions start
    at year 3, in step 37."""
    return RecruitModel(load_scenario(SCENARIOS / f"{name}.yaml", ["population.size=1000", "step=month", "steps=72", *overrides]))


def test_central_arrests_scenario_arrests_the_most_central_share_in_its_wave():
    """scenarios/central_arrests.yaml: nothing until year 3; then one wave arrests round(0.3 x
    members), and nobody it spares in a network it hits is more central (betweenness among fellow
    members) than anyone it arrests there. Other arrests are switched off so the wave's arrests can be told apart."""
    m = bundled("central_arrests", "population.size=6000", "burn_in_years=0", *(f"enforcement.{key}=0.0" for key in NO_POLICE))
    for _ in range(36):
        m.step()
    assert m.recorder.tally["arrests_intervention"] == 0 and m.results().timeseries["arrests"].sum() == 0
    members = m.pop.members()
    ties = m.ties.incident(members, m.step_now)
    same = m.pop.network[ties.ego] == m.pop.network[ties.alter]
    graph = nx.Graph()
    graph.add_nodes_from(members.tolist())
    graph.add_edges_from(zip(ties.ego[same].tolist(), ties.alter[same].tolist()))
    betweenness = nx.betweenness_centrality(graph)
    score = np.array([betweenness[int(s)] for s in members])
    k = int(round(0.3 * len(members)))
    assert (score > 0).any() and k < len(members), "some member brokers between others (else any choice would do)"
    net = m.pop.network[members]
    m.step()
    arrested = m.results().events.query("kind == 'arrest' and step == 37")["person_id"].to_numpy()
    assert len(arrested) == k and m.results().timeseries["arrests_intervention"].sum() == k
    taken = np.isin(m.pop.person_id[members], arrested)
    assert taken.sum() == k
    # the police rank the members of each network they hit (sim/interventions/arrests.py)
    assert len(np.unique(net[taken])) > 1, "the wave hits several networks"
    for nid in np.unique(net[taken]):
        mine = net == nid
        if (~taken & mine).any():
            assert score[taken & mine].min() >= score[~taken & mine].max() - 1e-12, nid


def test_forum_infiltration_scenario_makes_a_share_of_forum_recruits_informants_from_year_3():
    """scenarios/forum_infiltration.yaml, with open_forum_a the only space networks recruit on
    (for every role), everyone with online activity a forum user and networks searching often: no
    informant before year 3; after it, each forum recruit is an informant with the scenario's
    share (binomial error), and each raises its network's detection hazard by `informant_detection`."""
    only_a = [f"places.online_spaces.{space}=null" for space in ("open_forum_b", "gated_forum", "market", "chat_channels", "social_media")]
    only_a += [f"recruitment.rules.forums.role_spaces.{role}=[open_forum]" for role in ("core", "technical_enabler", "recruiter", "money_mule")]
    busy = ["recruitment.rules.forums.search_rate=500.0", "recruitment.rules.forums.accept_base=1.0",
            "recruitment.rules.forums.trust_open=1.0", "population.financial_need.a=8.0", "population.financial_need.b=2.0",
            "networks.initial_per_10k.phishing=200", "networks.growth_slack=2.0", "burn_in_years=0", f"places.forum_use.join_rate={CERTAIN}",
            "places.forum_use.quit_rate=0.0"]
    m = bundled("forum_infiltration", *only_a, *busy)
    assert [s.name for s in m.online.spaces] == ["open_forum_a"]
    for _ in range(72):
        m.step()
    ts = m.results().timeseries.set_index("step")
    before, after = ts.loc[:36], ts.loc[37:]
    assert before["informants_recruited"].sum() == 0 and before["recruits_forums"].sum() > 50
    n, informants = int(after["recruits_forums"].sum()), int(after["informants_recruited"].sum())
    share = m.config.interventions[0].share
    assert n > 50
    assert informants > 0 and abs(informants / n - share) < binomial_tolerance(share, n), (informants, n)
    per_informant = m.config.recruitment.rules.forums.informant_detection
    assert m.networks.detection_boost.sum() == pytest.approx(informants * per_informant)
