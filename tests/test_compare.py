"""`recruitsim compare`: common random numbers, worker and cluster independence, resuming from
shards, refusing to mix experiments, the statistics on a hand-made example, and the report.

Runs are small (1,000 persons, 52 weekly steps without a burn-in, 2 replications) and shared through module-scoped
fixtures: the whole file simulates about twenty runs.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from sim.cli import cli
from sim.errors import OutputError, ScenarioError
from sim.experiment import ExperimentError, compare, load_experiment
from sim.experiment.adaptive import Precision, relative_precision, run_until_precise
from sim.experiment.aggregate import aggregate, mean_ci
from sim.experiment.intervals import generator
from sim.experiment.report import absolute, change, fmt
from sim.outputs.writer import read_run

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
# no burn-in and five phishing networks at the start: a town of 1,000 at the steady state has about one network
SMALL = ("population.size=1000", "steps=52", "burn_in_years=0", "networks.initial_per_10k.phishing=50")
REPS = 2
VARIANTS = {
    # the baseline under another name: must give the very same runs
    "twin": "",
    "forum_takedown": "interventions: [{type: forum_takedown, target: open_forum_a, at: 0.5}]",
    "core_arrests": "interventions: [{type: arrests, targeting: core, at: 0.5}]",
}


def invoke(*args) -> object:
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]


def write_variant(folder: Path, name: str, body: str, extends: Path = BASELINE) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"extends: {extends}\nname: {name}\ndescription: {name} variant for the tests\n{body}\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("scenarios")
    return {"baseline": BASELINE, **{name: write_variant(folder, name, body) for name, body in VARIANTS.items()}}


@pytest.fixture(scope="module")
def local_run(files, tmp_path_factory) -> Path:
    """All four scenarios through the command line, in-process (--workers 1)."""
    out = tmp_path_factory.mktemp("cmp") / "local"
    overrides = [arg for o in SMALL for arg in ("--set", o)]
    result = invoke("compare", *files.values(), files["baseline"], "--reps", REPS, "--workers", 1, "--quiet", "--out", out, *overrides)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    return out


def aggregates_of(out: Path, scenarios: list[str]) -> pd.DataFrame:
    frame = pd.read_parquet(out / "aggregates.parquet")
    frame = frame[frame["scenario"].isin(scenarios)]
    return frame.sort_values(["kind", "scenario", "metric", "step"]).reset_index(drop=True)


def shard(out: Path, scenario: str, rep: int) -> Path:
    return out / "shards" / scenario / f"rep_{rep:03d}"


# --------------------------------------------------------------------------- outputs
def test_compare_writes_the_contract(local_run):
    for name in ("summary.csv", "aggregates.parquet", "experiment.json", "report.html",
                 "figures/members.png", "figures/difference.png", "figures/recruitment.png"):
        assert (local_run / name).is_file(), name
    for scenario in ("baseline", *VARIANTS):  # the baseline given twice is run once
        assert sorted(p.name for p in (local_run / "shards" / scenario).iterdir()) == ["rep_000", "rep_001"]
        assert (shard(local_run, scenario, 0) / "manifest.json").is_file()
        assert not (shard(local_run, scenario, 0) / "composition.png").exists()  # plot=False: shards stay cheap
    record = json.loads((local_run / "experiment.json").read_text())
    assert (record["status"], record["seed"], record["reps"], record["steps"], record["baseline"]) == ("complete", 7, REPS, 52, "baseline")
    assert [s["name"] for s in record["scenarios"]] == ["baseline", *VARIANTS]
    assert record["runs"] == {"total": 8, "run": 8, "reused": 0}
    assert record["wall_time_s"] > 0 and record["versions"]["recruitsim"] and record["command"].startswith("recruitsim ")
    (takedown,) = [s for s in record["scenarios"] if s["name"] == "forum_takedown"]
    assert takedown["interventions"] == [{"label": "forum_takedown:open_forum_a", "type": "forum_takedown", "start_year": 0.5, "until_year": None, "every_years": None}]
    assert takedown["scenario"]["population"]["size"] == 1000


def test_aggregates_and_summary_have_the_documented_columns(local_run):
    long = pd.read_parquet(local_run / "aggregates.parquet")
    assert list(long.columns) == ["kind", "scenario", "step", "year", "metric", "mean", "ci_low", "ci_high", "n"]
    assert set(long["kind"]) == {"level", "difference"}
    assert set(long.loc[long["kind"] == "difference", "scenario"]) == set(VARIANTS)
    assert (long["n"] == REPS).all() and long["step"].between(1, 52).all()
    summary = pd.read_csv(local_run / "summary.csv")
    assert {"scenario", "endpoint", "label", "mean", "ci_low", "ci_high", "diff_mean", "pct_change", "pct_ci_low", "pct_ci_high"} <= set(summary.columns)
    endpoints = set(summary["endpoint"])
    assert {"involved.last_year_mean", "recruits_forums.total", "recruits_online.last_year", "networks_online.last_year_mean",
            "offences.total", "victims.total", "losses.total", "arrests.total"} <= endpoints
    assert summary.loc[summary["scenario"] == "baseline", "pct_change"].isna().all()


# --------------------------------------------------------------------------- common random numbers
def test_an_identical_scenario_gives_identical_runs_rep_by_rep(local_run):
    for rep in range(REPS):
        base, twin = read_run(shard(local_run, "baseline", rep)), read_run(shard(local_run, "twin", rep))
        for table in ("timeseries", "networks", "events"):
            pd.testing.assert_frame_equal(getattr(base, table), getattr(twin, table))
    long = pd.read_parquet(local_run / "aggregates.parquet")
    twin_diff = long[(long["kind"] == "difference") & (long["scenario"] == "twin")]
    assert len(twin_diff) and (twin_diff[["mean", "ci_low", "ci_high"]].fillna(0) == 0).all().all()
    summary = pd.read_csv(local_run / "summary.csv")
    assert (summary.loc[summary["scenario"] == "twin", ["diff_mean", "diff_ci_low", "diff_ci_high"]] == 0).all().all()


def test_replications_differ_and_interventions_act(local_run):
    first, second = read_run(shard(local_run, "baseline", 0)), read_run(shard(local_run, "baseline", 1))
    assert not first.events.equals(second.events), "replications must draw different random numbers"
    arrests = pd.read_parquet(shard(local_run, "core_arrests", 0) / "timeseries.parquet")
    assert arrests["arrests_intervention"].sum() > 0


# --------------------------------------------------------------------------- executors
def test_two_workers_give_the_same_results(files, local_run, tmp_path):
    names = ["baseline", "forum_takedown"]
    result = compare([files[n] for n in names], reps=REPS, overrides=SMALL, workers=2, out_dir=tmp_path / "two", quiet=True)
    assert (result.runs_done, result.runs_reused) == (4, 0)
    pd.testing.assert_frame_equal(aggregates_of(tmp_path / "two", names), aggregates_of(local_run, names))
    for rep in range(REPS):
        pd.testing.assert_frame_equal(pd.read_parquet(shard(tmp_path / "two", "forum_takedown", rep) / "timeseries.parquet"),
                                      pd.read_parquet(shard(local_run, "forum_takedown", rep) / "timeseries.parquet"))


def test_a_dask_cluster_gives_the_local_results(files, local_run, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    names = ["baseline", "core_arrests"]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, processes=True) as cluster:
        result = compare([files[n] for n in names], reps=REPS, overrides=SMALL, scheduler=cluster.scheduler_address,
                         out_dir=tmp_path / "dask", quiet=True)
    assert result.runs_done == 4
    pd.testing.assert_frame_equal(aggregates_of(tmp_path / "dask", names), aggregates_of(local_run, names))
    assert "Dask cluster" in json.loads((tmp_path / "dask" / "experiment.json").read_text())["backend"]


def test_without_dask_the_scheduler_option_is_a_clear_error(files, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # what an installation without the extra sees
    out = tmp_path / "out"
    result = invoke("compare", files["baseline"], "--scheduler", "tcp://127.0.0.1:8786", "--out", out, "--quiet")
    assert_one_line_error(result, "needs dask", "recruitsim[cluster]")
    assert not out.exists()


def test_workers_and_scheduler_together_are_refused(files, tmp_path):
    result = invoke("compare", files["baseline"], "--workers", 2, "--scheduler", "tcp://127.0.0.1:8786", "--out", tmp_path / "out")
    assert_one_line_error(result, "not both")


def test_an_unknown_primary_end_point_is_a_one_line_error_before_any_run(files, tmp_path):
    result = invoke("compare", files["baseline"], files["forum_takedown"], "--primary", "offences.since_start",
                    "--primary", "offenses.total", "--out", tmp_path / "out")
    assert_one_line_error(result, "unknown primary end point 'offenses.total'")
    assert not (tmp_path / "out").exists()


def test_the_summary_has_windows_since_the_first_intervention_primary_end_points_and_tests(local_run):
    summary = pd.read_csv(local_run / "summary.csv")
    record = json.loads((local_run / "experiment.json").read_text())
    assert record["first_intervention_step"] == 27  # year 0.5 of weekly steps: step 1 + 26
    assert record["primary_endpoints"] == ["involved.last_year_mean", "recruits_all.since_start", "offences.since_start"]
    assert {"offences.since_start", "recruits_forums.since_start", "arrests_intervention.since_start"} <= set(summary["endpoint"])
    assert set(summary.loc[summary["primary"], "endpoint"]) == set(record["primary_endpoints"])
    base = summary[summary["scenario"] == "baseline"].set_index("endpoint")
    runs = [pd.read_parquet(shard(local_run, "baseline", rep) / "timeseries.parquet") for rep in range(REPS)]
    assert base.loc["offences.since_start", "mean"] == np.mean([r.loc[r["step"] >= 27, "offences"].sum() for r in runs])
    others = summary[summary["scenario"] != "baseline"]
    assert others["p_value"].between(0, 1).all() and base["p_value"].isna().all()
    assert others.loc[~others["primary"], "q_value"].notna().all() and others.loc[others["primary"], "q_value"].isna().all()
    assert not summary["significant"].any()  # two replications: a sign-flip test cannot go below p = 0.5


# --------------------------------------------------------------------------- exact scenarios
TABLES = ("timeseries.parquet", "networks.parquet", "events.parquet")


@pytest.fixture(scope="module")
def no_gated(tmp_path_factory) -> tuple[Path, Path]:
    """The new user's example: a variant without the gated forum, compared with the baseline."""
    folder = tmp_path_factory.mktemp("no_gated")
    variant = write_variant(folder, "no_gated", "places:\n  online_spaces:\n    gated_forum: null")
    out = folder / "cmp"
    result = invoke("compare", BASELINE, variant, "--reps", 1, "--workers", 1, "--quiet", "--out", out,
                    *[arg for o in SMALL for arg in ("--set", o)])
    assert result.exit_code == 0, result.output
    return variant, out


