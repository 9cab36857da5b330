"""Outputs: the writer (round trips, atomicity, overwrite), the manifest, the figure and the runner."""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pandas as pd
import pytest

import sim
import sim.outputs.writer as writer
import sim.runner as runner
from sim.errors import OutputError
from sim.outputs.manifest import VERSIONED_PACKAGES, build_manifest
from sim.outputs.plots import DPI, FIGSIZE, plot_composition
from sim.outputs.results import RunResults
from sim.outputs.writer import check_out_dir, read_run, write_run
from sim.scenario.schema import Scenario
from sim.vocabulary import CHANNELS, LAYERS, ORIGINS, ROLES, SPECIALISMS, STEPS_PER_YEAR

EVENT_KINDS = ("recruit_attempt", "arrest", "release", "desist", "promoted", "network_founded", "network_dissolved", "exit")
APPROACH_CHANNELS = tuple(c for c in CHANNELS if c != "founder")
ONLINE_CHANNELS = ("forums", "adverts")


# --------------------------------------------------------------------------- synthetic results
def synthetic_results(scenario: Scenario, seed: int = 0) -> RunResults:
    """Results with exactly the columns and dtypes of the output contract, plausible-looking values."""
    rng = np.random.default_rng(seed)
    return RunResults(
        timeseries=_timeseries(scenario, rng),
        networks=_networks(scenario, rng),
        events=_events(scenario, rng),
    )


def _counts(rng, mean, n: int) -> np.ndarray:
    return rng.poisson(np.broadcast_to(mean, (n,))).astype("int64")


def _timeseries(scenario: Scenario, rng) -> pd.DataFrame:
    n = scenario.steps
    step = np.arange(1, n + 1, dtype="int64")
    year = step / STEPS_PER_YEAR[scenario.step]
    growth = 1 - np.exp(-year / 2)  # networks fill up over the first years
    ts: dict[str, np.ndarray] = {"step": step, "year": year, "population": _counts(rng, 10_000, n), "in_prison": _counts(rng, 5 * growth, n)}
    role_sizes = {"core": 20, "technical_enabler": 12, "recruiter": 8, "money_mule": 40}
    members = {role: _counts(rng, role_sizes[role] * growth, n) for role in ROLES}
    ts["involved"] = sum(members.values())
    ts |= {f"members_{role}": members[role] for role in ROLES}
    networks = {origin: _counts(rng, (4 - i) * growth + 0.5 * i * year / year[-1], n) for i, origin in enumerate(ORIGINS)}
    ts["networks_active"] = sum(networks.values())
    ts |= {f"networks_{origin}": networks[origin] for origin in ORIGINS}
    recruits = {channel: _counts(rng, 0.2 + 0.3 * i * year / year[-1], n) for i, channel in enumerate(CHANNELS)}
    ts |= {f"recruits_{channel}": recruits[channel] for channel in CHANNELS}
    online_self = rng.binomial(recruits["self_selection"], 0.5).astype("int64")
    ts["recruits_online"] = sum(recruits[c] for c in ONLINE_CHANNELS) + online_self
    ts["recruits_offline"] = recruits["offline_ties"] + recruits["offline_venues"] + recruits["self_selection"] - online_self
    for channel in APPROACH_CHANNELS:
        refusals = _counts(rng, 3, n)
        ts[f"attempts_{channel}"] = refusals + recruits[channel]
        ts[f"refusals_{channel}"] = refusals
    ts["offences"] = _counts(rng, 10 * growth, n)
    ts["victims"] = ts["offences"] * 3
    ts["losses"] = ts["victims"] * rng.lognormal(np.log(1500), 1.0, n)
    for column in ("arrests", "desistances", "networks_founded", "networks_dissolved"):
        ts[column] = _counts(rng, 0.3, n)
    ts |= {f"active_users_{space}": _counts(rng, 200, n) for space in scenario.places.online_spaces}
    ts |= {f"ties_{layer}": _counts(rng, 30_000, n) for layer in LAYERS}
    return pd.DataFrame(ts)


