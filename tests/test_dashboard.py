"""Unit tests of the dashboard's pieces (sim/dashboard): layout, twin runs, figures, components.

The end-to-end test in a browser is tests/test_dashboard_browser.py.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

pytest.importorskip("solara", reason="the dashboard extra is not installed (pip install -e '.[dashboard]')")

import ipyvuetify as v  # noqa: E402  (after the skip: part of the dashboard extra)
import ipywidgets as widgets  # noqa: E402
import solara  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim.dashboard import app, buttons, figures, panels, player  # noqa: E402
from sim.dashboard.layout import StableLayout, cell_centre  # noqa: E402
from sim.dashboard.side_by_side import DEFAULT_SCENARIO, Settings, TwinRun, bundled_scenarios, parse_seed  # noqa: E402
from sim.dashboard.stories import STORIES  # noqa: E402
from sim.model import RecruitModel  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

SMALL = 1000  # persons: the smallest population the dashboard offers; keeps these tests fast
PNG = b"\x89PNG\r\n\x1a\n"


NO_BURN_IN = Path(__file__).parent / "data" / "dashboard_baseline.yaml"  # the baseline, from its set-up state


def twin(**kwargs) -> TwinRun:
    kwargs.setdefault("scenario", NO_BURN_IN)
    return TwinRun(Settings(**{"population": SMALL, **kwargs}))


def press(t: TwinRun, label: str, space: str = "open_forum_a") -> str:
    return panels.intervene(t, buttons.BUTTON_BY_LABEL[label], space)


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
    t.intervene(buttons.ARREST_LARGEST)
    assert rows_equal(t.treated.recorder.rows, t.untreated.recorder.rows)  # nothing happens before the next step
    t.step()
    assert t.treated.recorder.rows[-1]["arrests_intervention"] > 0
    assert "arrests_intervention" not in t.untreated.recorder.rows[-1]


def test_the_twins_share_one_burn_in_and_run_as_built_alone(tmp_path):
    """The treated run is branched off the burned-in untreated one (one burn-in, not two): it
    runs exactly as the scenario's own model, and the twin as the scenario without interventions."""
    scenario = tmp_path / "takedown_soon.yaml"
    scenario.write_text(f"extends: {DEFAULT_SCENARIO.parent / 'forum_takedown.yaml'}\nburn_in_years: 1\n"
                        "interventions: [{type: forum_takedown, target: open_forum_a, at: 0.05}]\n")
    t = twin(scenario=scenario)
    assert t.treated.clock.burn_in_steps == 52
    alone = RecruitModel(t.config)
    plain = RecruitModel(t.config.model_copy(update={"interventions": []}))
    for _ in range(8):
        t.step()
        alone.step()
        plain.step()
    assert rows_equal(t.treated.recorder.rows, alone.recorder.rows)
    assert rows_equal(t.untreated.recorder.rows, plain.recorder.rows)
    assert not rows_equal(t.treated.recorder.rows, t.untreated.recorder.rows)  # the takedown acted
    again = twin(scenario=scenario)
    assert again.untreated.pop is not t.untreated.pop and again.treated.pop is not t.treated.pop  # each run its own copy


def test_step_zero_shows_the_burned_in_town(tmp_path):
    scenario = tmp_path / "one_year_burn_in.yaml"
    scenario.write_text(f"extends: {DEFAULT_SCENARIO}\nburn_in_years: 1\n")
    t = twin(scenario=scenario, population=3000)
    assert t.treated.clock.burn_in_steps == 52
    first = t.timeseries()
    assert list(first["step"]) == [0]
    assert first["involved"].iloc[0] == len(t.network_view().slots) > 0  # the counts and the network view agree
    assert first["recruits_offline"].iloc[0] == 0 and first["losses"].iloc[0] == 0  # nothing counted yet
    rows = {row[0]: row[1:] for row in panels.difference_rows(t)}
    assert rows["network members"] == (str(len(t.network_view().slots)),) * 2 + ("0",)
    forum_users = sum(first[f"active_users_{s.name}"].iloc[0] for s in t.treated.online.spaces if s.kind in ("open_forum", "gated_forum", "market"))
    assert rows["forum users active"][0] == f"{forum_users:.0f}"  # forums and markets; chat and social media are not forums