def assert_same_bytes(run_dir: Path, shard_dir: Path) -> None:
    for table in TABLES:
        assert (run_dir / table).read_bytes() == (shard_dir / table).read_bytes(), table


def test_a_removed_online_space_stays_removed_in_the_shards(no_gated):
    _, out = no_gated
    assert "active_users_gated_forum" in pd.read_parquet(shard(out, "baseline", 0) / "timeseries.parquet").columns
    assert "active_users_gated_forum" not in pd.read_parquet(shard(out, "no_gated", 0) / "timeseries.parquet").columns
    manifest = json.loads((shard(out, "no_gated", 0) / "manifest.json").read_text())
    assert "gated_forum" not in manifest["scenario"]["places"]["online_spaces"]


def test_run_with_a_replication_repeats_that_shard_byte_for_byte(no_gated, local_run, tmp_path):
    variant, out = no_gated
    overrides = [arg for o in SMALL for arg in ("--set", o)]
    for scenario, folder, rep in ((variant, out, 0), (BASELINE, local_run, 1)):
        rerun = tmp_path / f"{scenario.stem}-{rep}"
        result = invoke("run", scenario, "--replication", rep, "--quiet", "--out", rerun, *overrides)
        assert result.exit_code == 0, result.output
        assert_same_bytes(rerun, shard(folder, scenario.stem, rep))
    plain = tmp_path / "plain"
    assert invoke("run", BASELINE, "--quiet", "--out", plain, *overrides).exit_code == 0
    assert (plain / TABLES[0]).read_bytes() != (shard(local_run, "baseline", 0) / TABLES[0]).read_bytes(), "no replication is not replication 0"


