"""Unit tests of the dashboard's pieces (sim/dashboard): layout, twin runs, figures, components.

The end-to-end test in a browser is tests/test_dashboard_browser.py.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

pytest.importorskip("solara", reason="the dashboard extra is not installed (pip install -e '.[dashboard]')")
pytest.importorskip("mesa.visualization", reason="the dashboard extra is not installed (pip install -e '.[dashboard]')")

import ipyvuetify as v  # noqa: E402  (after the skip: part of the dashboard extra)
import ipywidgets as widgets  # noqa: E402
import solara  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim.dashboard import app, components  # noqa: E402
from sim.dashboard.layout import StableLayout, cell_centre  # noqa: E402
from sim.dashboard.side_by_side import DEFAULT_SCENARIO, TwinRun, bundled_scenarios, parse_seed  # noqa: E402

SMALL = 1000  # persons: the smallest population the dashboard offers; keeps these tests fast
PNG = b"\x89PNG\r\n\x1a\n"


NO_BURN_IN = Path(__file__).parent / "data" / "dashboard_baseline.yaml"  # the baseline, from its set-up state


def twin(**kwargs) -> TwinRun:
    if "scenario_name" not in kwargs:
        kwargs.setdefault("scenario_file", NO_BURN_IN)
    return TwinRun(**{"population": SMALL, **kwargs})


def rows_equal(a: list[dict], b: list[dict]) -> bool:
    return len(a) == len(b) and all(x == y for x, y in zip(a, b))


# --------------------------------------------------------------------------- layout
def test_layout_is_a_function_of_its_inputs():
    persons, nets, joined = np.array([5, 9, 2, 7]), np.array([3, 3, 8, 3]), np.array([0, 4, 1, 2])
    first = StableLayout().update(persons, nets, joined)
    second = StableLayout().update(persons, nets, joined)
    np.testing.assert_array_equal(first, second)
    again = StableLayout()
    again.update(persons, nets, joined)
    np.testing.assert_array_equal(again.update(persons, nets, joined), first)  # a repeated frame changes nothing


def test_layout_never_moves_placed_members():
    layout = StableLayout()
    before = layout.update(np.array([1, 2, 3]), np.array([0, 0, 4]), np.array([0, 1, 1]))
    # a newcomer in network 0, a new network 6, and the input in another order
    after = layout.update(np.array([3, 10, 2, 1, 11]), np.array([4, 0, 0, 0, 6]), np.array([1, 9, 1, 0, 9]))
    np.testing.assert_array_equal(after[[3, 2, 0]], before)
    assert len({tuple(p) for p in after}) == 5  # nobody on top of anyone


def test_layout_frees_spots_and_cells():
    layout = StableLayout()
    layout.update(np.array([1, 2, 3]), np.array([0, 0, 1]), np.array([0, 1, 0]))
    cell_of_1 = layout.cell[1]
    # person 2 leaves network 0; network 1 dissolves; person 4 joins network 0, network 2 is founded
    xy = layout.update(np.array([1, 4, 5]), np.array([0, 0, 2]), np.array([0, 5, 5]))
    assert layout.spot[4] == (0, 1)  # takes the spot person 2 freed
    assert layout.cell[2] == cell_of_1  # takes the cell network 1 freed
    centre = np.array(cell_centre(layout.cell[0]))
    assert np.all(np.abs(xy[:2] - centre) < 0.5)  # members stay inside their network's cell


def test_layout_costs_milliseconds():
    import time

    rng = np.random.default_rng(1)
    layout = StableLayout()
    persons = np.arange(300)
    nets = rng.integers(0, 20, 300)
    started = time.perf_counter()
    for _ in range(10):
        layout.update(persons, nets, np.zeros(300))
    assert (time.perf_counter() - started) / 10 < 0.05


# --------------------------------------------------------------------------- twin runs
def test_twins_are_identical_until_an_intervention_acts():
    t = twin()
    for _ in range(10):
        t.step()
    assert rows_equal(t.treated.recorder.rows, t.untreated.recorder.rows)
    t.intervene(components.ARREST_LARGEST)
    assert rows_equal(t.treated.recorder.rows, t.untreated.recorder.rows)  # nothing happens before the next step
    t.step()
    assert t.treated.recorder.rows[-1]["arrests_intervention"] > 0
    assert "arrests_intervention" not in t.untreated.recorder.rows[-1]


def test_takedown_button_closes_the_space_on_the_next_step():
    t = twin()
    t.step()
    space = t.treated.online.by_name("gated_forum")
    message = components.intervene(t, components.takedown_spec("gated_forum"))
    assert "acts at year" in message
    assert space.is_open  # acts from the next step
    t.step()
    assert not space.is_open
    assert t.timeseries()["active_users_gated_forum"].iloc[-1] == 0
    assert t.untreated.online.by_name("gated_forum").is_open
    assert "gated_forum" not in t.recruiting_spaces()
    assert [m["label"] for m in t.marks()] == ["takedown gated_forum"]


def test_every_live_intervention_is_accepted_by_the_model():
    t = twin()
    t.step()
    for spec in (components.takedown_spec("open_forum_a"), components.infiltration_spec("open_forum_b"),
                 components.ARREST_LARGEST, components.ARREST_CORE, components.AWARENESS):
        assert components.intervene(t, spec).endswith("(from the next step)")
    t.step()
    assert t.treated.online.by_name("open_forum_b").infiltration == pytest.approx(0.1)
    assert t.treated.recorder.rows[-1]["persons_reached"] > 0
    assert len(t.live) == 5


def test_a_bad_intervention_is_reported_not_raised():
    t = twin()
    message = components.intervene(t, components.takedown_spec("no_such_forum"))
    assert message.startswith("not done:") and "no_such_forum" in message
    assert t.live == []


def test_scenario_interventions_run_only_in_the_treated_twin():
    t = twin(scenario_name="forum_takedown")
    assert t.treated.interventions and not t.untreated.interventions
    assert t.marks() == []  # the takedown is in year 3: not yet


def test_side_by_side_off_runs_one_model():
    t = twin(side_by_side=False)
    t.step()
    assert list(t.models) == ["treated"]
    assert components.headline(t)[0][2] == ""


def test_inputs_reach_the_scenario():
    t = twin(seed="11", forum_search_rate=3.0, offline_attempt_rate=20.0)
    assert t.config.seed == 11 and t.config.population.size == SMALL
    assert t.config.recruitment.rules.forums.search_rate == 3.0
    assert t.config.recruitment.rules.offline_ties.attempt_rate == 20.0
    bad = twin(seed="abc")
    assert bad.config.seed == 7 and "abc" in bad.notes[0]
    assert parse_seed(" 42 ") == 42 and parse_seed("-1") is None


def test_the_run_stops_at_the_scenario_end(tmp_path):
    short = tmp_path / "short.yaml"
    short.write_text(f"extends: {DEFAULT_SCENARIO}\nsteps: 3\n")
    t = twin(scenario_file=short)
    for _ in range(5):
        t.step()
    assert t.step_now == 3 and not t.running


# --------------------------------------------------------------------------- figures
@pytest.fixture(scope="module")
def played() -> TwinRun:
    t = twin()
    for _ in range(30):
        t.step()
    t.intervene(components.takedown_spec("open_forum_a"))
    t.intervene(components.ARREST_LARGEST)
    for _ in range(10):
        t.step()
    return t


@pytest.mark.parametrize("name", [*components.PLOTS, *components.NETWORK_VIEWS])
def test_every_figure_draws(played, name):
    fig = components.plot_figure(played, name)
    assert isinstance(fig, Figure) and fig.axes
    assert components.png(fig).startswith(PNG)


def test_plots_overlay_the_twins_and_mark_interventions(played):
    frames = {r: played.timeseries(r) for r in played.models}
    fig = components.figure_timeseries("members", frames, played.marks(), played.horizon_years)
    ax = fig.axes[0]
    styles = {line.get_linestyle() for line in ax.lines if len(line.get_xdata()) > 2}
    assert {"-", "--"} <= styles  # with interventions solid, the twin dashed
    vertical = [line for line in ax.lines if len(set(np.atleast_1d(line.get_xdata()))) == 1]
    assert len(vertical) == 1  # both interventions began at the same moment: one line
    assert "takedown open_forum_a + arrest largest network" in {t.get_text().strip() for t in ax.texts}


def test_plots_kept_on_the_twin_update_in_place():
    t = twin()
    t.step()
    fig = components.plot_figure(t, "losses")
    t.intervene(components.ARREST_LARGEST)
    for _ in range(3):
        t.step()
        assert components.plot_figure(t, "losses") is fig  # the same figure, new data
    ax = fig.axes[0]
    counts = (len(ax.lines), len(ax.texts), len(ax.collections))
    components.plot_figure(t, "losses")
    assert (len(ax.lines), len(ax.texts), len(ax.collections)) == counts  # marks and shading replaced, not added
    solid = next(line for line in ax.lines if line.get_linestyle() == "-" and len(line.get_xdata()) > 1)
    np.testing.assert_allclose(solid.get_ydata(), t.timeseries()["losses"].cumsum() / 1000.0)
    fresh = components.figure_timeseries("losses", {r: t.timeseries(r) for r in t.models}, t.marks(), t.horizon_years)
    assert fresh.axes[0].get_ylim() == ax.get_ylim() and fresh.axes[0].get_xlim() == ax.get_xlim()


def test_network_view_shows_members_and_their_ties(played):
    view = played.network_view("untreated")
    assert len(view.slots) == played.untreated.recorder.rows[-1]["involved"]
    assert np.all(played.untreated.pop.network[view.slots[view.tie_a]] == played.untreated.pop.network[view.slots[view.tie_b]])
    again = played.network_view("untreated")
    np.testing.assert_array_equal(view.xy, again.xy)  # the same state draws the same picture


def test_figures_of_a_fresh_model_draw():
    t = twin()
    for name in [*components.PLOTS, *components.NETWORK_VIEWS]:
        assert components.png(components.plot_figure(t, name)).startswith(PNG)


# --------------------------------------------------------------------------- Solara components
def buttons(rc) -> dict[str, v.Btn]:
    return {b.children[0]: b for b in (w.widget for w in rc.find(v.Btn)) if b.children and isinstance(b.children[0], str)}


def test_intervention_panel_button_acts_on_the_model():
    t = twin()
    t.step()
    box, rc = solara.render(components.InterventionPanel(t), handle_error=False)
    found = buttons(rc)
    assert {"Take down", "Infiltrate", "Arrest largest network", "Arrest core of largest network", "Money-mule awareness campaign"} <= set(found)
    found["Arrest largest network"].click()
    assert [live.label for live in t.live] == ["arrest largest network"]
    assert rc.find(v.Alert).widget is not None  # the message saying when it acts
    rc.close()


def test_status_and_plot_components_render():
    t = twin()
    t.step()
    box, rc = solara.render(components.StatusPanel(t), handle_error=False)
    assert "with interventions" in components.status_html(t)
    rc.close()
    box, rc = solara.render(components.Plot(t, "members"), handle_error=False)
    image = rc.find(widgets.Image).widget
    assert bytes(image.value).startswith(PNG)
    rc.close()


def test_the_page_builds():
    box, rc = solara.render(app.Page(), handle_error=False)
    found = buttons(rc)
    assert {"Take down", "Arrest largest network"} <= set(found)
    assert "PNG" in str([w.widget.format for w in rc.find(widgets.Image)]).upper()
    rc.close()


def test_mesa_step_button_steps_both_twins():
    from mesa.visualization.solara_viz import ModelController

    t = twin()
    model = solara.reactive(t)
    box, rc = solara.render(ModelController(model, play_interval=solara.reactive(100), render_interval=solara.reactive(1),
                                            use_threads=solara.reactive(False)), handle_error=False)
    buttons(rc)["Step"].click()
    assert t.treated.output_step == 1 and t.untreated.output_step == 1
    rc.close()


def test_reset_builds_the_model_from_the_sidebar_inputs():
    """SolaraViz's Reset calls TwinRun(**inputs): every input must be a keyword it accepts."""
    from mesa.visualization.solara_viz import _build_model_init_kwargs, _check_model_params

    choices = bundled_scenarios()
    params = app.model_params(DEFAULT_SCENARIO, choices)
    model = app.initial_model({**params, "population": {**params["population"], "value": SMALL}})
    _check_model_params(model, params)
    values = {k: (p["value"] if isinstance(p, dict) and "type" in p else p) for k, p in params.items()}
    kwargs = _build_model_init_kwargs(model, {**values, "population": SMALL, "scenario_name": "core_arrests"},
                                      add_scenario_when_empty=True, require_model_accepts_scenario=True)
    rebuilt = type(model)(**kwargs)
    assert rebuilt.config.name == "core_arrests" and rebuilt.config.population.size == SMALL


