"""Random numbers keyed by process, step and unit (sim/rng.py): their distribution, their
independence across processes, and the pairing they give two runs whose paths diverge."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import SMALL, scenario

from sim.crime import desistance
from sim.model import RecruitModel
from sim.places.venues import Venues
from sim.rng import Streams, label_codes, labelled_keys, poisson_quantile
from sim.vocabulary import NO_NETWORK, ROLE

N = 200_000


def z_score(observed: float, expected: float, sd: float) -> float:
    return abs(observed - expected) / sd


# =========================================================================== the numbers
def test_a_draws_numbers_do_not_depend_on_what_was_drawn_at_earlier_steps():
    """A process keeps a step's keys of its labels (sim/rng.py): the numbers of a label at a
    step are those of a process that never drew before, whatever it drew at earlier steps."""
    units, labels = np.arange(50), ["visit:chat", "partner:0", 3, -1, 2**63 + 5]
    used = Streams(5).process("x")
    for step in (1, 2, 9):
        for label in labels:
            fresh = Streams(5).process("x")
            assert np.array_equal(used.uniform(step, units, label), fresh.uniform(step, units, label)), (step, label)
    assert not np.array_equal(used.uniform(9, units, "visit:chat"), used.uniform(8, units, "visit:chat"))


def test_keys_of_label_codes_are_each_labels_key():
    """`StepRandom.keys_of_codes` of `label_codes` (a step's venue visits ask for theirs so) are
    the keys `StepRandom.key` gives each label, at any step, asked before or not; the codes are
    shared, so they cannot be written to."""
    labels = ("school:order", "school:partner:0", "visit:street", "local:sports")
    codes = label_codes(labels)
    assert codes is label_codes(labels) and not codes.flags.writeable
    process = Streams(7).process("venues")
    for step in (3, 3, 8):
        assert process.at(step).keys_of_codes(codes).tolist() == [Streams(7).process("venues").at(step).key(label) for label in labels]
    assert process.at(9).key("visit:street") == process.at(9).keys_of_codes(codes)[2]


def test_keys_of_many_labels_at_once_are_each_labels_key():
    """`labelled_keys` works out the keys of several labelled draws (two processes, two steps,
    none asked before) in one pass per process and step: each is the key `LabelledDraws.key`
    gives, and asking for them leaves the keys asked for one by one afterwards as they were."""
    streams = Streams(7)
    venues, online = streams.process("venues"), streams.process("online")
    requests = [(venues.at(5).labelled("school"), ["order", "extra", "partner:0"]), (online.at(5).labelled("chat"), ["order"]),
                (venues.at(6).labelled("street"), ["partner:1", "order"]), (venues.at(5).labelled("street"), []),
                (venues.at(5).labelled("sports"), ["extra"])]
    for (labelled, labels), keys in zip(requests, labelled_keys(requests), strict=True):
        assert keys.dtype == np.uint64 and len(keys) == len(labels)
        assert keys.tolist() == [labelled.key(label) for label in labels]
    assert len(set(np.concatenate(labelled_keys(requests)).tolist())) == 7  # distinct labels, distinct keys
    fresh = Streams(7).process("venues")
    assert fresh.at(5).key("school:order") == venues.at(5).key("school:order") and fresh.at(6).key("street:order") == venues.at(6).key("street:order")


def test_keyed_uniforms_are_uniform_and_independent_of_their_neighbours():
    u = Streams(5).process("x").uniform(7, np.arange(N))
    assert u.min() >= 0.0 and u.max() < 1.0
    assert z_score(u.mean(), 0.5, np.sqrt(1 / 12 / N)) < 4
    counts = np.bincount((u * 20).astype(int), minlength=20)
    chi2 = ((counts - N / 20) ** 2 / (N / 20)).sum()
    assert chi2 < 19 + 5 * np.sqrt(2 * 19), "20 equal bins: chi-square with 19 degrees of freedom"
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 4 / np.sqrt(N), "consecutive units are uncorrelated"


def test_a_units_number_depends_on_its_keys_only():
    p = Streams(5).process("x")
    alone = p.uniform(3, [17])
    assert p.uniform(3, [12, 17, 40])[1] == alone[0], "other units in the call do not matter"
    assert p.uniform(3, [17], "other label")[0] != alone[0]
    assert p.uniform(4, [17])[0] != alone[0]
    assert p.uniform(3, [17], with_units=[2])[0] != p.uniform(3, [17], with_units=[3])[0]


def test_every_process_seed_and_replication_has_its_own_numbers():
    """Mutations this catches: all processes sharing one stream, every stream getting the same seed."""
    units = np.arange(10_000)
    draws = {
        "a": Streams(1).process("recruitment.forums").uniform(1, units),
        "b": Streams(1).process("recruitment.adverts").uniform(1, units),
        "c": Streams(2).process("recruitment.forums").uniform(1, units),
        "d": Streams(1, (1,)).process("recruitment.forums").uniform(1, units),
    }
    for x in draws:
        for y in draws:
            if x < y:
                assert abs(np.corrcoef(draws[x], draws[y])[0, 1]) < 4 / np.sqrt(len(units)), (x, y)
    np.testing.assert_array_equal(draws["a"], Streams(1).process("recruitment.forums").uniform(1, units))


def test_the_models_processes_draw_from_distinct_keys():
    m = RecruitModel(scenario(SMALL, steps=2))
    m.step()
    keys = {name: m.streams.process(name).key for name in m.streams.describe()["keyed_processes"]}
    assert len(keys) >= 12, sorted(keys)
    assert len(set(keys.values())) == len(keys), "two processes share a key"
    assert len({rule.random.key for rule in m.rules}) == len(m.rules)


@pytest.mark.parametrize("lam", [0.02, 0.7, 3.0, 45.0])
def test_poisson_counts_have_the_poisson_distribution(lam):
    u = Streams(9).process("x").uniform(1, np.arange(N))
    k = poisson_quantile(u, np.full(N, lam))
    assert z_score(k.mean(), lam, np.sqrt(lam / N)) < 4
    # P(K = 0) = exp(-lam), a binomial share
    p0 = np.exp(-lam)
    if p0 > 1e-6:
        assert z_score((k == 0).mean(), p0, np.sqrt(p0 * (1 - p0) / N)) < 4
    assert z_score(k.var(), lam, lam * np.sqrt(2 / N) + np.sqrt(lam / N)) < 6


def test_poisson_counts_of_zero_means_are_zero():
    assert not poisson_quantile(np.array([0.0, 0.5, 1 - 1e-16]), np.zeros(3)).any()


# =========================================================================== pairing
def members_with_a_high_desistance_rate(m: RecruitModel) -> np.ndarray:
    """Put 200 free persons in the first network, so that desistance has something to decide."""
    slots = np.flatnonzero((m.pop.network == NO_NETWORK) & m.pop.free())[:200]
    net = int(m.networks.active_ids()[0])
    for s in slots:
        m.membership.join(0, int(s), net, ROLE["money_mule"], "offline_ties", "offline")
    return slots


def test_a_persons_draw_does_not_change_when_another_person_is_gone():
    """Desistance of member 17 does not depend on whether member 12 was arrested just before."""
    params = scenario(SMALL, desistance={"base_rate": 30.0})
    a, b = RecruitModel(params), RecruitModel(params)
    slots = members_with_a_high_desistance_rate(a)
    members_with_a_high_desistance_rate(b)
    gone = slots[::7]
    b.membership.leave(0, gone, "arrest")  # in b a few members are gone before desistance acts
    for m in (a, b):
        m.step_now = 1
        desistance.desist(m, m.streams.process("desistance").at(1))
    stayed = np.setdiff1d(slots, gone)
    left_a = a.pop.network[stayed] == NO_NETWORK
    left_b = b.pop.network[stayed] == NO_NETWORK
    assert 0.2 < left_a.mean() < 0.8, "the test needs a hazard that decides both ways"
    np.testing.assert_array_equal(left_a, left_b)


def record_venue_visits(monkeypatch) -> dict:
    """Patch Venues.visitors to record, per model and step, who could and who did visit."""
    seen: dict = {}
    original = Venues.visitors

    def visitors(self, t, free, uniform_of):
        people, visits = original(self, t, free, uniform_of)
        seen.setdefault(id(self), []).append((t.code, free.copy(), people))
        return people, visits

    monkeypatch.setattr(Venues, "visitors", visitors)
    return seen


def test_paired_runs_stay_paired_person_by_person_after_an_intervention_acts(monkeypatch):
    """Core arrests put people in prison in one run only; everyone free in both runs still makes
    the same venue visits, step after step (with sequential streams these shift after the first
    difference)."""
    seen = record_venue_visits(monkeypatch)
    base = scenario(SMALL, steps=40, enforcement={"detection_base": 0.0, "mule_detection": 0.0})
    arrests = base.model_copy(update={"interventions": scenario(
        SMALL, interventions=[{"type": "arrests", "targeting": "random", "at": 0.1, "share": 0.9}]).interventions})
    runs = [RecruitModel(sc) for sc in (base, arrests)]
    for m in runs:
        for _ in range(40):
            m.step()
    a, b = (seen[id(m.venues)] for m in runs)
    assert len(a) == len(b)
    diverged = 0
    for (code_a, free_a, people_a), (code_b, free_b, people_b) in zip(a, b):
        assert code_a == code_b
        both = free_a & free_b
        diverged += int((free_a != free_b).any())
        np.testing.assert_array_equal(people_a[both[people_a]], people_b[both[people_b]])
    assert diverged > 0, "the arrests must have put someone in prison in one run only"


def test_networks_draw_by_founding_step_and_founder_not_by_id():
    """After a founding in one paired run only, later networks get other ids: their draws must not follow the id."""
    from sim.crime.network_table import NetworkTable

    one, other = NetworkTable(), NetworkTable()
    one.add(0, step=5, founder=10)  # founded in one run only
    a = one.add(0, step=7, founder=42)
    b = other.add(0, step=7, founder=42)
    assert a != b and one.draw_keys(a) == other.draw_keys(b)
    assert one.draw_keys(0) != one.draw_keys(a)
