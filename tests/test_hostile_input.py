"""Input that would exhaust the machine or crash the model: refused in one line, fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.errors import ScenarioError
from sim.scenario import load_scenario
from sim.scenario.loader import MAX_ALIAS_EXPANSION, MAX_DEPTH, MAX_FILE_BYTES


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def one_line_error(path: Path, *overrides: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides)
    message = str(caught.value)
    assert "\n" not in message
    return message


def alias_bomb(levels: int = 10, width: int = 9) -> str:
    """A 'billion laughs' over mappings: each level names the previous one `width` times."""
    lines = ["a0: &a0 {" + ", ".join(f"k{j}: {j}" for j in range(width)) + "}"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} {{" + ", ".join(f"k{j}: *a{level - 1}" for j in range(width)) + "}")
    return "\n".join(lines) + f"\npopulation: *a{levels}\n"


# --------------------------------------------------------------------------- loader bounds
def test_an_alias_bomb_is_refused_before_it_is_expanded(tmp_path):
    message = one_line_error(write(tmp_path, alias_bomb()))
    assert message.startswith(f"{tmp_path / 'scenario.yaml'}: ")
    assert f"more than {MAX_ALIAS_EXPANSION:,} values" in message


def test_an_alias_bomb_in_a_set_value_is_refused(tmp_path):
    bomb = alias_bomb(levels=8).replace("\n", ", ").replace("a0:", "{a0:").rstrip(", ") + "}"
    message = one_line_error(write(tmp_path, "name: ok\n"), f"population={bomb}")
    assert message.startswith("--set") and f"more than {MAX_ALIAS_EXPANSION:,} values" in message


def test_a_few_aliases_are_fine(tmp_path):
    text = "v: &common {size: 300}\npopulation: *common\n"
    with pytest.raises(ScenarioError, match="unknown key 'v'"):  # reaches validation: the aliases themselves are accepted
        load_scenario(write(tmp_path, text))


def test_a_self_referencing_alias_is_refused(tmp_path):
    message = one_line_error(write(tmp_path, "population: &loop [*loop]\n"))
    assert "refers to itself" in message


def test_deep_nesting_is_refused_without_a_recursion_error(tmp_path):
    message = one_line_error(write(tmp_path, "population: " + "[" * 20_000 + "]" * 20_000 + "\n"))
    assert f"nested more than {MAX_DEPTH} levels deep" in message


def test_deep_nesting_in_a_set_value_is_refused(tmp_path):
    message = one_line_error(write(tmp_path, "name: ok\n"), "population=" + "[" * 5_000 + "]" * 5_000)
    assert message.startswith("--set") and f"nested more than {MAX_DEPTH} levels deep" in message


def test_a_huge_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    message = one_line_error(path)
    assert "is larger than" in message and "a scenario is a few kilobytes" in message


def test_the_bounds_leave_room_for_every_shipped_scenario():
    for path in Path(__file__).parents[1].joinpath("scenarios").glob("*.yaml"):
        load_scenario(path)


# --------------------------------------------------------------------------- scenarios that validated and then crashed
def _one_initial_network() -> str:
    from sim.scenario.schema import Scenario

    others = ", ".join(f"{name}: 0" for name in Scenario().networks.initial_per_10k if name != "phishing")
    return f"networks: {{initial_per_10k: {{phishing: 167, {others}}}}}\n"  # one network at 60 persons


# 60 persons have founders for one network, not the default ten
SMALL_RUN = "name: small\nsteps: 3\nburn_in_years: 0\npopulation: {size: 60, neighbourhood_size: 30}\n" + _one_initial_network()


def run_three_steps(path: Path):
    from sim.model import RecruitModel

    model = RecruitModel(load_scenario(path))
    for _ in range(3):
        model.step()
    return model


@pytest.mark.parametrize("section", ["venues", "online_spaces"])
def test_a_scenario_without_venues_or_online_spaces_runs(tmp_path, section):
    from sim.scenario.schema import Scenario

    removed = ", ".join(f"{name}: null" for name in getattr(Scenario().places, section))
    path = write(tmp_path, SMALL_RUN + f"places: {{{section}: {{{removed}}}}}\ninterventions: []\n")
    assert run_three_steps(path).steps == 3


@pytest.mark.parametrize("key", ["at: 1.0e+306", "at: 1.0e+308", "from: 0, every: 1.0e+306"])
def test_an_intervention_time_beyond_any_run_is_one_line(tmp_path, key):
    message = one_line_error(write(tmp_path, SMALL_RUN + f"interventions: [{{type: arrests, {key}}}]\n"))
    assert "interventions[0]" in message and "must be <= 100000" in message


def test_beta_shapes_near_zero_are_one_line(tmp_path):
    message = one_line_error(write(tmp_path, SMALL_RUN.replace("}\n", ", it_skill: {a: 1.0e-300, b: 1.0e-6}}\n")))
    assert "population.it_skill.a: must be >= 0.1" in message


def test_validate_refuses_an_intervention_period_the_model_would_refuse(tmp_path):
    path = write(tmp_path, SMALL_RUN + "step: month\ninterventions: [{type: awareness_campaign, from: 1, until: 1.01}]\n")
    message = one_line_error(path)
    assert message.startswith(f"{path}: interventions[0]: from year 1 until year 1.01 rounds to no whole step")


# --------------------------------------------------------------------------- void and conflicting interventions
def invoke(*args):
    from click.testing import CliRunner

    from sim.cli import cli

    return CliRunner().invoke(cli, [str(arg) for arg in args])


def warning_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("warning: ")]


def test_two_takedowns_of_one_space_warn_in_one_line(tmp_path):
    path = write(tmp_path, SMALL_RUN + "interventions:\n  - {type: forum_takedown, target: open_forum_a, at: 0.01}\n"
                                       "  - {type: forum_takedown, target: open_forum_a, at: 0.02, label: again}\n")
    result = invoke("validate", path)
    assert result.exit_code == 0, result.output
    expected = (f"warning: {path}: interventions[1] (again): 'open_forum_a' is already taken down from year 0.01 "
                "by interventions[0] (forum_takedown:open_forum_a), so this takes it down again to no effect")
    assert warning_lines(result) == [expected]


def test_infiltrating_a_space_taken_down_warns(tmp_path):
    path = write(tmp_path, SMALL_RUN + "interventions:\n  - {type: forum_takedown, target: open_forum_a, at: 0.01}\n"
                                       "  - {type: forum_infiltration, target: open_forum_a, at: 0.02}\n")
    (line,) = warning_lines(invoke("validate", path))
    assert "interventions[1] (forum_infiltration:open_forum_a): 'open_forum_a' is already taken down" in line
    assert line.endswith("so this infiltrates it to no effect")


def test_an_infiltration_before_the_takedown_is_fine(tmp_path):
    path = write(tmp_path, SMALL_RUN + "interventions:\n  - {type: forum_takedown, target: open_forum_a, at: 0.04}\n"
                                       "  - {type: forum_infiltration, target: open_forum_a, at: 0}\n")
    assert warning_lines(invoke("validate", path)) == []


def test_an_intervention_after_the_last_step_warns_in_validate_and_run(tmp_path):
    path = write(tmp_path, SMALL_RUN + "interventions: [{type: bank_hardening, at: 5}]\n")
    expected = (f"warning: {path}: interventions[0] (bank_hardening): starts at year 5, after the last step "
                "(the run lasts 0.05769 years), so it has no effect")
    assert warning_lines(invoke("validate", path)) == [expected]
    result = invoke("run", path, "--out", tmp_path / "out", "--quiet")
    assert result.exit_code == 0, result.output
    assert warning_lines(result) == [expected]


def test_arrests_of_a_negative_network_id_are_one_line(tmp_path):
    message = one_line_error(write(tmp_path, SMALL_RUN + "interventions: [{type: arrests, targeting: network, network: -1, at: 0}]\n"))
    assert "network ids start at 0, got -1" in message


def test_arrests_of_a_network_that_does_not_exist_warn_once_while_running(tmp_path):
    path = write(tmp_path, SMALL_RUN + "interventions: [{type: arrests, targeting: network, network: 999, at: 0, every: 0.02}]\n")
    result = invoke("run", path, "--out", tmp_path / "out", "--quiet")
    assert result.exit_code == 0, result.output
    (line,) = warning_lines(result)
    assert line.startswith("warning: arrests:network:999: network 999 does not exist at year 0 (")
    assert "no one is arrested" in line


def test_more_initial_networks_than_founders_warn_in_one_line(tmp_path):
    path = write(tmp_path, SMALL_RUN.replace("phishing: 167", "phishing: 10000"))
    result = invoke("run", path, "--out", tmp_path / "out", "--quiet")
    assert result.exit_code == 0, result.output
    (line,) = warning_lines(result)
    assert line.startswith("warning: networks.initial_per_10k asks for ") and "lower networks.initial_per_10k" in line
    assert "Traceback" not in result.output and len(result.stderr.splitlines()) == 1


# --------------------------------------------------------------------------- memory
@pytest.fixture
def two_gib_available(monkeypatch):
    import sim.resources

    monkeypatch.setattr(sim.resources, "available_bytes", lambda: 2 * sim.resources.GIB)


def test_a_population_the_machine_cannot_hold_is_refused_before_any_work(tmp_path, two_gib_available, monkeypatch):
    import sim.runner

    monkeypatch.setattr(sim.runner, "simulate", lambda *a, **k: pytest.fail("the model was built"))
    result = invoke("run", write(tmp_path, SMALL_RUN), "--set", "population.size=10000000", "--out", tmp_path / "out")
    assert result.exit_code == 2 and result.stderr.splitlines() == [
        "error: population.size 10,000,000 needs about 24.1 GiB of memory and 2.0 GiB is available; "
        "lower population.size or run on a larger machine"]
    assert not (tmp_path / "out").exists()


def test_compare_counts_every_local_worker(tmp_path, two_gib_available):
    path = write(tmp_path, SMALL_RUN)
    result = invoke("compare", path, "--set", "population.size=400000", "--workers", "2", "--reps", "2", "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: small: population.size 400,000 needs about 2.4 GiB of memory (2 concurrent runs of 1.2 GiB each)")
    assert line.endswith("use fewer --workers or run on a larger machine") and not (tmp_path / "out").exists()


def test_what_fits_runs():
    from sim.resources import check_memory, estimated_bytes

    check_memory(60)
    assert estimated_bytes(10_000_000) > 20 * 2**30  # the schema's largest population needs more than most machines have


# --------------------------------------------------------------------------- comparisons: lazy tasks, scheduler address
class RecordingExecutor:
    """Completes each task at once with a stand-in result, recording how many tasks existed then."""

    def __init__(self, made: list):
        self.made, self.made_at_submit = made, []

    def submit(self, fn, task):
        from concurrent.futures import Future

        from sim.experiment.replicate import ShardResult

        self.made_at_submit.append(len(self.made))
        future = Future()
        future.set_result(ShardResult(task.scenario_name, task.rep, None, [], 0.0, False, {}))
        return future


def test_tasks_are_made_as_they_are_submitted(tmp_path, monkeypatch):
    import sim.experiment.comparison as comparison
    from sim.experiment.backends import Backend
    from sim.experiment.spec import load_experiment

    made: list = []
    real = comparison.RunTask
    monkeypatch.setattr(comparison, "RunTask", lambda *args: made.append(args) or real(*args))
    spec = load_experiment([write(tmp_path, SMALL_RUN)], reps=1_000_000)
    executor = RecordingExecutor(made)
    results = comparison.execute(comparison.make_tasks(spec, tmp_path / "out"), Backend(executor, 1, "recording"))
    first = [next(results) for _ in range(3)]
    assert [r.rep for r in first] == [0, 1, 2]
    assert executor.made_at_submit == [1, 2, 3]  # not a million tasks before the first is submitted


@pytest.mark.parametrize("address", ["not a url", "tcp://", "http://host:8786", "tcp://host:port", "host:8786:1"])
def test_a_bad_scheduler_address_is_one_line_at_once(tmp_path, address, monkeypatch):
    import sim.experiment

    monkeypatch.setattr(sim.experiment, "load_experiment", lambda *a, **k: pytest.fail("went on to load the scenarios"))
    result = invoke("compare", write(tmp_path, SMALL_RUN), "--scheduler", address, "--out", tmp_path / "out")
    assert result.exit_code == 2 and result.stderr.splitlines() == [
        f"error: --scheduler {address!r} is not a Dask scheduler address; expected e.g. tcp://HOST:8786 "
        "(what `dask scheduler` prints as 'Scheduler at:')"]


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "localhost:8786", "tls://[::1]:8786", "tcp://dask-scheduler:8786"])
def test_good_scheduler_addresses_pass(address):
    from sim.experiment.backends import check_scheduler_address

    assert check_scheduler_address(address) == address
