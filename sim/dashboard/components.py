"""The dashboard's pieces: matplotlib figures of a TwinRun, and the Solara components showing them.

The figures (`figure_timeseries`, `figure_network_view`, `plot_figure`) are plain Python, data
in and a `matplotlib.figure.Figure` out, so they can be tested and reused without a browser.
They use `Figure`, never pyplot: no global state, safe in the server's threads. The matplotlib backend renders PNGs on the server,
so the page needs nothing from the internet (the altair backend would fetch vega from a CDN).

In every plot the run with interventions is drawn solid and its twin without interventions
dashed, in the same colour; vertical lines mark the moments interventions acted.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from html import escape
from collections.abc import Callable

import matplotlib
import numpy as np
import pandas as pd
import PIL.Image
import solara
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
from mesa.visualization.utils import force_update, update_counter

from sim.dashboard.side_by_side import NetworkView, TwinRun
from sim.errors import ScenarioError
from sim.outputs.plots import OFFLINE, OKABE_ITO, ONLINE, ORIGIN_COLOURS, ROLE_COLOURS
from sim.vocabulary import ORIGINS, ROLES, readable

FIGSIZE = (6.0, 3.4)  # inches: half of the page's grid
DPI = 90
RUN_LABEL = {"treated": "with interventions", "untreated": "without (twin)"}
RUN_STYLE = {"treated": {"linestyle": "-", "linewidth": 1.8, "alpha": 1.0},
             "untreated": {"linestyle": (0, (4, 2)), "linewidth": 1.4, "alpha": 0.7}}
# Matplotlib 3.11 renders text glyph by glyph in Python, and text is most of a figure's drawing
# time; without hinting it is a third faster (and at this size looks the same).
FAST_TEXT = {"text.hinting": "none"}
MARK_COLOUR = "#B2182B"
TIE_COLOUR = "#8c8c8c"
NEW_COLOUR = "#D62728"
CHANNEL_COLOURS = {"offline": OFFLINE, "online": ONLINE}  # the colours of composition.png (sim/outputs/plots.py)

Frames = dict[str, pd.DataFrame]  # run ('treated', 'untreated') -> timeseries so far


def _label(name: str) -> str:
    return readable(name)


# --------------------------------------------------------------------------- timeseries plots
@dataclass
class Series:
    label: str
    colour: str
    values: Callable[[pd.DataFrame], np.ndarray]


@dataclass
class PlotSpec:
    title: str
    ylabel: str
    series: list[Series]
    log: bool = False  # symlog y axis (values spanning tens to thousands)
    shade_gap: bool = False  # shade the gap between the twins (one series only)


def _column(name: str, scale: float = 1.0) -> Callable[[pd.DataFrame], np.ndarray]:
    return lambda f: f[name].to_numpy(dtype=float) / scale


def plot_spec(name: str, spaces: list[str], steps_per_year: float) -> PlotSpec:
    """What plot `name` (one of PLOTS) shows."""
    if name == "members":
        series = [Series(_label(r), ROLE_COLOURS[r], _column(f"members_{r}")) for r in ROLES]
        return PlotSpec("Network members by role", "persons", [*series, Series("all members", "#333333", _column("involved"))])
    if name == "recruits":
        window = max(1, int(round(steps_per_year / 4)))  # a quarter year

        def smoothed(column):
            return lambda f: f[column].rolling(window, min_periods=1).mean().to_numpy(dtype=float)

        series = [Series(f"{m} recruitment", CHANNEL_COLOURS[m], smoothed(f"recruits_{m}")) for m in ("offline", "online")]
        return PlotSpec(f"New recruits by channel (mean over {window} steps)", "recruits per step", series)
    if name == "origins":
        series = [Series(_label(o), ORIGIN_COLOURS[o], _column(f"networks_{o}")) for o in ORIGINS]
        return PlotSpec("Active networks by origin type", "networks", series)
    if name == "forums":
        series = [Series(_label(sp), OKABE_ITO[i % len(OKABE_ITO)], _column(f"active_users_{sp}")) for i, sp in enumerate(spaces)]
        return PlotSpec("Forum activity per online space", "active users per step", series, log=True)
    if name == "losses":
        losses = Series("victims' losses", "#000000", lambda f: f["losses"].cumsum().to_numpy(dtype=float) / 1000.0)
        return PlotSpec("Cumulative losses of victims", "thousand euro", [losses], shade_gap=True)
    raise KeyError(name)


PLOTS = ("members", "recruits", "origins", "forums", "losses")


class TimeseriesPlot:
    """One plot, built once and updated in place every frame: setting new line data and drawing
    costs about 40% less than building a new figure each time.

    The run with interventions is drawn solid, its twin dashed in the same colour; vertical
    lines mark interventions; the header (title, note, legend) sits above the axes.
    """

    def __init__(self, spec: PlotSpec, runs: list[str]):
        self.spec = spec
        self.fig = fig = Figure(figsize=FIGSIZE, dpi=DPI)
        # Fixed margins, not layout="constrained": the layout engine would double the drawing time.
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.12)
        self.ax = ax = fig.subplots()
        self.lines = {(run, i): ax.plot([], [], color=s.colour, **RUN_STYLE[run])[0]
                      for run in runs for i, s in enumerate(spec.series)}
        self._marks: list = []
        self._shade = None
        if spec.log:
            ax.set_yscale("symlog", linthresh=10)  # social media has thousands of users, a gated forum tens
            # plain tick labels: the default ones are mathtext (10^3), which costs a parse on every draw
            ax.yaxis.set_major_locator(FixedLocator([0, 10, 100, 1000, 10000, 100000]))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
            ax.yaxis.set_minor_locator(NullLocator())
        ax.set_ylabel(spec.ylabel, fontsize=8)
        ax.set_xlabel("years", fontsize=8, labelpad=1)
        ax.tick_params(labelsize=7)
        ax.grid(True, axis="y", color="#e5e5e5", linewidth=0.8)
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
        fig.text(0.01, 0.985, spec.title, ha="left", va="top", fontsize=9.5)
        if len(runs) > 1:  # a short note, not two more legend entries: text is most of the drawing time
            fig.text(0.99, 0.985, "dashed: without interventions", ha="right", va="top", fontsize=7, color="#555555")
        handles = [Line2D([], [], color=s.colour, linewidth=1.8, label=s.label) for s in spec.series]
        if spec.shade_gap and len(runs) > 1:
            handles.append(Patch(facecolor=spec.series[0].colour, alpha=0.15, label="difference"))
        columns = 3 if len(handles) > 4 else 2 if len(handles) > 2 else len(handles)
        rows = -(-len(handles) // max(columns, 1))
        fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.07, 0.9), fontsize=7, frameon=False, ncol=columns,
                   handlelength=1.6, columnspacing=1.2, borderaxespad=0, labelspacing=0.3)
        fig.subplots_adjust(top=0.87 - 0.055 * rows)

    def update(self, frames: Frames, marks: list[dict], x_max: float) -> Figure:
        ax, spec = self.ax, self.spec
        for (run, i), line in self.lines.items():
            frame = frames.get(run)
            if frame is None or frame.empty:
                line.set_data([], [])
            else:
                line.set_data(frame["year"].to_numpy(dtype=float), spec.series[i].values(frame))
        if self._shade is not None:
            self._shade.remove()
            self._shade = None
        treated, untreated = frames.get("treated"), frames.get("untreated")
        if spec.shade_gap and untreated is not None and not treated.empty and not untreated.empty:
            n = min(len(treated), len(untreated))
            values = spec.series[0].values
            self._shade = ax.fill_between(treated["year"].to_numpy(dtype=float)[:n], values(treated)[:n], values(untreated)[:n],
                                          color=spec.series[0].colour, alpha=0.15, linewidth=0)
        for artist in self._marks:
            artist.remove()
        self._marks = _draw_marks(ax, marks)
        ax.set_xlim(0, x_max)
        ax.relim()
        ax.set_autoscaley_on(True)  # set_ylim below turns it off
        ax.autoscale_view(scalex=False)
        ax.set_ylim(bottom=0)
        return self.fig


def figure_timeseries(name: str, frames: Frames, marks: list[dict], horizon: float, steps_per_year: float = 52.0) -> Figure:
    """Plot `name` (one of PLOTS) of the given runs' timeseries, as a new figure."""
    spaces = [c[len("active_users_"):] for c in frames["treated"].columns if c.startswith("active_users_")]
    plot = TimeseriesPlot(plot_spec(name, spaces, steps_per_year), list(frames))
    return plot.update(frames, marks, x_end(frames, horizon))