def test_takedown_button_closes_the_space_on_the_next_step():
    t = twin()
    t.step()
    space = t.treated.online.by_name("gated_forum")
    message = press(t, "Take down", "gated_forum")
    assert "acts at year" in message and "next step" in message  # and says when its effect shows
    assert space.is_open  # acts from the next step
    t.step()
    assert not space.is_open
    assert t.timeseries()["active_users_gated_forum"].iloc[-1] == 0
    assert t.untreated.online.by_name("gated_forum").is_open
    assert "gated_forum" not in t.recruiting_spaces()
    assert [m["label"] for m in t.marks()] == ["takedown gated_forum"]


def test_every_button_is_accepted_by_the_model():
    t = twin()
    t.step()
    for button in buttons.BUTTONS:
        message = press(t, button.label, "open_forum_b")
        assert not message.startswith("not done"), message
        assert button.hint in message
    t.step()
    assert t.treated.online.by_name("open_forum_b").infiltration == pytest.approx(0.1)
    assert t.treated.recorder.rows[-1]["persons_reached"] > 0
    assert len(t.live) == len(buttons.BUTTONS)


def test_a_bad_intervention_is_reported_not_raised():
    t = twin()
    message = press(t, "Take down", "no_such_forum")
    assert message.startswith("not done:") and "no_such_forum" in message
    assert t.live == []


def test_scenario_interventions_run_only_in_the_treated_twin(tmp_path):
    scenario = tmp_path / "takedown.yaml"
    scenario.write_text(f"extends: {DEFAULT_SCENARIO.parent / 'forum_takedown.yaml'}\nburn_in_years: 0\n")
    t = twin(scenario=scenario)
    assert t.treated.interventions and not t.untreated.interventions
    assert t.marks() == []  # the takedown is in year 3: not yet


def test_side_by_side_off_runs_one_model():
    t = twin(side_by_side=False)
    t.step()
    assert list(t.models) == ["treated"]
    assert panels.difference_rows(t)[0][2] == ""


def test_settings_reach_the_scenario():
    t = twin(seed=11, forum_search_rate=3.0, offline_attempt_rate=20.0)
    assert t.config.seed == 11 and t.config.population.size == SMALL
    assert t.config.recruitment.rules.forums.search_rate == 3.0
    assert t.config.recruitment.rules.offline_ties.attempt_rate == 20.0
    assert parse_seed(" 42 ") == 42 and parse_seed("-1") is None and parse_seed("abc") is None


def test_the_run_stops_at_the_scenario_end(tmp_path):
    short = tmp_path / "short.yaml"
    short.write_text(f"extends: {NO_BURN_IN}\nsteps: 3\n")
    t = twin(scenario=short)
    assert t.advance(5) == 3
    assert t.step_now == 3 and not t.running


# --------------------------------------------------------------------------- take-home
@pytest.fixture(scope="module")
def session() -> TwinRun:
    """A session: play, take down a forum and arrest a network, play on."""
    t = twin()
    t.advance(12)
    press(t, "Take down", "open_forum_a")
    press(t, "Arrest network")
    t.advance(10)
    return t


def test_the_session_file_reproduces_the_run_with_interventions(session, tmp_path):
    path = tmp_path / "session.yaml"
    path.write_text(session.session_yaml())
    scenario = load_scenario(path)  # validates
    assert [(i.type, i.start_year) for i in scenario.interventions] == [("forum_takedown", pytest.approx(12 / 52)),
                                                                         ("arrests", pytest.approx(12 / 52))]
    rerun = RecruitModel(scenario)
    for _ in range(session.step_now):
        rerun.step()
    assert rows_equal(rerun.recorder.rows, session.treated.recorder.rows)