def test_a_shards_manifest_runs_it_again_exactly(no_gated, tmp_path):
    _, out = no_gated
    rerun = tmp_path / "again"
    result = invoke("run", shard(out, "no_gated", 0), "--quiet", "--out", rerun)
    assert result.exit_code == 0, result.output
    assert_same_bytes(rerun, shard(out, "no_gated", 0))
    again = json.loads((rerun / "manifest.json").read_text())
    recorded = json.loads((shard(out, "no_gated", 0) / "manifest.json").read_text())
    assert again["scenario"] == recorded["scenario"] and again["seed"] == recorded["seed"]
    twice = tmp_path / "twice"  # a plain run's manifest too, and without a replication
    assert invoke("run", rerun / "manifest.json", "--quiet", "--out", twice).exit_code == 0
    assert_same_bytes(twice, rerun)


# --------------------------------------------------------------------------- resuming and refusing
def test_a_rerun_only_runs_the_missing_shard(files, local_run, tmp_path):
    out = tmp_path / "resumed"
    shutil.copytree(local_run, out)
    shutil.rmtree(shard(out, "forum_takedown", 1))
    kept = {p: p.stat().st_mtime_ns for p in out.glob("shards/*/rep_*/manifest.json")}
    overrides = [arg for o in SMALL for arg in ("--set", o)]
    result = invoke("compare", *files.values(), "--reps", REPS, "--workers", 1, "--out", out, *overrides)  # with the progress bar
    assert result.exit_code == 0, result.output
    assert "8/8" in result.stderr and "run" in result.stderr
    assert {p: p.stat().st_mtime_ns for p in kept} == kept, "complete shards are not run again"
    assert (shard(out, "forum_takedown", 1) / "manifest.json").is_file()
    assert json.loads((out / "experiment.json").read_text())["runs"] == {"total": 8, "run": 1, "reused": 7}
    pd.testing.assert_frame_equal(pd.read_parquet(out / "aggregates.parquet"), pd.read_parquet(local_run / "aggregates.parquet"))
    pd.testing.assert_frame_equal(pd.read_csv(out / "summary.csv"), pd.read_csv(local_run / "summary.csv"))


