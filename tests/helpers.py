"""Shared small scenarios and cached model runs for the model, rule and invariant tests.

Runs are cached per test session (`functools.lru_cache`), so a scenario run by several test
modules is simulated once. Callers must treat the returned objects as read-only.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from functools import cache

import numpy as np

from sim.model import RecruitModel
from sim.outputs.results import RunResults
from sim.scenario.params import deep_merge
from sim.scenario.schema import Scenario
from sim.ties import TieStore
from sim.vocabulary import LAYERS

# A small population with the default parameters otherwise: 2,000 persons, 3 years of weeks.
SMALL: dict = {
    "name": "small",
    "steps": 156,
    "burn_in_years": 0,  # tests start from the set-up state (the burn-in has tests of its own)
    "population": {"size": 2000, "neighbourhood_size": 500},
    # the default networks per 10,000 persons, as whole networks at 2,000 persons
    "networks": {"initial_per_10k": {"phishing": 20, "banking_malware": 10, "ransomware_affiliate": 5, "carding": 10, "ddos_for_hire": 5}},
}

# A busy variant for invariant checks: heavy turnover, many networks, frequent arrests,
# releases, foundings, dissolutions and promotions, so every membership path is exercised.
BUSY: dict = {
    "name": "busy",
    "seed": 11,
    "steps": 260,
    "burn_in_years": 0,
    "population": {"size": 2000, "neighbourhood_size": 400, "migration_rate": 0.3, "propensity": {"a": 2.0, "b": 6.0}},
    "networks": {
        "initial_per_10k": {"phishing": 20, "carding": 15, "ddos_for_hire": 10, "banking_malware": 10, "ransomware_affiliate": 5},
        "founding_rate_novice": 0.02,
        # members cut off from their core are few in a run this short: twice the rate makes their
        # departures (lost_contact) occur often enough to be checked
        "lost_contact_rate": 8.0,
    },
    "enforcement": {"detection_base": 0.3, "mule_detection": 1.0, "sentence_years_mean": 0.3},
}

# Seeds for the statistical comparisons between scenarios (common random numbers per seed).
RULE_SEEDS = (1, 2, 3, 4)


def deep_update(base: dict, update: dict) -> dict:
    """A copy of `base` with the nested mapping `update` merged into it (as files of an `extends` chain merge)."""
    return copy.deepcopy(deep_merge(base, update))  # deep_merge shares nested values with its inputs


def scenario(base: dict = SMALL, **changes) -> Scenario:
    """A validated scenario: `base` with nested `changes` merged in."""
    return Scenario.model_validate(deep_update(base, changes))


def run(sc: Scenario, steps: int | None = None) -> tuple[RecruitModel, RunResults]:
    """Build and run a model (all of `sc.steps` unless `steps` is given); no caching."""
    model = RecruitModel(sc)
    for _ in range(sc.steps if steps is None else steps):
        model.step()
    return model, model.results()


def _results_of(dump: dict) -> RunResults:
    return run(Scenario.from_resolved(dump))[1]


def results_in_processes(scenarios: list[Scenario], workers: int = 2) -> list[RunResults]:
    """`run(sc)[1]` for each scenario, in up to `workers` fresh processes (as many as there are
    cores): the few long statistical runs of the suite (full baselines over seeds) use the CI
    machine's second core. Results in the order given; identical to running them here."""
    workers = max(1, min(workers, os.cpu_count() or 1, len(scenarios)))
    if workers == 1:
        return [run(sc)[1] for sc in scenarios]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(_results_of, [sc.resolved() for sc in scenarios]))


@cache
def _cached(key: str) -> tuple[RecruitModel, RunResults]:
    return run(Scenario.from_resolved(json.loads(key)))


def cached_run(sc: Scenario) -> tuple[RecruitModel, RunResults]:
    """`run(sc)`, simulated once per session for equal scenarios. Do not modify the results."""
    return _cached(json.dumps(sc.resolved()))  # not sort_keys: the order of named entries is part of a scenario


def rules_off(*names: str) -> dict:
    """The `recruitment` section that switches the named rules off."""
    return {"rules": {name: {"enabled": False} for name in names}}


def assert_ties_well_formed(ties: TieStore, step: int = 0) -> None:
    """The tie store's structure: in each sorted run (`main`, `fresh`) keys strictly increase, no
    key is in both runs, every row's reverse is stored in the same run with equal values, there
    are no self-ties; `frame` lists each live tie once (lo < hi) and agrees with the counts."""
    all_keys = []
    for run in (ties.main, ties.fresh):
        if len(run) == 0:
            continue
        assert np.all(np.diff(run.key) > 0), "keys of a run are strictly increasing"
        layer = run.key % ties.n_layers
        pair = run.key // ties.n_layers
        ego, alter = pair // ties.n_slots, pair % ties.n_slots
        assert np.all(ego != alter), "no self-ties"
        assert np.all((ego < ties.n_slots) & (alter < ties.n_slots))
        reverse_key = (alter * ties.n_slots + ego) * ties.n_layers + layer
        reverse = np.minimum(np.searchsorted(run.key, reverse_key), len(run.key) - 1)
        assert np.all(run.key[reverse] == reverse_key), "the reverse of every row is stored in the same run"
        for name in ("strength", "last_step", "made_place"):
            column = getattr(run, name)
            np.testing.assert_array_equal(column, column[reverse], err_msg=f"{name} differs between the two directions")
        all_keys.append(run.key)
    keys = np.concatenate(all_keys) if all_keys else np.zeros(0, np.int64)
    assert len(np.unique(keys)) == len(keys), "no key is stored in both runs"
    f = ties.frame(step)
    assert np.all(f["lo"] < f["hi"]), "frame lists each tie once, lo < hi"
    assert not f.duplicated(["lo", "hi", "layer"]).any(), "no tie twice"
    assert len(f) == len(ties)
    counts = f["layer"].value_counts().reindex(list(LAYERS), fill_value=0).to_numpy()
    np.testing.assert_array_equal(ties.count_by_layer(), counts)
