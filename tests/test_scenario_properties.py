"""Property: a scenario that validates builds and runs. Edge values of every numeric key, removed
venues and online spaces, extreme Beta shapes, many initial networks and far-off interventions
must each be a model that runs or a one-line ScenarioError, never a crash three steps in."""

from __future__ import annotations

import warnings
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from sim.errors import ScenarioError, ScenarioWarning
from sim.model import RecruitModel
from sim.scenario.params import deep_merge
from sim.scenario.schema import Scenario

BASE: dict = {"name": "property", "steps": 3, "population": {"size": 60, "neighbourhood_size": 30}}
# No burn-in or a short one (a few steps at any step length): the default ten years would make each
# example hundreds of steps; a burn-in of a few weeks still exercises the steps before recording.
BURN_IN_YEARS = st.sampled_from([0.0, 0.05])
DEFAULTS = Scenario()
# Sections whose numeric keys are pushed to their bounds; population.size stays at 60 (the property's size).
SECTIONS = ("population", "ties", "places", "networks", "recruitment", "enforcement", "desistance", "outputs")
FIXED = {("population", "size"), ("population", "neighbourhood_size")}


def _bound(metadata: list, names: tuple[str, ...]) -> float | None:
    for item in metadata:
        for name in names:
            if getattr(item, name, None) is not None:
                return getattr(item, name)
    return None


def edge_values(field) -> list[Any]:
    """The values at the edges of a numeric key's range (and one far beyond 1 when unbounded)."""
    low, high = _bound(field.metadata, ("ge",)), _bound(field.metadata, ("le",))
    above = _bound(field.metadata, ("gt",))
    values = [low] if low is not None else [above + 1e-9] if above is not None else []
    values.append(high if high is not None else 1e6)
    return [int(v) if field.annotation is int else float(v) for v in values if v is not None]


def numeric_keys(model: type[BaseModel], prefix: tuple[str, ...]) -> list[tuple[tuple[str, ...], list[Any]]]:
    keys = []
    for name, field in model.model_fields.items():
        path = (*prefix, field.alias or name)
        if field.annotation in (int, float) and path not in FIXED:
            keys.append((path, edge_values(field)))
        elif isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel) and name != "rules":
            keys.extend(numeric_keys(field.annotation, path))
    return keys


NUMERIC_KEYS = [key for section in SECTIONS for key in numeric_keys(type(getattr(DEFAULTS, section)), (section,))]
SHAPES = st.sampled_from([1e-300, 0.01, 0.1, 1.0, 1e6])
YEARS = st.sampled_from([0.0, 0.01, 1.0, 1e6, 1e306, 1e308])


def nest(path: tuple[str, ...], value: Any) -> dict:
    for key in reversed(path):
        value = {key: value}
    return value


@st.composite
def scenarios(draw) -> dict:
    data = dict(BASE, burn_in_years=draw(BURN_IN_YEARS))
    for path, values in draw(st.lists(st.sampled_from(NUMERIC_KEYS), max_size=6, unique_by=lambda key: key[0])):
        data = deep_merge(data, nest(path, draw(st.sampled_from(values))))
    for attribute in draw(st.lists(st.sampled_from(["it_skill", "propensity", "financial_need", "online_activity"]), max_size=2)):
        data = deep_merge(data, {"population": {attribute: {"a": draw(SHAPES), "b": draw(SHAPES)}}})
    if draw(st.booleans()):
        data = deep_merge(data, {"places": {"venues": dict.fromkeys(DEFAULTS.places.venues)}})
    if draw(st.booleans()):
        data = deep_merge(data, {"places": {"online_spaces": dict.fromkeys(DEFAULTS.places.online_spaces)}})
    initial = draw(st.dictionaries(st.sampled_from(list(DEFAULTS.networks.business_models)), st.sampled_from([0, 1, 30, 10_000])))
    data = deep_merge(data, {"networks": {"initial_per_10k": initial}})
    data["interventions"] = draw(st.lists(interventions(), max_size=3))
    return data


@st.composite
def interventions(draw) -> dict:
    kind = draw(st.sampled_from(["arrests", "awareness_campaign", "cease_and_desist", "forum_takedown", "forum_infiltration"]))
    entry: dict = {"type": kind, "at": draw(YEARS)}
    if kind.startswith("forum_"):
        entry["target"] = draw(st.sampled_from(list(DEFAULTS.places.online_spaces)))
    if draw(st.booleans()):
        entry["every"] = draw(st.sampled_from([0.02, 1.0, 1e306]))
    return entry


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(scenarios())
def test_a_scenario_that_validates_builds_and_runs_three_steps_at_60_persons(data):
    try:
        scenario = Scenario.model_validate(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScenarioWarning)  # a warned scenario is still one that runs
            model = RecruitModel(scenario)
            for _ in range(3):
                model.step()
    except ScenarioError as exc:  # the one-line refusals the loader turns into error lines
        assert "\n" not in str(exc)
    except ValidationError:  # invalid: the loader reports it in one line (tests/test_scenario_loading.py)
        pass