def test_another_experiment_in_the_same_directory_is_refused(files, local_run):
    before = sorted(p.relative_to(local_run) for p in local_run.rglob("*"))
    with pytest.raises(OutputError, match="holds another experiment: seed 7 there, 8 now"):
        compare([files["baseline"], files["twin"]], reps=REPS, overrides=SMALL, seed=8, out_dir=local_run, quiet=True)
    result = invoke("compare", files["baseline"], files["forum_takedown"], "--reps", REPS, "--set", "population.size=1200",
                    "--set", "steps=52", "--out", local_run, "--quiet")
    assert_one_line_error(result, "holds another experiment")
    assert sorted(p.relative_to(local_run) for p in local_run.rglob("*")) == before


def test_a_directory_that_is_not_an_experiment_is_refused(files, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="not a recruitsim comparison"):
        compare([files["baseline"]], reps=1, overrides=SMALL, out_dir=tmp_path, quiet=True)


def test_ctrl_c_keeps_the_finished_runs_and_the_same_command_resumes(files, tmp_path, monkeypatch):
    import sim.experiment.comparison as comparison

    real, calls = comparison.run_replication, []

    def interrupted_at_the_second_run(task):
        calls.append(task)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(comparison, "run_replication", interrupted_at_the_second_run)
    out = tmp_path / "out"
    args = ["compare", files["baseline"], files["forum_takedown"], "--reps", 1, "--workers", 1, "--out", out, "--quiet",
            *[arg for o in SMALL for arg in ("--set", o)]]
    result = invoke(*args)
    assert result.exit_code == 130
    assert result.stderr.startswith(f"interrupted: finished runs are kept in {out}; to resume, run: recruitsim compare ")
    assert (shard(out, "baseline", 0) / "manifest.json").is_file()
    assert not shard(out, "forum_takedown", 0).exists() and not list(out.glob("shards/*/.rep_*"))
    monkeypatch.setattr(comparison, "run_replication", real)
    assert invoke(*args).exit_code == 0
    assert json.loads((out / "experiment.json").read_text())["runs"] == {"total": 2, "run": 1, "reused": 1}


# --------------------------------------------------------------------------- the code
OTHER_CODE = {"recruitsim": "0.0.9", "commit": "0123456789abcdef0123456789abcdef01234567", "dirty": False}


def compare_args(files, out: Path, *extra) -> list:
    return ["compare", *files.values(), "--reps", REPS, "--workers", 1, "--quiet", "--out", out,
            *[arg for o in SMALL for arg in ("--set", o)], *extra]


def other_code(monkeypatch) -> dict:
    """From here on, experiments are run by OTHER_CODE."""
    import sim.experiment.spec as spec_module

    monkeypatch.setattr(spec_module, "code_identity", lambda: dict(OTHER_CODE))
    return OTHER_CODE


