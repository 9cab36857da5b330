"""The whole model: invariants checked during a run, consistency of the three output tables with
each other and with the event log, reproducibility, snapshots, and the small pieces the model is
built from (Clock, business-model capability, origin types)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from helpers import (
    BUSY,
    SMALL,
    assert_ties_well_formed,
    cached_run,
    deep_update,
    run,
    scenario,
)
from pandas.testing import assert_frame_equal

from sim.agents import CriminalNetwork, Person
from sim.crime.business import BusinessModels
from sim.crime.origin import (
    OFFLINE,
    OFFLINE_CORE_ONLINE_GROWTH,
    ONLINE,
    ONLINE_CORE_OFFLINE_GROWTH,
    classify,
)
from sim.model import RecruitModel
from sim.scenario.schema import NetworkParams, OriginParams
from sim.timing import Clock
from sim.vocabulary import (
    CHANNELS,
    LAYERS,
    MEDIA,
    NO_NETWORK,
    ORIGINS,
    ROLE,
    ROLES,
    SPECIALISMS,
    STEPS_PER_YEAR,
)

APPROACH_CHANNELS = tuple(c for c in CHANNELS if c != "founder")
EVENT_KINDS = ("recruit_attempt", "arrest", "release", "desist", "promoted", "network_founded", "network_dissolved", "exit", "lost_contact")
LEAVE_KINDS = ("desist", "arrest", "exit", "network_dissolved", "lost_contact")
# events columns and dtypes, in the order of docs/outputs.md
EVENT_COLUMNS = {
    "step": "int", "kind": "text", "network_id": "int", "person_id": "int", "channel": "text", "medium": "text",
    "role": "text", "accepted": "bool", "outcome": "text", "age": "float", "sex": "text", "it_skill": "float", "specialism": "text",
}


# =========================================================================== invariants during a run
def check_role_counts(m: RecruitModel) -> None:
    t, pop = m.networks, m.pop
    members = pop.members()
    counts = np.zeros((t.n, len(ROLES)), dtype=np.int64)
    np.add.at(counts, (pop.network[members], pop.role[members]), 1)
    np.testing.assert_array_equal(t.role_counts[: t.n], counts, err_msg="role_counts differ from the population's columns")
    assert np.all(pop.role[members] >= 0) and np.all(pop.role[pop.network == NO_NETWORK] == -1)


def check_members_belong_to_active_networks(m: RecruitModel) -> None:
    t, pop = m.networks, m.pop
    members = pop.members()
    assert np.all(pop.network[members] < t.n)
    assert np.all(t.active[pop.network[members]]), "a member of a dissolved network"
    assert np.all(t.role_counts[: t.n][~t.active[: t.n]] == 0), "a dissolved network with members"


def check_role_caps(m: RecruitModel) -> None:
    """No network holds more members in a role than ceil((1 + growth_slack) x need) (attempts.resolve)."""
    ids = m.networks.active_ids()
    cap = np.ceil(m.business.needs[m.networks.business_model[ids]] * (1 + m.config.networks.growth_slack))
    cap[:, ROLE["core"]] = np.maximum(cap[:, ROLE["core"]], 1)  # founders and promotions are core
    over = m.networks.role_counts[ids] > cap
    assert not over.any(), f"networks over a role cap: {ids[over.any(axis=1)].tolist()}"


def check_no_member_in_prison(m: RecruitModel) -> None:
    pop = m.pop
    assert not np.any(pop.prison_until[pop.members()] >= 0), "a network member is in prison"
    assert np.all((pop.prison_until == -1) | (pop.prison_until > m.step_now)), "a prisoner due for release is still in"


def check_agents(m: RecruitModel) -> None:
    persons = m.agents_by_type[Person]
    assert len(persons) == m.pop.size
    assert set(persons) == set(m.person_agents), "the model's Person agents are the slot views"
    assert [a.slot for a in m.person_agents] == list(range(m.pop.size)), "each Person views its own slot"
    ids = m.networks.active_ids()
    networks = m.agents_by_type.get(CriminalNetwork, [])
    assert len(networks) == len(ids), "one CriminalNetwork agent per active network"
    assert sorted(m.network_agents) == ids.tolist()
    assert all(agent.network_id == nid for nid, agent in m.network_agents.items())
    for nid, agent in m.network_agents.items():
        assert agent.size == m.networks.role_counts[nid].sum()
        assert [p.slot for p in agent.members()] == np.flatnonzero(m.pop.network == nid).tolist()
        assert agent.origin in ORIGINS


def check_person_views(m: RecruitModel) -> None:
    pop = m.pop
    for slot in pop.members()[:20]:
        person = m.person_agents[slot]
        assert person.network_id == pop.network[slot]
        assert person.role == ROLES[pop.role[slot]]
        assert person.recruited_through == CHANNELS[pop.join_channel[slot]]
        assert person.recruited_medium == MEDIA[pop.join_medium[slot]]
        assert person.person_id == pop.person_id[slot]


def check_ties(m: RecruitModel) -> None:
    assert m.ties.n_slots == m.pop.size
    assert_ties_well_formed(m.ties, m.step_now)
    f = m.ties.frame(m.step_now)
    family = f[f["layer"] == "family"]
    hh = m.pop.household
    assert np.all(hh[family["lo"].to_numpy()] == hh[family["hi"].to_numpy()]), "a family tie across households"
    # and every pair of housemates is family: as many family ties as pairs in households
    sizes = np.bincount(hh)
    assert len(family) == int((sizes * (sizes - 1) // 2).sum()), "housemates without a family tie"


def check_unique_person_ids(m: RecruitModel) -> None:
    assert len(np.unique(m.pop.person_id)) == m.pop.size


def check_members_index(m: RecruitModel) -> None:
    """The members Membership keeps are those the population's network column says."""
    np.testing.assert_array_equal(m.membership.members(), np.flatnonzero(m.pop.network != NO_NETWORK))