def _networks(scenario: Scenario, rng) -> pd.DataFrame:
    every = scenario.outputs.snapshot_every
    snapshots = sorted({*range(every, scenario.steps + 1, every), scenario.steps})
    rows = []
    for step in snapshots:
        for network_id in range(3):
            by_role = {f"members_{role}": int(rng.integers(0, 5)) for role in ROLES}
            size = sum(by_role.values())
            by_channel = dict.fromkeys((f"members_{c}" for c in CHANNELS), 0)
            by_channel["members_founder"] = min(size, 1)
            by_channel["members_offline_ties"] = size - by_channel["members_founder"]
            rows.append({
                "step": step, "network_id": network_id, "business_model": "phishing",
                "status": "active" if network_id else "dissolved", "size": size, **by_role, **by_channel,
                "origin": ORIGINS[network_id], "capability": float(rng.uniform()), "neighbourhoods": int(rng.integers(1, 4)),
                "founded_step": 0, "offences_total": int(rng.integers(0, 50)), "losses_total": float(rng.uniform(0, 1e5)),
            })
    frame = pd.DataFrame(rows)
    ints = [c for c in frame.columns if c not in ("business_model", "status", "origin", "capability", "losses_total")]
    return frame.astype(dict.fromkeys(ints, "int64"))


def _events(scenario: Scenario, rng) -> pd.DataFrame:
    n = 200
    kind = rng.choice(EVENT_KINDS, n)
    attempt = kind == "recruit_attempt"
    channel = np.where(attempt, rng.choice(APPROACH_CHANNELS, n), "")
    medium = np.where(np.isin(channel, ONLINE_CHANNELS), "online", np.where(attempt, "offline", ""))
    return pd.DataFrame({
        "step": np.sort(rng.integers(1, scenario.steps + 1, n)).astype("int64"),
        "kind": kind,
        "network_id": np.where(kind == "release", -1, rng.integers(0, 3, n)).astype("int64"),
        "person_id": rng.integers(0, 10_000, n).astype("int64"),
        "channel": channel,
        "medium": medium,
        "role": np.where(attempt, rng.choice(ROLES, n), ""),
        "accepted": attempt & (rng.uniform(size=n) < 0.3),
        "age": rng.uniform(14, 60, n),
        "sex": rng.choice(["F", "M"], n),
        "it_skill": rng.uniform(size=n),
        "specialism": rng.choice(SPECIALISMS, n),
    })


# --------------------------------------------------------------------------- fixtures
@pytest.fixture
def scenario() -> Scenario:
    return Scenario(name="synthetic", steps=156, seed=7)


@pytest.fixture
def results(scenario) -> RunResults:
    return synthetic_results(scenario)


@pytest.fixture
def manifest(scenario) -> dict:
    return build_manifest(scenario, seed_info={"seed": scenario.seed, "entropy": np.uint64(12345)}, wall_time_s=2.0, steps=scenario.steps, source=None)