# --------------------------------------------------------------------------- the command
def test_dashboard_command_serves_the_app(monkeypatch):
    from click.testing import CliRunner

    from sim.dashboard import command

    seen = {}

    def fake_serve(cmd, env):
        seen.update(cmd=cmd, env=env)
        return 0

    monkeypatch.setattr(command, "serve", fake_serve)
    result = CliRunner().invoke(command.dashboard, [str(DEFAULT_SCENARIO.parent / "forum_takedown.yaml"), "--port", "8800"])
    assert result.exit_code == 0, result.output
    cmd = seen["cmd"]
    assert cmd[1:4] == ["-m", "solara", "run"] and cmd[4].endswith("app.py")
    assert cmd[cmd.index("--port") + 1] == "8800" and cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert "--no-check-version" in cmd
    assert seen["env"][command.SCENARIO_ENV].endswith("forum_takedown.yaml")
    assert seen["env"]["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert urlparse(seen["env"]["SOLARA_ASSETS_CDN"]).hostname == "127.0.0.1"

    result = CliRunner().invoke(command.dashboard, [])
    assert result.exit_code == 0 and command.SCENARIO_ENV not in seen["env"]  # the baseline
    assert "http://127.0.0.1:8765/" in result.output


def test_dashboard_command_rejects_a_bad_scenario(tmp_path):
    from click.testing import CliRunner

    from sim.dashboard import command
    from sim.errors import ScenarioError

    bad = tmp_path / "bad.yaml"
    bad.write_text("population: {size: -5}\n")
    result = CliRunner().invoke(command.dashboard, [str(bad)])
    assert isinstance(result.exception, ScenarioError)  # sim.cli's group prints it as one `error:` line
    from sim.cli import cli

    missing = CliRunner().invoke(cli, ["dashboard", str(tmp_path / "missing.yaml")])
    assert missing.exit_code == 2 and missing.stderr == f"error: {tmp_path / 'missing.yaml'}: file not found\n"


def test_scenario_choices_include_a_file_from_elsewhere(tmp_path):
    mine = tmp_path / "my_town.yaml"
    mine.write_text(f"extends: {DEFAULT_SCENARIO}\nseed: 3\n")
    twin_of_baseline = tmp_path / "baseline.yaml"
    twin_of_baseline.write_text(f"extends: {DEFAULT_SCENARIO}\n")
    assert bundled_scenarios(mine)["my_town"] == mine
    assert bundled_scenarios(twin_of_baseline)[str(twin_of_baseline)] == twin_of_baseline  # the bundled one keeps its name
    assert bundled_scenarios(DEFAULT_SCENARIO) == bundled_scenarios()
    params = app.model_params(mine, bundled_scenarios(mine))
    assert params["scenario_name"]["value"] == "my_town" and params["seed"]["value"] == "3"


def test_app_opens_on_the_scenario_in_the_environment(monkeypatch):
    from sim.dashboard.command import SCENARIO_ENV

    monkeypatch.setenv(SCENARIO_ENV, str(DEFAULT_SCENARIO.parent / "core_arrests.yaml"))
    params = app.model_params(app.start_scenario(), bundled_scenarios(app.start_scenario()))
    assert params["scenario_name"]["value"] == "core_arrests"
    monkeypatch.delenv(SCENARIO_ENV)
    assert app.start_scenario() == DEFAULT_SCENARIO


def test_command_errors_are_one_line_in_the_recruitsim_group(tmp_path):
    import click
    from click.testing import CliRunner

    from sim.cli import RecruitsimGroup
    from sim.dashboard.command import dashboard

    @click.group(cls=RecruitsimGroup)
    def group():
        pass

    group.add_command(dashboard)
    bad = tmp_path / "bad.yaml"
    bad.write_text("population: {size: -5}\n")
    result = CliRunner().invoke(group, ["dashboard", str(bad)])
    assert result.exit_code == 2 and result.output.startswith("error: ") and len(result.output.strip().splitlines()) == 1


def test_command_without_the_extra_says_what_to_install(monkeypatch):
    from click.testing import CliRunner

    from sim.dashboard import command
    from sim.errors import RecruitsimError

    monkeypatch.setattr(command, "missing_dashboard_packages", lambda: ["solara"])
    result = CliRunner().invoke(command.dashboard, [])
    assert isinstance(result.exception, RecruitsimError) and "recruitsim[dashboard]" in str(result.exception)


def test_a_render_in_another_thread_while_playing_shows_the_last_picture():
    """A button pressed during play renders in the websocket thread: it must not redraw (the
    play loop does), except once for a new intervention's mark."""
    import threading

    t = twin()
    t.step()
    first = components.figure_png(t, "members")
    player = threading.Thread(target=t.step)  # the play loop, in its own thread
    player.start()
    player.join()
    assert components.figure_png(t, "members") is first  # stale by a step, but no redraw here
    t.intervene(components.ARREST_LARGEST)
    marked = components.figure_png(t, "members")
    assert marked is not first  # a new mark is drawn at once
    t.step()  # this thread steps: it draws
    assert components.figure_png(t, "members") is not marked
