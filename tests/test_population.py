"""The population columns: creation (sizes, attribute ranges and shares, households), ageing
(status moves), and turnover (leavers replaced by newcomers with new ids, size stable)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.population import (
    HIGHER_EDUCATION_END,
    NOT_WORKING,
    STUDENT,
    TECHNICAL,
    WORKER,
    YOUTH_AGE,
    HouseholdSizes,
    Population,
)
from sim.scenario.schema import PopulationParams, Scenario
from sim.timing import Clock
from sim.vocabulary import NO_NETWORK, SPECIALISM, SPECIALISMS

N = 20_000
PER_PERSON = ("person_id", "entered_step", "age", "sex", "household", "neighbourhood", "status", "partner", "it_skill",
              "propensity", "need", "online_activity", "specialism", "network", "role", "join_channel", "join_medium",
              "joined_step", "experience", "ever_member", "prison_until", "released_step", "reputation")


def params(**changes) -> PopulationParams:
    return Scenario.model_validate({"population": {"size": N, **changes}}).population


def population(seed: int = 1, step: str = "week", **changes) -> Population:
    return Population(params(**changes), Clock(step), np.random.default_rng(seed))


def within(count: float, n: int, p: float, k: float = 4.0) -> bool:
    """A binomial(n, p) count within k standard deviations of its mean."""
    return abs(count - n * p) <= k * np.sqrt(n * p * (1 - p)) + 1e-9


@pytest.fixture(scope="module")
def pop() -> Population:
    return population()


def assert_households_consistent(pop: Population) -> None:
    """Every household lies in one neighbourhood; neighbourhoods in range; the kept household
    sizes are the population's."""
    assert pop.neighbourhood.min() >= 0 and pop.neighbourhood.max() < pop.params.neighbourhoods
    sizes = np.bincount(pop.household)
    np.testing.assert_array_equal(pop.households.size, np.pad(sizes, (0, len(pop.households.size) - len(sizes))))
    assert (pop.households.count, pop.households.top) == (np.count_nonzero(sizes), pop.household.max())
    order = np.argsort(pop.household, kind="stable")
    hh, nbh = pop.household[order], pop.neighbourhood[order]
    same_household = hh[1:] == hh[:-1]
    assert np.all(nbh[1:][same_household] == nbh[:-1][same_household]), "a household spans two neighbourhoods"


def test_household_sizes_follow_leavers_and_newcomers():
    """Kept sizes, count and largest id, as a pass over the households gives them: when the
    largest households empty (the largest id falls back over empty ids), when one member of
    several leaves, and when newcomers move into old and new ids beyond the kept room."""
    household = np.array([0, 0, 1, 3, 3, 3, 5, 5])
    kept = HouseholdSizes(household)
    assert (kept.count, kept.top) == (4, 5)
    kept.leave(np.array([5, 5, 3]))  # household 5 empties: the largest id is 3
    assert (kept.count, kept.top, kept.size.tolist()) == (3, 3, [2, 1, 0, 2, 0, 0])
    kept.leave(np.array([3, 3, 1]))  # and then 3 (and 1): 0
    assert (kept.count, kept.top) == (1, 0)
    kept.join(np.array([1, 4, 4, 20]))
    assert (kept.count, kept.top, kept.size[[0, 1, 4, 20]].tolist()) == (4, 20, [2, 1, 2, 1])
    assert len(kept.size) >= 21 and kept.size.sum() == 6


def assert_status_consistent(pop: Population) -> None:
    p = pop.params
    assert np.all(pop.status[pop.age < p.education_until] == STUDENT), "everyone under education_until is in school"
    assert not np.any(pop.status[pop.age >= HIGHER_EDUCATION_END] == STUDENT), "no student aged 24 or over"
    assert not np.any(pop.status[pop.age >= p.retirement_age] == WORKER), "no worker past retirement age"
    assert not np.any(pop.partner[pop.age < YOUTH_AGE]), "no partner under 25"


# --------------------------------------------------------------------------- creation
def test_every_column_has_one_entry_per_person(pop):
    assert pop.size == N
    for name in PER_PERSON:
        assert len(getattr(pop, name)) == N, name
    np.testing.assert_array_equal(pop.person_id, np.arange(N))
    assert pop.next_person_id == N
    assert np.all(pop.network == NO_NETWORK) and np.all(pop.role == -1) and np.all(pop.prison_until == -1)
    assert pop.free().all() and len(pop.members()) == 0


def test_attributes_lie_in_their_ranges(pop):
    p = pop.params
    assert pop.age.min() >= p.min_age and pop.age.max() < p.max_age
    for name in ("it_skill", "propensity", "need", "online_activity"):
        values = getattr(pop, name)
        assert values.min() >= 0.0 and values.max() <= 1.0, name
    assert set(np.unique(pop.sex).tolist()) == {0, 1}
    assert set(np.unique(pop.status).tolist()) <= {STUDENT, WORKER, NOT_WORKING}
    assert pop.specialism.min() >= 0 and pop.specialism.max() < len(SPECIALISMS)
    assert np.all(pop.reputation == 0.0)