def check_recorded_row(m: RecruitModel) -> None:
    """The timeseries row just recorded describes the state at the end of the step."""
    row, pop = m.recorder.rows[-1], m.pop
    assert row["step"] == m.step_now
    assert row["involved"] == (pop.network != NO_NETWORK).sum()
    roles = np.bincount(pop.role[pop.members()], minlength=len(ROLES))
    assert [row[f"members_{r}"] for r in ROLES] == roles.tolist()
    assert row["networks_active"] == len(m.networks.active_ids())
    assert row["in_prison"] == (pop.prison_until >= 0).sum()
    assert [row[f"ties_{layer}"] for layer in LAYERS] == m.ties.count_by_layer().tolist()


CHECKS = {f.__name__: f for f in (check_role_counts, check_members_belong_to_active_networks, check_role_caps, check_no_member_in_prison,
                                  check_agents, check_person_views, check_ties, check_unique_person_ids, check_members_index, check_recorded_row)}


@pytest.fixture(scope="module")
def busy():
    """The busy scenario, run step by step with every check at 27 steps; returns (model, results, failures)."""
    sc = scenario(BUSY)
    m = RecruitModel(sc)
    failures: dict[str, list[str]] = {name: [] for name in CHECKS}
    checked = []
    for step in range(1, sc.steps + 1):
        m.step()
        if step == 1 or step % 10 == 0 or step == sc.steps:
            checked.append(step)
            for name, check in CHECKS.items():
                try:
                    check(m)
                except AssertionError as exc:
                    failures[name].append(f"step {step}: {exc}")
    assert len(checked) == 27
    return m, m.results(), failures


def test_the_busy_run_exercises_every_membership_path(busy):
    _, res, _ = busy
    kinds = res.events["kind"].value_counts()
    for kind in EVENT_KINDS:
        assert kinds.get(kind, 0) >= 3, f"the invariant run should include {kind} events"
    joins = res.events[(res.events["kind"] == "recruit_attempt") & res.events["accepted"]]
    assert set(joins["channel"]) == set(APPROACH_CHANNELS)


@pytest.mark.parametrize("name", list(CHECKS))
def test_invariant_holds_throughout_the_run(busy, name):
    _, _, failures = busy
    assert not failures[name], "\n".join(failures[name][:3])


