"""Ties and meetings: the TieStore (making, strengthening, lazy decay, pruning, removal, queries)
and co-presence (who meets whom at a place).

The TieStore keeps every tie in both directions in sorted runs; `frame(step)` lists each live
tie once (lo < hi). The structural check (`helpers.assert_ties_well_formed`) looks at the runs.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from helpers import assert_ties_well_formed as assert_well_formed

from sim import compiled
from sim.places.copresence import group_bounds, meetings
from sim.rng import LabelledDraws, ProcessRandom
from sim.scenario.schema import Scenario, TieParams
from sim.ties import NO_PLACE, TieStore
from sim.timing import Clock
from sim.vocabulary import LAYER, LAYERS, OFFLINE_LAYERS

N = 50  # person slots in the hand-made stores
# half-lives for the tests (the defaults keep social ties forever): social ties decay by layer,
# ties made by a chance meeting at a place by the acquaintance half-life
HALF_LIVES = {"family": 0.0, "school_work": 2.0, "friend": 4.0, "neighbourhood": 2.0, "forum": 0.5, "chat": 1.0, "co_offending": 1.0}
ACQUAINTANCE_HALF_LIFE = 0.25


def tie_params(**changes) -> TieParams:
    changes = {"half_life_years": HALF_LIVES, "acquaintance_half_life_years": ACQUAINTANCE_HALF_LIFE, **changes}
    return Scenario.model_validate({"ties": changes}).ties


def store(n: int = N, step: str = "week", **changes) -> TieStore:
    return TieStore(n, tie_params(**changes), Clock(step))


def visitor_draws(seed: int) -> LabelledDraws:
    """Keyed uniforms for `meetings` (labelled by visitor and label, as in a run)."""
    return ProcessRandom("visits", seed).at(1).labelled("place")


def arr(*values) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def strength(ties: TieStore, a: int, b: int, layer: str, step: int) -> float:
    return float(ties.strength_between(arr(a), arr(b), LAYER[layer], step)[0])


def live(ties: TieStore, step: int = 0) -> set[tuple[int, int, str]]:
    """The live ties as a set of (lo, hi, layer), from `frame`."""
    f = ties.frame(step)
    return set(zip(f["lo"].tolist(), f["hi"].tolist(), f["layer"].tolist()))


# --------------------------------------------------------------------------- meet
def test_meet_creates_a_tie_at_the_layers_initial_strength():
    ties = store()
    ties.connect(arr(3, 7), arr(9, 2), LAYER["friend"], step=5, place=4)
    assert len(ties) == 2
    assert live(ties, 5) == {(3, 9, "friend"), (2, 7, "friend")}
    assert strength(ties, 3, 9, "friend", 5) == pytest.approx(tie_params().initial_strength["friend"], rel=1e-6)
    f = ties.frame(5)
    assert f["last_step"].tolist() == [5, 5] and f["made_place"].tolist() == [4, 4]
    assert_well_formed(ties, 5)


def test_ties_are_symmetric_and_layer_specific():
    ties = store()
    ties.connect(arr(10, 4), arr(2, 30), LAYER["family"], step=0)
    a, b = arr(10, 2, 4, 30), arr(2, 10, 30, 4)
    forward = ties.strength_between(a, b, LAYER["family"], 0)
    np.testing.assert_array_equal(forward, ties.strength_between(b, a, LAYER["family"], 0))
    assert np.all(forward > 0)
    assert np.all(ties.strength_between(a, b, LAYER["friend"], 0) == 0), "a family tie is not a friend tie"
    assert strength(ties, 1, 2, "family", 0) == 0.0, "no tie: strength 0"
    assert strength(ties, 4, 4, "family", 0) == 0.0


def test_an_empty_store_has_no_ties():
    ties = store()
    assert len(ties) == 0 and ties.count_by_layer().sum() == 0
    assert ties.strength_between(arr(1, 2), arr(3, 4), LAYER["chat"], 0).tolist() == [0.0, 0.0]
    inc = ties.incident(arr(1, 2), 0)
    assert len(inc.ego) == len(inc.alter) == len(inc.strength) == 0
    assert len(ties.frame(0)) == 0


def test_the_same_pair_can_have_ties_on_several_layers():
    ties = store()
    ties.connect(arr(1), arr(2), LAYER["friend"], step=0)
    ties.connect(arr(2), arr(1), LAYER["chat"], step=0)
    assert live(ties) == {(1, 2, "friend"), (1, 2, "chat")}
    assert_well_formed(ties)


def test_meeting_again_closes_meeting_gain_of_the_gap_to_full_strength():
    gain = 0.25
    ties = store(meeting_gain=gain, acquaintance_half_life_years=0.0)  # nothing fades between the meetings
    ties.connect(arr(1), arr(2), LAYER["family"], step=0)  # family: no decay
    s0 = tie_params().initial_strength["family"]
    for k in range(1, 4):
        ties.connect(arr(2), arr(1), LAYER["family"], step=k)  # the other way round: the same tie
        expected = 1.0 - (1.0 - s0) * (1.0 - gain) ** k
        assert strength(ties, 1, 2, "family", k) == pytest.approx(expected, rel=1e-6)
        assert strength(ties, 2, 1, "family", k) == pytest.approx(expected, rel=1e-6)
    assert len(ties) == 1
    assert_well_formed(ties, 3)


def test_meeting_strengthens_from_the_decayed_strength_and_resets_the_clock():
    clock = Clock("week")
    ties = store(meeting_gain=0.5)
    half_life = tie_params().half_life_years["forum"]
    ties.connect(arr(4), arr(5), LAYER["forum"], step=0)
    s0 = tie_params().initial_strength["forum"]
    decayed = s0 * 0.5 ** (10 * clock.dt / half_life)
    ties.connect(arr(5), arr(4), LAYER["forum"], step=10)
    after = decayed + 0.5 * (1 - decayed)
    assert strength(ties, 4, 5, "forum", 10) == pytest.approx(after, rel=1e-5)
    assert strength(ties, 5, 4, "forum", 13) == pytest.approx(after * 0.5 ** (3 * clock.dt / half_life), rel=1e-5)
    f = ties.frame(10)
    assert f["last_step"].tolist() == [10]
    assert_well_formed(ties, 13)


def test_a_pair_repeated_within_one_batch_meets_once():
    gain = 0.3
    ties = store(meeting_gain=gain)
    ties.connect(arr(1), arr(2), LAYER["family"], step=0)
    ties.connect(arr(1, 2, 1, 3, 3), arr(2, 1, 2, 4, 4), LAYER["family"], step=1)
    s0 = tie_params().initial_strength["family"]
    assert strength(ties, 1, 2, "family", 1) == pytest.approx(s0 + gain * (1 - s0), rel=1e-6)
    assert strength(ties, 3, 4, "family", 1) == pytest.approx(s0, rel=1e-6), "a new tie is made once, not strengthened"
    assert len(ties) == 2
    assert_well_formed(ties, 1)


def test_meeting_oneself_makes_no_tie():
    ties = store()
    ties.connect(arr(3, 4, 5), arr(3, 4, 6), LAYER["friend"], step=0)
    assert live(ties) == {(5, 6, "friend")}
    assert_well_formed(ties)


def test_chance_meetings_make_weak_ties_with_new_tie_chance():
    """Strangers keep a tie with chance new_tie_chance (keyed draws), at acquaintance_strength."""
    chance, weak = 0.2, 0.12
    n = 4000
    ties = store(n, new_tie_chance=chance, acquaintance_strength=weak)
    a = np.arange(0, n, 2)
    ties.meet(a, a + 1, LAYER["chat"], step=3, place=2, new_tie_key=np.uint64(7))
    pairs = len(a)
    sd = np.sqrt(pairs * chance * (1 - chance))
    assert abs(len(ties) - pairs * chance) < 4 * sd  # a binomial count: within 4 sd
    f = ties.frame(3)
    np.testing.assert_allclose(f["strength"], weak, rtol=1e-6)
    assert np.all(f["made_place"] == 2)
    assert_well_formed(ties, 3)


def test_chance_meetings_always_strengthen_existing_ties():
    ties = store(new_tie_chance=0.0, meeting_gain=0.5)
    ties.connect(arr(1), arr(2), LAYER["family"], step=0)
    ties.meet(arr(1, 5), arr(2, 6), LAYER["family"], step=1, new_tie_key=np.uint64(0))
    assert len(ties) == 1, "new_tie_chance = 0: strangers make no tie"
    s0 = tie_params().initial_strength["family"]
    assert strength(ties, 1, 2, "family", 1) == pytest.approx(s0 + 0.5 * (1 - s0), rel=1e-6)


def test_add_initial_ties_are_made_at_step_zero_with_no_place():
    ties = store()
    ties.add_initial(arr(1, 2), arr(8, 9), LAYER["neighbourhood"])
    f = ties.frame(0)
    assert np.all(f["last_step"] == 0) and np.all(f["made_place"] == NO_PLACE)
    np.testing.assert_allclose(f["strength"], tie_params().initial_strength["neighbourhood"], rtol=1e-6)


def test_keys_stay_sorted_and_unique_after_many_random_batches():
    n = 300
    ties = store(n)
    rng = np.random.default_rng(1)
    reference = set()
    for step in range(40):
        k = int(rng.integers(1, 200))
        a, b = rng.integers(0, n, k), rng.integers(0, n, k)
        layer = rng.integers(0, len(LAYERS), k)
        ties.connect(a, b, layer, step=step)
        reference |= {(min(x, y), max(x, y), LAYERS[l]) for x, y, l in zip(a.tolist(), b.tolist(), layer.tolist()) if x != y}
        assert_well_formed(ties, step)
    assert live(ties, 40) == reference


def test_a_batch_large_enough_to_merge_the_runs_keeps_the_store_consistent():
    n = 5000
    ties = store(n)
    rng = np.random.default_rng(2)
    ties.connect(rng.integers(0, n, 3000), rng.integers(0, n, 3000), LAYER["friend"], step=0)
    ties.prune(0)  # everything in the main run
    ties.connect(rng.integers(0, n, 8000), rng.integers(0, n, 8000), LAYER["chat"], step=1)  # > 10,000 fresh rows
    assert_well_formed(ties, 1)
    ties.remove_persons(np.arange(0, n, 7))
    assert_well_formed(ties, 1)
    assert not any(lo % 7 == 0 or hi % 7 == 0 for lo, hi, _ in live(ties, 1)), "removed persons keep no tie"


# --------------------------------------------------------------------------- decay
@pytest.mark.parametrize("step_name", ["day", "week", "month"])
@pytest.mark.parametrize("layer", LAYERS)
def test_lazy_decay_of_social_ties_follows_their_layers_half_life(step_name, layer):
    clock = Clock(step_name)
    ties = store(step=step_name)
    ties.add_initial(arr(1), arr(2), LAYER[layer])  # a social tie: no place
    s0, half_life = tie_params().initial_strength[layer], HALF_LIVES[layer]
    for age in (0, 1, 7, 52, 365):
        expected = s0 if half_life == 0 else s0 * 0.5 ** (age * clock.dt / half_life)
        assert strength(ties, 1, 2, layer, age) == pytest.approx(expected, rel=1e-5)
        assert ties.incident(arr(1), age).strength[0] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("step_name", ["day", "week", "month"])
@pytest.mark.parametrize("layer", LAYERS)
def test_lazy_decay_of_ties_made_at_a_place_follows_the_acquaintance_half_life(step_name, layer):
    clock = Clock(step_name)
    ties = store(step=step_name, new_tie_chance=1.0)
    ties.meet(arr(1), arr(2), LAYER[layer], step=0, place=3, new_tie_key=np.uint64(0))
    s0 = tie_params().acquaintance_strength
    for age in (0, 1, 7, 52):
        expected = s0 * 0.5 ** (age * clock.dt / ACQUAINTANCE_HALF_LIFE)
        assert strength(ties, 1, 2, layer, age) == pytest.approx(expected, rel=1e-5)


def test_zero_half_lives_mean_no_decay():
    ties = store(half_life_years=dict.fromkeys(LAYERS, 0.0), acquaintance_half_life_years=0.0)
    ties.add_initial(arr(1), arr(2), LAYER["friend"])
    ties.connect(arr(3), arr(4), LAYER["chat"], step=0, place=1)
    assert strength(ties, 1, 2, "friend", 10_000) == pytest.approx(tie_params().initial_strength["friend"], rel=1e-6)
    assert strength(ties, 3, 4, "chat", 10_000) == pytest.approx(tie_params().initial_strength["chat"], rel=1e-6)


def test_a_tie_loses_half_its_strength_in_one_half_life():
    clock = Clock("week")
    ties = store(half_life_years={**tie_params().half_life_years, "friend": 0.5})
    ties.connect(arr(1), arr(2), LAYER["friend"], step=0)
    s0 = tie_params().initial_strength["friend"]
    assert strength(ties, 1, 2, "friend", int(0.5 * clock.steps_per_year)) == pytest.approx(s0 / 2, rel=1e-5)


# --------------------------------------------------------------------------- prune and remove
def test_prune_removes_only_ties_below_min_strength():
    ties = store(min_strength=0.1)
    for i, made in enumerate(range(0, 100, 5)):  # forum ties of different ages at step 100
        ties.connect(arr(i), arr(i + 25), LAYER["forum"], step=made)
    ties.connect(arr(0), arr(1), LAYER["family"], step=0)  # never decays
    now = 100
    before = ties.frame(now).set_index(["lo", "hi", "layer"])["strength"]
    weak = before < 0.1
    assert 0 < weak.sum() < len(weak), "the set-up needs ties on both sides of min_strength"
    removed = ties.prune(now)
    assert removed == weak.sum()
    after = ties.frame(now).set_index(["lo", "hi", "layer"])["strength"]
    assert set(after.index) == set(before.index[~weak])
    np.testing.assert_allclose(after.sort_index(), before[~weak].sort_index(), rtol=1e-6)
    assert strength(ties, 0, 1, "family", now) > 0
    assert_well_formed(ties, now)


def test_prune_keeps_a_tie_exactly_at_min_strength():
    ties = store(min_strength=0.25, initial_strength={**tie_params().initial_strength, "family": 0.25})
    ties.connect(arr(1), arr(2), LAYER["family"], step=0)
    assert ties.prune(50) == 0 and len(ties) == 1


def test_decayed_ties_count_until_pruned():
    ties = store(min_strength=0.1)
    ties.connect(arr(1), arr(2), LAYER["forum"], step=0)
    assert strength(ties, 1, 2, "forum", 200) < 0.1
    assert ties.count_by_layer()[LAYER["forum"]] == 1
    ties.prune(200)
    assert len(ties) == 0 and ties.count_by_layer().sum() == 0
    assert strength(ties, 1, 2, "forum", 200) == 0.0


def test_remove_persons_removes_every_tie_of_those_persons_and_only_those():
    n = 100
    ties = store(n)
    rng = np.random.default_rng(3)
    ties.connect(rng.integers(0, n, 600), rng.integers(0, n, 600), rng.integers(0, len(LAYERS), 600), step=0)
    gone = arr(0, 17, 42, 99)
    survivors = {t for t in live(ties) if t[0] not in gone and t[1] not in gone}
    assert len(survivors) < len(ties)
    ties.remove_persons(gone)
    assert live(ties) == survivors
    assert len(ties) == len(survivors)
    inc = ties.incident(gone, 0)
    assert len(inc.ego) == 0, "a removed person has no ties"
    assert not np.isin(ties.incident(np.arange(n), 0).alter, gone).any(), "nobody has a tie to a removed person"
    assert_well_formed(ties)
    ties.remove_persons(np.zeros(0, dtype=np.int64))  # no-op
    assert len(ties) == len(survivors)
    ties.prune(0)
    assert live(ties) == survivors
    assert_well_formed(ties)


def test_a_newcomer_in_a_removed_persons_slot_starts_without_ties():
    ties = store()
    ties.connect(arr(1, 1), arr(2, 3), LAYER["family"], step=0)
    ties.remove_persons(arr(1))
    assert strength(ties, 1, 2, "family", 1) == 0.0
    ties.connect(arr(1), arr(2), LAYER["family"], step=1)  # the newcomer in slot 1 meets person 2
    assert strength(ties, 1, 2, "family", 1) == pytest.approx(tie_params().initial_strength["family"], rel=1e-6)
    f = ties.frame(1)
    assert live(ties, 1) == {(1, 2, "family")} and f["last_step"].tolist() == [1]
    assert_well_formed(ties, 1)


# --------------------------------------------------------------------------- queries
def test_a_stale_row_index_is_an_error_not_a_crash():
    """Where each person's rows start in the main run is kept between its changes; a change that
    forgot to drop it (a bug) is reported, where the kernels would have read out of bounds."""
    ties = store()
    ties.connect(arr(1, 2, 3), arr(4, 5, 6), LAYER["friend"], step=0)
    ties.prune(1)  # into the main run
    assert ties.alters(arr(1), ("friend",)).tolist() == [4]  # (the index is built)
    ties.main = ties.main.take(slice(0, len(ties.main) - 2))  # changed behind the index's back
    with pytest.raises(RuntimeError, match="stale"):
        ties.alters(arr(1), ("friend",))


def test_incident_returns_both_directions():
    ties = store()
    ties.connect(arr(1, 1, 3, 8), arr(2, 3, 2, 9), LAYER["friend"], step=0)
    ties.connect(arr(1), arr(4), LAYER["chat"], step=0)
    inc = ties.incident(arr(1, 2), 0)
    # the tie between the two given persons appears once from each side
    assert sorted(zip(inc.ego.tolist(), inc.alter.tolist())) == sorted([(1, 2), (2, 1), (1, 3), (2, 3), (1, 4)])
    inc = ties.incident(arr(1), 0, ("chat",))
    assert list(zip(inc.ego.tolist(), inc.alter.tolist(), inc.layer.tolist())) == [(1, 4, LAYER["chat"])]
    assert len(ties.incident(arr(1), 0, OFFLINE_LAYERS).ego) == 2
    assert len(ties.incident(arr(1, 1, 1), 0).ego) == 3, "a person given twice is listed once"


def test_incident_and_counts_agree_with_the_stored_ties():
    n = 80
    ties = store(n)
    rng = np.random.default_rng(5)
    ties.connect(rng.integers(0, n, 300), rng.integers(0, n, 300), rng.integers(0, len(LAYERS), 300), step=0)
    inc = ties.incident(np.arange(n), 0)
    assert len(inc.ego) == 2 * len(ties)
    pairs = {(min(e, a), max(e, a), LAYERS[l]) for e, a, l in zip(inc.ego.tolist(), inc.alter.tolist(), inc.layer.tolist())}
    assert pairs == live(ties)
    family = ties.incident(np.arange(n), 0, ("family",))
    assert len(family.ego) == 2 * ties.count_by_layer()[LAYER["family"]]


@pytest.mark.parametrize("layers", [None, ("family", "friend")])
def test_links_are_the_ends_of_the_incident_ties(layers):
    """`links` lists what `incident` does, without strengths: ties in both runs, dead ones left out."""
    n = 80
    ties, rng = store(n), np.random.default_rng(6)
    for step in range(1, 25):  # ties in the main run (merged at each prune) and in the fresh one
        ties.connect(rng.integers(0, n, 60), rng.integers(0, n, 60), rng.integers(0, len(LAYERS), 60), step=step)
        if step % 10 == 0:
            ties.prune(step)
    ties.remove_persons(arr(3, 7))  # dead rows
    assert len(ties.main) and len(ties.fresh)
    egos = arr(3, 5, 9, 11, 40, 41, 79)
    inc = ties.incident(egos, 25, layers)
    ego, alter = ties.links(egos, layers)
    assert len(ego) > 20 and ego.tolist() == inc.ego.tolist() and alter.tolist() == inc.alter.tolist()


@pytest.mark.parametrize("kernels", ["compiled", "numpy"])
def test_the_incident_ties_of_some_egos_are_those_of_all_egos_taken(kernels):
    """A query of some egos gives the entries of a query of more egos that are theirs, in the same
    order: offline-ties recruitment queries its approachers once a step and takes each attempt's
    approachers' entries (the order decides which contact an approacher picks)."""
    n = 80
    ties, rng = store(n), np.random.default_rng(7)
    for step in range(1, 25):  # ties in the main run and in the fresh one, and dead rows
        ties.connect(rng.integers(0, n, 60), rng.integers(0, n, 60), rng.integers(0, len(LAYERS), 60), step=step)
        if step % 10 == 0:
            ties.prune(step)
    ties.remove_persons(arr(3, 7))
    assert len(ties.main) and len(ties.fresh)
    egos, some = arr(3, 5, 9, 11, 40, 41, 79), arr(5, 40, 79)
    with contextlib.nullcontext() if kernels == "compiled" else compiled.numpy_twins():
        everyone = ties.incident(egos, 25, OFFLINE_LAYERS)
        taken = everyone.take(np.isin(everyone.ego, some))
        alone = ties.incident(some, 25, OFFLINE_LAYERS)
    assert len(alone.ego) > 10 and set(everyone.ego.tolist()) > set(alone.ego.tolist())
    for column in ("ego", "alter", "layer", "strength"):
        assert getattr(taken, column).tolist() == getattr(alone, column).tolist(), column


