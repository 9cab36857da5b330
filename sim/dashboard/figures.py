"""The dashboard's figures: matplotlib figures of a TwinRun, drawn on the server as PNGs.

The figures (`figure_timeseries`, `figure_network_view`, `plot_figure`) are plain Python, data
in and a `matplotlib.figure.Figure` out, so they can be tested and reused without a browser.
They are sized for a projector: drawn at the pixel size they are shown at on a 1366x768 screen
(and scaled up on larger ones), with no text smaller than `MIN_TEXT_PX` there.
They use `Figure`, never pyplot: no global state, safe in the server's threads. The matplotlib backend renders PNGs on the server,
so the page needs nothing from the internet (the altair backend would fetch vega from a CDN).

In every plot the run with interventions is drawn solid and its twin without interventions
dashed, in the same colour; vertical lines mark the moments interventions acted.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from collections.abc import Callable

import matplotlib
import numpy as np
import pandas as pd
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator
from sim.dashboard.side_by_side import NetworkView, TwinRun
from sim.outputs.plots import OFFLINE, OKABE_ITO, ONLINE, ORIGIN_COLOURS, ROLE_COLOURS
from sim.vocabulary import ORIGINS, ROLES, readable

DPI = 100
PLOT_PX = (520, 290)  # a plot's size on a 1366x768 screen: two columns beside the difference panel (app.py)
FIGSIZE = (PLOT_PX[0] / DPI, PLOT_PX[1] / DPI)  # inches
MIN_TEXT_PX = 14  # readable from the back of a room
TEXT_PT = 10.5  # 14.6 px at DPI 100 (points are 1/72 inch)
TITLE_PT = 12.5
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


def plot_spec(name: str, spaces: list[str], steps_per_year: float, step_name: str = "week") -> PlotSpec:
    """What plot `name` (one of PLOTS) shows; `spaces` are the online spaces networks recruit in."""
    if name == "members":
        series = [Series(_label(r), ROLE_COLOURS[r], _column(f"members_{r}")) for r in ROLES]
        return PlotSpec("Network members by role", "persons", [*series, Series("all members", "#333333", _column("involved"))])
    if name == "recruits":
        window = max(1, int(round(steps_per_year / 4)))  # a quarter year

        def per_year(column):
            return lambda f: f[column].rolling(window, min_periods=1).mean().to_numpy(dtype=float) * steps_per_year

        series = [Series(m, CHANNEL_COLOURS[m], per_year(f"recruits_{m}")) for m in ("offline", "online")]
        return PlotSpec("New recruits per year, offline vs online", "recruits per year", series)
    if name == "origins":
        series = [Series(_label(o), ORIGIN_COLOURS[o], _column(f"networks_{o}")) for o in ORIGINS]
        return PlotSpec("Active networks by origin type", "networks", series)
    if name == "forums":
        series = [Series(_label(sp), OKABE_ITO[i % len(OKABE_ITO)], _column(f"active_users_{sp}")) for i, sp in enumerate(spaces)]
        return PlotSpec(f"Online spaces: users active per {step_name}", "users", series, log=True)
    if name == "losses":
        losses = Series("victims' losses", "#000000", lambda f: f["losses"].cumsum().to_numpy(dtype=float) / 1000.0)
        return PlotSpec("Victims' losses since year 0", "thousand €", [losses], shade_gap=True)
    raise KeyError(name)


PLOTS = ("members", "recruits", "forums", "losses", "origins")  # the first four are the presenter's key plots
HEADER_PX = {"title": 26, "legend_row": 21}  # header heights at TEXT_PT/TITLE_PT and DPI
MARGIN_PX = {"left": 74, "right": 14, "bottom": 24}


class TimeseriesPlot:
    """One plot, built once and updated in place every frame: setting new line data and drawing
    costs about 40% less than building a new figure each time.

    The run with interventions is drawn solid, its twin dashed in the same colour; vertical
    lines mark interventions; the header (title, note, legend) sits above the axes.
    """

    def __init__(self, spec: PlotSpec, runs: list[str]):
        self.spec = spec
        self.fig = fig = Figure(figsize=FIGSIZE, dpi=DPI)
        width, height = PLOT_PX
        self.ax = ax = fig.subplots()
        # a dot on the latest value: the run's "now", visible from the first step
        self.lines = {(run, i): ax.plot([], [], color=s.colour, marker="o", markersize=4, markevery=[-1], **RUN_STYLE[run])[0]
                      for run in runs for i, s in enumerate(spec.series)}
        self._marks: list = []
        self._shade = None
        if spec.log:
            ax.set_yscale("symlog", linthresh=10)  # chat has thousands of users, a gated forum tens
            # plain tick labels: the default ones are mathtext (10^3), which costs a parse on every draw
            ax.yaxis.set_major_locator(FixedLocator([0, 10, 100, 1000, 10000, 100000]))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
            ax.yaxis.set_minor_locator(NullLocator())
        ax.set_ylabel(spec.ylabel, fontsize=TEXT_PT, labelpad=2)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))  # years: 0, 0.5, 1 or 0, 2, 4 (no 0.00)
        ax.tick_params(labelsize=TEXT_PT, pad=2)
        ax.grid(True, axis="y", color="#e5e5e5", linewidth=0.8)
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
        fig.text(6 / width, 1 - 3 / height, spec.title, ha="left", va="top", fontsize=TITLE_PT, fontweight="bold")
        if len(runs) > 1:  # a short note, not two more legend entries: text is most of the drawing time
            fig.text(1 - 6 / width, 1 - 5 / height, "dashed: twin", ha="right", va="top", fontsize=TEXT_PT, color="#555555")
        handles = [Line2D([], [], color=s.colour, linewidth=2.2, label=s.label) for s in spec.series]
        if spec.shade_gap and len(runs) > 1:
            handles.append(Patch(facecolor=spec.series[0].colour, alpha=0.15, label="difference"))
        columns = 3 if len(handles) > 4 else 2 if len(handles) > 2 else len(handles)
        rows = -(-len(handles) // max(columns, 1))
        header = HEADER_PX["title"] + HEADER_PX["legend_row"] * rows
        fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(6 / width, 1 - HEADER_PX["title"] / height), fontsize=TEXT_PT,
                   frameon=False, ncol=columns, handlelength=1.4, handletextpad=0.4, columnspacing=1.0, borderaxespad=0,
                   labelspacing=0.2)
        # Fixed margins in pixels, not layout="constrained": the layout engine would double the drawing time.
        fig.subplots_adjust(left=MARGIN_PX["left"] / width, right=1 - MARGIN_PX["right"] / width,
                            bottom=MARGIN_PX["bottom"] / height, top=1 - (header + 6) / height)

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
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))
        ax.relim()
        ax.set_autoscaley_on(True)  # set_ylim below turns it off
        ax.autoscale_view(scalex=False)
        ax.set_ylim(bottom=0, top=max(ax.get_ylim()[1], 1.0))  # an empty or flat plot: 0-1, not 0-0.05
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
                               va="top", ha="right", fontsize=TEXT_PT, color=MARK_COLOUR, clip_on=True))
    return artists


def x_end(frames: Frames, horizon: float) -> float:
    """Right end of the time axis: the current year rounded up (at least 1, at most the horizon),
    so the axis is readable from the first step and grows one year at a time."""
    now = max((float(f["year"].iloc[-1]) for f in frames.values() if f is not None and not f.empty), default=0.0)
    return float(min(max(1.0, np.ceil(now - 1e-9)), max(horizon, 1.0)))


# --------------------------------------------------------------------------- network view


NETWORK_ROWS_MIN = 2  # cells shown at least (the panel keeps its shape while few networks exist)
NETWORK_HEADER_PX, NETWORK_LEGEND_PX = 30, 48


def _draw_network(ax, view: NetworkView, rows: int) -> None:
    ax.set_aspect("equal")
    ax.set_xlim(-0.5, view.columns - 0.5)
    ax.set_ylim(-(rows - 1) - 0.5, 0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    for cx, cy, label in view.cells.values():
        ax.text(cx, cy + 0.5, label, ha="center", va="top", fontsize=TEXT_PT, color="#444444")
    if len(view.slots) == 0:
        ax.text(0.5, 0.5, "no active networks", transform=ax.transAxes, ha="center", va="center", fontsize=TITLE_PT, color="#777777")
        return
    segments = np.stack([view.xy[view.tie_a], view.xy[view.tie_b]], axis=1) if len(view.tie_a) else np.zeros((0, 2, 2))
    offline, online = segments[~view.tie_online], segments[view.tie_online]
    ax.add_collection(LineCollection(offline, colors=TIE_COLOUR, linewidths=1.0, linestyles="solid", zorder=1))
    ax.add_collection(LineCollection(online, colors=TIE_COLOUR, linewidths=1.0, linestyles=(0, (3, 2)), zorder=1))
    colours = np.array([ROLE_COLOURS[r] for r in ROLES], dtype=object)[np.clip(view.role, 0, len(ROLES) - 1)]
    ax.scatter(view.xy[:, 0], view.xy[:, 1], s=42, c=list(colours), edgecolors="#333333", linewidths=0.4, zorder=2)
    if view.new.any():
        ax.scatter(view.xy[view.new, 0], view.xy[view.new, 1], s=110, facecolors="none", edgecolors=NEW_COLOUR, linewidths=1.8, zorder=3)


def figure_network_view(view: NetworkView, run: str = "treated", side_by_side: bool = False) -> Figure:
    """The criminal networks of one run: members coloured by role, offline ties solid, online
    ties dashed, new recruits ringed; each network in its own grid cell (sim/dashboard/layout.py).
    The figure is as tall as the rows of cells in use: no empty half-panel."""
    width = PLOT_PX[0]
    cell = width / view.columns
    rows = max(view.rows, NETWORK_ROWS_MIN)
    height = NETWORK_HEADER_PX + rows * cell + NETWORK_LEGEND_PX
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    fig.subplots_adjust(left=0, right=1, bottom=NETWORK_LEGEND_PX / height, top=1 - NETWORK_HEADER_PX / height)
    ax = fig.subplots()
    who = f", {RUN_LABEL[run]}" if side_by_side else ""
    fig.text(6 / width, 1 - 3 / height, f"Criminal networks{who}: {len(view.slots)} members", ha="left", va="top",
             fontsize=TITLE_PT, fontweight="bold")
    _draw_network(ax, view, rows)
    handles = [Line2D([], [], marker="o", linestyle="", color=ROLE_COLOURS[r], label=_label(r)) for r in ROLES]
    handles += [Line2D([], [], marker="o", linestyle="", markerfacecolor="none", markeredgecolor=NEW_COLOUR, label="new"),
                Line2D([], [], color=TIE_COLOUR, linestyle="-", label="offline tie"),
                Line2D([], [], color=TIE_COLOUR, linestyle=(0, (3, 2)), label="online tie")]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=TEXT_PT, frameon=False, handletextpad=0.2,
               columnspacing=0.8, labelspacing=0.2, borderaxespad=0.2)
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
        clock = twin.treated.clock
        spec = plot_spec(name, twin.recruiting_spaces(open_only=False), clock.steps_per_year, clock.step_name)
        plot = twin.figures[name] = TimeseriesPlot(spec, list(frames))
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
    steps the model (the play loop in sim/dashboard/app.py, or a click on Step). When another thread renders while
    the model plays (a button or slider used during play), drawing there would race the play
    loop: Solara lets the thread holding the render lock redo the render while the state
    changes, and with every step the play loop makes during a ~0.5 s draw, it would draw again,
    forever. So that thread shows the last picture if it is less than a second old (but draws
    once for a new intervention's mark); the play loop draws the next frame itself.
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


