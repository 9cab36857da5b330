"""`recruitsim sweep`: the bundled Sobol experiment at small size, interrupted and resumed; the
shape of samples.parquet and indices.parquet; the designs; validation before any run; indices on
functions whose answer is known; per-scenario overrides of `compare`; the EMA adapter.

Runs are tiny (300 persons, 40 monthly steps, the interventions starting in month 37): the bundled
experiment with 1 Sobol base sample is 11 points x 2 scenarios = 22 runs, the whole file about 25.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from sim.cli import cli
from sim.experiment.errors import ExperimentError
from sim.experiment.sweep.definition import ExperimentFile
from sim.experiment.sweep.designs import design_points, point_count
from sim.experiment.sweep.plan import load_sweep
from sim.experiment.sweep.sensitivity import COLUMNS, indices

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "experiments" / "intervention_effect_sizes.yaml"
TINY = ("population.size=300", "step=month", "steps=40", "burn_in_years=0")  # plumbing, not the steady state
TINY_ARGS = [part for o in TINY for part in ("--set", o)]


def invoke(*args):
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def write_experiment(folder: Path, body: str, name: str = "exp") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(body, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the bundled experiment, interrupted and resumed
@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """The bundled Sobol experiment at small size, Ctrl-C after 10 runs, then the same command again."""
    from sim.experiment import comparison

    out = tmp_path_factory.mktemp("sweep") / "bundled"
    args = ["sweep", BUNDLED, "--samples", 1, "--reps", 1, "--workers", 1, "--quiet", "--out", out, *TINY_ARGS]
    real, calls = comparison.run_replication, []

    def interrupted_at_the_eleventh_run(task):
        calls.append(task)
        if len(calls) == 11:
            raise KeyboardInterrupt
        return real(task)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(comparison, "run_replication", interrupted_at_the_eleventh_run)
        first = invoke(*args)
    done = {p: p.stat().st_mtime_ns for p in out.glob("shards/*/rep_*/manifest.json")}
    second = invoke(*args)
    return SimpleNamespace(out=out, first=first, second=second, done_before=done)


def test_the_bundled_sobol_experiment_resumes_after_ctrl_c_without_rerunning_anything(bundled):
    assert bundled.first.exit_code == 130
    assert bundled.first.stderr.startswith(f"interrupted: finished runs are kept in {bundled.out}; to resume, run: recruitsim sweep ")
    assert len(bundled.done_before) == 10
    assert bundled.second.exit_code == 0, bundled.second.output
    assert bundled.second.stdout.strip() == str(bundled.out)
    assert {p: p.stat().st_mtime_ns for p in bundled.done_before} == bundled.done_before, "finished runs are not run again"
    record = json.loads((bundled.out / "experiment.json").read_text())
    assert record["runs"] == {"total": 22, "run": 12, "reused": 10}
    assert [inv["status"] for inv in record["invocations"]] == ["running", "complete"]
    assert record["sweep"]["points"] == 11 and record["sweep"]["applies"]["awareness_effect"] == ["unevaluated_interventions"]


def test_samples_and_indices_have_the_documented_shape(bundled):
    spec = load_sweep(BUNDLED, overrides=TINY, samples=1, replications=1)
    outcomes, parameters = spec.definition.outcomes, spec.parameters
    samples = pd.read_parquet(bundled.out / "samples.parquet")
    assert list(samples.columns) == ["kind", "scenario", "sample", "rep", *parameters, *outcomes]
    # 11 points: the two scenarios' levels and the paired change of the interventions from the baseline
    assert len(samples) == 3 * 11
    assert samples.groupby(["kind", "scenario"]).size().to_dict() == {
        ("difference", "unevaluated_interventions"): 11, ("level", "baseline"): 11, ("level", "unevaluated_interventions"): 11}
    level = samples[samples["kind"] == "level"].set_index(["scenario", "sample"])[outcomes]
    change = samples[samples["kind"] == "difference"].set_index("sample")[outcomes]
    pd.testing.assert_frame_equal(change, level.loc["unevaluated_interventions"] - level.loc["baseline"])
    found = pd.read_parquet(bundled.out / "indices.parquet")
    assert list(found.columns) == COLUMNS
    assert len(found) == 3 * len(outcomes) * len(parameters) * 2
    assert set(found["index"]) == {"S1", "ST"}
    finite = found.dropna(subset=["value"])
    assert (finite["ci_low"] <= finite["value"]).all() and (finite["value"] <= finite["ci_high"]).all()
    # with common random numbers, a parameter of an intervention the baseline lacks explains exactly nothing there
    assert (found.query("scenario == 'baseline' and parameter == 'awareness_effect'")["value"].fillna(0) == 0).all()


def test_the_report_is_one_self_contained_page_with_indices_and_figures(bundled):
    page = (bundled.out / "report.html").read_text(encoding="utf-8")
    assert "Sensitivity analysis: intervention_effect_sizes" in page
    assert "change made by unevaluated_interventions" in page and "ST " in page
    assert "Too few samples to read these indices:</b> 1 base samples N" in page  # the test's size, not the file's
    assert page.count("data:image/png;base64,") == 6  # indices and scatter for 3 targets
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert sorted(p.name for p in (bundled.out / "figures").iterdir()) == sorted(
        f"{kind}_{target}.png" for kind in ("indices", "scatter")
        for target in ("difference_unevaluated_interventions", "level_baseline", "level_unevaluated_interventions"))


# --------------------------------------------------------------------------- designs and validation (no runs)
TWO = """scenarios: [baseline]
parameters:
  - {name: accept, path: recruitment.rules.forums.accept_base, range: [0.2, 0.8]}
  - {name: phishing, path: networks.initial_per_10k.phishing, values: [1, 2, 3]}