def test_event_log_replays_to_the_final_membership(busy):
    """Replaying the events in order: joins only by non-members of active networks, leaves only by
    members of that network (with the channel, medium and role they joined or were promoted to),
    nobody approached while in prison, and the final state matches the model's."""
    m, res, _ = busy
    member_of: dict[int, tuple] = {}  # person -> (network, role, channel, medium)
    prison: set[int] = set()
    founded: set[int] = set()
    dissolved: set[int] = set()
    problems = []
    ev = res.events
    columns = ("step", "kind", "network_id", "person_id", "accepted", "age", "channel", "medium", "role")
    for step, kind, net, person, accepted, age, channel, medium, role in zip(*(ev[c].to_numpy() for c in columns)):
        where = f"step {step} {kind} network {net} person {person}"
        if kind == "network_founded":
            if net in founded or person in member_of or person in prison:
                problems.append(where)
            founded.add(net)
            member_of[person] = (net, "core", "founder", medium)  # online: founded among forum users
        elif kind == "recruit_attempt":
            if net not in founded or net in dissolved:
                problems.append(where + ": attempt by an inactive network")
            if person in prison:
                problems.append(where + ": attempt on a prisoner")
            if age < m.config.recruitment.min_age:
                problems.append(where + ": attempt on someone under min_age")
            if accepted:
                if person in member_of:
                    problems.append(where + ": accepted by a member")
                member_of[person] = (net, role, channel, medium)
        elif kind in LEAVE_KINDS and person >= 0:
            if member_of.get(person) != (net, role, channel, medium):
                problems.append(where + f": leaves as {(net, role, channel, medium)} but joined as {member_of.get(person)}")
            member_of.pop(person, None)
            if kind == "arrest":
                prison.add(person)
            if kind == "network_dissolved":
                dissolved.add(net)
        elif kind == "network_dissolved":
            if net in dissolved or any(v[0] == net for v in member_of.values()):
                problems.append(where)
            dissolved.add(net)
        elif kind == "release":
            if person not in prison or net != -1:
                problems.append(where)
            prison.discard(person)
        elif kind == "promoted":
            if person not in member_of or member_of[person][0] != net:
                problems.append(where)
            else:
                member_of[person] = (net, role, *member_of[person][2:])
    assert not problems, problems[:5]
    pop = m.pop
    members = pop.members()
    assert {p: v[0] for p, v in member_of.items()} == dict(zip(pop.person_id[members].tolist(), pop.network[members].tolist()))
    assert {p: v[1] for p, v in member_of.items()} == dict(zip(pop.person_id[members].tolist(), [ROLES[r] for r in pop.role[members]]))
    in_prison_now = set(pop.person_id[pop.prison_until >= 0].tolist())
    assert prison & set(pop.person_id.tolist()) == in_prison_now
    assert sorted(founded - dissolved) == m.networks.active_ids().tolist()


# =========================================================================== timeseries
def approach_events(res) -> pd.DataFrame:
    ev = res.events
    return ev[ev["kind"] == "recruit_attempt"]


def per_step(frame: pd.DataFrame, steps: pd.Series) -> pd.Series:
    """Events per timeseries step (set-up events, step 0, are tallied in step 1's row)."""
    return frame["step"].clip(lower=1).value_counts().reindex(steps, fill_value=0).to_numpy()


@pytest.fixture(scope="module", params=["busy", "small"])
def results(request, busy):
    return busy[1] if request.param == "busy" else cached_run(scenario(SMALL))[1]


def test_timeseries_has_one_row_per_step(results):
    ts = results.timeseries
    assert ts["step"].tolist() == list(range(1, len(ts) + 1))
    np.testing.assert_allclose(ts["year"], ts["step"] / STEPS_PER_YEAR["week"])
    assert (ts["population"] == 2000).all()


def test_timeseries_totals_add_up(results):
    ts = results.timeseries
    assert (ts["involved"] == ts[[f"members_{r}" for r in ROLES]].sum(axis=1)).all()
    assert (ts["networks_active"] == ts[[f"networks_{o}" for o in ORIGINS]].sum(axis=1)).all()
    approached = ts[[f"recruits_{c}" for c in APPROACH_CHANNELS]].sum(axis=1)
    assert (ts["recruits_offline"] + ts["recruits_online"] == approached).all(), "founders count in neither medium"
    for c in APPROACH_CHANNELS:
        # the rest said yes but lost to a full role, another network or a dissolved network
        assert (ts[f"attempts_{c}"] - ts[f"refusals_{c}"] >= ts[f"recruits_{c}"]).all(), c