def test_the_fingerprint_covers_the_version_commit_and_dirty_flag(files):
    from dataclasses import replace

    from sim.outputs.manifest import code_identity

    spec = load_experiment([files["baseline"], files["twin"]], reps=1, overrides=SMALL)
    assert spec.code == code_identity() and spec.code["recruitsim"]
    for code_change in ({"recruitsim": "9.9"}, {"commit": "f" * 40}, {"dirty": not spec.code["dirty"]}):
        other = replace(spec, code={**spec.code, **code_change})
        assert other.inputs_fingerprint == spec.inputs_fingerprint and other.fingerprint != spec.fingerprint, code_change


def test_resuming_with_other_code_is_refused_in_one_line_unless_allowed(files, local_run, tmp_path, monkeypatch):
    from sim.outputs.manifest import describe_code

    out = tmp_path / "resumed"
    shutil.copytree(local_run, out)
    before = (out / "experiment.json").read_bytes()
    ours = json.loads(before)["code"]
    other_code(monkeypatch)
    result = invoke(*compare_args(files, out))
    assert_one_line_error(result, describe_code(ours), describe_code(OTHER_CODE), "--allow-code-change")
    assert (out / "experiment.json").read_bytes() == before, "a refused invocation writes nothing"

    assert invoke(*compare_args(files, out, "--allow-code-change")).exit_code == 0
    record = json.loads((out / "experiment.json").read_text())
    first, second = record["invocations"]
    assert first == json.loads(before)["invocations"][0], "earlier invocations are kept as they were"
    assert (first["code"], second["code"], second["allow_code_change"]) == (ours, OTHER_CODE, True)
    assert record["mixed_code"] and record["code"] == OTHER_CODE
    assert second["runs"] == {"total": 8, "run": 0, "reused": 8, "other_code": 8}
    assert "--allow-code-change" in second["command"]


def test_every_invocation_is_recorded(files, local_run, tmp_path):
    out = tmp_path / "again"
    shutil.copytree(local_run, out)
    assert invoke(*compare_args(files, out)).exit_code == 0
    record = json.loads((out / "experiment.json").read_text())
    assert [inv["runs"]["run"] for inv in record["invocations"]] == [8, 0]
    assert not record["mixed_code"] and {json.dumps(inv["code"]) for inv in record["invocations"]} == {json.dumps(record["code"])}


def test_a_shard_of_other_code_copied_in_is_refused_unless_allowed(files, local_run, tmp_path):
    out = tmp_path / "copied"
    shutil.copytree(local_run, out)
    manifest_path = shard(out, "twin", 1) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["experiment"] |= {"code": OTHER_CODE, "fingerprint": "0" * 64}  # as that code would have written it
    manifest_path.write_text(json.dumps(manifest))
    result = invoke(*compare_args(files, out))
    assert_one_line_error(result, f"shard {shard(out, 'twin', 1).absolute()} was run by recruitsim 0.0.9 (commit 0123456789ab)")
    assert invoke(*compare_args(files, out, "--allow-code-change")).exit_code == 0
    assert json.loads((out / "experiment.json").read_text())["runs"]["other_code"] == 1