def _draw_marks(ax, marks: list[dict]) -> list:
    """A vertical line at each intervention moment; the first of each labelled at the top
    (interventions starting at the same moment share one line and one label). Returns the artists."""
    artists = []
    labels: dict[float, list[str]] = {}
    for mark in marks:
        if mark["first"]:
            labels.setdefault(round(mark["year"], 6), []).append(mark["label"])
        else:  # a repeat (every ...): a thin dotted line
            artists.append(ax.axvline(mark["year"], color=MARK_COLOUR, linewidth=0.6, linestyle=":", alpha=0.9, zorder=1))
    for year, names in labels.items():
        artists.append(ax.axvline(year, color=MARK_COLOUR, linewidth=1.0, alpha=0.9, zorder=1))
        artists.append(ax.text(year, 1.0, " " + " + ".join(names), transform=ax.get_xaxis_transform(), rotation=90,
                               va="top", ha="right", fontsize=7, color=MARK_COLOUR, clip_on=True))
    return artists


def x_end(frames: Frames, horizon: float) -> float:
    """Right end of the time axis: the current year rounded up (at least 1, at most the horizon),
    so the axis is readable from the first step and grows one year at a time."""
    now = max((float(f["year"].iloc[-1]) for f in frames.values() if f is not None and not f.empty), default=0.0)
    return float(min(max(1.0, np.ceil(now - 1e-9)), max(horizon, 1.0)))


