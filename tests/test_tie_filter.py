"""The tie store's key filter (a speed-up of `_locate`) never hides a key the runs hold."""

from __future__ import annotations

import numpy as np

from sim.model import RecruitModel
from sim.ties import _KeyFilter


def test_key_filter_has_no_false_negatives():
    rng = np.random.default_rng(3)
    span = 5_000 * 5_000 * 9
    keys = np.sort(rng.integers(0, span, 40_000))
    f = _KeyFilter(span, len(keys))
    f.add_sorted(keys[::2])
    f.add_sorted(keys[1::2])
    assert f.may_hold(keys).all()
    assert f.may_hold(rng.integers(0, span, 40_000)).mean() < 0.2, "it rules out most other keys"


def test_locate_finds_what_a_plain_search_finds():
    m = RecruitModel.from_yaml("baseline", population={"size": 1500}, steps=30)
    for _ in range(30):
        m.step()
    ties = m.ties
    rng = np.random.default_rng(5)
    held = np.concatenate([ties.main.key[rng.integers(0, len(ties.main), 500)], ties.fresh.key[:200]])
    keys = np.unique(np.concatenate([held, rng.integers(0, ties.n_slots ** 2 * ties.n_layers, 3_000)]))
    where, row = ties._locate(keys)
    for code, run in enumerate((ties.main, ties.fresh)):
        pos = np.minimum(np.searchsorted(run.key, keys), len(run) - 1)
        found = run.key[pos] == keys
        assert np.array_equal(where == code, found & ~((code == 1) & (where == 0)))
        assert np.array_equal(row[where == code], pos[where == code])
    assert (where >= 0).sum() >= len(np.unique(held))