def test_membership_changes_add_up_over_the_run(results):
    """involved(t) - involved(t-1) = joins - leaves in step t, from the event log."""
    ts, ev = results.timeseries, results.events
    joins = ev[((ev["kind"] == "recruit_attempt") & ev["accepted"]) | (ev["kind"] == "network_founded")]
    leaves = ev[ev["kind"].isin(LEAVE_KINDS) & (ev["person_id"] >= 0)]
    change = per_step(joins, ts["step"]) - per_step(leaves, ts["step"])
    np.testing.assert_array_equal(ts["involved"].diff().fillna(ts["involved"].iloc[0]).to_numpy(), change)


def test_tallies_equal_the_event_log_per_step(results):
    ts, ev = results.timeseries, results.events
    steps = ts["step"]
    attempts = approach_events(results)
    for c in APPROACH_CHANNELS:
        mine = attempts[attempts["channel"] == c]
        np.testing.assert_array_equal(ts[f"attempts_{c}"], per_step(mine, steps), err_msg=c)
        np.testing.assert_array_equal(ts[f"recruits_{c}"], per_step(mine[mine["accepted"]], steps), err_msg=c)
        np.testing.assert_array_equal(ts[f"refusals_{c}"], per_step(mine[mine["outcome"] == "refused"], steps), err_msg=c)
    assert (attempts["accepted"] == (attempts["outcome"] == "accepted")).all()
    assert set(attempts["outcome"]) <= {"accepted", "refused", "role_full", "taken", "network_gone"}
    assert (ev.loc[ev["kind"] != "recruit_attempt", "outcome"] == "").all()
    for medium in MEDIA:
        joined = attempts[attempts["accepted"] & (attempts["medium"] == medium)]
        np.testing.assert_array_equal(ts[f"recruits_{medium}"], per_step(joined, steps), err_msg=medium)
    founded = ev[ev["kind"] == "network_founded"]
    np.testing.assert_array_equal(ts["recruits_founder"], per_step(founded, steps))
    np.testing.assert_array_equal(ts["networks_founded"], per_step(founded, steps))
    np.testing.assert_array_equal(ts["arrests"], per_step(ev[ev["kind"] == "arrest"], steps))
    np.testing.assert_array_equal(ts["desistances"], per_step(ev[ev["kind"] == "desist"], steps))
    dissolved = ev[ev["kind"] == "network_dissolved"].drop_duplicates("network_id")
    np.testing.assert_array_equal(ts["networks_dissolved"], per_step(dissolved, steps))


def test_timeseries_counts_are_int64(results):
    """docs/outputs.md: every column is int64 except year and losses (float64)."""
    ts = results.timeseries
    assert ts["year"].dtype == np.float64 and ts["losses"].dtype == np.float64
    floats = {"year", "losses"}
    wrong = {c: str(t) for c, t in ts.dtypes.items() if c not in floats and t != np.int64}
    assert not wrong, wrong


# =========================================================================== networks snapshots
def test_snapshot_rows_are_consistent(results):
    nets, ts = results.networks, results.timeseries.set_index("step")
    assert set(nets["status"]) <= {"active", "dissolved"}
    assert set(nets["origin"]) <= set(ORIGINS), "origin takes only the four types"
    assert (nets["size"] == nets[[f"members_{r}" for r in ROLES]].sum(axis=1)).all()
    assert (nets["size"] == nets[[f"members_{c}" for c in CHANNELS]].sum(axis=1)).all()
    assert (nets.loc[nets["status"] == "dissolved", "size"] == 0).all(), "dissolved networks have no members"
    assert nets["capability"].between(0, 1).all()
    assert (nets["founded_step"] <= nets["step"]).all()
    assert (nets["neighbourhoods"] <= nets["size"]).all()
    active = nets[nets["status"] == "active"]
    by_step = active.groupby("step")
    steps = nets["step"].unique()
    np.testing.assert_array_equal(by_step.size().reindex(steps, fill_value=0), ts.loc[steps, "networks_active"])
    np.testing.assert_array_equal(by_step["size"].sum().reindex(steps, fill_value=0), ts.loc[steps, "involved"])
    origins = active.groupby(["step", "origin"]).size().unstack(fill_value=0).reindex(index=steps, columns=list(ORIGINS), fill_value=0)
    np.testing.assert_array_equal(origins.to_numpy(), ts.loc[steps, [f"networks_{o}" for o in ORIGINS]].to_numpy())