# --------------------------------------------------------------------------- network view


def _draw_network(ax, view: NetworkView, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=10)
    ax.set_aspect("equal")
    ax.set_xlim(-0.5, view.columns - 0.5)
    ax.set_ylim(-(max(view.rows, 3) - 1) - 0.5, 0.5)  # at least 3 rows: the panel keeps its shape
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    for cx, cy, label in view.cells.values():
        ax.text(cx, cy + 0.47, label, ha="center", va="top", fontsize=6, color="#555555")
    if len(view.slots) == 0:
        ax.text(0.5, 0.5, "no active networks", transform=ax.transAxes, ha="center", va="center", color="#777777")
        return
    segments = np.stack([view.xy[view.tie_a], view.xy[view.tie_b]], axis=1) if len(view.tie_a) else np.zeros((0, 2, 2))
    offline, online = segments[~view.tie_online], segments[view.tie_online]
    ax.add_collection(LineCollection(offline, colors=TIE_COLOUR, linewidths=0.8, linestyles="solid", zorder=1))
    ax.add_collection(LineCollection(online, colors=TIE_COLOUR, linewidths=0.8, linestyles=(0, (3, 2)), zorder=1))
    colours = np.array([ROLE_COLOURS[r] for r in ROLES], dtype=object)[np.clip(view.role, 0, len(ROLES) - 1)]
    ax.scatter(view.xy[:, 0], view.xy[:, 1], s=30, c=list(colours), edgecolors="white", linewidths=0.4, zorder=2)
    if view.new.any():
        ax.scatter(view.xy[view.new, 0], view.xy[view.new, 1], s=70, facecolors="none", edgecolors=NEW_COLOUR, linewidths=1.4, zorder=3)


