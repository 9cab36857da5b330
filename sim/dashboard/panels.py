"""The presenter page's panels: Solara components that show a TwinRun and act on it.

Each panel takes the TwinRun (and the callbacks it needs) as arguments: the page (app.py) owns
the state (which run, playing or not, the pace) and passes it down. Figures come from
figures.py, drawn once per step; CSS classes (`recruitsim-*`) name what the browser test finds.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

import solara

from sim.dashboard.buttons import BUTTONS, Button
from sim.dashboard.figures import figure_png
from sim.dashboard.player import PACES
from sim.dashboard.side_by_side import POPULATION_RANGE, Settings, TwinRun, choice_name, parse_seed
from sim.dashboard.stories import STORIES, STORY_BY_TITLE
from sim.errors import ScenarioError
from sim.places.online_spaces import FORUM_KINDS
from sim.scenario.export import intervention_entry

RATE_MAX = 48.0  # slider ends for the recruitment intensities (scenario default: 12 per year)


@solara.component
def Plot(twin: TwinRun, name: str, frame: int):
    """One figure of the twin run, redrawn once per step (and when an intervention is added)."""
    with solara.Column(classes=["recruitsim-plot", f"recruitsim-plot-{name}"], gap="0px"):
        solara.Image(figure_png(twin, name), classes=["recruitsim-image"])


def intervene(twin: TwinRun, button: Button, space: str) -> str:
    """A button's action: add its intervention to the run with interventions; the message to show."""
    try:
        live = twin.intervene(button.spec(space))
    except ScenarioError as exc:
        return f"not done: {exc}"
    return f"{live.label}: acts at year {live.year:.2f}. {button.hint}"


@solara.component
def RunBar(twin: TwinRun, frame: int, playing: solara.Reactive[bool], pace: solara.Reactive[str], on_jump: Callable[[float], None],
           on_step: Callable[[], None], on_restart: Callable[[], None], show_settings: solara.Reactive[bool]):
    """Play, step, jump, pace; where the run is and how fast it goes."""
    year_text, set_year_text = solara.use_state("")
    problem = jump_problem(year_text, twin)

    def jump():
        if not problem and year_text.strip():
            on_jump(float(year_text))
            set_year_text("")

    with solara.Row(classes=["recruitsim-bar", "recruitsim-runbar"], gap="8px", style={"align-items": "center", "flex-wrap": "nowrap"}):
        solara.Button("Pause" if playing.value else "Play", color="primary", on_click=lambda: playing.set(not playing.value),
                      disabled=not twin.running, classes=["recruitsim-play"], style={"min-width": "84px"})
        solara.Button("Step", on_click=on_step, disabled=playing.value or not twin.running, outlined=True)
        solara.HTML(unsafe_innerHTML=f"Year <b class='recruitsim-year'>{twin.year:.2f}</b> of {twin.horizon_years:g}"
                    f"<span class='recruitsim-step' style='display:none'>{twin.step_now}</span>", classes=["recruitsim-time"])
        solara.InputText("Jump to year", value=year_text, on_value=set_year_text, dense=True, style={"max-width": "130px"},
                         classes=["recruitsim-jump-year"], error=problem or False, continuous_update=True)
        solara.Button("Jump", on_click=jump, outlined=True, disabled=not twin.running or bool(problem) or not year_text.strip())
        solara.Select("Speed", values=list(PACES), value=pace, dense=True, style={"max-width": "200px"})
        solara.Button("Restart", on_click=on_restart, outlined=True)
        solara.Button("Settings", on_click=lambda: show_settings.set(not show_settings.value), text=True)


def jump_problem(text: str, twin: TwinRun) -> str:
    """What is wrong with a year typed into "Jump to year" ("" if nothing: blank is not wrong)."""
    if not text.strip():
        return ""
    try:
        year = float(text)
    except ValueError:
        return "a number of years"
    if year <= twin.year:
        return f"after {twin.year:.2f}"
    if year > twin.horizon_years:
        return f"at most {twin.horizon_years:g}"
    return ""


