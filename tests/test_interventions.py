"""Each intervention's mechanism shows up where it should, and only there.

Runs are small (2,000 persons, weekly steps) and paired with a baseline of the same seed: with
common random numbers the two are identical until the intervention starts, so differences after
it are the intervention's doing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from sim.interventions.schedule import Timing
from sim.model import RecruitModel
from sim.recruitment.attempts import acceptance_probability
from sim.scenario import load_scenario
from sim.scenario.schema import Scenario
from sim.timing import Clock
from sim.vocabulary import ROLE, SPECIALISM

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"
START = 53  # step of year 1.0 with weekly steps (year 0 acts in step 1)
# from set-up (no burn-in), with the default networks per 10,000 persons as whole networks at 2,000 persons
FROM_SET_UP = ["burn_in_years=0", "networks.initial_per_10k.phishing=20", "networks.initial_per_10k.banking_malware=10",
               "networks.initial_per_10k.ransomware_affiliate=5", "networks.initial_per_10k.carding=10",
               "networks.initial_per_10k.ddos_for_hire=5"]


def scenario(interventions: list[dict], steps: int = 104, size: int = 2000, seed: int = 3) -> Scenario:
    base = load_scenario(BASELINE, [f"population.size={size}", f"steps={steps}", f"seed={seed}", *FROM_SET_UP])
    return Scenario.model_validate({**base.model_dump(by_alias=True), "interventions": interventions})


def run(sc: Scenario, until_step: int | None = None) -> RecruitModel:
    model = RecruitModel(sc)
    for _ in range(until_step or sc.steps):
        model.step()
    return model


@pytest.fixture(scope="module")
def baseline() -> RecruitModel:
    return run(scenario([]))


# ----------------------------------------------------------------------------- timing
@pytest.mark.parametrize(("timing", "acts", "in_force", "not_in_force"), [
    ({"at": 1.0}, [53], [53, 100, 500], [52]),
    ({"from": 1.0, "until": 2.0, "every": 0.5}, [53, 79], [53, 104], [52, 105]),
    ({"from": 0.0, "every": 0.25}, [1, 14, 27, 40], [1, 200], []),
])
def test_timing_in_years_becomes_steps(timing, acts, in_force, not_in_force):
    from sim.interventions.arrests import ArrestsParams

    t = Timing.of(ArrestsParams.model_validate({"type": "arrests", **timing}), Clock("week"))
    assert [s for s in range(1, 120) if t.acts(s)][: len(acts)] == acts
    assert all(t.in_force(s) for s in in_force)
    assert not any(t.in_force(s) for s in not_in_force)


def test_timing_means_the_same_at_any_step_length():
    from sim.interventions.arrests import ArrestsParams

    params = ArrestsParams.model_validate({"type": "arrests", "from": 2.0, "until": 3.0})
    for step in ("day", "week", "month"):
        clock = Clock(step)
        t = Timing.of(params, clock)
        assert (t.start - 1) / clock.steps_per_year == pytest.approx(2.0)
        assert (t.stop - t.start) / clock.steps_per_year == pytest.approx(1.0)


# ----------------------------------------------------------------------------- common random numbers
def test_an_intervention_changes_nothing_before_it_starts(baseline):
    treated = run(scenario([{"type": "arrests", "targeting": "random", "at": 1.0, "share": 0.5}]))
    before = baseline.results().timeseries.query("step < @START")
    pd.testing.assert_frame_equal(before, treated.results().timeseries.query("step < @START"))
    after = baseline.results().timeseries.query("step >= @START")
    assert not after.equals(treated.results().timeseries.query("step >= @START"))


# ----------------------------------------------------------------------------- forum takedown
def test_a_takedown_empties_the_space_and_other_spaces_gain_users(baseline):
    treated = run(scenario([{"type": "forum_takedown", "target": "open_forum_a", "at": 1.0, "displacement_share": 0.8,
                             "move_time_years": 0.05, "successor_after_years": 0.5}]))
    ts, base = treated.results().timeseries, baseline.results().timeseries
    down = ts.query("@START <= step < @START + 26")
    assert (down["active_users_open_forum_a"] == 0).all()
    assert (ts.query("step < @START")["active_users_open_forum_a"] > 0).all()
    window = slice(START + 8, START + 26)  # after the movers settled
    gained = ts.set_index("step").loc[window, "active_users_open_forum_b"].mean()
    before = base.set_index("step").loc[window, "active_users_open_forum_b"].mean()
    # about 0.8 of a's users add their visits to b: far more than the noise of a weekly count
    assert gained > 1.5 * before
    # the successor opens half a year later and draws users again
    assert ts.set_index("step").loc[START + 30:, "active_users_open_forum_a"].mean() > 0


def test_a_taken_down_gated_forum_loses_its_members():
    model = run(scenario([{"type": "forum_takedown", "target": "gated_forum", "at": 1.0}]), until_step=START)
    code = model.online.by_name("gated_forum").code
    assert not model.online.members[code].any()
    assert len(model.online.active[code]) == 0


# ----------------------------------------------------------------------------- arrests
@pytest.mark.parametrize("targeting", ["core", "money"])
def test_targeted_arrests_take_only_the_targeted_members(targeting):
    model = run(scenario([{"type": "arrests", "targeting": targeting, "at": 5.0, "share": 1.0}]), until_step=START)
    before = len(model.recorder.events.frame())
    model.interventions[0].act()  # a wave now, between steps: nothing else happens meanwhile
    wave = model.recorder.events.frame().iloc[before:]
    assert (wave["kind"] == "arrest").all()
    if targeting == "core":
        assert len(wave) > 0 and (wave["role"] == "core").all()
        assert model.networks.role_counts[model.networks.active_ids(), ROLE["core"]].sum() == 0
    else:
        assert len(wave) > 0
        assert (wave["role"].eq("money_mule") | wave["specialism"].eq("cash_out")).all()
        members = model.pop.members()
        assert not np.any(model.pop.role[members] == ROLE["money_mule"])
        assert not np.any(model.pop.specialism[members] == SPECIALISM["cash_out"])
    assert model.recorder.tally["arrests_intervention"] == len(wave)


def test_central_targeting_ranks_members_by_centrality_among_fellow_members():
    model = run(scenario([{"type": "arrests", "targeting": "central_degree", "at": 5.0}]), until_step=START)
    arrests = model.interventions[0]
    ranked = arrests.targets()
    assert sorted(ranked.tolist()) == sorted(model.pop.members().tolist())
    degree = arrests._centrality(ranked)
    net = model.pop.network[ranked]
    for n in np.unique(net):  # within each network, most central first (up to the random tie-break)
        assert np.all(np.diff(degree[net == n]) <= 1e-5)


def test_central_waves_take_about_the_share_from_each_network():
    """A central wave of share s takes each network's most central members, about s of each
    network (as a random wave would), not only the members of the largest networks."""
    model = run(scenario([{"type": "arrests", "targeting": "central_betweenness", "at": 5.0}], steps=300, size=4000), until_step=260)
    arrests = model.interventions[0]
    ranked = arrests.targets()
    share = arrests.params.share
    chosen = ranked[: int(round(share * len(ranked)))]
    net = model.pop.network
    size = np.bincount(net[ranked])
    taken = np.bincount(net[chosen], minlength=len(size))
    present = size > 0
    assert present.sum() >= 5, "the test needs several networks"
    assert np.all(np.abs(taken[present] - share * size[present]) < 1.0 + 1e-9)


def test_arrests_of_one_network_arrest_only_its_members():
    model = run(scenario([{"type": "arrests", "targeting": "network", "network": "largest", "at": 5.0, "share": 1.0}]), until_step=START)
    arrests = model.interventions[0]
    target = arrests._network_id()
    members = model.pop.members()
    assert set(arrests.targets().tolist()) == set(members[model.pop.network[members] == target].tolist())


# ----------------------------------------------------------------------------- awareness campaign
def test_an_awareness_campaign_lowers_mule_acceptance_in_its_band_only():
    sc = scenario([{"type": "awareness_campaign", "at": 1.0, "age": {"min": 16.0, "max": 30.0}, "reach": 1.0, "effect": 0.5}])
    model = run(sc, until_step=START - 1)
    rule = next(r for r in model.rules if r.name == "adverts")
    pop = model.pop
    candidates = np.flatnonzero(pop.age >= 14)
    net = model.networks.active_ids()[0]
    args = (np.full(len(candidates), net), candidates, np.full(len(candidates), ROLE["money_mule"]), np.full(len(candidates), 0.5))
    before = acceptance_probability(rule, *args)
    model.interventions[0].act()  # the campaign, between steps
    after = acceptance_probability(rule, *args)
    age = pop.age[candidates]
    in_band = (age >= 16) & (age < 30)
    positive = in_band & (before > 0)
    # reach 1, effect 0.5: every in-band mule acceptance halves (the motivation clip aside)
    assert np.all(after[in_band] <= before[in_band])
    assert np.median(after[positive] / before[positive]) == pytest.approx(0.5, abs=1e-9)
    np.testing.assert_array_equal(after[~in_band], before[~in_band])
    assert pop.mule_awareness[candidates[~in_band]].max() == 0
    # other roles are unaffected, in the band too
    other = (args[0], candidates, np.full(len(candidates), ROLE["technical_enabler"]), args[3])
    model_without = run(sc.model_copy(update={"interventions": []}), until_step=START - 1)
    rule_without = next(r for r in model_without.rules if r.name == "adverts")
    np.testing.assert_array_equal(acceptance_probability(rule, *other), acceptance_probability(rule_without, *other))


def test_awareness_fades_with_its_half_life():
    model = run(scenario([{"type": "awareness_campaign", "at": 1.0, "reach": 1.0, "effect": 0.5, "half_life_years": 0.5}]), until_step=START)
    pop = model.pop
    aware = np.flatnonzero(pop.mule_awareness > 0)
    level = pop.mule_awareness[aware].copy()
    ids = pop.person_id[aware].copy()
    for _ in range(26):  # half a year
        model.step()
    stayed = pop.person_id[aware] == ids  # a slot may now hold a newcomer
    ratio = pop.mule_awareness[aware][stayed] / level[stayed]
    assert np.median(ratio) == pytest.approx(0.5, rel=0.02)


# ----------------------------------------------------------------------------- cease and desist, diversion
@pytest.mark.parametrize(("size", "per_10k", "expected"), [(2000, 10.0, 2), (4000, 10.0, 4)])
def test_cease_and_desist_deters_the_warned_and_some_members_desist(size, per_10k, expected):
    """Warnings are per 10,000 residents: the same scenario warns the same share of any town."""
    # forum users are ~3% of residents: only a handful are active on a forum or market in a week
    model = run(scenario([{"type": "cease_and_desist", "at": 1.0, "warnings_per_10k": per_10k, "effect": 0.4, "desist_share": 1.0}],
                         size=size), until_step=START)
    pop = model.pop
    warned = np.flatnonzero(pop.deterrence > 0)
    assert len(warned) == expected
    assert np.allclose(pop.deterrence[warned], 0.4)
    assert pop.network[warned].max() == -1  # desist_share 1: every warned member left
    assert model.results().timeseries.set_index("step").loc[START, "persons_warned"] == expected


def test_diversion_shortens_sentences_of_young_first_offenders():
    sc = scenario([{"type": "diversion_programme", "from": 0.5, "max_age": 25.0, "uptake": 1.0, "sentence_factor": 0.0},
                   {"type": "arrests", "targeting": "random", "at": 1.0, "share": 1.0}])
    model = run(sc, until_step=START)
    pop = model.pop
    arrested = model.results().events.query("kind == 'arrest' and step == @START")
    slots = np.flatnonzero(np.isin(pop.person_id, arrested["person_id"].to_numpy()))
    young_first = slots[(pop.age[slots] < 25) & (pop.arrest_count[slots] == 1)]
    others = np.setdiff1d(slots, young_first)
    assert len(young_first) > 0
    assert np.all(pop.prison_until[young_first] == START + 1)  # diverted: away for the minimum, one step
    assert model.results().timeseries["persons_diverted"].sum() >= len(young_first)
    if len(others):
        assert pop.prison_until[others].mean() > START + 1


# ----------------------------------------------------------------------------- situational and partnership
@pytest.mark.parametrize(("entry", "effects"), [
    ({"type": "bank_hardening", "loss_factor": 0.7, "mule_detection_factor": 1.5}, {"losses": 0.7, "mule_detection": 1.5}),
    ({"type": "public_private_partnership", "mule_detection_factor": 2.0, "network_detection_factor": 1.3},
     {"mule_detection": 2.0, "mule_network_detection": 1.3}),
    ({"type": "police_capacity", "capacity_factor": 3.0}, {"police_capacity": 3.0}),
])
def test_sustained_effects_hold_while_in_force_and_lapse_after(entry, effects):
    model = RecruitModel(scenario([{**entry, "from": 1.0, "until": 1.5}]))
    factors = {}
    for _ in range(START + 27):
        model.step()
        factors[model.step_now] = {name: model.effects.factor(name) for name in effects}
    assert all(factors[START - 1][name] == 1.0 for name in effects)
    assert factors[START] == effects and factors[START + 25] == effects
    assert all(factors[START + 26][name] == 1.0 for name in effects)


def test_combined_effects_multiply():
    model = RecruitModel(scenario([{"type": "bank_hardening", "from": 0.0, "mule_detection_factor": 1.5},
                                   {"type": "public_private_partnership", "from": 0.0, "mule_detection_factor": 2.0}]))
    model.step()
    assert model.effects.factor("mule_detection") == pytest.approx(3.0)


def test_infiltration_lowers_trust_and_raises_informant_risk_only_in_its_period():
    model = RecruitModel(scenario([{"type": "forum_infiltration", "target": "gated_forum", "from": 1.0, "until": 1.5,
                                    "share": 0.2, "trust_reduction": 0.5}]))
    space = model.online.by_name("gated_forum")
    seen = {}
    for _ in range(START + 27):
        model.step()
        seen[model.step_now] = (space.infiltration, space.trust_factor)
    assert seen[START - 1] == (0.0, 1.0)
    assert seen[START] == (0.2, 0.5)
    assert seen[START + 26] == (0.0, 1.0)


# ----------------------------------------------------------------------------- live interventions
def test_an_intervention_added_while_running_acts_from_the_next_step():
    model = run(scenario([]), until_step=10)
    model.add_intervention({"type": "forum_takedown", "target": "open_forum_a"})
    assert model.online.by_name("open_forum_a").is_open
    model.step()
    assert not model.online.by_name("open_forum_a").is_open
    assert model.intervention_schedule.marks()[-1]["start_year"] == pytest.approx(10 / 52)


@pytest.mark.parametrize("spec", [{"type": "forum_takedown", "target": "nowhere"}, {"type": "bogus"}, {"type": "arrests", "share": 2.0}])
def test_an_invalid_live_intervention_is_a_one_line_error(spec):
    from sim.errors import ScenarioError

    model = RecruitModel(scenario([], steps=5))
    with pytest.raises(ScenarioError) as caught:
        model.add_intervention(spec)
    assert "\n" not in str(caught.value)


def test_arrests_can_take_the_core_of_one_network_only():
    model = run(scenario([{"type": "arrests", "targeting": "network", "network": "largest", "role": "core", "at": 5.0}]), until_step=START)
    arrests = model.interventions[0]
    target, pop = arrests._network_id(), model.pop
    members = pop.members()
    expected = members[(pop.network[members] == target) & (pop.role[members] == ROLE["core"])]
    assert len(expected) > 0
    assert set(arrests.targets().tolist()) == set(expected.tolist())


def test_deterrence_also_holds_back_volunteers_and_founders():
    """Full deterrence stops self-selection approaches and foundings, not only accepting offers."""
    busy = ["population.size=2000", "steps=30", "seed=3", "recruitment.rules.self_selection.approach_rate=50.0",
            "networks.founding_rate_novice=2.0", *FROM_SET_UP]

    def last_steps(deterred: bool) -> pd.DataFrame:
        model = RecruitModel(load_scenario(BASELINE, busy))
        for _ in range(5):
            model.step()
        if deterred:  # everyone, through the registry like any intervention; barely fades over 25 steps
            model.effects.add_to_persons("deterrence", "test", np.arange(model.pop.size), 1.0, 100.0, model.step_now)
        for _ in range(25):
            model.step()
        return model.results().timeseries.query("step > 5")

    free, deterred = last_steps(False), last_steps(True)
    assert free["networks_founded"].sum() > 0 and free["attempts_self_selection"].sum() > 0  # the test can fail
    # newcomers arrive undeterred, so allow them a little
    assert deterred["networks_founded"].sum() <= 0.1 * free["networks_founded"].sum()
    assert deterred["attempts_self_selection"].sum() <= 0.1 * free["attempts_self_selection"].sum()


# ============================================================================= one lifecycle
# Timing resolved to steps once, every in-force change in the owner-keyed effects registry,
# follow-ups as scheduled events, random numbers keyed by type and label.

def record(model: RecruitModel, steps: int, what) -> dict:
    """Step the model and keep `what(model)` after each step, by step."""
    seen = {}
    for _ in range(steps):
        model.step()
        seen[model.step_now] = what(model)
    return seen


# ----------------------------------------------------------------------------- timing
@pytest.mark.parametrize("timing", [{"from": 0.2, "until": 0.201}, {"from": 0.0, "every": 0.001}])
def test_timing_that_rounds_to_no_step_is_a_one_line_error(timing):
    """With weekly steps, 0.2 and 0.201 years both fall in step 11: the period would begin and
    end in one step (before the fix, bank hardening then never lapsed)."""
    from sim.errors import ScenarioError

    entry = {"type": "bank_hardening", **timing}
    with pytest.raises(ValidationError) as validated:  # the loader makes it one line (tests/test_hostile_input.py)
        scenario([entry], steps=5)
    model = RecruitModel(scenario([], steps=5))
    with pytest.raises(ScenarioError) as live:
        model.add_intervention(entry)
    assert "\n" not in str(live.value) and "no whole step" in str(live.value)
    assert "interventions[0]: " in str(validated.value) and "no whole step" in str(validated.value)


@pytest.mark.parametrize("step", ["day", "week", "month"])
def test_every_period_lasts_at_least_one_step_or_is_rejected(step):
    from sim.errors import ScenarioError
    from sim.interventions.bank_hardening import BankHardeningParams

    clock, rejected = Clock(step), 0
    for start in np.linspace(0.0, 2.0, 41):
        for length in (1e-4, 0.3 * clock.dt, 0.5 * clock.dt, 0.7 * clock.dt, clock.dt, 1.5 * clock.dt, 0.25):
            params = BankHardeningParams.model_validate({"type": "bank_hardening", "from": start, "until": start + length})
            try:
                t = Timing.of(params, clock)
            except ScenarioError:
                rejected += 1
                continue
            assert t.stop > t.start
    assert rejected > 0  # the grid holds periods shorter than a step


@pytest.mark.parametrize("entry", [
    {"type": "bank_hardening"},
    {"type": "forum_infiltration", "target": "gated_forum", "share": 0.2, "trust_reduction": 0.5},
])
def test_a_one_step_period_begins_then_lapses(entry):
    """from 0.2 until 0.215 years: steps 11 to 12 with weekly steps, in force in step 11 only."""
    model = RecruitModel(scenario([{**entry, "from": 0.2, "until": 0.215}], steps=13))
    space = model.online.by_name("gated_forum")
    seen = record(model, 13, lambda m: (m.effects.factor("losses"), space.trust_factor, space.infiltration))
    changed = [s for s, v in seen.items() if v != (1.0, 1.0, 0.0)]
    assert changed == [11]


def test_a_live_intervention_cannot_start_in_a_step_already_run():
    from sim.errors import ScenarioError

    model = run(scenario([], steps=20), until_step=10)
    with pytest.raises(ScenarioError) as caught:
        model.add_intervention({"type": "bank_hardening", "from": 0.0, "until": 0.5})
    assert "has passed" in str(caught.value) and "\n" not in str(caught.value)


# ----------------------------------------------------------------------------- effects registry
def test_effects_compose_and_each_owner_withdraws_only_its_own():
    model = RecruitModel(scenario([], steps=1))
    effects = model.effects
    effects.set("losses", "a", 0.5)
    effects.set("losses", "b", 0.8)
    assert effects.factor("losses") == pytest.approx(0.4)
    effects.withdraw("a")
    assert effects.factor("losses") == 0.8
    effects.withdraw("b")
    assert effects.factor("losses") == 1.0


@pytest.mark.parametrize("second_until", [0.5, 0.25])  # the second ends after, or before, the first
def test_overlapping_infiltrations_compose_and_restore_exactly(second_until):
    """First: steps 6-16, share 0.1, trust x0.5. Second: from step 11, share 0.2, trust x0.8.
    Before the fix the second's snapshot held the first's reduction, restored for ever."""
    first = {"type": "forum_infiltration", "target": "gated_forum", "label": "first", "from": 0.1, "until": 0.3,
             "share": 0.1, "trust_reduction": 0.5}
    second = {**first, "label": "second", "from": 0.2, "until": second_until, "share": 0.2, "trust_reduction": 0.2}
    model = RecruitModel(scenario([first, second], steps=30))
    space = model.online.by_name("gated_forum")
    seen = record(model, 30, lambda m: (space.trust_factor, space.infiltration))
    clock = model.clock
    in_force = {"first": (clock.step_at(0.1), clock.step_at(0.3)), "second": (clock.step_at(0.2), clock.step_at(second_until))}
    for step, (trust, share) in seen.items():
        active = [e for e in (first, second) if in_force[e["label"]][0] <= step < in_force[e["label"]][1]]
        assert trust == pytest.approx(np.prod([1 - e["trust_reduction"] for e in active]), abs=1e-15)
        assert share == max([0.0] + [e["share"] for e in active])
    assert seen[30] == (1.0, 0.0)  # exactly the scenario's own values


def test_a_later_campaign_does_not_change_how_earlier_awareness_fades():
    """Before the fix the second campaign's half-life (10 years) re-timed the first's (13 weeks)."""
    early = {"type": "awareness_campaign", "label": "early", "at": 0.0, "reach": 1.0, "effect": 0.5,
             "half_life_years": 0.25, "age": {"min": 16.0, "max": 20.0}}
    late = {**early, "label": "late", "at": 0.1, "half_life_years": 10.0, "age": {"min": 30.0, "max": 40.0}}
    model = run(scenario([early, late], steps=14))  # the early wave is 13 steps (one half-life) old
    wave = model.effects.waves("mule_awareness", "early")[0]
    stayed = wave.slots[model.pop.person_id[wave.slots] == wave.person_ids]
    assert len(stayed) > 100
    np.testing.assert_allclose(model.pop.mule_awareness[stayed], 0.25, rtol=1e-12)
    late_wave = model.effects.waves("mule_awareness", "late")[0]
    assert len(np.intersect1d(late_wave.slots, stayed)) == 0  # the bands do not overlap


def test_waves_reach_persons_not_slots():
    """A newcomer taking a reached person's slot starts with no awareness."""
    model = run(scenario([{"type": "awareness_campaign", "at": 0.0, "reach": 1.0, "age": {"min": 14.0, "max": 100.0}}], steps=30))
    wave = model.effects.waves("mule_awareness")[0]
    replaced = wave.slots[model.pop.person_id[wave.slots] != wave.person_ids]
    assert len(replaced) > 0
    assert not model.pop.mule_awareness[replaced].any()


