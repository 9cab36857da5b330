"""`RecruitModel.branch`: the dashboard burns in its twins once and branches the treated run off
the untreated one; the branch must run exactly as the model built with those interventions."""

from __future__ import annotations

import pytest

from sim.model import RecruitModel
from sim.scenario import load_scenario
from sim.scenario.bundled import BUNDLED_DIR

# interventions of the bundled scenarios act in year 3 (step 156)
SMALL = ["population.size=1000", "burn_in_years=0.5", "steps=165", "networks.initial_per_10k.phishing=60"]


@pytest.mark.parametrize("name", ["forum_takedown", "combined_package"])
def test_a_branch_runs_exactly_as_the_model_built_with_its_interventions(name):
    config = load_scenario(BUNDLED_DIR / f"{name}.yaml", SMALL)
    untreated = RecruitModel(config.model_copy(update={"interventions": []}))
    branch = untreated.branch(config)
    built = RecruitModel(config)
    for model in (untreated, branch, built):
        model.run_model()
    got, want, twin = branch.results(), built.results(), untreated.results()
    assert got.timeseries.equals(want.timeseries)
    assert got.events.equals(want.events)
    assert got.networks.equals(want.networks)
    assert branch.config == config
    # the interventions acted: the branch parted from the model it was copied from
    assert not got.timeseries.equals(twin.timeseries)


def test_a_branch_differs_only_in_interventions_and_only_at_the_start():
    config = load_scenario(BUNDLED_DIR / "forum_takedown.yaml", SMALL)
    untreated = RecruitModel(config.model_copy(update={"interventions": []}))
    with pytest.raises(ValueError, match="only in its interventions"):
        untreated.branch(config.model_copy(update={"seed": config.seed + 1}))
    untreated.step()
    with pytest.raises(ValueError, match="end of its burn-in"):
        untreated.branch(config)