def test_ages_are_uniform_between_min_and_max_age(pop):
    p = pop.params
    below_middle = (pop.age < (p.min_age + p.max_age) / 2).sum()
    assert within(below_middle, N, 0.5)


def test_shares_match_the_parameters(pop):
    p = pop.params
    assert within(pop.sex.sum(), N, p.male_share)
    young_adults = (pop.age >= p.education_until) & (pop.age < HIGHER_EDUCATION_END)
    assert within((pop.status[young_adults] == STUDENT).sum(), young_adults.sum(), p.higher_education_share)
    labour = (pop.age >= HIGHER_EDUCATION_END) & (pop.age < p.retirement_age)
    assert within((pop.status[labour] == WORKER).sum(), labour.sum(), p.employment_rate)
    adults = pop.age >= YOUTH_AGE
    assert within(pop.partner[adults].sum(), adults.sum(), p.partner_share)
    for name, share in p.specialism_shares.items():
        assert within((pop.specialism == SPECIALISM[name]).sum(), N, share), name


def test_beta_attributes_have_their_means():
    """Without youth boosts the attributes are Beta(a, b): mean a / (a + b), sd of the mean from the Beta variance."""
    pop = population(youth_it_skill_boost=0.0, youth_online_boost=0.0)
    p = pop.params
    for column, beta in (("it_skill", p.it_skill), ("propensity", p.propensity), ("need", p.financial_need), ("online_activity", p.online_activity)):
        a, b = beta.a, beta.b
        mean, var = a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))
        assert abs(getattr(pop, column).mean() - mean) < 4 * np.sqrt(var / N), column


def test_the_young_are_more_skilled_and_more_online(pop):
    young = pop.age < YOUTH_AGE
    assert pop.it_skill[young].mean() > pop.it_skill[~young].mean()
    assert pop.online_activity[young].mean() > pop.online_activity[~young].mean()


def test_technical_specialisms_go_to_the_skilled(pop):
    technical = np.isin(pop.specialism, [SPECIALISM[s] for s in TECHNICAL])
    assert technical.sum() > 100
    assert pop.it_skill[technical].mean() > pop.it_skill[~technical].mean() + 0.05


def test_status_follows_age_at_the_start(pop):
    assert_status_consistent(pop)


def test_households_have_their_mean_size_and_one_neighbourhood_each(pop):
    p = pop.params
    assert_households_consistent(pop)
    sizes = np.bincount(pop.household)
    assert sizes.min() >= 1, "household ids are contiguous: no empty household"
    # sizes are 1 + Poisson(mean - 1): sd of the mean size is sqrt(mean - 1) / sqrt(households)
    se = np.sqrt(p.household_size_mean - 1) / np.sqrt(len(sizes))
    assert abs(sizes.mean() - p.household_size_mean) < 5 * se
    used = np.bincount(pop.neighbourhood, minlength=p.neighbourhoods)
    assert np.all(used > 0), "every neighbourhood has residents"


def test_the_same_seed_gives_the_same_population():
    a, b, c = population(seed=3), population(seed=3), population(seed=4)
    for name in ("age", "household", "it_skill", "specialism", "status"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.age, c.age)


# --------------------------------------------------------------------------- ageing
def test_ageing_moves_status_at_the_thresholds():
    pop = population(seed=5)
    p, dt = pop.params, pop.clock.dt
    slots = np.arange(N)
    school_leavers, graduates, retirees, turning_25, settled = np.array_split(slots[:15_000], 5)
    pop.age[school_leavers], pop.status[school_leavers] = p.education_until - dt / 2, STUDENT
    pop.age[graduates], pop.status[graduates] = HIGHER_EDUCATION_END - dt / 2, STUDENT
    pop.age[retirees], pop.status[retirees] = p.retirement_age - dt / 2, WORKER
    pop.age[turning_25], pop.partner[turning_25] = YOUTH_AGE - dt / 2, False
    pop.age[settled], pop.status[settled] = 40.0, WORKER
    age_before = pop.age.copy()
    changed = set(pop.age_one_step(1).tolist())

    np.testing.assert_allclose(pop.age, age_before + dt)
    stay = pop.status[school_leavers] == STUDENT
    assert within(stay.sum(), len(school_leavers), p.higher_education_share), "school leavers go on to higher education"
    left = school_leavers[~stay]
    assert within((pop.status[left] == WORKER).sum(), len(left), p.employment_rate), "or into the labour market"
    assert set(left.tolist()) <= changed and not (set(school_leavers[stay].tolist()) & changed)
    assert not np.any(pop.status[graduates] == STUDENT), "everybody leaves education at 24"
    assert within((pop.status[graduates] == WORKER).sum(), len(graduates), p.employment_rate)
    assert set(graduates.tolist()) <= changed
    assert np.all(pop.status[retirees] == NOT_WORKING) and set(retirees.tolist()) <= changed
    assert within(pop.partner[turning_25].sum(), len(turning_25), p.partner_share)
    assert np.all(pop.status[settled] == WORKER) and not (set(settled.tolist()) & changed)