# ----------------------------------------------------------------------------- takedown follow-ups
def test_a_takedown_with_until_still_moves_its_users_and_opens_its_successor():
    """In force for one step (step 6); the movers settle later and the successor opens at step 16.
    Before the fix neither happened once the window had closed."""
    entry = {"type": "forum_takedown", "target": "open_forum_a", "from": 0.1, "until": 0.12,
             "move_time_years": 0.05, "successor_after_years": 0.2, "successor_share": 0.5}
    model = RecruitModel(scenario([entry], steps=30))
    space = model.online.by_name("open_forum_a")
    seen = record(model, 30, lambda m: space.is_open)
    assert [s for s, is_open in seen.items() if not is_open] == list(range(6, 16))
    assert space.rate_factor == 0.5
    (displacement,) = model.interventions[0].displacements
    # forum users are ~3% of 2,000 persons, most of them on open_forum_a: ~0.6 x 55 movers (sd ~4.5)
    assert displacement.arrived.sum() > 15
    displaced = sum(extra.sum() for code, extra in model.online.extra_rate.items() if code != space.code)
    assert displaced > 0


def test_a_repeated_takedown_leaves_earlier_movers_in_transit_alone():
    """Acts at steps 6 and 16 (every 0.2 years), the successor reopening in between; movers take
    half a year, so many of the first act's movers are still on their way at the second act.
    Before the fix the second act overwrote them: they never arrived."""
    entry = {"type": "forum_takedown", "target": "open_forum_a", "from": 0.1, "until": 0.35, "every": 0.2,
             "move_time_years": 0.5, "successor_after_years": 0.1, "successor_share": 0.5}
    model = run(scenario([entry], steps=60))
    first, second = model.interventions[0].displacements
    # ~33 movers (0.6 of ~55 forum users), 2/3 of them still on their way at the second act
    assert (first.due > second.step).sum() > 10
    for d in (first, second):
        same = model.pop.person_id[d.movers.slots] == d.movers.person_ids
        due = (d.due >= 0) & (d.due <= model.step_now)
        np.testing.assert_array_equal(d.arrived[same], due[same])
    assert first.arrived[first.due > second.step].sum() > 5


