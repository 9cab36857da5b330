"""The command line: bad input is one `error:` line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim import __version__
from sim.cli import cli
from sim.scenario.docs import render_markdown

DATA = Path(__file__).parent / "data"
DOCS = Path(__file__).parents[1] / "docs" / "scenarios.md"


@pytest.fixture
def fake_runner(monkeypatch):
    """Stands in for sim.runner: records its calls, writes nothing."""
    calls = []

    def run_scenario(scenario, out_dir, *, fmt="parquet", quiet=False, overwrite=False, source=None, replication=(), on_done=None,
                     figure_format="png"):
        calls.append({"scenario": scenario, "out_dir": out_dir, "fmt": fmt, "quiet": quiet, "overwrite": overwrite, "source": source,
                      "replication": replication, "figure_format": figure_format})
        return out_dir or Path("runs") / scenario.name

    monkeypatch.setitem(sys.modules, "sim.runner", types.SimpleNamespace(run_scenario=run_scenario))
    return calls


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def assert_input_error(result, message: str) -> None:
    """Exit code 2 and exactly one stderr line, `error: <message>`, with no traceback."""
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [f"error: {message}"]
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- run
def test_run_loads_the_scenario_calls_the_runner_and_prints_the_output(fake_runner, tmp_path):
    out = tmp_path / "out"
    result = invoke("run", DATA / "child.yaml", "--out", out, "--seed", "7", "--set", "steps=3", "--format", "csv", "--quiet", "--overwrite")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    (call,) = fake_runner
    assert (call["scenario"].name, call["scenario"].seed, call["scenario"].steps, call["scenario"].population.size) == ("child", 7, 3, 300)
    assert (call["out_dir"], call["fmt"], call["quiet"], call["overwrite"], call["source"]) == (out, "csv", True, True, DATA / "child.yaml")


def test_run_passes_the_defaults_to_the_runner(fake_runner):
    result = invoke("run", DATA / "base.yaml")
    assert result.exit_code == 0, result.output
    (call,) = fake_runner
    assert (call["out_dir"], call["fmt"], call["quiet"], call["overwrite"], call["scenario"].seed) == (None, "parquet", False, False, 1)


def test_replication_is_passed_as_comparisons_key(fake_runner):
    assert invoke("run", DATA / "base.yaml").exit_code == 0
    assert invoke("run", DATA / "base.yaml", "--replication", "3").exit_code == 0
    assert [call["replication"] for call in fake_runner] == [(), (3,)]


def manifest_of(tmp_path: Path, scenario: dict, replication: list[int]) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"scenario": scenario, "seed": {"seed": scenario["seed"], "replication": replication}}), encoding="utf-8")
    return path


def test_a_manifest_is_run_with_its_own_scenario_and_replication(fake_runner, tmp_path):
    from sim.scenario import load_scenario

    child = load_scenario(DATA / "child.yaml", ["places.venues.hangout=null"])
    manifest = manifest_of(tmp_path, child.resolved(), [2])
    for given in (manifest, tmp_path):  # the file, or the run directory holding it
        assert invoke("run", given, "--quiet").exit_code == 0
    assert invoke("run", manifest, "--replication", "5").exit_code == 0
    assert all(call["scenario"] == child and "hangout" not in call["scenario"].places.venues for call in fake_runner)
    assert [call["replication"] for call in fake_runner] == [(2,), (2,), (5,)]
    assert fake_runner[0]["source"] == manifest


def test_a_manifest_cannot_be_changed_on_the_command_line(fake_runner, tmp_path):
    from sim.scenario import Scenario

    manifest = manifest_of(tmp_path, Scenario().resolved(), [])
    assert_input_error(invoke("run", manifest, "--set", "steps=3"),
                       f"{manifest}: a manifest is run again exactly as recorded; --seed and --set apply to scenario files only")
    assert fake_runner == []


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "not a readable manifest.json"),
    ("[1, 2]", "not a recruitsim manifest.json (it has no 'scenario')"),
    ('{"scenario": {"steps": 3}}', "a resolved scenario states every key; missing: name, description"),
])
def test_a_bad_manifest_is_one_error_line(fake_runner, tmp_path, text, message):
    manifest = write(tmp_path, text, "manifest.json")
    result = invoke("run", manifest)
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1 and message in result.stderr, result.output
    assert fake_runner == []


def test_seed_beats_a_set_of_the_seed(fake_runner):
    assert invoke("run", DATA / "base.yaml", "--set", "seed=3", "--seed", "5").exit_code == 0
    assert fake_runner[0]["scenario"].seed == 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "population.sise=3"], "{file}: population.sise: unknown key 'sise' (did you mean 'size'? allowed: "),
        (["--set", "xyz"], "--set 'xyz': expected KEY.PATH=VALUE"),
        (["--seed", "-1"], "{file}: seed: must be >= 0, got -1 (from --set seed=-1)"),
        (["--set", "step=year"], "{file}: step: 'year' is not allowed (allowed: day, week, month) (from --set step=year)"),
    ],
)
def test_run_with_bad_input_fails_before_the_runner_and_creates_no_output(fake_runner, tmp_path, args, message):
    file, out = DATA / "base.yaml", tmp_path / "out"
    result = invoke("run", file, "--out", out, *args)
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: " + message.format(file=file))
    assert "Traceback" not in result.output
    assert fake_runner == []
    assert not out.exists()


def test_run_with_a_missing_scenario_is_one_error_line(fake_runner, tmp_path):
    missing = tmp_path / "missing.yaml"
    assert_input_error(invoke("run", missing, "--out", tmp_path / "out"), f"{missing}: file not found")
    assert not (tmp_path / "out").exists()


def test_run_with_invalid_yaml_is_one_error_line(fake_runner, tmp_path):
    path = write(tmp_path, "a: 1\n b: 2\n")
    assert_input_error(invoke("run", path), f"{path}:2: YAML syntax error: mapping values are not allowed here "
                                            "(check the indentation: the keys of one mapping must line up, indented with spaces, not tabs)")


def test_an_error_raised_by_the_runner_is_one_error_line(monkeypatch, tmp_path):
    from sim.errors import OutputError

    def run_scenario(*args, **kwargs):
        raise OutputError(f"{tmp_path}: exists already (use --overwrite to replace it)")

    monkeypatch.setitem(sys.modules, "sim.runner", types.SimpleNamespace(run_scenario=run_scenario))
    assert_input_error(invoke("run", DATA / "base.yaml", "--out", tmp_path), f"{tmp_path}: exists already (use --overwrite to replace it)")


def test_an_inconsistent_kernel_cache_is_one_line_saying_how_to_recover(monkeypatch, tmp_path):
    """numba's failure to load a cached kernel's environment: one line naming the cache to delete.
    Any other RuntimeError is a bug, and keeps its traceback."""
    def run_scenario(*args, **kwargs):
        raise RuntimeError(failure)

    monkeypatch.setitem(sys.modules, "sim.runner", types.SimpleNamespace(run_scenario=run_scenario))
    failure = "In 'NRT_adapt_ndarray_to_python', 'descr' is NULL"
    result = invoke("run", DATA / "base.yaml", "--out", tmp_path / "out")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert result.stderr.startswith("error: the cache of compiled kernels is inconsistent") and "-name '*.nb[ic]' -delete" in result.stderr
    failure = "something else"
    result = invoke("run", DATA / "base.yaml", "--out", tmp_path / "out")
    assert isinstance(result.exception, RuntimeError) and str(result.exception) == "something else"


# --------------------------------------------------------------------------- validate
def test_validate_prints_one_ok_line_per_file():
    result = invoke("validate", DATA / "base.yaml", DATA / "variants" / "grandchild.yaml")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"ok: {DATA / 'base.yaml'} (base: 200 persons, 52 steps of one week)",
        f"ok: {DATA / 'variants' / 'grandchild.yaml'} (grandchild: 300 persons, 26 steps of one week)",
    ]


def test_validate_applies_set_as_run_does():
    ok = invoke("validate", "baseline", "--set", "population.size=2000", "--set", "steps=52")
    assert ok.exit_code == 0 and ok.output == "ok: baseline (baseline: 2000 persons, 52 steps of one week)\n"
    bad = invoke("validate", "baseline", "--set", "population.size=-1")
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1
    assert bad.stderr.startswith("error: ") and "population.size: must be" in bad.stderr and bad.stderr.endswith("(from --set population.size=-1)\n")


def test_validate_stops_at_the_first_invalid_file(tmp_path):
    bad = write(tmp_path, "population: {sise: 3}\n")
    result = invoke("validate", DATA / "base.yaml", bad, DATA / "child.yaml")
    assert result.exit_code == 2
    assert result.stdout.splitlines() == [f"ok: {DATA / 'base.yaml'} (base: 200 persons, 52 steps of one week)"]
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {bad}: population.sise: unknown key 'sise' (did you mean 'size'? allowed: size, ")


def test_validate_reports_an_extends_cycle():
    result = invoke("validate", DATA / "cycle_a.yaml")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {DATA / 'cycle_b.yaml'}: extends: cycle ")


def test_validate_needs_a_file():
    result = invoke("validate")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- schema, docs, version
def test_schema_prints_the_json_schema():
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert {"population", "recruitment", "steps"} <= set(schema["properties"])
    assert result.stdout.startswith('{\n  "$defs"')  # indent 2


def test_schema_markdown_prints_the_reference():
    result = invoke("schema", "--markdown")
    assert result.exit_code == 0
    assert result.stdout == render_markdown()


def test_the_scenario_reference_is_up_to_date():
    assert DOCS.read_text(encoding="utf-8") == render_markdown(), "docs/scenarios.md is out of date with the schema: run `make docs`"


def test_the_reference_documents_every_venue_and_rule():
    text = render_markdown()
    for key in ["`population.size`", "`places.venues.<name>.visit_rate`", "`school`", "`hangout`", "`recruitment.rules.forums.search_rate`", "`networks.business_models.<name>.roles.core`"]:
        assert key in text


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_python_dash_m_sim_is_the_command(tmp_path):
    import subprocess

    root = Path(__file__).parents[1]
    result = subprocess.run([sys.executable, "-m", "sim", "validate", str(tmp_path / "nope.yaml")], capture_output=True, text=True, cwd=root, check=False)
    assert result.returncode == 2
    assert result.stderr == f"error: {tmp_path / 'nope.yaml'}: file not found\n"