def test_every_network_appears_in_the_snapshots_until_dissolved(results):
    nets, ev = results.networks, results.events
    founded = ev.loc[ev["kind"] == "network_founded", "network_id"]
    assert set(nets["network_id"]) == set(founded)
    last = nets.sort_values("step").groupby("network_id").tail(1)
    dissolved = nets[nets["status"] == "dissolved"]
    assert not dissolved["network_id"].duplicated().any(), "a dissolved network is listed once"
    assert set(dissolved["network_id"]) == set(last.loc[last["status"] == "dissolved", "network_id"])
    assert set(dissolved["network_id"]) == set(ev.loc[ev["kind"] == "network_dissolved", "network_id"])


def test_snapshots_every_snapshot_every_steps_and_at_the_last_step():
    for steps, every in ((30, 4), (28, 7), (5, 10)):
        sc = scenario(SMALL, steps=steps, population={"size": 300, "neighbourhood_size": 75}, outputs={"snapshot_every": every})
        _, res = run(sc)
        expected = sorted({s for s in range(1, steps + 1) if s % every == 0} | {steps})
        assert sorted(res.networks["step"].unique()) == expected, (steps, every)


def test_a_run_stopped_early_ends_with_a_snapshot_and_results_are_repeatable():
    sc = scenario(SMALL, steps=30, population={"size": 300, "neighbourhood_size": 75})
    model, first = run(sc, steps=10)
    assert sorted(first.networks["step"].unique()) == [4, 8, 10]
    again = model.results()
    assert_frame_equal(first.networks, again.networks)
    assert_frame_equal(first.timeseries, again.timeseries)
    assert_frame_equal(first.events, again.events)


# =========================================================================== events
def test_events_have_the_documented_columns_and_dtypes(results):
    ev = results.events
    assert list(ev.columns) == list(EVENT_COLUMNS)
    for column, kind in EVENT_COLUMNS.items():
        dtype = ev[column].dtype
        ok = {"int": dtype == np.int64, "float": dtype == np.float64, "bool": dtype == bool,
              "text": pd.api.types.is_string_dtype(dtype) or dtype == object}[kind]
        assert ok, f"{column}: {dtype}"


def test_event_values_come_from_the_vocabularies(results):
    ev = results.events
    assert set(ev["kind"]) <= set(EVENT_KINDS)
    assert set(ev["channel"]) <= set(CHANNELS) | {""}
    assert set(ev["medium"]) <= set(MEDIA) | {""}
    assert set(ev["role"]) <= set(ROLES) | {""}
    assert set(ev["sex"]) <= {"F", "M", ""}
    assert set(ev["specialism"]) <= set(SPECIALISMS) | {""}
    assert ev["step"].between(0, results.timeseries["step"].max()).all()
    assert ev["step"].is_monotonic_increasing, "events are logged in time order"
    nobody = ev["person_id"] == -1
    assert ev.loc[nobody, "age"].isna().all() and ev.loc[nobody, "it_skill"].isna().all()
    assert (ev.loc[nobody, "sex"] == "").all() and (ev.loc[nobody, "specialism"] == "").all()
    assert ev.loc[~nobody, "age"].notna().all() and (ev.loc[~nobody, "sex"] != "").all()
    assert ev.loc[~nobody, "it_skill"].between(0, 1).all()


def test_attempts_carry_channel_medium_role_person_and_network(results):
    att = approach_events(results)
    assert len(att) > 0
    assert set(att["channel"]) <= set(APPROACH_CHANNELS)
    assert set(att["medium"]) <= set(MEDIA)
    assert set(att["role"]) <= set(ROLES)
    assert (att["person_id"] >= 0).all() and (att["network_id"] >= 0).all()


def test_release_and_founding_events(results):
    ev = results.events
    assert (ev.loc[ev["kind"] == "release", "network_id"] == -1).all()
    founded = ev[ev["kind"] == "network_founded"]
    assert not founded["network_id"].duplicated().any(), "one founding per network"
    assert (founded["person_id"] >= 0).all()