# ----------------------------------------------------------------------------- keyed by label
def test_the_same_arrests_draw_the_same_persons_whatever_the_list():
    """Random arrests at year 1 in two scenarios whose intervention lists differ (and are in a
    different order) arrest the same persons; under another label, others."""
    arrests = {"type": "arrests", "targeting": "random", "share": 0.5, "at": 1.0}
    later = [{"type": "awareness_campaign", "at": 1.5}, {"type": "bank_hardening", "from": 1.5}]

    def arrested(interventions) -> list[int]:
        model = run(scenario(interventions, steps=START), START)
        return sorted(model.results().events.query("kind == 'arrest' and step == @START")["person_id"])

    alone = arrested([arrests])
    assert len(alone) >= 5, "enough arrests for the comparison to mean something"
    assert arrested(later + [arrests]) == alone
    assert arrested([later[1], arrests, later[0]]) == alone
    assert arrested([{**arrests, "label": "another wave"}]) != alone


def test_default_labels_name_type_and_target_and_duplicates_are_rejected():
    from sim.errors import ScenarioError

    model = RecruitModel(scenario([{"type": "forum_takedown", "target": "gated_forum", "at": 1.0},
                                   {"type": "arrests", "targeting": "network", "role": "core", "at": 1.0},
                                   {"type": "arrests", "at": 2.0, "label": "second wave"}], steps=1))
    assert [i.label for i in model.interventions] == ["forum_takedown:gated_forum", "arrests:network:largest:core", "second wave"]
    twice = [{"type": "arrests", "at": 1.0}, {"type": "arrests", "at": 2.0}]
    with pytest.raises(ValidationError) as caught:  # refused by validation, before a model is built
        scenario(twice, steps=1)
    assert "interventions[1]: " in str(caught.value) and "'arrests:core'" in str(caught.value)
    with pytest.raises(ScenarioError):
        model.add_intervention({"type": "arrests", "label": "second wave"})