def figure_network_view(view: NetworkView, run: str = "treated", side_by_side: bool = False) -> Figure:
    """The criminal networks of one run: members coloured by role, offline ties solid, online
    ties dashed, new recruits ringed; each network in its own grid cell (sim/dashboard/layout.py)."""
    fig = Figure(figsize=(FIGSIZE[0], FIGSIZE[1] * 1.25), dpi=DPI)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.1, top=0.92)
    ax = fig.subplots()
    who = f", {RUN_LABEL[run]}" if side_by_side else ""
    _draw_network(ax, view, f"Criminal networks{who}: {len(view.slots)} members")
    handles = [Line2D([], [], marker="o", linestyle="", color=ROLE_COLOURS[r], label=_label(r)) for r in ROLES]
    handles += [Line2D([], [], marker="o", linestyle="", markerfacecolor="none", markeredgecolor=NEW_COLOUR, label="new recruit"),
                Line2D([], [], color=TIE_COLOUR, linestyle="-", label="offline tie"),
                Line2D([], [], color=TIE_COLOUR, linestyle=(0, (3, 2)), label="online tie")]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=7, frameon=False)
    return fig


NETWORK_VIEWS = {"network": "treated", "network_twin": "untreated"}


def plot_figure(twin: TwinRun, name: str) -> Figure:
    """Figure `name` (one of PLOTS or NETWORK_VIEWS) of the twin run as it is now. The timeseries
    plots are kept on the twin and updated in place: draw them under `twin.draw_lock`."""
    if name in NETWORK_VIEWS:
        run = NETWORK_VIEWS[name]
        return figure_network_view(twin.network_view(run), run, side_by_side=twin.untreated is not None)
    frames = {run: twin.timeseries(run) for run in twin.models}
    plot = twin.figures.get(name)
    if plot is None:
        spaces = [s.name for s in twin.treated.online.spaces]
        plot = twin.figures[name] = TimeseriesPlot(plot_spec(name, spaces, twin.treated.clock.steps_per_year), list(frames))
    return plot.update(frames, twin.marks(), x_end(frames, twin.horizon_years))


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes: Agg straight to PIL at low compression (savefig costs more)."""
    canvas = FigureCanvasAgg(fig)
    with matplotlib.rc_context(FAST_TEXT):
        canvas.draw()
    image = PIL.Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    buffer = io.BytesIO()
    image.save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


# --------------------------------------------------------------------------- live interventions
def takedown_spec(space: str) -> dict:
    return {"type": "forum_takedown", "target": space, "label": f"takedown {space}"}


def infiltration_spec(space: str) -> dict:
    return {"type": "forum_infiltration", "target": space, "share": 0.1, "label": f"infiltration {space}"}


ARREST_LARGEST = {"type": "arrests", "targeting": "network", "network": "largest", "share": 1.0, "label": "arrest largest network"}
ARREST_CORE = {"type": "arrests", "targeting": "network", "network": "largest", "role": "core", "share": 1.0,
               "label": "arrest core of largest network"}
AWARENESS = {"type": "awareness_campaign", "label": "mule awareness"}


def intervene(twin: TwinRun, spec: dict) -> str:
    """A button's callback: add `spec` to the treated run now; returns the message to show."""
    try:
        live = twin.intervene(spec)
    except ScenarioError as exc:
        return f"not done: {exc}"
    return f"{live.label}: acts at year {live.year:.2f} (from the next step)"