def test_channel_medium_and_role_are_given_for_the_documented_events(results):
    """docs/outputs.md: channel and medium for attempts and for events that end a membership
    (the member's join channel and medium); medium also for foundings (online: the core formed
    among forum users); role for attempts, promotions, foundings and membership ends; otherwise
    empty."""
    ev = results.events
    ends = ev["kind"].isin(LEAVE_KINDS) & (ev["person_id"] >= 0)
    with_channel = (ev["kind"] == "recruit_attempt") | ends
    with_medium = with_channel | (ev["kind"] == "network_founded")
    with_role = with_channel | ev["kind"].isin(["promoted", "network_founded"])
    assert (ev.loc[with_channel, "channel"] != "").all() and (ev.loc[with_medium, "medium"] != "").all()
    assert (ev.loc[~with_channel, "channel"] == "").all() and (ev.loc[~with_medium, "medium"] == "").all()
    assert (ev.loc[with_role, "role"] != "").all() and (ev.loc[~with_role, "role"] == "").all()
    assert (ev.loc[ev["kind"] == "network_founded", "role"] == "core").all()
    assert (ev.loc[ev["kind"] == "promoted", "role"] == "core").all()
    assert (ev.loc[ev["kind"] == "recruit_attempt", "channel"] != "founder").all()


# =========================================================================== reproducibility
REPRO = deep_update(BUSY, {"steps": 104, "population": {"size": 1000}})


@pytest.fixture(scope="module")
def repro_runs():
    return {seed: run(scenario(REPRO, seed=seed))[1] for seed in (5, 6)}


def test_the_same_seed_gives_identical_outputs(repro_runs):
    _, again = run(scenario(REPRO, seed=5))
    first = repro_runs[5]
    assert len(first.events) > 100 and len(first.networks) > 10
    assert_frame_equal(first.timeseries, again.timeseries)
    assert_frame_equal(first.networks, again.networks)
    assert_frame_equal(first.events, again.events)


def test_a_different_seed_gives_different_outputs(repro_runs):
    a, b = repro_runs[5], repro_runs[6]
    assert not a.timeseries.equals(b.timeseries)
    assert not a.events.equals(b.events)
    assert not a.networks.equals(b.networks)


def test_the_replication_key_changes_the_draws_reproducibly():
    sc = scenario(REPRO, steps=20)
    def results_of(replication):
        m = RecruitModel(sc, replication=replication)
        for _ in range(sc.steps):
            m.step()
        return m.results()
    a, b, c = results_of((1,)), results_of((1,)), results_of((2,))
    assert_frame_equal(a.events, b.events)
    assert not a.events.equals(c.events)


def test_streams_are_common_random_numbers_across_scenarios():
    """Changing recruitment leaves the population and the initial ties as they were."""
    a = RecruitModel(scenario(SMALL))
    b = RecruitModel(scenario(SMALL, recruitment={"rules": {"forums": {"enabled": False}}}))
    np.testing.assert_array_equal(a.pop.age, b.pop.age)
    np.testing.assert_array_equal(a.pop.household, b.pop.household)
    assert_frame_equal(a.ties.frame(0), b.ties.frame(0))


# =========================================================================== family ties of newcomers
# no initial networks: 60 persons (or children only) have no founders for the default ones
NO_NETWORKS = {"initial_per_10k": {name: 0 for name in scenario(SMALL).networks.initial_per_10k}}
TURNOVER = {"steps": 6, "population": {"size": 60, "neighbourhood_size": 30, "migration_rate": 20.0}, "networks": NO_NETWORKS}


def family_pairs(m: RecruitModel) -> set[tuple[int, int]]:
    f = m.ties.frame(m.step_now)
    f = f[f["layer"] == "family"]
    return set(zip(f["lo"].tolist(), f["hi"].tolist()))


def assert_households_are_all_family(m: RecruitModel) -> None:
    """Family ties are exactly the pairs of persons sharing a household."""
    family, hh = family_pairs(m), m.pop.household
    assert all(hh[a] == hh[b] for a, b in family), "a family tie across households"
    order = np.argsort(hh, kind="stable")
    missing = [(a, b) for h in np.unique(hh) for a, b in itertools.combinations(sorted(order[hh[order] == h].tolist()), 2)
               if (a, b) not in family]
    assert not missing, f"housemates without a family tie: {missing[:5]}"