# ----------------------------------------------------------------------------- exercised paths
def test_diversion_ends_when_its_period_ends():
    """In force from year 0.5 to 0.9: arrests at year 1 are not diverted (DiversionProgramme.end)."""
    def young_first(sc) -> tuple[RecruitModel, np.ndarray]:
        model = run(sc, until_step=START)
        arrested = model.results().events.query("kind == 'arrest' and step == @START")["person_id"].to_numpy()
        slots = np.flatnonzero(np.isin(model.pop.person_id, arrested))
        return model, slots[(model.pop.age[slots] < 25) & (model.pop.arrest_count[slots] == 1)]

    diversion = {"type": "diversion_programme", "from": 0.5, "max_age": 25.0, "uptake": 1.0, "sentence_factor": 0.0}
    wave = {"type": "arrests", "targeting": "random", "at": 1.0, "share": 1.0}
    ended, slots = young_first(scenario([{**diversion, "until": 0.9}, wave]))
    assert len(slots) > 0
    diverted = ended.results().timeseries.set_index("step")["persons_diverted"]
    assert diverted.loc[ended.clock.step_at(0.9):].sum() == 0  # none after it lapsed
    assert np.mean(ended.pop.prison_until[slots] == START + 1) < 0.5  # full sentences (a few are short anyway)
    in_force, slots = young_first(scenario([diversion, wave]))  # the same, still in force: diverted
    assert np.all(in_force.pop.prison_until[slots] == START + 1)