def test_the_series_file_has_both_runs_from_step_zero(session):
    import io

    import pandas as pd

    table = pd.read_csv(io.StringIO(session.series_csv()))
    assert set(table["run"]) == {"with_interventions", "without_interventions"}
    treated = table[table["run"] == "with_interventions"].set_index("step")
    untreated = table[table["run"] == "without_interventions"].set_index("step")
    assert list(treated.index) == list(range(session.step_now + 1))
    assert (treated.loc[13:, "active_users_open_forum_a"] == 0).all()  # the takedown acted at step 13
    assert (untreated.loc[13:, "active_users_open_forum_a"] > 0).all()


# --------------------------------------------------------------------------- playing
def test_the_play_clock_keeps_the_pace_whatever_the_frame_rate():
    clock = player.PlayClock(steps_per_s=6.0, started=0.0)
    made = 0
    for now in np.arange(0.4, 10.01, 0.4):  # a frame every 0.4 s: ~2.4 steps each
        steps = clock.due(now, step_cost_s=0.02)
        clock.made_steps(steps)
        made += steps
    assert made == 60
    assert clock.wait_s(10.0) == pytest.approx(1 / 6)


def test_the_play_clock_forgets_what_it_cannot_catch_up():
    clock = player.PlayClock(steps_per_s=6.0, started=0.0)
    assert clock.due(30.0, step_cost_s=0.5) == 2  # 180 steps owed, 1 s of steps allowed: 2, and the debt is dropped
    clock.made_steps(2)
    assert clock.due(30.5, step_cost_s=0.5) == 1
    fastest = player.PlayClock(steps_per_s=float("inf"), started=0.0)
    assert fastest.due(0.0, step_cost_s=0.1) == 10 and fastest.wait_s(0.0) == 0


def test_the_default_pace_is_at_least_five_steps_a_second():
    assert player.steps_per_second(player.DEFAULT_PACE, steps_per_year=52) >= 5  # weekly steps


def test_the_play_loop_plays_jumps_and_stops_at_the_end(tmp_path):
    short = tmp_path / "short.yaml"
    short.write_text(f"extends: {NO_BURN_IN}\nsteps: 30\n")
    t = twin(scenario=short)
    playing, pace, jump_to, frame = solara.reactive(False), solara.reactive("fastest"), solara.reactive(0.2), solara.reactive(0)
    app.play_loop(t, playing, pace, jump_to, frame, lambda: True)
    assert t.step_now == round(0.2 * 52) and jump_to.value is None and frame.value >= 1
    playing.set(True)
    app.play_loop(t, playing, pace, jump_to, frame, lambda: True)
    assert t.step_now == 30 and not t.running and playing.value is False


def test_every_story_plays_on_the_bundled_baseline():
    t = twin()  # the baseline's online spaces
    spaces = t.recruiting_spaces(open_only=False)
    for story in STORIES:
        assert story.missing_spaces(spaces) == []
        for step in story.steps:
            t.intervene(step)  # raises on an invalid entry
    assert len(t.live) == sum(len(s.steps) for s in STORIES)


# --------------------------------------------------------------------------- figures
@pytest.fixture(scope="module")
def played() -> TwinRun:
    t = twin()
    t.advance(30)
    t.intervene(buttons.takedown_spec("open_forum_a"))
    t.intervene(buttons.ARREST_LARGEST)
    t.advance(10)
    return t