@solara.component
def InterventionBar(twin: TwinRun, frame: int, on_message: Callable[[str], None]):
    """The live-intervention buttons, each with its hint (hover), acting on the run with interventions."""
    spaces = twin.recruiting_spaces()
    target, set_target = solara.use_state(spaces[0] if spaces else "")
    if spaces and target not in spaces:
        target = spaces[0]
    with solara.Row(classes=["recruitsim-bar", "recruitsim-interventions"], gap="8px", style={"align-items": "center", "flex-wrap": "nowrap"}):
        solara.Select("Online space", values=spaces, value=target, on_value=set_target, dense=True, style={"max-width": "170px"})
        for button in BUTTONS:
            disabled = button.needs_space and not spaces
            with solara.Tooltip(button.hint):
                solara.Button(button.label, color=button.colour, disabled=disabled,
                              on_click=lambda b=button: on_message(intervene(twin, b, target)))


def difference_rows(twin: TwinRun) -> list[tuple[str, str, str, str]]:
    """Rows (measure, with, without, difference) comparing the runs now."""
    per_year = twin.treated.clock.steps_per_year
    forums = [s.name for s in twin.treated.online.spaces if s.kind in FORUM_KINDS]  # forums and markets, not chat
    measures = [
        ("network members", lambda run: twin.now(run)["involved"], "{:.0f}"),
        ("active networks", lambda run: twin.now(run)["networks_active"], "{:.0f}"),
        ("recruits in the last year", lambda run: _last_year(twin, run, ("recruits_offline", "recruits_online"), per_year), "{:.0f}"),
        ("forum users active", lambda run: sum(twin.now(run)[f"active_users_{s}"] for s in forums), "{:.0f}"),
        ("losses since year 0 (k€)", lambda run: twin.timeseries(run)["losses"].sum() / 1000.0, "{:.1f}"),
    ]
    rows = []
    for name, measure, fmt in measures:
        values = {run: float(measure(run)) for run in twin.models}
        if "untreated" in values:
            diff = values["treated"] - values["untreated"]
            rows.append((name, fmt.format(values["treated"]), fmt.format(values["untreated"]), ("+" if diff > 0 else "") + fmt.format(diff)))
        else:
            rows.append((name, fmt.format(values["treated"]), "", ""))
    return rows


def _last_year(twin: TwinRun, run: str, columns: tuple[str, ...], steps_per_year: float) -> float:
    frame = twin.timeseries(run).tail(int(round(steps_per_year)))
    return float(frame[list(columns)].to_numpy().sum())


def difference_html(twin: TwinRun) -> str:
    twin_on = twin.untreated is not None
    head = "<th></th><th>with</th><th>twin</th><th>diff.</th>" if twin_on else "<th></th><th>now</th>"
    body = "".join("<tr><td>" + "</td><td class='num'>".join(cells if twin_on else cells[:2]) + "</td></tr>"
                   for cells in difference_rows(twin))
    c = twin.config
    caption = (f"{escape(c.name)}, seed {c.seed}, {c.population.size:,} persons" +
               ("" if twin.running else " &ndash; finished: Restart to play again"))
    return f"<table class='recruitsim-headline'><tr>{head}</tr>{body}</table><div class='recruitsim-caption'>{caption}</div>"


@solara.component
def DifferencePanel(twin: TwinRun, frame: int, message: str, measured: str):
    """The twins now, side by side, and the latest message (what a button did, when it shows)."""
    with solara.Column(classes=["recruitsim-difference"], gap="6px"):
        solara.HTML(unsafe_innerHTML="<div class='recruitsim-panel-title'>With interventions vs twin without</div>"
                    + difference_html(twin))
        if message:
            solara.HTML(unsafe_innerHTML=escape(message), classes=["recruitsim-message"]
                        + (["recruitsim-error"] if message.startswith("not done") else []))
        if twin.live:
            solara.HTML(unsafe_innerHTML="Pressed: " + escape("; ".join(f"{live.label} (year {live.year:.2f})" for live in twin.live)),
                        classes=["recruitsim-live"])
        solara.HTML(unsafe_innerHTML=escape(measured), classes=["recruitsim-speed"])