design: DESIGN
samples: SAMPLES
outcomes: [involved.last_year_mean]
"""


@pytest.mark.parametrize(("design", "samples", "points"), [("grid", 4, 12), ("lhs", 5, 5), ("sobol", 4, 16), ("morris", 3, 9)])
def test_each_design_has_its_documented_number_of_points_within_the_ranges(tmp_path, design, samples, points):
    path = write_experiment(tmp_path, TWO.replace("DESIGN", design).replace("SAMPLES", str(samples)))
    spec = load_sweep(path, overrides=TINY)
    assert spec.samples == points == point_count(spec.definition)
    assert spec.values["accept"].between(0.2, 0.8).all() and set(spec.values["phishing"]) <= {1, 2, 3}
    dumps = [e.dump for e in spec.runs.scenarios]
    assert [d["recruitment"]["rules"]["forums"]["accept_base"] for d in dumps] == list(spec.values["accept"])
    assert [d["networks"]["initial_per_10k"]["phishing"] for d in dumps] == list(spec.values["phishing"])
    if design == "grid":
        assert sorted(set(spec.values["accept"])) == [0.2, 0.4, 0.6000000000000001, 0.8] or np.allclose(sorted(set(spec.values["accept"])), [0.2, 0.4, 0.6, 0.8])


def test_designs_are_determined_by_the_seed():
    definition = ExperimentFile.model_validate({"scenarios": ["baseline"], "design": "lhs", "samples": 8, "parameters": [
        {"path": "a.b", "range": [0.0, 1.0]}, {"path": "a.c", "range": [0.0, 1.0]}]})
    assert np.array_equal(design_points(definition, 3), design_points(definition, 3))
    assert not np.array_equal(design_points(definition, 3), design_points(definition, 4))


def test_an_intervention_parameter_by_label_or_index_changes_only_the_scenarios_that_have_it(tmp_path):
    path = write_experiment(tmp_path, """scenarios: [baseline, awareness_campaign]
parameters:
  - {name: effect, path: "interventions[money-mule awareness campaign].effect", range: [0.1, 0.9]}
  - {name: first_uptake, path: "interventions[0].reach", range: [0.1, 0.5]}
