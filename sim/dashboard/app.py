"""The recruitsim dashboard: a presenter page, served locally by `solara run`.

Start it with `recruitsim dashboard [SCENARIO]`, which runs `solara run sim/dashboard/app.py`
with the scenario in the environment variable RECRUITSIM_DASHBOARD_SCENARIO (default: the
bundled baseline). Everything is drawn on the server with matplotlib and sent as images: the
page loads nothing from the internet (see docs/dashboard.md).

The page is laid out for a projector (1366x768 and up), without scrolling for what matters:

    | Play Step  Year 2.40 of 10  [Jump to year] Jump  [Speed]  Restart  Settings       |
    | [Online space] Take down  Infiltrate  Arrest core  Arrest network  Mule campaign  |
    | members by role      | recruits offline vs online | with vs twin (the difference)|
    | forum activity       | victims' losses            | stories, take-home files     |
    | network view (with)  | network view (twin)        | networks by origin           |  <- below the fold

Mesa's SolaraViz lays out a sidebar and a grid of cards, which a 1366x768 projector cannot show
without scrolling; this page is Solara's own components around the same figures, with its own
play loop (`play_loop`), which keeps a pace in model time and draws as often as drawing allows.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import solara
import solara.lab

from sim.dashboard import panels
from sim.dashboard.player import DEFAULT_PACE, PlayClock, steps_per_second
from sim.dashboard.command import WARM_UP_ENV
from sim.dashboard.side_by_side import DEFAULT_SCENARIO, SCENARIO_ENV, Settings, TwinRun, bundled_scenarios
from sim.scenario import load_scenario

TITLE = "recruitsim: recruitment into cybercriminal networks"
JUMP_CHUNK_S = 0.5  # a jump shows its progress this often

CSS = """
.v-application--wrap > div, .solara-content-main { padding: 0 !important; }
.recruitsim-page { padding: 6px 10px; font-size: 16px; }
.recruitsim-bar { min-height: 44px; }
.recruitsim-page .v-btn { font-size: 15px; letter-spacing: 0; text-transform: none; }
.recruitsim-below { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 6px 10px; margin: 8px 300px 0 0; }
.recruitsim-time { font-size: 18px; white-space: nowrap; }
.recruitsim-main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr) 290px; gap: 6px 10px; align-items: start; }
.recruitsim-image img, img.recruitsim-image, .recruitsim-image { width: 100%; height: auto; display: block; }
.recruitsim-key img { max-height: calc((100vh - 118px) / 2 - 8px); object-fit: contain; object-position: left top; }
.recruitsim-side { grid-row: span 2; display: flex; flex-direction: column; gap: 10px; font-size: 15px; }
.recruitsim-panel-title { font-weight: bold; font-size: 16px; }
.recruitsim-headline { border-collapse: collapse; width: 100%; font-size: 16px; }
.recruitsim-headline th { text-align: right; padding: 0 4px; }
.recruitsim-headline td { padding: 1px 4px; }
.recruitsim-headline td.num { text-align: right; font-variant-numeric: tabular-nums; }
.recruitsim-caption, .recruitsim-speed, .recruitsim-live { font-size: 14px; color: #555; }
.recruitsim-message { font-size: 14px; background: #eef4fb; padding: 4px 6px; border-radius: 4px; }
.recruitsim-error { font-size: 14px; background: #fdecea; padding: 4px 6px; border-radius: 4px; }
"""


def start_scenario() -> Path:
    """The scenario the dashboard opens on: $RECRUITSIM_DASHBOARD_SCENARIO, or the baseline."""
    return Path(os.environ.get(SCENARIO_ENV) or DEFAULT_SCENARIO)


def start_settings(start: Path) -> Settings:
    """The settings the page opens with: the scenario's own seed and recruitment intensities."""
    scenario = load_scenario(start)
    rules = scenario.recruitment.rules
    return Settings(scenario=start, seed=scenario.seed, forum_search_rate=float(rules.forums.search_rate),
                    offline_attempt_rate=float(rules.offline_ties.attempt_rate))


def play_loop(twin: TwinRun, playing: solara.Reactive[bool], pace: solara.Reactive[str],
              jump_to: solara.Reactive[float | None], frame: solara.Reactive[int], is_current) -> None:
    """Advance `twin` while playing (at the pace) or jumping (as fast as it goes), one frame at a
    time; each frame's `frame.set` redraws the page. Stops when neither, at the run's end, or
    when the page starts another loop (`is_current()` false)."""
    def new_clock() -> PlayClock:
        return PlayClock(steps_per_second(pace.value, twin.treated.clock.steps_per_year), time.monotonic())

    clock = new_clock()
    while is_current() and twin.running:
        target = jump_to.value
        if target is not None:
            due = twin.steps_to_year(target)
            if due == 0:  # there: play on if playing (the jump was made while playing), else stop
                jump_to.set(None)
                clock = new_clock()
                continue
            twin.advance(min(due, max(1, int(JUMP_CHUNK_S / max(twin.last_step_seconds, 1e-3)))))
        elif playing.value:
            wait = clock.wait_s(time.monotonic())
            if wait > 0:
                time.sleep(min(wait, 0.1))
                continue
            clock.made_steps(twin.advance(clock.due(time.monotonic(), twin.last_step_seconds)))
        else:
            break
        frame.set(frame.value + 1)
    if not twin.running:
        playing.set(False)
        jump_to.set(None)
    frame.set(frame.value + 1)  # the last frame, drawn here: a render in the thread that paused showed the previous picture


@solara.component
def Page():
    start = start_scenario()
    choices = solara.use_memo(lambda: bundled_scenarios(start), [str(start)])
    settings = solara.use_reactive(solara.use_memo(lambda: start_settings(start), [str(start)]))
    twin = solara.use_reactive(solara.use_memo(lambda: TwinRun(settings.value), []))  # one run per browser tab
    playing = solara.use_reactive(False)
    pace = solara.use_reactive(DEFAULT_PACE)
    jump_to = solara.use_reactive(None)  # a year to go to as fast as possible, None once there
    jumps = solara.use_reactive(0)  # a new jump starts the loop; reaching the year must not restart it
    frame = solara.use_reactive(0)
    message = solara.use_reactive("")
    show_settings = solara.use_reactive(False)
    loop_id = solara.use_memo(lambda: [0], [])  # bumped to stop an older loop

    def run_loop():
        loop_id[0] += 1
        mine = loop_id[0]
        try:
            play_loop(twin.value, playing, pace, jump_to, frame, lambda: loop_id[0] == mine)
        except Exception as exc:  # a bug: say it in one line on the page (the server log has the traceback)
            logging.getLogger(__name__).exception("the play loop stopped")
            playing.set(False)
            jump_to.set(None)
            message.set(f"not done: the run stopped at year {twin.value.year:.2f} ({type(exc).__name__}: {exc}); "
                        "Restart to begin again")

    solara.lab.use_task(run_loop, dependencies=[playing.value, jumps.value, pace.value, twin.value], prefer_threaded=True)

    def jump(year: float) -> None:
        jump_to.set(year)
        jumps.set(jumps.value + 1)

    def new_run(new_settings: Settings, interventions: list[dict] = (), play: bool = False) -> None:
        playing.set(False)
        jump_to.set(None)
        run = TwinRun(new_settings)
        for spec in interventions:
            run.intervene(spec)
        settings.set(new_settings)
        twin.set(run)
        message.set("")
        playing.set(play)

    def step_once() -> None:
        twin.value.advance(1)
        frame.set(frame.value + 1)

    def apply_settings(new_settings: Settings) -> None:
        show_settings.set(False)
        new_run(new_settings)

    run = twin.value
    measured = f"last step {1000 * run.last_step_seconds:.0f} ms ({len(run.models)} runs); drawing {1000 * sum(run.render_seconds.values()):.0f} ms"
    solara.Title("recruitsim dashboard")
    solara.Style(CSS)
    with solara.Column(classes=["recruitsim-page"], gap="2px"):
        panels.RunBar(run, frame.value, playing, pace, on_jump=jump, on_step=step_once, on_restart=lambda: new_run(settings.value), show_settings=show_settings)
        panels.InterventionBar(run, frame.value, on_message=message.set)
        if show_settings.value:
            panels.SettingsPanel(settings.value, choices, on_apply=apply_settings)
        with solara.Div(classes=["recruitsim-main"]):
            for name in ("members", "recruits"):
                with solara.Div(classes=["recruitsim-key"]):
                    panels.Plot(run, name, frame.value)
            with solara.Div(classes=["recruitsim-side"]):
                panels.DifferencePanel(run, frame.value, message.value, measured)
                panels.StoryPanel(run, frame.value, on_story=lambda specs: new_run(settings.value, specs, play=True))
            for name in ("forums", "losses"):
                with solara.Div(classes=["recruitsim-key"]):
                    panels.Plot(run, name, frame.value)
        with solara.Div(classes=["recruitsim-below"]):  # below the fold: scroll down
            panels.Plot(run, "network", frame.value)
            if run.untreated is not None:
                panels.Plot(run, "network_twin", frame.value)
            else:
                solara.Text("Twin off: tick it in Settings to run the twin without interventions.")
            panels.Plot(run, "origins", frame.value)


def warm_up() -> None:
    """Burn in the town the page opens on while the server starts, not when the first visitor
    comes (`recruitsim dashboard` asks for it; the burn-in is kept for every tab: side_by_side.burned_in)."""
    threading.Thread(target=lambda: TwinRun(start_settings(start_scenario())), daemon=True, name="recruitsim-burn-in").start()


if os.environ.get(WARM_UP_ENV) == "1":
    warm_up()