def headline(twin: TwinRun) -> list[tuple[str, str, str, str]]:
    """Rows (measure, with, without, difference) comparing the runs now."""
    frames = {run: twin.timeseries(run) for run in twin.models}
    measures = [
        ("network members", lambda f: f["involved"].iloc[-1], "{:.0f}"),
        ("active networks", lambda f: f["networks_active"].iloc[-1], "{:.0f}"),
        ("recruits so far", lambda f: f["recruits_offline"].sum() + f["recruits_online"].sum(), "{:.0f}"),
        ("losses so far (k€)", lambda f: f["losses"].sum() / 1000.0, "{:.1f}"),
    ]
    rows = []
    for name, measure, fmt in measures:
        values = {run: (float(measure(f)) if not f.empty else 0.0) for run, f in frames.items()}
        treated = values["treated"]
        if "untreated" in values:
            diff = treated - values["untreated"]
            rows.append((name, fmt.format(treated), fmt.format(values["untreated"]), ("+" if diff > 0 else "") + fmt.format(diff)))
        else:
            rows.append((name, fmt.format(treated), "", ""))
    return rows


# --------------------------------------------------------------------------- Solara components
@dataclass
class Drawn:
    step: int
    live: int  # live interventions when drawn (a new one adds a mark: redraw)
    at: float  # time.monotonic() when drawn
    png: bytes


PLAY_THREAD_BUSY_S = 1.0  # a step in another thread this recently: the model is playing there


def figure_png(twin: TwinRun, name: str) -> bytes:
    """The PNG of figure `name`, drawn at most once per step (and once more per live intervention).

    Figures are drawn in the thread that renders the page. Normally that is the thread that
    steps the model (Mesa's play loop, or a click on Step). When another thread renders while
    the model plays (a button or slider used during play), drawing there would race the play
    loop: Solara lets the thread holding the render lock redo the render while the state
    changes, and with every step the play loop makes during a ~0.5 s draw, it would draw again,
    forever. So that thread shows the last picture if it is less than a second old (but draws
    once for a new intervention's mark); the play loop draws the next step itself. (With Mesa's
    "Use Threads", where a separate thread always draws, the plots then refresh once a second.)
    """
    drawn = twin.drawn.get(name)
    live = len(twin.live)
    if drawn is not None and drawn.step == twin.step_now and drawn.live == live:
        return drawn.png
    if (drawn is not None and drawn.live == live and time.monotonic() - drawn.at < PLAY_THREAD_BUSY_S
            and twin.stepping_elsewhere(PLAY_THREAD_BUSY_S)):
        return drawn.png
    started = time.perf_counter()
    step = twin.step_now
    with twin.draw_lock:
        data = png(plot_figure(twin, name))
    twin.render_seconds[name] = time.perf_counter() - started
    twin.drawn[name] = Drawn(step, live, time.monotonic(), data)
    return data


@solara.component
def Plot(twin: TwinRun, name: str):
    """One figure of the twin run, redrawn once per step (and when an intervention is added)."""
    update_counter.get()
    if NETWORK_VIEWS.get(name) == "untreated" and twin.untreated is None:
        with solara.Card("Twin without interventions"):
            solara.Text("Side by side is off: tick it in the sidebar and press Reset to run the twin.")
    else:
        with solara.Column(classes=[f"recruitsim-plot-{name}"]):
            solara.Image(figure_png(twin, name), width="100%")


@solara.component
def InterventionPanel(twin: TwinRun):
    """Buttons that act now on the running model (from the next step)."""
    update_counter.get()
    spaces = twin.recruiting_spaces()
    target, set_target = solara.use_state(spaces[0] if spaces else "")
    message, set_message = solara.use_state("")
    if spaces and target not in spaces:
        target = spaces[0]

    def act(spec: dict) -> None:
        set_message(intervene(twin, spec))
        force_update()  # the plots get the new mark at once

    with solara.Card("Live interventions", classes=["recruitsim-interventions"]):
        solara.Text("Each acts from the next step, on the run with interventions only.")
        solara.Select(label="Online space", values=spaces, value=target, on_value=set_target)
        with solara.Row(gap="6px"):
            solara.Button("Take down", color="error", on_click=lambda: act(takedown_spec(target)), disabled=not spaces)
            solara.Button("Infiltrate", color="warning", on_click=lambda: act(infiltration_spec(target)), disabled=not spaces)
        with solara.Row(gap="6px"):
            solara.Button("Arrest largest network", color="primary", on_click=lambda: act(ARREST_LARGEST))
            solara.Button("Arrest core of largest network", color="primary", on_click=lambda: act(ARREST_CORE))
        solara.Button("Money-mule awareness campaign", color="success", on_click=lambda: act(AWARENESS))
        if message:
            (solara.Error if message.startswith("not done") else solara.Info)(message, dense=True)
        if twin.live:
            solara.Text("Added: " + "; ".join(f"{live.label} (year {live.year:.2f})" for live in twin.live),
                        classes=["recruitsim-live"])