design: lhs
samples: 3
outcomes: [involved.last_year_mean]
""")
    spec = load_sweep(path, overrides=TINY)
    assert spec.applies == {"effect": ("awareness_campaign",), "first_uptake": ("awareness_campaign",)}
    by_name = {e.name: e.dump for e in spec.runs.scenarios}
    for sample, value in enumerate(spec.values["effect"]):
        assert by_name[f"awareness_campaign#{sample:05d}"]["interventions"][0]["effect"] == value
        assert by_name[f"awareness_campaign#{sample:05d}"]["interventions"][0]["reach"] == spec.values["first_uptake"][sample]
        assert by_name[f"baseline#{sample:05d}"]["interventions"] == []


@pytest.mark.parametrize(("body", "fragments"), [
    (TWO.replace("DESIGN", "sobol").replace("SAMPLES", "6"), ["samples: a Sobol design needs a power of 2", "use 4 or 8"]),
    (TWO.replace("DESIGN", "lhs").replace("SAMPLES", "4").replace("accept_base", "acept_base"),
     ["parameter path recruitment.rules.forums.acept_base: unknown key 'acept_base' in recruitment.rules.forums"]),
    (TWO.replace("DESIGN", "lhs").replace("SAMPLES", "4").replace("[0.2, 0.8]", "[0.2, 1.8]"),
     ["makes scenario 'baseline' invalid: recruitment.rules.forums.accept_base: must be <= 1"]),
    (TWO.replace("DESIGN", "lhs").replace("SAMPLES", "4") + "colour: red\n", ["unknown key 'colour'"]),
    (TWO.replace("DESIGN", "lhs").replace("SAMPLES", "4").replace("involved.last_year_mean", "involved.last_yr"),
     ["outcomes: unknown end point 'involved.last_yr'"]),
    (TWO.replace("DESIGN", "lhs").replace("SAMPLES", "4").replace("networks.initial_per_10k.phishing", "steps"), ["steps cannot be varied"]),
    (TWO.replace("DESIGN", "lhs").replace("SAMPLES", "4").replace("networks.initial_per_10k.phishing", "\"interventions[nothing].effect\""),
     ["parameter 'phishing' changes no scenario", "no entry labelled 'nothing'"]),
])
def test_a_bad_experiment_is_one_error_line_before_anything_is_written(tmp_path, body, fragments):
    path = write_experiment(tmp_path, body)
    out = tmp_path / "out"
    assert_one_line_error(invoke("sweep", path, "--out", out, "--quiet", *TINY_ARGS), *fragments)
    assert not out.exists()


# --------------------------------------------------------------------------- indices on known functions (no runs)
def _synthetic(design: str, samples: int, function) -> tuple[pd.DataFrame, np.ndarray, list]:
    definition = ExperimentFile.model_validate({"scenarios": ["baseline"], "design": design, "samples": samples, "parameters": [
        {"name": n, "path": f"a.{n}", "range": [0.0, 1.0]} for n in ("x1", "x2", "x3")]})
    points = design_points(definition, seed=1)
    y = function(points)
    table = pd.DataFrame({"kind": "level", "scenario": "s", "sample": np.arange(len(y)), "rep": 0, "y": y})
    return table, points, definition.parameters


def test_sobol_indices_find_the_parameter_that_drives_the_outcome_and_none_for_an_idle_one():
    # y = 4 x1 + x2 (+ nothing of x3): variances 16/12 and 1/12, so S1 = ST = 16/17 and 1/17, and 0 for x3
    table, points, parameters = _synthetic("sobol", 512, lambda x: 4 * x[:, 0] + x[:, 1])
    found = indices(table, points, parameters, "sobol", ["y"], seed=1).set_index(["parameter", "index"])["value"]
    assert found[("x1", "S1")] == pytest.approx(16 / 17, abs=0.05) and found[("x1", "ST")] == pytest.approx(16 / 17, abs=0.05)
    assert found[("x2", "ST")] == pytest.approx(1 / 17, abs=0.03)
    assert abs(found[("x3", "S1")]) < 0.02 and abs(found[("x3", "ST")]) < 0.02


def test_morris_and_rank_indices_order_the_parameters():
    table, points, parameters = _synthetic("morris", 10, lambda x: 4 * x[:, 0] + x[:, 1])
    morris = indices(table, points, parameters, "morris", ["y"], seed=1).set_index(["parameter", "index"])["value"]
    assert morris[("x1", "mu_star")] == pytest.approx(4) and morris[("x2", "mu_star")] == pytest.approx(1)
    assert morris[("x3", "mu_star")] == 0 and morris[("x1", "sigma")] == pytest.approx(0, abs=1e-9)
    table, points, parameters = _synthetic("lhs", 50, lambda x: 4 * x[:, 0] + x[:, 1])
    rank = indices(table, points, parameters, "lhs", ["y"], seed=1).set_index("parameter")
    assert rank.loc["x1", "value"] > 0.9 and rank.loc["x1", "ci_low"] > 0.8 and rank.loc["x3", "ci_low"] < 0 < rank.loc["x3", "ci_high"]


def test_an_outcome_that_never_varies_has_missing_indices_not_an_error():
    table, points, parameters = _synthetic("sobol", 8, lambda x: np.zeros(len(x)))
    assert indices(table, points, parameters, "sobol", ["y"], seed=1)["value"].isna().all()


# --------------------------------------------------------------------------- compare: overrides per scenario
def test_compare_runs_each_scenario_with_its_own_overrides_and_records_exactly_what_ran(tmp_path):
    out = tmp_path / "cmp"
    result = invoke("compare", "baseline:population.size=300:steps=8", "baseline:name=bigger:population.size=400:steps=8",
                    "--reps", 1, "--workers", 1, "--quiet", "--out", out)
    assert result.exit_code == 0, result.output
    record = json.loads((out / "experiment.json").read_text())
    assert [(s["name"], s["population"], s["overrides"]) for s in record["scenarios"]] == [
        ("baseline", 300, ["population.size=300", "steps=8"]), ("bigger", 400, ["name=bigger", "population.size=400", "steps=8"])]
    for scenario in record["scenarios"]:
        manifest = json.loads((out / "shards" / scenario["name"] / "rep_000" / "manifest.json").read_text())
        assert manifest["scenario"] == scenario["scenario"]
    assert "population.size=400" in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(("argument", "fragment"), [
    ("baseline:population.size", "expected SCENARIO or SCENARIO:KEY.PATH=VALUE"),
    ("baseline:population.size=abc", "population.size: expected an integer"),
    ("baseline:population.sise=300", "unknown key 'sise'"),
])
def test_a_bad_override_of_one_scenario_is_one_error_line(tmp_path, argument, fragment):
    assert_one_line_error(invoke("compare", "baseline", argument, "--reps", 1, "--out", tmp_path / "cmp", "--quiet"), fragment)
    assert not (tmp_path / "cmp").exists()


# --------------------------------------------------------------------------- the EMA workbench
def test_the_ema_adapter_runs_a_tiny_experiment():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # it warns at import of optional evaluators it cannot find
            import ema_workbench
    except ImportError:
        pytest.skip("the EMA workbench is not installed (pip install -e '.[ema]')")
    from sim.experiment.ema import RecruitsimFunction, model_from_experiment

    model = model_from_experiment(BUNDLED, overrides=TINY, replications=1)
    assert [u.name for u in model.uncertainties][:2] == ["awareness_effect", "diversion_uptake"]
    experiments, outcomes = ema_workbench.perform_experiments(model, 2, log_progress=False)
    assert len(experiments) == 2 and set(outcomes) == {"involved_last_year_mean", "recruits_all_since_start",
                                                        "offences_since_start", "losses_since_start"}
    assert all(np.isfinite(values).all() and len(values) == 2 for values in outcomes.values())
    # the function EMA calls is the sweep's scenario at that point, run as replication 0
    assert isinstance(model.function, RecruitsimFunction)
    point = experiments.iloc[0][[u.name for u in model.uncertainties]].to_dict()
    scenario = model.function.scenario(point)
    assert scenario.interventions[0].effect == pytest.approx(point["awareness_effect"])


@pytest.mark.parametrize("design", ["grid", "lhs", "sobol", "morris"])
def test_every_design_writes_its_tables_figures_and_report(tmp_path, design):
    """The outputs of each design from made-up outcomes (no runs): the report shows its own indices."""
    from sim.experiment.sweep.outputs import write_sweep_outputs
    from sim.experiment.sweep.plan import run_name
    from sim.experiment.sweep.run import RunOutcome, samples_table

    path = write_experiment(tmp_path, TWO.replace("DESIGN", design).replace("SAMPLES", "4").replace(
        "scenarios: [baseline]", "scenarios: [baseline, awareness_campaign]"))
    spec = load_sweep(path, overrides=TINY)
    results = {(run_name(base, i), 0): RunOutcome(run_name(base, i), 0, {"involved.last_year_mean": 10 * row.accept + row.phishing + 5 * k * row.accept},
                                                  False, {}, 1.0)
               for k, base in enumerate(spec.base_names) for i, row in enumerate(spec.values.itertuples())}
    table = samples_table(spec, results)
    found = indices(table, spec.points, spec.definition.parameters, design, spec.definition.outcomes, seed=1)
    files = write_sweep_outputs(tmp_path / "out", spec, table, found, {"runs": {"total": len(results)}})
    assert sorted(files) == sorted(["samples.parquet", "indices.parquet", "report.html", *(
        f"figures/{kind}_{target}.png" for kind in ("indices", "scatter")
        for target in ("difference_awareness_campaign", "level_baseline", "level_awareness_campaign"))])
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert {"sobol": "ST ", "morris": "mu* ", "lhs": "rho ", "grid": "rho "}[design] in page
    # the change the scenario makes is its own outcome minus the baseline's (5 x accept here), which the phishing networks do not drive
    change = table.query("kind == 'difference'")
    assert np.allclose(change["involved.last_year_mean"], 5 * change["accept"])
    idle = found.query("kind == 'difference' and parameter == 'phishing' and index in ('S1', 'ST', 'mu_star')")  # variance-based and elementary effects
    assert np.allclose(idle["value"], 0, atol=1e-9)


def test_a_killed_worker_is_one_line_saying_how_to_resume(tmp_path, monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    from sim.experiment.sweep import run

    def killed(*args, **kwargs):
        raise BrokenProcessPool("A process in the process pool was terminated abruptly")

    monkeypatch.setattr(run, "collect", killed)
    path = write_experiment(tmp_path, TWO.replace("DESIGN", "lhs").replace("SAMPLES", "2"))
    out = tmp_path / "out"
    result = invoke("sweep", path, "--workers", 1, "--out", out, "--quiet", *TINY_ARGS)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"error: a worker process died (killed, or out of memory: the kernel's OOM killer ends the "
                                          f"largest process); finished runs are kept in {out}; to resume, rerun the same command: "
                                          f"recruitsim sweep {path} --workers 1 --out {out} " + " ".join(TINY_ARGS)]
    assert json.loads((out / "experiment.json").read_text())["status"] == "running"


def test_an_ema_model_of_a_scenario_takes_uncertainties_by_key_path():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import ema_workbench
    except ImportError:
        pytest.skip("the EMA workbench is not installed (pip install -e '.[ema]')")
    from sim.experiment.ema import ema_model

    model = ema_model("diversion_programme", {"uptake": "interventions[diversion programme].uptake"}, outcomes=["offences.total"],
                      overrides=["population.size=300", "step=month", "steps=6"])
    model.uncertainties = [ema_workbench.RealParameter("uptake", 0.2, 0.9)]
    _, outcomes = ema_workbench.perform_experiments(model, 1, log_progress=False)
    assert list(outcomes) == ["offences_total"] and np.isfinite(outcomes["offences_total"]).all()
    assert model.function.scenario({"uptake": 0.25}).interventions[0].uptake == 0.25
    with pytest.raises(ExperimentError, match="outcome recruits_all.since_start counts from the step the first intervention starts"):
        ema_model("diversion_programme", {}, overrides=["steps=6"])  # the default outcomes, and nothing starts within 6 weeks
