"""Scenarios ship inside the package: found by name (`recruitsim run baseline`), listed and copied
(`recruitsim scenarios`), and present in an installed wheel, run by name outside the checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import cli
from sim.errors import ScenarioError
from sim.scenario import load_scenario
from sim.scenario.bundled import BUNDLED_DIR, bundled_scenarios, copy_scenario, find_scenario

ROOT = Path(__file__).resolve().parents[1]
TINY_RUN = ("--set", "population.size=300", "--set", "population.neighbourhood_size=150", "--set", "steps=2", "--quiet")


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def test_every_scenario_of_the_repository_is_bundled():
    assert sorted(p.name for p in bundled_scenarios().values()) == sorted(p.name for p in (ROOT / "scenarios").glob("*.yaml"))
    assert (BUNDLED_DIR / "README.md").is_file()


def test_a_bundled_scenario_is_found_by_name_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_scenario("baseline") == BUNDLED_DIR / "baseline.yaml"
    assert find_scenario("forum_takedown.yaml") == BUNDLED_DIR / "forum_takedown.yaml"


def test_a_file_that_exists_wins_over_a_bundled_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "baseline.yaml").write_text("steps: 3\n", encoding="utf-8")
    assert find_scenario("baseline.yaml") == Path("baseline.yaml")


def test_an_unknown_name_is_one_line_with_a_suggestion(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError, match=r"^basline: no such file, and no bundled scenario of that name \(did you mean 'baseline'\?\)") as caught:
        find_scenario("basline")
    assert "\n" not in str(caught.value)
    assert find_scenario("sub/missing.yaml") == Path("sub/missing.yaml")  # a path: the loader says what is missing


def test_run_a_bundled_scenario_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", "baseline", "--out", "out", *TINY_RUN)
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["scenario"]["name"] == "baseline"


def test_validate_accepts_bundled_names_and_names_an_unknown_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke("validate", "baseline", "core_arrests").exit_code == 0
    result = invoke("validate", "core_arrest")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "did you mean 'core_arrests'" in result.stderr


def test_scenarios_lists_every_bundled_scenario_with_its_description():
    result = invoke("scenarios")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == list(bundled_scenarios())
    baseline = next(line for line in lines if line.startswith("baseline "))
    assert load_scenario(BUNDLED_DIR / "baseline.yaml").description.split()[0] in baseline
    assert invoke("scenarios", "list").output == result.output


def test_copy_writes_the_scenario_and_what_it_extends_so_the_copy_runs_there(tmp_path):
    result = invoke("scenarios", "copy", "forum_takedown", "--to", tmp_path)
    assert result.exit_code == 0, result.output
    assert sorted(Path(line).name for line in result.output.splitlines()) == ["baseline.yaml", "forum_takedown.yaml"]
    copied = load_scenario(tmp_path / "forum_takedown.yaml")
    assert copied == load_scenario(BUNDLED_DIR / "forum_takedown.yaml")


def test_copy_refuses_to_overwrite_unless_asked(tmp_path):
    copy_scenario("baseline", tmp_path)
    (tmp_path / "baseline.yaml").write_text("steps: 3\n", encoding="utf-8")
    result = invoke("scenarios", "copy", "baseline", "--to", tmp_path)
    assert result.exit_code == 2 and "already exists (give --overwrite" in result.stderr and result.stderr.count("\n") == 1
    assert (tmp_path / "baseline.yaml").read_text(encoding="utf-8") == "steps: 3\n"
    assert invoke("scenarios", "copy", "baseline", "--to", tmp_path, "--overwrite").exit_code == 0
    assert load_scenario(tmp_path / "baseline.yaml") == load_scenario(BUNDLED_DIR / "baseline.yaml")


def test_copy_of_an_unknown_name_is_one_line(tmp_path):
    result = invoke("scenarios", "copy", "nothing", "--to", tmp_path)
    assert result.exit_code == 2 and result.stderr.startswith("error: nothing: no bundled scenario") and not list(tmp_path.iterdir())


# --------------------------------------------------------------------------- an installed wheel
def build_wheel(dest: Path) -> Path:
    """The wheel of a copy of the sources (the build writes build/ and *.egg-info next to them)."""
    source = dest / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "sim", source / "sim", ignore=ignore)  # follows sim/scenarios -> ../scenarios
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    # no build isolation: the build uses this environment's setuptools (dev extra), no network
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(dest / "dist"), str(source)],
                   check=True, capture_output=True)
    return next((dest / "dist").glob("recruitsim-*.whl"))


def venv_with_wheel(path: Path, wheel: Path, env: dict) -> Path:
    """A fresh venv with the wheel installed, that also sees this environment's dependencies
    (Mesa, numpy, ...) but not recruitsim: a plain path line in a .pth adds their directory
    without running its .pth files, so the editable install of the checkout stays out. The
    line is written after the install, so pip does not take the editable install for this one."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "--quiet", str(wheel)],
                   check=True, capture_output=True, env=env)
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True, env=env).stdout.strip()
    Path(purelib, "project_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    return python


def test_an_installed_wheel_runs_a_bundled_scenario_by_name_outside_the_checkout(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}  # nothing of the checkout
    python = venv_with_wheel(tmp_path / "venv", build_wheel(tmp_path), env)
    work = tmp_path / "work"
    work.mkdir()
    where = subprocess.run([python, "-c", "import sim; print(sim.__file__)"], cwd=work, env=env, capture_output=True, text=True)
    assert where.returncode == 0, where.stderr
    assert not Path(where.stdout.strip()).is_relative_to(ROOT), "the test must import the installed package, not the checkout"
    run = subprocess.run([tmp_path / "venv" / "bin" / "recruitsim", "run", "forum_takedown", "--out", "out", *TINY_RUN],
                         cwd=work, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    manifest = json.loads((work / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["scenario"]["name"] == "forum_takedown"
    listed = subprocess.run([tmp_path / "venv" / "bin" / "recruitsim", "scenarios"], cwd=work, env=env, capture_output=True, text=True, check=True)
    assert [line.split()[0] for line in listed.stdout.splitlines()] == list(bundled_scenarios())