def test_the_store_matches_a_reference_implementation_under_random_operations():
    """Random meetings, removals and prunes, compared with a plain dict of ties."""
    n, clock = 60, Clock("week")
    p = tie_params(new_tie_chance=1.0, min_strength=0.12, meeting_gain=0.2)
    ties = TieStore(n, p, clock)
    decay = {name: 0.0 if p.half_life_years[name] <= 0 else clock.dt / p.half_life_years[name] for name in LAYERS}
    acquaintance = clock.dt / p.acquaintance_half_life_years
    ref: dict[tuple[int, int, str], list] = {}  # (lo, hi, layer) -> [strength, last_step, place]

    def now(key, step):
        # acquaintances fade to 0; social ties with a half-life erode to 0; social ties without one
        # keep their initial strength and only what meetings added fades, at the acquaintance rate
        s, last, place = ref[key]
        social, eroding = place == NO_PLACE, decay[key[2]] > 0
        floor = p.initial_strength[key[2]] if social and not eroding else 0.0
        rate = decay[key[2]] if social and eroding else acquaintance
        return floor + (s - floor) * 2.0 ** (-rate * (step - last))

    rng = np.random.default_rng(11)
    for step in range(120):
        k = int(rng.integers(0, 40))
        a, b = rng.integers(0, n, k), rng.integers(0, n, k)
        layer = rng.integers(0, len(LAYERS), k)
        place = rng.integers(NO_PLACE, 5, k)  # social ties (NO_PLACE) and ties made at places
        chance = bool(rng.random() < 0.5)
        ties.meet(a, b, layer, step, place, new_tie_key=np.uint64(step)) if chance else ties.connect(a, b, layer, step, place)
        seen = set()
        for x, y, l, pl in zip(a.tolist(), b.tolist(), layer.tolist(), place.tolist()):
            key = (min(x, y), max(x, y), LAYERS[l])
            if x == y or key in seen:
                continue
            seen.add(key)
            if key in ref:
                s = now(key, step)
                ref[key][:2] = [s + p.meeting_gain * (1 - s), step]
            else:
                initial = p.acquaintance_strength if chance else p.initial_strength[key[2]]
                ref[key] = [initial, step, pl]
        if rng.random() < 0.15:
            gone = set(rng.integers(0, n, 3).tolist())
            ties.remove_persons(np.array(sorted(gone)))
            ref = {key: v for key, v in ref.items() if key[0] not in gone and key[1] not in gone}
        if step % 13 == 0:
            ties.prune(step)
            ref = {key: v for key, v in ref.items() if now(key, step) >= p.min_strength}
        # compare
        f = ties.frame(step)
        assert set(zip(f["lo"].tolist(), f["hi"].tolist(), f["layer"].tolist())) == set(ref), f"step {step}"
        for lo, hi, lay, s, last, pl in f[["lo", "hi", "layer", "strength", "last_step", "made_place"]].itertuples(index=False):
            r = ref[(lo, hi, lay)]
            assert s == pytest.approx(now((lo, hi, lay), step), rel=1e-5)
            assert (last, pl) == (r[1], r[2])
        assert len(ties) == len(ref)
        assert_well_formed(ties, step)
        x, y = rng.integers(0, n, 30), rng.integers(0, n, 30)
        lay = rng.integers(0, len(LAYERS), 30)
        got = ties.strength_between(x, y, lay, step)
        want = [now((min(i, j), max(i, j), LAYERS[l]), step) if (min(i, j), max(i, j), LAYERS[l]) in ref else 0.0
                for i, j, l in zip(x.tolist(), y.tolist(), lay.tolist())]
        np.testing.assert_allclose(got, want, rtol=1e-5)