def _leftovers(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


# --------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_round_trip_keeps_every_table(tmp_path, results, manifest, fmt):
    out = write_run(results, tmp_path / "run", fmt=fmt, manifest=manifest)

    assert _leftovers(out) == sorted(["composition.png", "manifest.json", f"events.{fmt}", f"networks.{fmt}", f"timeseries.{fmt}"])
    back = read_run(out)
    for name in ("timeseries", "networks", "events"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(results, name), check_exact=(fmt == "parquet"))


def test_csv_keeps_empty_strings_and_missing_numbers_apart(tmp_path, results, manifest):
    results.networks.loc[0, "capability"] = np.nan
    out = write_run(results, tmp_path / "run", fmt="csv", manifest=manifest, plot=False)

    back = read_run(out)
    assert np.isnan(back.networks.loc[0, "capability"])
    assert (back.events["channel"] == "").sum() == (results.events["channel"] == "").sum()


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_empty_tables_round_trip(tmp_path, results, manifest, fmt):
    empty = RunResults(timeseries=results.timeseries, networks=pd.DataFrame(), events=results.events.iloc[:0])
    back = read_run(write_run(empty, tmp_path / "run", fmt=fmt, manifest=manifest, plot=False))

    assert back.networks.empty and back.events.empty
    assert list(back.events.columns) == list(results.events.columns)


def test_contract_dtypes_survive_parquet(tmp_path, results, manifest):
    back = read_run(write_run(results, tmp_path / "run", manifest=manifest, plot=False))

    assert back.timeseries["losses"].dtype == "float64"
    assert back.timeseries["members_core"].dtype == "int64"
    assert back.events["accepted"].dtype == bool


def test_unknown_format_is_a_user_error(tmp_path, results, manifest):
    with pytest.raises(OutputError, match="unknown output format"):
        write_run(results, tmp_path / "run", fmt="xlsx", manifest=manifest)
    assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------------- atomicity
@pytest.mark.parametrize("error", [RuntimeError("plot failed"), KeyboardInterrupt()])
def test_failure_midway_leaves_nothing(tmp_path, results, manifest, monkeypatch, error):
    def broken_plot(*args, **kwargs):
        raise error

    monkeypatch.setattr(writer, "plot_composition", broken_plot)
    with pytest.raises(type(error)):
        write_run(results, tmp_path / "run", manifest=manifest)
    assert _leftovers(tmp_path) == []


def test_failure_while_overwriting_keeps_the_old_run(tmp_path, results, manifest, monkeypatch):
    out = write_run(results, tmp_path / "run", manifest=manifest, plot=False)
    before = (out / "manifest.json").read_text()
    monkeypatch.setattr(writer, "plot_composition", lambda *a, **k: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        write_run(results, out, manifest={**manifest, "wall_time_s": 99.0}, overwrite=True)
    assert _leftovers(tmp_path) == ["run"]
    assert (out / "manifest.json").read_text() == before


def test_temporary_directory_is_a_hidden_sibling(tmp_path, results, manifest, monkeypatch):
    seen = []

    def spy_plot(timeseries, path, title, **options):
        seen.append(path.parent)
        raise RuntimeError("stop here")

    monkeypatch.setattr(writer, "plot_composition", spy_plot)
    with pytest.raises(RuntimeError):
        write_run(results, tmp_path / "run", manifest=manifest)
    assert seen[0].parent == tmp_path
    assert seen[0].name.startswith(".run.tmp-")


def test_run_directory_permissions_follow_the_umask(tmp_path, results, manifest):
    previous = os.umask(0o022)
    try:
        out = write_run(results, tmp_path / "run", manifest=manifest, plot=False)
    finally:
        os.umask(previous)
    assert out.stat().st_mode & 0o777 == 0o755  # readable by colleagues, like any new directory


# --------------------------------------------------------------------------- overwrite
def test_existing_run_is_refused_without_overwrite(tmp_path, results, manifest):
    out = write_run(results, tmp_path / "run", manifest=manifest, plot=False)

    with pytest.raises(OutputError) as refused:
        write_run(results, out, manifest=manifest, plot=False)
    message = str(refused.value)
    assert "--overwrite" in message and "--out" in message and "\n" not in message
    with pytest.raises(OutputError):
        check_out_dir(out, overwrite=False)


def test_overwrite_replaces_the_old_run(tmp_path, results, manifest):
    out = write_run(results, tmp_path / "run", fmt="csv", manifest=manifest, plot=False)
    (out / "stale.txt").write_text("from the old run")

    write_run(results, out, manifest={**manifest, "wall_time_s": 42.0}, overwrite=True)
    assert "stale.txt" not in _leftovers(out) and "timeseries.parquet" in _leftovers(out)
    assert json.loads((out / "manifest.json").read_text())["wall_time_s"] == 42.0
    assert _leftovers(tmp_path) == ["run"]


def test_overwrite_never_deletes_a_directory_that_is_not_a_run(tmp_path, results, manifest):
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("years of work")

    with pytest.raises(OutputError, match="not a recruitsim run"):
        write_run(results, precious, manifest=manifest, overwrite=True)
    assert _leftovers(precious) == ["chapter1.tex"]


def test_empty_existing_directory_is_used(tmp_path, results, manifest):
    (tmp_path / "run").mkdir()
    out = write_run(results, tmp_path / "run", manifest=manifest, plot=False)
    assert (out / "manifest.json").is_file()


def test_a_file_in_the_way_is_refused(tmp_path):
    (tmp_path / "run").write_text("")
    with pytest.raises(OutputError, match="not a directory"):
        check_out_dir(tmp_path / "run", overwrite=True)


def test_missing_parents_are_created(tmp_path, results, manifest):
    out = write_run(results, tmp_path / "a" / "b" / "run", manifest=manifest, plot=False)
    assert (out / "events.parquet").is_file()


# --------------------------------------------------------------------------- manifest
def test_manifest_is_json_with_versions_scenario_and_files(tmp_path, scenario, results, manifest):
    out = write_run(results, tmp_path / "run", manifest=manifest)

    written = json.loads((out / "manifest.json").read_text())
    assert written["scenario"] == scenario.model_dump(mode="json")
    assert Scenario.model_validate(written["scenario"]) == scenario  # a manifest re-runs the same scenario
    assert set(written["versions"]) == {"python", "recruitsim", *VERSIONED_PACKAGES}
    assert written["versions"]["recruitsim"] == sim.__version__
    assert all(written["versions"][name] for name in VERSIONED_PACKAGES)
    assert written["seed"] == {"seed": 7, "entropy": 12345}
    assert written["steps_per_second"] == pytest.approx(scenario.steps / 2.0)
    assert written["files"] == {
        "timeseries.parquet": len(results.timeseries),
        "networks.parquet": len(results.networks),
        "events.parquet": len(results.events),
        "composition.png": None,
    }
    assert set(written["git"]) == {"commit", "dirty"}


def test_manifest_survives_without_git(scenario, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no git executable to be found
    built = build_manifest(scenario, seed_info={}, wall_time_s=0.0, steps=1, source=tmp_path / "s.yaml")
    assert built["git"] == {"commit": None, "dirty": None}
    assert built["steps_per_second"] is None
    assert built["scenario_source"] == str((tmp_path / "s.yaml").resolve())


# --------------------------------------------------------------------------- figure
def test_composition_png_is_written_at_the_documented_size(tmp_path, results):
    path = plot_composition(results.timeseries, tmp_path / "c.png", "synthetic")

    assert path.stat().st_size > 10_000
    assert _png_size(path) == (round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI))


def test_composition_plots_a_run_shorter_than_a_year(tmp_path):
    short = synthetic_results(Scenario(steps=10))
    path = plot_composition(short.timeseries, tmp_path / "c.png", "short")
    assert path.stat().st_size > 10_000


# --------------------------------------------------------------------------- runner
class FakeModel:
    """Stands in for sim.model.RecruitModel: same calls, synthetic contract-conforming results."""

    built = 0

    def __init__(self, scenario):
        FakeModel.built += 1
        self.scenario = scenario
        self.steps_taken = 0

    def step(self):
        self.steps_taken += 1

    def results(self):
        assert self.steps_taken == self.scenario.steps
        return synthetic_results(self.scenario)

    def seed_info(self):
        return {"seed": self.scenario.seed, "spawn_key": []}

    class intervention_schedule:  # noqa: N801 - stands in for the model's attribute
        @staticmethod
        def marks():
            return []


@pytest.fixture
def fake_model(monkeypatch):
    FakeModel.built = 0
    monkeypatch.setattr(runner, "_make_model", FakeModel)
    return FakeModel


def test_runner_writes_everything_quietly(tmp_path, scenario, fake_model, capsys):
    out = runner.run_scenario(scenario, tmp_path / "run", quiet=True, source=tmp_path / "scenario.yaml")

    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert _leftovers(out) == ["composition.png", "events.parquet", "manifest.json", "networks.parquet", "timeseries.parquet"]
    written = json.loads((out / "manifest.json").read_text())
    assert written["steps"] == scenario.steps and written["seed"]["seed"] == scenario.seed
    assert written["scenario_source"].endswith("scenario.yaml")


def test_runner_shows_progress_unless_quiet(tmp_path, scenario, fake_model, capsys):
    runner.run_scenario(scenario, tmp_path / "run", fmt="csv", overwrite=False)
    assert "step" in capsys.readouterr().err


def test_runner_fails_before_running_when_the_out_dir_is_taken(tmp_path, scenario, fake_model):
    taken = tmp_path / "run"
    taken.mkdir()
    (taken / "manifest.json").write_text("{}")

    with pytest.raises(OutputError, match="--overwrite"):
        runner.run_scenario(scenario, taken, quiet=True)
    with pytest.raises(OutputError, match="unknown output format"):
        runner.run_scenario(scenario, tmp_path / "other", fmt="xlsx", quiet=True)
    assert fake_model.built == 0


def test_runner_default_out_dir_is_under_runs(tmp_path, scenario, fake_model, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = runner.run_scenario(scenario, None, quiet=True)
    assert out.parent == runner.RUNS_DIR and out.name.startswith("synthetic-")
    assert (tmp_path / out / "manifest.json").is_file()


def test_default_out_dir_cannot_escape_runs():
    from datetime import datetime

    out = runner.default_out_dir(Scenario(name="../a b/c"), now=datetime(2025, 1, 2, 3, 4, 5))
    assert out == runner.RUNS_DIR / "a_b_c-20250102-030405"


def test_interrupted_run_leaves_no_directory(tmp_path, scenario, monkeypatch):
    class InterruptedModel(FakeModel):
        def step(self):
            raise KeyboardInterrupt

    monkeypatch.setattr(runner, "_make_model", InterruptedModel)
    with pytest.raises(KeyboardInterrupt):
        runner.run_scenario(scenario, tmp_path / "run", quiet=True)
    assert _leftovers(tmp_path) == []


def test_the_event_log_holds_each_calls_values_as_given_at_the_call():
    """An event's columns: a scalar (a Python number, a numpy scalar or a 0-d array) fills its
    call's rows, an array gives one value a row; arrays and 0-d arrays are copied at the call,
    so that a caller changing its own array later cannot rewrite the log."""
    from sim.outputs.recorder import EventLog
    from sim.population import Population
    from sim.timing import Clock
    from sim.rng import Streams

    streams = Streams(3)
    pop = Population(Scenario().population.model_copy(update={"size": 50}), Clock("week"), streams.get("population"), streams.process("population"))
    log = EventLog(pop)
    persons, networks, channel = np.array([4, 7, 9]), np.array([1, 2, 3]), np.asarray(2)
    log.add(12, "recruit_attempt", persons, network=networks, channel=channel, medium=np.int8(1), role=np.array([0, 1, 2]), accepted=True)
    log.add(13, "arrest", [5], network=8, accepted=np.array([False]))
    log.add(14, "exit", np.zeros(0, np.int64))  # no one: no rows
    networks[:], channel[()] = -5, 0  # the caller's arrays change after the calls
    frame = log.frame()
    assert frame["step"].tolist() == [12, 12, 12, 13] and frame["network_id"].tolist() == [1, 2, 3, 8]
    assert frame["kind"].tolist() == ["recruit_attempt"] * 3 + ["arrest"]
    assert frame["channel"].tolist() == [CHANNELS[2]] * 3 + [""] and frame["role"].tolist() == [ROLES[0], ROLES[1], ROLES[2], ""]
    assert frame["accepted"].tolist() == [True, True, True, False] and frame["person_id"].tolist() == pop.person_id[[4, 7, 9, 5]].tolist()