@pytest.mark.parametrize("name", [*figures.PLOTS, *figures.NETWORK_VIEWS])
def test_every_figure_draws_with_text_readable_from_the_back(played, name):
    fig = figures.plot_figure(played, name)
    assert isinstance(fig, Figure) and fig.axes
    assert figures.png(fig).startswith(PNG)
    assert fig.get_figwidth() * fig.dpi == figures.PLOT_PX[0]  # the width it is shown at on a 1366x768 screen
    texts = [t for t in fig.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text")) if t.get_text().strip()]
    assert texts
    smallest = min(t.get_fontsize() for t in texts) * fig.dpi / 72
    assert smallest >= figures.MIN_TEXT_PX, [t.get_text() for t in texts if t.get_fontsize() * fig.dpi / 72 < figures.MIN_TEXT_PX]


def test_plots_overlay_the_twins_and_mark_interventions(played):
    frames = {r: played.timeseries(r) for r in played.models}
    fig = figures.figure_timeseries("members", frames, played.marks(), played.horizon_years)
    ax = fig.axes[0]
    styles = {line.get_linestyle() for line in ax.lines if len(line.get_xdata()) > 2}
    assert {"-", "--"} <= styles  # with interventions solid, the twin dashed
    vertical = [line for line in ax.lines if len(set(np.atleast_1d(line.get_xdata()))) == 1]
    assert len(vertical) == 1  # both interventions began at the same moment: one line
    assert "takedown open_forum_a + arrest largest network" in {t.get_text().strip() for t in ax.texts}


def test_plots_show_rates_per_year_and_never_an_empty_axis():
    t = twin()
    fig = figures.plot_figure(t, "recruits")
    assert fig.axes[0].get_ylim() == (0.0, 1.0)  # step 0: nothing recruited yet, an axis of 0-1 (not 0-0.05)
    t.advance(20)
    fig = figures.plot_figure(t, "recruits")
    line = next(line for line in fig.axes[0].lines if line.get_linestyle() == "-")
    frame = t.timeseries()
    window = round(52 / 4)
    expected = frame["recruits_offline"].rolling(window, min_periods=1).mean() * 52
    np.testing.assert_allclose(line.get_ydata(), expected)


def test_plots_kept_on_the_twin_update_in_place():
    t = twin()
    t.step()
    fig = figures.plot_figure(t, "losses")
    t.intervene(buttons.ARREST_LARGEST)
    for _ in range(3):
        t.step()
        assert figures.plot_figure(t, "losses") is fig  # the same figure, new data
    ax = fig.axes[0]
    counts = (len(ax.lines), len(ax.texts), len(ax.collections))
    figures.plot_figure(t, "losses")
    assert (len(ax.lines), len(ax.texts), len(ax.collections)) == counts  # marks and shading replaced, not added
    solid = next(line for line in ax.lines if line.get_linestyle() == "-" and len(line.get_xdata()) > 1)
    np.testing.assert_allclose(solid.get_ydata(), t.timeseries()["losses"].cumsum() / 1000.0)
    fresh = figures.figure_timeseries("losses", {r: t.timeseries(r) for r in t.models}, t.marks(), t.horizon_years)
    assert fresh.axes[0].get_ylim() == ax.get_ylim() and fresh.axes[0].get_xlim() == ax.get_xlim()


def test_network_view_shows_members_and_their_ties(played):
    view = played.network_view("untreated")
    assert len(view.slots) == played.untreated.recorder.rows[-1]["involved"]
    assert np.all(played.untreated.pop.network[view.slots[view.tie_a]] == played.untreated.pop.network[view.slots[view.tie_b]])
    again = played.network_view("untreated")
    np.testing.assert_array_equal(view.xy, again.xy)  # the same state draws the same picture


def test_figures_of_a_fresh_model_draw():
    t = twin()
    for name in [*figures.PLOTS, *figures.NETWORK_VIEWS]:
        assert figures.png(figures.plot_figure(t, name)).startswith(PNG)


# --------------------------------------------------------------------------- Solara components
def buttons_of(rc) -> dict[str, v.Btn]:
    return {b.children[0]: b for b in (w.widget for w in rc.find(v.Btn)) if b.children and isinstance(b.children[0], str)}


def test_intervention_bar_buttons_act_on_the_model():
    t = twin()
    t.step()
    messages = []
    box, rc = solara.render(panels.InterventionBar(t, 0, on_message=messages.append), handle_error=False)
    found = buttons_of(rc)
    assert {b.label for b in buttons.BUTTONS} <= set(found)
    found["Arrest network"].click()
    assert [live.label for live in t.live] == ["arrest largest network"]
    assert messages and "acts at year" in messages[0]
    rc.close()


def test_difference_and_plot_panels_render():
    t = twin()
    t.step()
    box, rc = solara.render(panels.DifferencePanel(t, 0, "a message", "fast"), handle_error=False)
    assert "with" in panels.difference_html(t) and "twin" in panels.difference_html(t)
    rc.close()
    box, rc = solara.render(panels.Plot(t, "members", 0), handle_error=False)
    image = rc.find(widgets.Image).widget
    assert bytes(image.value).startswith(PNG)
    rc.close()


def test_the_page_builds_and_its_step_button_steps_both_twins(monkeypatch):
    from sim.dashboard.command import SCENARIO_ENV

    monkeypatch.setenv(SCENARIO_ENV, str(NO_BURN_IN))  # the controls, not the burn-in (tests/test_branch.py)
    box, rc = solara.render(app.Page(), handle_error=False)
    found = buttons_of(rc)
    assert {"Play", "Step", "Jump", "Restart", "Take down", "Arrest network", "Play story"} <= set(found)
    assert "PNG" in str([w.widget.format for w in rc.find(widgets.Image)]).upper()
    found["Step"].click()
    from solara.widgets.widgets import HTML

    html = str([w.widget.unsafe_innerHTML for w in rc.find(HTML)])
    assert "<b class='recruitsim-year'>0.02</b>" in html
    rc.close()


def test_the_settings_panel_applies_what_it_shows():
    applied = []
    choices = bundled_scenarios()
    box, rc = solara.render(panels.SettingsPanel(Settings(population=SMALL), choices, on_apply=applied.append), handle_error=False)
    buttons_of(rc)["Apply"].click()
    assert applied and applied[0].population == SMALL and applied[0].scenario == choices["baseline"]
    assert rc.find(v.Html, children=["1,000 persons"]).widget is not None  # the slider's value, in words
    rc.close()


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
    assert app.start_settings(mine).seed == 3


def test_app_opens_on_the_scenario_in_the_environment(monkeypatch):
    from sim.dashboard.command import SCENARIO_ENV

    monkeypatch.setenv(SCENARIO_ENV, str(DEFAULT_SCENARIO.parent / "core_arrests.yaml"))
    assert app.start_scenario().name == "core_arrests.yaml"
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
    first = figures.figure_png(t, "members")
    player = threading.Thread(target=t.step)  # the play loop, in its own thread
    player.start()
    player.join()
    assert figures.figure_png(t, "members") is first  # stale by a step, but no redraw here
    t.intervene(buttons.ARREST_LARGEST)
    marked = figures.figure_png(t, "members")
    assert marked is not first  # a new mark is drawn at once
    t.step()  # this thread steps: it draws
    assert figures.figure_png(t, "members") is not marked


def test_jump_to_year_refuses_what_it_cannot_do():
    t = twin()
    t.advance(26)
    assert panels.jump_problem("", t) == "" and panels.jump_problem("2", t) == ""
    assert panels.jump_problem("soon", t) == "a number of years"
    assert panels.jump_problem("0.4", t) == "after 0.50"  # the past
    assert panels.jump_problem("11", t) == "at most 10"


def test_a_failing_step_stops_the_play_with_one_line_on_the_page(monkeypatch, caplog):
    import logging
    import time

    from solara.widgets.widgets import HTML

    from sim.dashboard.command import SCENARIO_ENV

    monkeypatch.setenv(SCENARIO_ENV, str(NO_BURN_IN))

    def broken(self, steps):
        raise RuntimeError("boom")

    box, rc = solara.render(app.Page(), handle_error=False)
    monkeypatch.setattr(TwinRun, "advance", broken)
    with caplog.at_level(logging.ERROR, logger="sim.dashboard.app"):
        buttons_of(rc)["Play"].click()
        deadline = time.monotonic() + 10
        shown = ""
        while time.monotonic() < deadline and "the run stopped" not in shown:
            time.sleep(0.05)
            shown = " ".join(w.widget.unsafe_innerHTML for w in rc.find(HTML))
    assert "not done: the run stopped at year 0.00 (RuntimeError: boom); Restart to begin again" in shown
    assert "Play" in buttons_of(rc)  # not playing any more
    assert "the play loop stopped" in caplog.text  # the traceback goes to the server's log
    rc.close()