def test_the_commit_is_none_outside_a_checkout_or_without_git(tmp_path, monkeypatch):
    import subprocess

    import sim.outputs.manifest as manifest

    assert manifest.git_state(tmp_path) == {"commit": None, "dirty": None}
    head = subprocess.run(["git", "-C", str(manifest.SOURCE_TREE), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    if head.returncode == 0:  # a checkout with git: the commit is HEAD
        assert manifest.code_identity()["commit"] == head.stdout.strip()

    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(manifest.subprocess, "run", no_git)
    assert manifest.code_identity() == {"recruitsim": manifest.sim.__version__, "commit": None, "dirty": None}


# --------------------------------------------------------------------------- input errors, before any run
def test_a_bad_scenario_stops_everything_before_any_run(files, tmp_path):
    bad = write_variant(tmp_path, "bad", "interventions: [{type: forum_takedown, target: no_such_forum, at: 0.5}]")
    out = tmp_path / "out"
    result = invoke("compare", files["baseline"], files["forum_takedown"], bad, "--out", out, "--quiet")
    assert_one_line_error(result, "bad.yaml", "no_such_forum")
    assert not out.exists()
    result = invoke("compare", files["baseline"], files["twin"], "--set", "population.size=-5", "--out", out)
    assert_one_line_error(result, "population.size")
    assert not out.exists()


def test_scenario_names_must_be_unique_and_repeats_are_dropped(files, tmp_path):
    spec = load_experiment([files["baseline"], files["twin"], files["baseline"], files["twin"]], reps=1, overrides=SMALL)
    assert spec.names == ["baseline", "twin"]
    impostor = write_variant(tmp_path, "other", "population: {size: 1500}")
    impostor.write_text(impostor.read_text().replace("name: other", "name: twin"))
    with pytest.raises(ScenarioError, match="two different scenarios are named 'twin'"):
        load_experiment([files["baseline"], files["twin"], impostor], reps=1)
    result = invoke("compare", files["baseline"], files["twin"], impostor, "--out", tmp_path / "out")
    assert_one_line_error(result, "names must be unique")
    longer = write_variant(tmp_path, "longer", "steps: 60")
    with pytest.raises(ScenarioError, match="steps is 60"):
        load_experiment([files["baseline"], longer], reps=1)
    with pytest.raises(ExperimentError, match="reps must be at least 1"):
        load_experiment([files["baseline"]], reps=0)


def test_interventions_after_the_last_step_are_pointed_out(files, tmp_path):
    late = write_variant(tmp_path, "late", "interventions: [{type: arrests, targeting: core, from: 2.0, until: 3.0}]")
    spec = load_experiment([files["baseline"], late, files["forum_takedown"]], reps=1, overrides=SMALL)
    assert spec.idle_interventions() == ["late: interventions[0] (arrests:core): starts at year 2, after the last step (the run lasts 1 year), so it has no effect"]
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    result = invoke("compare", files["baseline"], late, "--out", tmp_path / "taken", *[arg for o in SMALL for arg in ("--set", o)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (f"warning: {late}: interventions[0] (arrests:core): starts at year 2, "
                                             "after the last step (the run lasts 1 year), so it has no effect")


def test_the_seed_defaults_to_the_baselines_and_applies_to_every_scenario(files):
    spec = load_experiment([files["baseline"], files["twin"]], reps=1, overrides=SMALL)
    assert spec.seed == 7 and {e.dump["seed"] for e in spec.scenarios} == {7}
    other = load_experiment([files["baseline"], files["twin"]], reps=1, overrides=SMALL, seed=3)
    assert {e.dump["seed"] for e in other.scenarios} == {3} and other.fingerprint != spec.fingerprint
    more_reps = load_experiment([files["baseline"], files["twin"]], reps=5, overrides=SMALL)
    assert more_reps.fingerprint == spec.fingerprint, "more replications extend an experiment, they do not make a new one"


# --------------------------------------------------------------------------- statistics by hand
def hand_frames(values: list[list[float]], offences: list[list[float]]) -> list[pd.DataFrame]:
    """One tiny timeseries per replication: 2 steps (one year = 2 steps here)."""
    return [pd.DataFrame({"step": [1, 2], "year": [0.5, 1.0], "involved": v, "offences": o,
                          "recruits_offline": [1, 0], "recruits_online": [0, 2]}) for v, o in zip(values, offences)]


def t_interval(sample) -> tuple[float, float, float]:
    sample = np.asarray(sample, dtype=float)
    low, high = stats.t.interval(0.95, len(sample) - 1, loc=sample.mean(), scale=stats.sem(sample))
    return sample.mean(), low, high


def test_means_intervals_differences_and_changes_by_hand():
    base = hand_frames([[10, 20], [12, 24], [14, 22]], [[1, 1], [2, 2], [3, 1]])
    other = hand_frames([[9, 15], [10, 18], [13, 17]], [[1, 0], [1, 1], [2, 1]])
    result = aggregate({"base": base, "other": other}, baseline="base", steps_per_year=2)
    rows = result.timeseries.set_index(["kind", "scenario", "metric", "step"])

    level = rows.loc[("level", "other", "involved", 2)]
    np.testing.assert_allclose(level[["mean", "ci_low", "ci_high"]].to_numpy(float), t_interval([15, 18, 17]))
    assert level["n"] == 3 and level["year"] == 1.0
    difference = rows.loc[("difference", "other", "involved", 1)]  # 9-10, 10-12, 13-14: paired rep by rep
    np.testing.assert_allclose(difference[["mean", "ci_low", "ci_high"]].to_numpy(float), t_interval([-1, -2, -1]))
    assert ("difference", "base", "involved", 1) not in rows.index

    summary = result.summary.set_index(["scenario", "endpoint"])
    # members: mean over the last year (both steps) per replication, then across replications,
    # with the BCa bootstrap interval keyed by the experiment's seed (0 here) and the scenario
    involved = summary.loc[("other", "involved.last_year_mean")]
    np.testing.assert_allclose(involved[["mean", "ci_low", "ci_high"]].to_numpy(float), bca([12, 14, 15], "level", "other"))
    base_mean = np.mean([15, 18, 18])
    paired = bca([12 - 15, 14 - 18, 15 - 18], "paired", "other")
    np.testing.assert_allclose(involved[["diff_mean", "diff_ci_low", "diff_ci_high"]].to_numpy(float), paired)
    assert involved["pct_change"] == pytest.approx(100 * paired[0] / base_mean)
    assert -100 <= involved["pct_ci_low"] < involved["pct_change"] < involved["pct_ci_high"]
    # offences: total over the run
    offences = summary.loc[("other", "offences.total")]
    np.testing.assert_allclose(offences[["mean", "diff_mean"]].to_numpy(float), [2.0, 2.0 - np.mean([2, 4, 4])])
    np.testing.assert_allclose(summary.loc[("base", "recruits_all.total"), "mean"], 3.0)
    assert math.isnan(summary.loc[("base", "involved.last_year_mean"), "pct_change"])


def bca(sample, *keys) -> tuple[float, float, float]:
    """Mean and 95% BCa interval as the summary computes them (seed 0)."""
    sample = np.asarray(sample, dtype=float)
    result = stats.bootstrap((sample,), np.mean, method="BCa", n_resamples=9999, rng=generator(0, *keys))
    return sample.mean(), *result.confidence_interval


def test_a_baseline_of_zero_has_no_percentage_but_a_difference():
    base = hand_frames([[0, 0], [0, 0]], [[0, 0], [0, 0]])
    other = hand_frames([[1, 1], [3, 3]], [[0, 0], [0, 0]])
    row = aggregate({"base": base, "other": other}, "base", 2).summary.set_index(["scenario", "endpoint"]).loc[("other", "involved.last_year_mean")]
    assert math.isnan(row["pct_change"]) and row["diff_mean"] == 2.0
    assert change(row)[0].startswith("+2.00 (abs.)")


def test_one_replication_gives_missing_intervals_not_an_error():
    result = aggregate({"base": hand_frames([[1, 2]], [[0, 1]]), "other": hand_frames([[2, 2]], [[1, 1]])}, "base", 2)
    assert result.timeseries["ci_low"].isna().all() and result.timeseries["ci_high"].isna().all()
    assert (result.timeseries["n"] == 1).all()
    row = result.summary.set_index(["scenario", "endpoint"]).loc[("other", "offences.total")]
    assert row["diff_mean"] == 1.0 and math.isnan(row["diff_ci_low"]) and change(row)[1] == ""
    mean, low, high, n = mean_ci(np.array([[4.0, 5.0]]))
    assert n == 1 and list(mean) == [4.0, 5.0] and np.isnan(low).all() and np.isnan(high).all()


def test_replications_are_paired_so_their_counts_must_match():
    with pytest.raises(ValueError, match="paired rep by rep"):
        aggregate({"base": hand_frames([[1, 2], [2, 3]], [[0, 0], [0, 0]]), "other": hand_frames([[1, 1]], [[0, 0]])}, "base", 2)


def test_changes_whose_interval_excludes_zero_are_highlighted():
    def row(mean, low, high):
        return pd.Series({"pct_change": mean, "pct_ci_low": low, "pct_ci_high": high, "diff_mean": 1.0, "diff_ci_low": 0.0, "diff_ci_high": 2.0})

    assert change(row(-25.0, -40.0, -10.0))[1] == "down"
    assert change(row(30.0, 5.0, 60.0))[1] == "up"
    assert change(row(-5.0, -20.0, 10.0))[1] == ""
    assert fmt(1_470_775.0) == "1.47M" and fmt(-3.5) == "\u22123.50"
    # the summary's verdict decides: an interval that excludes 0 is not enough among many end points
    assert change(pd.concat([row(-25.0, -40.0, -10.0), pd.Series({"significant": False})]))[1] == ""
    assert change(pd.concat([row(-25.0, -40.0, -10.0), pd.Series({"significant": True})]))[1] == "down"
    assert absolute(row(-25.0, -40.0, -10.0)) == '<span class="abs">+1.00 abs. <span class="ci">[0.00, 2.00]</span></span>'
    assert fmt(math.inf) == "\u221e" and change(row(50.0, 10.0, math.inf))[0].endswith("[10%, \u221e%]</span>")


# --------------------------------------------------------------------------- the report
def test_the_report_is_one_self_contained_page(local_run):
    page = (local_run / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<table") >= 3
    assert page.count('src="data:image/png;base64,') == 3
    for text in ("The question", "forum_takedown", "twin variant for the tests", "Members involved (mean over the last year)",
                 "change vs baseline", "Provenance", "seed", "recruitsim compare"):
        assert text in page, text
    assert "http" not in page, "no external resources (and no links that need a network)"
    # what pairing guarantees, and how many end points are compared (issue 10)
    assert "not from chance" not in page and "it does\nnot remove chance" in page
    assert "false discovery rate" in page and 'class="primary">primary</span>' in page
    assert "since the first intervention starts (from step 27" in page
    assert re.search(r'class="abs">[^<]* abs\.', page), "the absolute difference beside the % change"
    assert not re.search(r"<(script|link|iframe)\b", page)


# --------------------------------------------------------------------------- adaptive replications
def test_replications_are_added_in_batches_until_the_precision_is_reached(files):
    spec = load_experiment([files["baseline"], files["forum_takedown"]], reps=3, overrides=SMALL)
    asked = []

    def run(batch):  # precise enough from 8 replications on
        asked.append(batch.reps)
        return SimpleNamespace(precision={"met": batch.reps >= 8})

    assert run_until_precise(spec, Precision(0.1, 100), run).precision["met"] and asked == [3, 6, 12]
    asked.clear()
    assert not run_until_precise(spec, Precision(0.1, 5), run).precision["met"] and asked == [3, 5]


def test_the_precision_is_the_worst_primary_half_width_relative_to_the_baseline_mean():
    summary = pd.DataFrame({
        "scenario": ["base", "base", "a", "a", "b", "b"], "endpoint": ["x", "y"] * 3, "primary": [True, False] * 3,
        "mean": [20.0, 5.0, 18.0, 1.0, 15.0, 9.0], "diff_mean": [np.nan, np.nan, -2.0, -4.0, -5.0, 4.0],
        "diff_ci_low": [np.nan, np.nan, -3.0, -9.0, -8.0, 0.0], "diff_ci_high": [np.nan, np.nan, -1.0, 1.0, -1.0, 8.0],
    })
    assert relative_precision(summary) == pytest.approx(3.5 / 20)  # b's x: half-width 3.5; y is not primary
    assert relative_precision(summary.assign(diff_ci_low=np.nan)) == math.inf


def test_compare_with_precision_adds_replications_resumably_and_says_what_it_reached(files, local_run, tmp_path):
    out = tmp_path / "adaptive"
    shutil.copytree(local_run, out)  # its 2 replications are the first batch
    overrides = [arg for o in SMALL for arg in ("--set", o)]
    args = ("compare", *files.values(), "--reps", REPS, "--workers", 1, "--quiet", "--out", out, *overrides)
    result = invoke(*args, "--precision", 1e-6, "--max-reps", 3)  # unreachable: stops at --max-reps
    assert result.exit_code == 0, result.output
    assert re.match(r"precision: ±0\.0% of the baseline mean asked for, ±[\d.]+% with 3 replications \(not reached: stopped at --max-reps 3\)$",
                    result.stderr.strip()), result.stderr
    record = json.loads((out / "experiment.json").read_text())
    assert record["reps"] == 3 and record["invocations"][-1]["runs"] == {"total": 12, "run": 4, "reused": 8}
    assert record["precision"]["met"] is False and record["precision"]["reached"] > 0
    assert "precision" in (out / "report.html").read_text(encoding="utf-8")
    result = invoke(*args, "--precision", 100, "--max-reps", 3)  # met at once: nothing more runs
    assert result.exit_code == 0 and "(reached)" in result.stderr
    assert json.loads((out / "experiment.json").read_text())["invocations"][-1]["runs"]["run"] == 0


@pytest.mark.parametrize(("options", "message"), [
    (("--precision", 0), "--precision must be a positive share"),
    (("--precision", 0.1, "--max-reps", 1), "--max-reps must be at least --reps"),
    (("--max-reps", 20), "--max-reps needs --precision"),
])
def test_bad_precision_options_are_one_line_errors(files, tmp_path, options, message):
    result = invoke("compare", files["baseline"], "--reps", 2, "--out", tmp_path / "out", *options)
    assert_one_line_error(result, message)