def test_ageing_keeps_status_consistent_with_age_over_years():
    pop = population(seed=6, step="month", size=5000, migration_rate=0.0)
    for step in range(1, 12 * 15):
        pop.age_one_step(step)
        pop.renew(pop.leavers(step), step)
        if step % 12 == 0:
            assert_status_consistent(pop)


# --------------------------------------------------------------------------- turnover
def test_turnover_keeps_the_size_and_gives_new_unique_ids():
    pop = population(seed=7, migration_rate=0.5)
    p, steps = pop.params, 104
    migrants, expected, variance = 0, 0.0, 0.0
    prob = pop.clock.prob(p.migration_rate)
    ever_seen = set(pop.person_id.tolist())
    for step in range(1, steps + 1):
        pop.age_one_step(step)
        # give some persons a criminal career, so that we can see newcomers start clean
        pop.network[:50], pop.role[:50], pop.prison_until[50:60], pop.experience[:60] = 3, 1, step + 5, 1.0
        aged_out = pop.age >= p.max_age
        leavers = pop.leavers(step)
        assert set(np.flatnonzero(aged_out).tolist()) <= set(leavers.tolist()), "everyone past max_age leaves"
        migrants += int((~aged_out[leavers]).sum())
        expected += (~aged_out).sum() * prob
        variance += (~aged_out).sum() * prob * (1 - prob)
        next_id, old_ids = pop.next_person_id, pop.person_id.copy()
        was_aged_out = aged_out[leavers]
        hosts = pop.renew(leavers, step)

        for name in PER_PERSON:
            assert len(getattr(pop, name)) == N
        k = len(leavers)
        np.testing.assert_array_equal(np.sort(pop.person_id[leavers]), np.arange(next_id, next_id + k))
        assert pop.next_person_id == next_id + k
        stayers = np.setdiff1d(np.arange(N), leavers)
        np.testing.assert_array_equal(pop.person_id[stayers], old_ids[stayers])
        assert len(np.unique(pop.person_id)) == N
        assert not (set(pop.person_id[leavers].tolist()) & ever_seen), "ids are never reused"
        ever_seen |= set(pop.person_id[leavers].tolist())
        assert np.all(pop.entered_step[leavers] == step)
        assert np.all(pop.age[leavers][was_aged_out] == p.min_age), "who ages out is replaced by a young entrant"
        assert pop.age.min() >= p.min_age and pop.age.max() < p.max_age
        # newcomers start with no criminal career
        assert np.all(pop.network[leavers] == NO_NETWORK) and np.all(pop.role[leavers] == -1)
        assert np.all(pop.prison_until[leavers] == -1) and np.all(pop.experience[leavers] == 0)
        assert not pop.ever_member[leavers].any() and np.all(pop.reputation[leavers] == 0)
        # households: with a host, the host's household and neighbourhood; without, a new household of one
        assert np.all((hosts == -1) | ~np.isin(hosts, leavers)), "a leaver cannot host"
        with_host = hosts >= 0
        np.testing.assert_array_equal(pop.household[leavers[with_host]], pop.household[hosts[with_host]])
        np.testing.assert_array_equal(pop.neighbourhood[leavers[with_host]], pop.neighbourhood[hosts[with_host]])
        alone = leavers[~with_host]
        assert np.all(np.bincount(pop.household)[pop.household[alone]] == 1)
        assert_households_consistent(pop)
        pop.network[:50], pop.role[:50], pop.prison_until[50:60] = NO_NETWORK, -1, -1
    assert migrants > 0
    assert abs(migrants - expected) < 4 * np.sqrt(variance), "out-migration at migration_rate (binomial, 4 sd)"
    assert pop.next_person_id > N


def test_leavers_are_only_the_aged_out_without_migration():
    pop = population(seed=8, migration_rate=0.0)
    pop.age[:10] = pop.params.max_age
    np.testing.assert_array_equal(pop.leavers(1), np.arange(10))
    pop.age[:10] = pop.params.max_age - 1
    assert len(pop.leavers(2)) == 0


@pytest.mark.parametrize("size", [2_000, 10_000, 50_000])
def test_a_bigger_town_has_more_neighbourhoods_of_the_same_size(size):
    """Neighbourhoods hold `neighbourhood_size` residents at any population size (scale invariance)."""
    params = PopulationParams(size=size, neighbourhood_size=500)
    assert params.neighbourhoods == size // 500
    assert PopulationParams(size=size, neighbourhood_size=size * 3).neighbourhoods == 1  # at least one
