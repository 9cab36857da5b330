"""The Python API in Mesa's conventions: `RecruitModel.from_yaml`, a path argument, `run_model()`
that stops at the scenario's end, and the README's Python example, run as written."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from helpers import SMALL, run, scenario
from pandas.testing import assert_frame_equal

import sim
from sim.errors import ScenarioError
from sim.model import RecruitModel
from sim.scenario.loader import override_strings
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
TINY = {"population": {"size": 1000, "neighbourhood_size": 500}, "steps": 6, "burn_in_years": 0}  # 1,000: enough founders for the initial networks


def test_run_model_stops_at_the_scenarios_end_with_the_same_results_as_stepping():
    sc = scenario(SMALL, **TINY)
    model = RecruitModel(sc)
    model.step = stop_after(model.step, sc.steps)
    model.run_model()
    assert model.running is False and model.step_now == sc.steps
    _, stepped = run(sc)
    for name in ("timeseries", "networks", "events"):
        assert_frame_equal(getattr(model.results(), name), getattr(stepped, name))


def stop_after(step, steps: int):
    """`step` that fails, instead of looping for ever, once called more than `steps` times."""
    calls = itertools.count(1)

    def guarded() -> None:
        if next(calls) > steps:
            raise AssertionError("run_model() ran past the scenario's end")
        step()

    return guarded


def test_the_model_runs_while_steps_remain():
    model = RecruitModel(scenario(SMALL, **TINY))
    for _ in range(TINY["steps"] - 1):
        model.step()
        assert model.running
    model.step()
    assert not model.running


def test_from_yaml_overrides_only_the_keys_it_names():
    model = RecruitModel.from_yaml(BASELINE, population={"size": 1000}, steps=3, seed=5)
    expected = load_scenario(BASELINE, ["population.size=1000", "steps=3", "seed=5"])
    assert model.config == expected
    assert model.config.population.neighbourhood_size == load_scenario(BASELINE).population.neighbourhood_size


def test_a_path_is_read_as_a_scenario_file(tmp_path):
    small = tmp_path / "small.yaml"  # a town built in milliseconds: the test is of the reading, not the run
    small.write_text(f"extends: {BASELINE}\nburn_in_years: 0\npopulation: {{size: 300}}\n")
    assert RecruitModel(str(small)).config == load_scenario(small)


def test_a_bad_override_is_one_line_naming_the_key():
    with pytest.raises(ScenarioError, match=r"population\.sizee: unknown key") as caught:
        RecruitModel.from_yaml(BASELINE, population={"sizee": 3})
    assert "\n" not in str(caught.value)


def test_a_wrong_type_of_scenario_is_a_type_error():
    with pytest.raises(TypeError, match="Scenario or the path"):
        RecruitModel({"steps": 3})


def test_override_strings_are_the_leaves_of_nested_mappings():
    assert override_strings({"a": {"b": 1, "c": {"d": "x"}}, "e": None, "f": {}}) == ["a.b=1", 'a.c.d="x"', "e=null", "f={}"]


def test_the_scenario_is_config_and_mesas_scenario_is_left_alone():
    model = RecruitModel(scenario(SMALL, **TINY))
    assert model.config.name == "small"
    assert not hasattr(model, "params")
    assert type(model.scenario).__module__.startswith("mesa.")  # SolaraViz requires Mesa's type here


def readme_python_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- tests/test_python_api.py runs this example as written -->\n```python\n(.*?)```", readme, re.S)
    assert found, "the README's Python example is missing"
    return found.group(1)


def test_the_readme_python_example_runs_as_written(monkeypatch, tmp_path):
    code = readme_python_example()
    assert len([line for line in code.splitlines() if line.strip() and not line.startswith(("from ", "import "))]) == 3
    monkeypatch.chdir(tmp_path)  # a bundled scenario by name: from any directory
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    model, results = namespace["model"], namespace["results"]
    assert model.running is False
    assert len(results.timeseries) == model.config.steps and results.timeseries["step"].iloc[-1] == model.config.steps


def test_recruit_model_is_importable_from_the_package():
    assert sim.RecruitModel is RecruitModel