@solara.component
def StoryPanel(twin: TwinRun, frame: int, on_story: Callable[[list[dict]], None]):
    """Scripted stories, the trainer's own buttons replayed, and the take-home files."""
    spaces = twin.recruiting_spaces(open_only=False)
    titles = [s.title for s in STORIES if not s.missing_spaces(spaces)]
    chosen, set_chosen = solara.use_state(titles[0] if titles else "")
    story = STORY_BY_TITLE.get(chosen)
    with solara.Column(classes=["recruitsim-stories"], gap="4px"):
        solara.Select("Presenter story", values=titles, value=chosen, on_value=set_chosen, dense=True)
        if story is not None:
            solara.HTML(unsafe_innerHTML=escape(story.describe()), classes=["recruitsim-caption"])
        with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
            solara.Button("Play story", color="primary", outlined=True, disabled=story is None,
                          on_click=lambda: on_story([dict(step) for step in story.steps]))
            solara.Button("Replay my buttons", outlined=True, disabled=not twin.live,
                          on_click=lambda: on_story([intervention_entry(live.spec) for live in twin.live]))
        with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
            name = twin.config.name
            with solara.FileDownload(twin.session_yaml, filename=f"{name}_session.yaml", mime_type="text/yaml"):
                solara.Button("Scenario YAML", outlined=True, classes=["recruitsim-download-yaml"])
            with solara.FileDownload(twin.series_csv, filename=f"{name}_series.csv", mime_type="text/csv"):
                solara.Button("Series CSV", outlined=True, classes=["recruitsim-download-csv"])


@solara.component
def SettingsPanel(settings: Settings, choices: dict, on_apply: Callable[[Settings], None]):
    """What a trainer sets before a run; applied (a new run, after its burn-in) by Apply."""
    names = list(choices)
    current = choice_name(settings.scenario, choices)
    name, set_name = solara.use_state(current)
    seed, set_seed = solara.use_state("" if settings.seed is None else str(settings.seed))
    population, set_population = solara.use_state(settings.population)
    forum, set_forum = solara.use_state(settings.forum_search_rate)
    offline, set_offline = solara.use_state(settings.offline_attempt_rate)
    side, set_side = solara.use_state(settings.side_by_side)
    seed_value = parse_seed(seed) if seed.strip() else None
    bad_seed = bool(seed.strip()) and seed_value is None

    def apply():
        on_apply(Settings(scenario=choices[name], seed=seed_value, population=int(population), forum_search_rate=forum,
                          offline_attempt_rate=offline, side_by_side=side))

    with solara.Card("Settings (a new run, from the end of its burn-in)", classes=["recruitsim-settings"]):
        with solara.Row(gap="16px", style={"flex-wrap": "wrap", "align-items": "center"}):
            solara.Select("Scenario", values=names, value=name, on_value=set_name, dense=True, style={"min-width": "220px"})
            solara.InputText("Seed (blank: the scenario's)", value=seed, on_value=set_seed, dense=True,
                             error="a whole number >= 0" if bad_seed else False)
            with solara.Column(gap="0px", style={"min-width": "240px"}):
                solara.SliderInt("Population", value=population, on_value=set_population, min=POPULATION_RANGE[0],
                                 max=POPULATION_RANGE[1], step=1000)
                solara.Text(f"{population:,} persons")
            with solara.Column(gap="0px", style={"min-width": "240px"}):
                solara.SliderFloat("Forum recruitment", value=forum if forum is not None else 12.0, on_value=set_forum,
                                   min=0.0, max=RATE_MAX, step=1.0)
                solara.Text("scenario's own" if forum is None else f"{forum:g} searches per network per year")
            with solara.Column(gap="0px", style={"min-width": "240px"}):
                solara.SliderFloat("Offline recruitment", value=offline if offline is not None else 12.0, on_value=set_offline,
                                   min=0.0, max=RATE_MAX, step=1.0)
                solara.Text("scenario's own" if offline is None else f"{offline:g} approaches per member per year")
            solara.Checkbox(label="Twin without interventions", value=side, on_value=set_side)
            solara.Button("Apply", color="primary", on_click=apply, disabled=bad_seed)