# --------------------------------------------------------------------------- co-presence
def visitors_in_places(n_people: int, n_places: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    people = rng.permutation(10 * n_people)[:n_people]  # arbitrary, unique slot numbers
    return people, rng.integers(0, n_places, n_people)


def test_group_bounds():
    start, size = group_bounds(np.array([0, 0, 2, 2, 2, 5]))
    assert start.tolist() == [0, 0, 2, 2, 2, 5]
    assert size.tolist() == [2, 2, 3, 3, 3, 1]


@pytest.mark.parametrize("contacts", [1.0, 2.0, 2.5, 0.3])
def test_partners_share_the_place_and_are_never_oneself(contacts):
    people, places = visitors_in_places(3000, 400, seed=1)
    a, b, where = meetings(people, places, contacts, visitor_draws(2))
    place_of = dict(zip(people.tolist(), places.tolist()))
    assert len(a) > 0
    assert np.all(a != b)
    assert all(place_of[x] == w and place_of[y] == w for x, y, w in zip(a.tolist(), b.tolist(), where.tolist()))


@pytest.mark.parametrize("contacts", [1.0, 3.0, 0.4, 1.7])
@pytest.mark.parametrize("one_place", [False, True])
def test_each_visitor_starts_contacts_meetings_on_average(contacts, one_place):
    """Visitors not alone at their place start int(contacts) meetings, plus one with chance frac."""
    people, places = visitors_in_places(20_000, 2000, seed=3)
    if one_place:
        places = None
    a, b, _ = meetings(people, places, contacts, visitor_draws(4))
    not_alone = np.ones(len(people), bool) if one_place else np.bincount(places)[places] > 1
    n = not_alone.sum()
    whole, frac = int(contacts), contacts - int(contacts)
    sd = np.sqrt(n * frac * (1 - frac))  # the fractional part is a binomial count
    assert abs(len(a) - n * contacts) <= 4 * sd + 1e-9
    started = np.bincount(np.searchsorted(np.sort(people), a), minlength=len(people))
    assert started.max() <= whole + (frac > 0)
    assert set(a.tolist()) <= set(people[not_alone].tolist()), "a lone visitor meets nobody"
    assert np.all(a != b) and set(b.tolist()) <= set(people.tolist())


@pytest.mark.parametrize("contacts", [1.0, 2.0])
def test_each_visitor_takes_part_in_about_twice_contacts_meetings(contacts):
    """contacts_per_visit is the number of co-visitors each visitor seeks out; each is also sought
    out by about as many, so takes part in about 2 x contacts meetings (schema descriptions)."""
    people, places = visitors_in_places(20_000, 200, seed=5)  # ~100 per place: repeated pairs are rare
    a, b, _ = meetings(people, places, contacts, visitor_draws(6))
    pairs = np.unique(np.stack([np.minimum(a, b), np.maximum(a, b)]), axis=1)
    partners_per_visitor = 2 * pairs.shape[1] / len(people)  # each distinct pair: a partner for both
    assert partners_per_visitor == pytest.approx(2 * contacts, rel=0.03)


def test_contacts_can_differ_between_visitors():
    people, places = visitors_in_places(20_000, 500, seed=7)
    contacts = np.where(people % 2 == 0, 0.0, 2.5)
    a, _, _ = meetings(people, places, contacts, visitor_draws(8))
    started = dict(zip(*np.unique(a, return_counts=True)))
    evens = [started.get(x, 0) for x in people[people % 2 == 0]]
    odds = np.array([started.get(x, 0) for x in people[(people % 2 == 1) & (np.bincount(places)[places] > 1)]])
    assert max(evens) == 0, "a visitor with contacts 0 starts no meeting"
    assert set(odds.tolist()) <= {2, 3}
    assert within_binomial((odds == 3).sum(), len(odds), 0.5)


def within_binomial(count: float, n: int, p: float, k: float = 4.0) -> bool:
    return abs(count - n * p) <= k * np.sqrt(n * p * (1 - p))


def test_partners_are_uniform_among_co_visitors():
    """In a place of 6, the first visitor's partner is each of the other 5 with chance 1/5."""
    reps = 5000
    people = np.arange(6 * reps)
    a, b, _ = meetings(people, people // 6, 1.0, visitor_draws(8))
    rank = b[a % 6 == 0] % 6
    counts = np.bincount(rank, minlength=6)
    assert counts[0] == 0
    p = 1 / 5
    sd = np.sqrt(reps * p * (1 - p))
    assert np.all(np.abs(counts[1:] - reps * p) < 4 * sd), counts


def test_no_meetings_without_company_or_contacts():
    rng = visitor_draws(0)
    assert all(len(x) == 0 for x in meetings(arr(1, 2, 3), arr(0, 1, 2), 2.0, rng))
    assert all(len(x) == 0 for x in meetings(arr(1, 2, 3), arr(0, 0, 0), 0.0, rng))
    assert all(len(x) == 0 for x in meetings(arr(1), None, 2.0, rng))


@pytest.mark.parametrize("groups", [3, 70_000])
def test_grouping_by_group_then_key_is_lexsort(groups):
    """Friends are drawn near in age within a group: the order (group, age, slot) that the
    shared order by age gives must be lexsort's, ties in age broken by slot, also for groups
    beyond 16 bits."""
    from sim.social_ties import _by_group_then_key

    draws = np.random.default_rng(groups)
    key = draws.integers(0, 50, 200_000).astype(float)  # many equal ages
    group = draws.integers(0, groups, 200_000)
    assert np.array_equal(_by_group_then_key(group, np.argsort(key, kind="stable")), np.lexsort((key, group)))


def test_a_candidate_pool_gives_each_groupings_candidates_and_their_own_order_by_key():
    """Newcomers' partners are drawn among a sample plus the grouping's egos, sorted by age; the
    pool sorts the sample and all newcomers once, and each grouping's order must be the stable
    order by key of its own candidates (ties in age broken by slot), as sorting them would give."""
    from sim.social_ties import CandidatePool

    draws = np.random.default_rng(5)
    key = draws.integers(0, 30, 5_000).astype(float)  # many equal ages
    sample = np.unique(draws.integers(0, 5_000, 1_500))
    newcomers = draws.choice(5_000, 300, replace=False)
    pool = CandidatePool(sample, newcomers, key)
    for egos in (newcomers, newcomers[::7], np.repeat(newcomers[:20], 3), newcomers[:0]):
        candidates, by_key = pool.with_egos(egos)
        assert np.array_equal(candidates, np.union1d(sample, egos))
        assert np.array_equal(by_key, np.argsort(key[candidates], kind="stable"))


def _meetings_by_layer(seed: int, n: int, k: int, layers: tuple[str, ...]):
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, n, k), rng.integers(0, n, k)
    layer = np.array([LAYER[name] for name in layers], np.int8)[rng.integers(0, len(layers), k)]
    return a, b, layer, rng.integers(0, 6, k).astype(np.int16)


def _run_columns(ties: TieStore) -> list[np.ndarray]:
    return [*ties.main.columns(), *ties.fresh.columns()]


@pytest.mark.parametrize("drawn", [False, True])
def test_a_batch_met_in_one_kernel_call_is_met_as_in_parts(drawn, monkeypatch):
    """A batch in one part is met by one call of `meetings_kernel`; it leaves the store as
    `_new_ties_parts` does on two threads (two parts): strengthened ties, new ties (all of the
    pairs' when connected, a chance's when met by chance) and revived dead rows."""
    from sim import compiled
    from sim import ties as ties_module

    def town() -> TieStore:
        ties = store(n=200, new_tie_chance=0.5)
        for step in range(1, 6):
            ties.meet(*_meetings_by_layer(step, 200, 1500, ("friend", "neighbourhood", "forum"))[:3], step, new_tie_key=np.uint64(step))
        ties.remove_persons(np.arange(0, 200, 17))
        return ties

    batch = _meetings_by_layer(30, 200, 600, ("family", "friend", "forum"))
    stores = {}
    for way in ("one call", "parts"):
        stores[way] = town()
        with compiled.using_threads(2 if way == "parts" else 1), monkeypatch.context() as patch:
            if way == "parts":
                patch.setattr(ties_module, "PARALLEL_MEETINGS", 0)  # any batch: a part a thread
            if drawn:
                stores[way].meet(*batch[:3], 7, batch[3], new_tie_key=np.uint64(3))
            else:
                stores[way].connect(*batch[:3], 7, batch[3])
    for mine, theirs in zip(_run_columns(stores["one call"]), _run_columns(stores["parts"]), strict=True):
        assert np.array_equal(mine, theirs)
    assert len(stores["one call"]) > len(town())
    assert_well_formed(stores["one call"])


@pytest.mark.parametrize("way", ["kernels", "numpy", "pieces on two threads"])
def test_meetings_in_parts_of_different_layers_are_one_meet_of_all(way, monkeypatch):
    """A step's meetings given in two parts whose layers differ (offline, online), each
    strengthened apart and the new ties added together, leave the store as one `meet` of all:
    strengthened ties, new ties and their places, and dead rows of departed persons revived.
    So does a part strengthened on another thread, in pieces this one joins in taking. (A
    part met inside the venues' kernel: tests/test_compiled.py.)"""
    from sim import compiled
    from sim import ties as ties_module

    def town() -> TieStore:
        ties = store(n=200, new_tie_chance=0.5)
        for step in range(1, 6):
            ties.meet(*_meetings_by_layer(step, 200, 1500, ("friend", "neighbourhood", "forum", "chat"))[:3], step,
                      new_tie_key=np.uint64(step))
        ties.remove_persons(np.arange(0, 200, 17))  # their rows stay, dead, until a prune
        return ties

    offline = _meetings_by_layer(20, 200, 1200, ("family", "friend", "neighbourhood"))
    online = _meetings_by_layer(21, 200, 400, ("forum", "chat"))
    with (compiled.numpy_twins() if way == "numpy" else compiled.using_threads(1)):
        whole, parts = town(), town()
        dead_before = sum(int((run.strength == 0).sum()) for run in (whole.main, whole.fresh))
        whole.meet([offline[0], online[0]], [offline[1], online[1]], np.concatenate([offline[2], online[2]]), 6,
                   np.concatenate([offline[3], online[3]]), new_tie_key=np.uint64(9))
    with (compiled.numpy_twins() if way == "numpy" else compiled.using_threads(1 if way == "kernels" else 2)):
        meetings = parts.meetings_in_parts(6, new_tie_key=np.uint64(9))
        if way == "pieces on two threads":
            monkeypatch.setattr(ties_module, "SHARED_PARTS", 5)  # 10 pieces
            strengthened = meetings.start_strengthening(*offline)
            meetings.strengthen(*online)
            meetings.help()
            strengthened()
        else:
            meetings.strengthen(*online)
            meetings.strengthen(*offline)
        meetings.add()
    dead_after = sum(int((run.strength == 0).sum()) for run in (whole.main, whole.fresh))
    assert 0 < dead_after < dead_before  # some dead rows were revived: the departed persons' slots made ties again
    for mine, theirs in zip(_run_columns(parts), _run_columns(whole), strict=True):
        assert np.array_equal(mine, theirs)
    assert np.array_equal(parts.count_by_layer(), whole.count_by_layer())
    assert_well_formed(parts)


def test_meetings_in_parts_that_share_a_layer_are_refused():
    ties = store()
    meetings = ties.meetings_in_parts(1, new_tie_key=np.uint64(1))
    meetings.strengthen(*_meetings_by_layer(1, N, 30, ("friend", "forum")))
    meetings.strengthen(*_meetings_by_layer(2, N, 30, ("chat", "forum")))
    with pytest.raises(ValueError, match="share a tie layer"):
        meetings.add()


def test_meetings_in_parts_build_what_the_parts_read_before_any_starts():
    """The key filter, the main run's row index and the decay factors are built on first use;
    a step's meetings build them at once, in the caller's thread, so that a part on another
    thread never builds them beside this one (nor reads one half made)."""
    from sim import compiled

    ties = store(n=200)
    ties.meet(*_meetings_by_layer(1, 200, 900, ("friend", "chat"))[:3], 1, new_tie_key=np.uint64(1))
    ties.prune(2)  # drops the filter and the row index
    assert ties._filter is None and ties._main_starts is None
    with compiled.using_threads(1):
        ties.meetings_in_parts(300, new_tie_key=np.uint64(2))
    assert ties._filter is not None and ties._main_starts is not None and ties._factors.shape[1] > 300