def test_households_stay_all_family_under_heavy_turnover():
    m = RecruitModel(scenario(SMALL, **TURNOVER))
    assert_households_are_all_family(m)
    joined = 0
    for _ in range(12):  # only newcomers under 18 join a household; adults set up their own
        m.step()
        new = np.flatnonzero(m.pop.entered_step == m.step_now)
        joined += int((np.bincount(m.pop.household)[m.pop.household[new]] > 1).sum())
        assert_households_are_all_family(m)
    assert joined >= 20, "the set-up needs newcomers joining households"


def test_newcomers_joining_one_household_in_the_same_step_are_family():
    # only newcomers under 18 join a household: a population of children makes every newcomer join
    young = {**TURNOVER, "population": {**TURNOVER["population"], "min_age": 12.0, "max_age": 17.0}}
    m = RecruitModel(scenario(SMALL, **young))
    pairs_seen = 0
    for _ in range(6):
        m.step()
        family, hh = family_pairs(m), m.pop.household
        new = np.flatnonzero(m.pop.entered_step == m.step_now)
        for a, b in itertools.combinations(new, 2):
            if hh[a] == hh[b]:
                pairs_seen += 1
                assert (min(a, b), max(a, b)) in family, f"newcomers {a} and {b} share household {hh[a]} without a family tie"
    assert pairs_seen > 0


# =========================================================================== Clock
@pytest.mark.parametrize("step", ["day", "week", "month"])
def test_clock_prob_turns_a_yearly_hazard_into_a_step_probability(step):
    clock = Clock(step)
    assert clock.steps_per_year == STEPS_PER_YEAR[step] and clock.dt == pytest.approx(1 / STEPS_PER_YEAR[step])
    rates = np.array([0.0, 0.1, 1.0, 12.0, 50.0])
    np.testing.assert_allclose(clock.prob(rates), 1 - np.exp(-rates / STEPS_PER_YEAR[step]), rtol=1e-12)
    assert clock.prob(0.0) == 0.0
    assert np.all(clock.prob(rates) < 1.0) and np.all(np.diff(clock.prob(rates)) > 0)
    assert clock.prob(1e6) <= 1.0
    np.testing.assert_allclose(clock.expected(rates), rates / STEPS_PER_YEAR[step])