def status_html(twin: TwinRun) -> str:
    """The Run card's text: what runs, where it is, how fast, and the twins' difference (HTML)."""
    c, rules = twin.config, twin.config.recruitment.rules
    drawing = sum(twin.render_seconds.values())
    runs = len(twin.models)
    lines = [
        f"<b>{escape(c.name)}</b>, seed {c.seed}, {c.population.size:,} persons; recruitment intensity: "
        f"forums {rules.forums.search_rate:g}/year, offline {rules.offline_ties.attempt_rate:g}/year",
        f"Year <b>{twin.year:.2f}</b> of {twin.horizon_years:.0f} (step <span class='recruitsim-step'>{twin.step_now}</span>)"
        + (" &ndash; finished: press Reset to start again" if not twin.running else ""),
        f"Last step {1000 * twin.last_step_seconds:.0f} ms ({runs} run{'s' if runs > 1 else ''}), drawing {1000 * drawing:.0f} ms",
    ]
    twin_on = twin.untreated is not None
    head = "<th></th><th>with interventions</th><th>without (twin)</th><th>difference</th>" if twin_on else "<th></th><th>now</th>"
    body = "".join(
        "<tr><td>" + "</td><td align='right'>".join(cells if twin_on else cells[:2]) + "</td></tr>" for cells in headline(twin))
    table = f"<table class='recruitsim-headline' style='margin-top:6px'><tr>{head}</tr>{body}</table>"
    hint = "<div style='color:#777;font-size:85%;margin-top:6px'>Scenario, seed and sliders in the sidebar take effect on Reset.</div>"
    return "<br>".join(lines) + table + hint


@solara.component
def StatusPanel(twin: TwinRun):
    """Where the run is, how fast it goes, and the difference between the twins."""
    update_counter.get()
    with solara.Card("Run", classes=["recruitsim-status"]):
        solara.HTML(unsafe_innerHTML=status_html(twin))
        for note in twin.notes:
            solara.Warning(note, dense=True)


# SolaraViz's entries. Each is a Solara component taking the model, so SolaraViz uses it as it
# is: a plain function would be wrapped in a component made anew on every render of SolaraViz's
# grid, which remounts every panel (redrawing every figure, forgetting the panels' state) each
# time the grid lays itself out. The components refresh after each step by reading Mesa's
# update counter themselves. (They cannot come from a factory: solara.component parses the
# function's source, which a nested definition breaks.)
@solara.component
def NetworkPanel(twin: TwinRun):
    Plot(twin, "network")


@solara.component
def NetworkTwinPanel(twin: TwinRun):
    Plot(twin, "network_twin")


@solara.component
def MembersPanel(twin: TwinRun):
    Plot(twin, "members")


@solara.component
def RecruitsPanel(twin: TwinRun):
    Plot(twin, "recruits")


@solara.component
def OriginsPanel(twin: TwinRun):
    Plot(twin, "origins")


@solara.component
def ForumsPanel(twin: TwinRun):
    Plot(twin, "forums")


@solara.component
def LossesPanel(twin: TwinRun):
    Plot(twin, "losses")


VIEWS = [InterventionPanel, StatusPanel, NetworkPanel, NetworkTwinPanel, MembersPanel, RecruitsPanel, OriginsPanel, ForumsPanel, LossesPanel]