def test_sustained_arrest_rate_takes_targeted_members_only_while_in_force():
    """Arrests.rate: core members arrested at 20 a year each, from year 1 to 1.25 (steps 53-65)."""
    entry = {"type": "arrests", "targeting": "core", "share": 0.0, "rate": 20.0, "from": 1.0, "until": 1.25}
    model = run(scenario([entry], steps=START + 20))
    ts = model.results().timeseries.set_index("step")["arrests_intervention"]
    assert ts.loc[:START - 1].sum() == 0 and ts.loc[START + 13:].sum() == 0
    assert ts.loc[START:START + 12].sum() > 0
    ev = model.results().events.query("kind == 'arrest' and @START <= step < @START + 13")
    assert len(ev) >= ts.sum() and (ev["role"] == "core").sum() >= ts.sum()


def test_betweenness_targeting_ranks_members_by_betweenness():
    """Ranked by exact betweenness among fellow members (computed here independently)."""
    import networkx as nx

    model = run(scenario([{"type": "arrests", "targeting": "central_betweenness", "at": 5.0}]), until_step=START)
    ranked, pop = model.interventions[0].targets(), model.pop
    members = pop.members()
    assert sorted(ranked.tolist()) == sorted(members.tolist())
    ties = model.ties.incident(members, model.step_now)
    same = pop.network[ties.alter] == pop.network[ties.ego]
    graph = nx.Graph()
    graph.add_nodes_from(members.tolist())
    graph.add_edges_from(zip(ties.ego[same].tolist(), ties.alter[same].tolist()))
    exact = nx.betweenness_centrality(graph)
    scores = np.array([exact[int(s)] for s in ranked])
    net = pop.network[ranked]
    assert scores.max() > 0
    for n in np.unique(net):  # within each network, most central first
        assert np.all(np.diff(scores[net == n]) <= 1e-9)


def test_the_model_checks_can_run_without_a_model():
    """check_interventions (for loaders that know the step length) rejects what the model rejects."""
    from pydantic import TypeAdapter

    from sim.errors import ScenarioError
    from sim.interventions.schedule import check_interventions
    from sim.scenario.schema import InterventionSpec

    entries_of = TypeAdapter(list[InterventionSpec]).validate_python  # each entry alone, without the scenario's own checks
    check_interventions(entries_of([{"type": "arrests", "at": 1.0}, {"type": "arrests", "at": 2.0, "label": "again"}]), Clock("week"))
    for entries in ([{"type": "arrests", "at": 1.0}, {"type": "arrests", "at": 2.0}],
                    [{"type": "bank_hardening", "from": 0.2, "until": 0.201}]):
        with pytest.raises(ScenarioError):
            check_interventions(entries_of(entries), Clock("week"))