@pytest.mark.parametrize("rate", [0.04, 1.0, 12.0, 100.0])
def test_the_same_yearly_rate_gives_the_same_yearly_probability_at_any_step(rate):
    """Surviving every step of a year: (1 - p_step)^steps = exp(-rate), whatever the step length."""
    yearly = [1 - (1 - Clock(s).prob(rate)) ** STEPS_PER_YEAR[s] for s in ("day", "week", "month")]
    np.testing.assert_allclose(yearly, 1 - np.exp(-rate), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("rate", [0.5, 26.0, 150.0])
def test_visits_given_any_keep_yearly_totals_independent_of_the_step(rate):
    """P(any visit in a step) x E[visits | any] x steps per year = the yearly rate."""
    for step in ("day", "week", "month"):
        clock = Clock(step)
        lam = rate * clock.dt
        assert clock.visits_given_any(rate) == pytest.approx(lam / (1 - np.exp(-lam)), rel=1e-12)
        yearly = clock.prob(rate) * clock.visits_given_any(rate) * clock.steps_per_year
        assert yearly == pytest.approx(rate, rel=1e-9)
    assert Clock("week").visits_given_any(0.0) == pytest.approx(1.0)


def test_visits_given_any_from_the_chance_are_the_same_numbers():
    """Callers that have the step's chance of a visit pass it, and get exactly what working it
    out again gives (the draws of a run must not change)."""
    rates = np.concatenate([[0.0, 1e-12, 5e-7], np.random.default_rng(4).uniform(0, 300, 10_000)])
    for step in ("day", "week", "month"):
        clock = Clock(step)
        assert np.array_equal(clock.visits_given_any(rates, clock.prob(rates)), clock.visits_given_any(rates))


def test_clock_steps_and_decay():
    week = Clock("week")
    assert week.steps(1.0) == 52 and week.steps(0.5) == 26 and week.steps(0.001) == 1 and week.steps(0) == 0
    assert week.decay(0) == 1.0
    assert week.decay(1.0) ** 52 == pytest.approx(0.5)
    assert Clock("month").decay(2.0) ** 24 == pytest.approx(0.5)


# =========================================================================== business models and origins
@pytest.fixture(scope="module")
def business() -> BusinessModels:
    return BusinessModels(NetworkParams())


def test_capability_on_hand_made_counts(business):
    phishing = business.code["phishing"]  # needs core 2, enabler 1, recruiter 1, mules 5
    ddos = business.code["ddos_for_hire"]  # needs core 1, enabler 1
    counts = np.array([
        [2, 1, 1, 5],   # everything filled
        [4, 3, 2, 9],   # overfilled: each role capped at 1
        [1, 1, 0, 5],   # (0.5 + 1 + 0 + 1) / 4
        [0, 1, 1, 5],   # no core: nothing
        [1, 0, 0, 0],   # ddos: (1 + 0) / 2
        [1, 1, 3, 3],   # ddos: recruiters and mules are not needed and do not count
    ])
    bm = np.array([phishing, phishing, phishing, phishing, ddos, ddos])
    np.testing.assert_allclose(business.capability(bm, counts), [1.0, 1.0, 0.625, 0.0, 0.5, 1.0])
    assert np.array_equal(business.needs[phishing], [2, 1, 1, 5])


def test_origin_types_on_hand_made_counters():
    """The predominant medium of core formation (the founding counts once) and of growth."""
    params = OriginParams()  # online_growth_min_share 0.5: the majority of growth recruits
    cases = [  # core_offline, core_online, growth_offline, growth_online, founded_online -> origin
        (0, 0, 0, 0, False, OFFLINE),                       # a lone founder
        (1, 0, 5, 0, False, OFFLINE),
        (1, 0, 5, 4, False, OFFLINE),                       # mostly offline growth
        (1, 0, 5, 5, False, OFFLINE),                       # a tie in growth keeps the core's medium
        (1, 0, 4, 5, False, OFFLINE_CORE_ONLINE_GROWTH),    # mostly online growth
        (0, 1, 0, 3, False, OFFLINE_CORE_ONLINE_GROWTH),    # one online core recruit ties with the offline founding
        (0, 2, 0, 3, False, ONLINE),                        # two online core recruits outweigh it
        (0, 0, 0, 0, True, ONLINE),                         # founded among forum users, not grown
        (0, 1, 2, 2, True, ONLINE),                         # a tie in growth is not offline growth
        (0, 1, 3, 1, True, ONLINE_CORE_OFFLINE_GROWTH),
        (2, 1, 3, 1, True, OFFLINE),                        # later offline core members outweigh the online founding
    ]
    columns = [np.array([c[i] for c in cases]) for i in range(5)]
    got = classify(*columns[:4], params, founded_online=columns[4])
    assert [ORIGINS[g] for g in got] == [ORIGINS[c[5]] for c in cases]
    assert ORIGINS[OFFLINE_CORE_ONLINE_GROWTH] == "offline_core_online_growth" and ORIGINS[ONLINE] == "online"


def test_the_member_list_kept_through_joins_and_departures_is_the_populations(monkeypatch):
    """`Membership.members()` is kept up to date by joins and departures instead of a pass over
    the population after each: at every step it is `pop.members()`, and it is worked out afresh
    only once."""
    from sim.crime.membership import Membership

    passes = []
    members = Membership.members
    monkeypatch.setattr(Membership, "members", lambda self: passes.append(self._members is None) or members(self))
    model = RecruitModel(scenario(steps=260))
    joined = left = 0
    for _ in range(260):
        before = set(model.membership.members().tolist())
        model.step()
        after = model.membership.members()
        assert np.array_equal(after, model.pop.members())
        joined, left = joined + len(set(after.tolist()) - before), left + len(before - set(after.tolist()))
    assert joined > 50 and left > 50  # the list changed both ways, many times
    assert sum(passes) == 1 and len(passes) > 1000
