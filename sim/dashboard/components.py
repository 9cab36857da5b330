"""The dashboard's pieces: matplotlib figures of a TwinRun, and the Solara components showing them.

The `figure_*` functions are plain functions (a TwinRun's data in, a `matplotlib.figure.Figure`
out) so they can be tested and reused without a browser. They use `Figure`, never pyplot: no
global state, safe in the server's threads. The matplotlib backend renders PNGs on the server,
so the page needs nothing from the internet (the altair backend would fetch vega from a CDN).

In every plot the run with interventions is drawn solid and its twin without interventions
dashed, in the same colour; vertical lines mark the moments interventions acted.
"""

from __future__ import annotations

import io
import time
from html import escape
from collections.abc import Callable

import numpy as np
import pandas as pd
import PIL.Image
import solara
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from mesa.visualization.utils import force_update, update_counter

from sim.dashboard.side_by_side import NetworkView, TwinRun
from sim.errors import ScenarioError
from sim.outputs.plots import LABELS, OKABE_ITO
from sim.vocabulary import ORIGINS, ROLES

FIGSIZE = (6.0, 3.2)  # inches: half of the page's grid
DPI = 90
RUN_LABEL = {"treated": "with interventions", "untreated": "without (twin)"}
RUN_STYLE = {"treated": {"linestyle": "-", "linewidth": 1.8, "alpha": 1.0},
             "untreated": {"linestyle": (0, (4, 2)), "linewidth": 1.4, "alpha": 0.7}}
MARK_COLOUR = "#B2182B"
TIE_COLOUR = "#8c8c8c"
NEW_COLOUR = "#D62728"
CHANNEL_COLOURS = {"offline": "#0072B2", "online": "#E69F00"}

Frames = dict[str, pd.DataFrame]  # run ('treated', 'untreated') -> timeseries so far


def _label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " "))


# --------------------------------------------------------------------------- figures
def _new_figure() -> tuple[Figure, object]:
    # Fixed margins, not layout="constrained": the layout engine would double the drawing time.
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.14, top=0.9)
    return fig, fig.subplots()


def _draw_marks(ax, marks: list[dict]) -> None:
    """A vertical line at each intervention moment; the first of each labelled at the top
    (interventions starting at the same moment share one line and one label)."""
    labels: dict[float, list[str]] = {}
    for mark in marks:
        if mark["first"]:
            labels.setdefault(round(mark["year"], 6), []).append(mark["label"])
        else:  # a repeat (every ...): a thin dotted line
            ax.axvline(mark["year"], color=MARK_COLOUR, linewidth=0.6, linestyle=":", alpha=0.9, zorder=1)
    for year, names in labels.items():
        ax.axvline(year, color=MARK_COLOUR, linewidth=1.0, alpha=0.9, zorder=1)
        ax.text(year, 1.0, " " + " + ".join(names), transform=ax.get_xaxis_transform(), rotation=90,
                va="top", ha="right", fontsize=7, color=MARK_COLOUR)


def x_end(frames: Frames, horizon: float) -> float:
    """Right end of the time axis: the current year rounded up (at least 1, at most the horizon),
    so the axis is readable from the first step and grows one year at a time."""
    now = max((float(f["year"].iloc[-1]) for f in frames.values() if f is not None and not f.empty), default=0.0)
    return float(min(max(1.0, np.ceil(now - 1e-9)), max(horizon, 1.0)))


def _finish(ax, title: str, ylabel: str, x_max: float, marks: list[dict], handles: list, runs: list[str]) -> None:
    _draw_marks(ax, marks)
    ax.set_title(title, loc="left", fontsize=9)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_xlabel("years since start", fontsize=8)
    ax.set_xlim(0, x_max)
    ax.set_ylim(bottom=0)
    ax.tick_params(labelsize=7)
    ax.grid(True, axis="y", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    if len(runs) > 1:  # a note, not two more legend entries: legends cost most of the drawing time
        ax.text(1.0, 1.01, "solid: with interventions, dashed: without", transform=ax.transAxes, ha="right", va="bottom",
                fontsize=7, color="#555555")
    if handles:
        ax.legend(handles=handles, loc="upper left", fontsize=7, frameon=False, ncol=2 if len(handles) > 3 else 1)


def _lines(ax, frames: Frames, series: list[tuple[str, str, Callable[[pd.DataFrame], np.ndarray]]]) -> list:
    """One line per (label, colour, values-of-a-frame) per run; returns legend handles of the series."""
    for run, frame in frames.items():
        if frame is None or frame.empty:
            continue
        years = frame["year"].to_numpy(dtype=float)
        for _, colour, values in series:
            ax.plot(years, values(frame), color=colour, **RUN_STYLE[run])
    return [Line2D([], [], color=colour, linewidth=1.8, label=label) for label, colour, _ in series]


def _columns(frames: Frames, prefix: str) -> list[str]:
    frame = frames["treated"]
    return [c[len(prefix):] for c in frame.columns if c.startswith(prefix)]


def steps_per_year(frame: pd.DataFrame) -> float:
    positive = frame["year"].to_numpy(dtype=float) > 0
    if not positive.any():
        return 52.0
    return float(np.median(frame["step"].to_numpy(dtype=float)[positive] / frame["year"].to_numpy(dtype=float)[positive]))


def figure_members_by_role(frames: Frames, marks: list[dict], horizon: float) -> Figure:
    fig, ax = _new_figure()
    series = [(_label(r), OKABE_ITO[i], lambda f, r=r: f[f"members_{r}"].to_numpy(dtype=float)) for i, r in enumerate(ROLES)]
    series.append(("all members", "#333333", lambda f: f["involved"].to_numpy(dtype=float)))
    handles = _lines(ax, frames, series)
    _finish(ax, "Network members by role", "persons", x_end(frames, horizon), marks, handles, list(frames))
    return fig


def figure_recruits_by_channel(frames: Frames, marks: list[dict], horizon: float) -> Figure:
    """New recruits per step by the medium of the approach, averaged over a quarter year."""
    fig, ax = _new_figure()
    window = max(1, int(round(steps_per_year(frames["treated"]) / 4))) if not frames["treated"].empty else 13

    def smoothed(column):
        return lambda f: f[column].rolling(window, min_periods=1).mean().to_numpy(dtype=float)

    series = [(f"{medium} recruitment", CHANNEL_COLOURS[medium], smoothed(f"recruits_{medium}")) for medium in ("offline", "online")]
    handles = _lines(ax, frames, series)
    _finish(ax, f"New recruits by channel (mean over {window} steps)", "recruits per step", x_end(frames, horizon), marks, handles, list(frames))
    return fig


def figure_networks_by_origin(frames: Frames, marks: list[dict], horizon: float) -> Figure:
    fig, ax = _new_figure()
    series = [(_label(o), OKABE_ITO[i], lambda f, o=o: f[f"networks_{o}"].to_numpy(dtype=float)) for i, o in enumerate(ORIGINS)]
    handles = _lines(ax, frames, series)
    _finish(ax, "Active networks by origin type", "networks", x_end(frames, horizon), marks, handles, list(frames))
    return fig


def figure_forum_activity(frames: Frames, marks: list[dict], horizon: float) -> Figure:
    fig, ax = _new_figure()
    spaces = _columns(frames, "active_users_")
    series = [(_label(s), OKABE_ITO[i % len(OKABE_ITO)], lambda f, s=s: f[f"active_users_{s}"].to_numpy(dtype=float))
              for i, s in enumerate(spaces)]
    handles = _lines(ax, frames, series)
    ax.set_yscale("symlog", linthresh=10)  # social media has thousands of users, a gated forum tens
    _finish(ax, "Forum activity per online space", "active users per step", x_end(frames, horizon), marks, handles, list(frames))
    return fig


def figure_cumulative_losses(frames: Frames, marks: list[dict], horizon: float) -> Figure:
    fig, ax = _new_figure()
    series = [("victims' losses", "#D55E00", lambda f: f["losses"].cumsum().to_numpy(dtype=float) / 1000.0)]
    handles = _lines(ax, frames, series)
    if "untreated" in frames and not frames["untreated"].empty and not frames["treated"].empty:
        n = min(len(frames["treated"]), len(frames["untreated"]))
        years = frames["treated"]["year"].to_numpy(dtype=float)[:n]
        a = frames["treated"]["losses"].cumsum().to_numpy(dtype=float)[:n] / 1000.0
        b = frames["untreated"]["losses"].cumsum().to_numpy(dtype=float)[:n] / 1000.0
        ax.fill_between(years, a, b, color="#D55E00", alpha=0.15, linewidth=0, label="difference")
        handles.append(ax.collections[-1])
    _finish(ax, "Cumulative losses of victims", "thousand euro", x_end(frames, horizon), marks, handles, list(frames))
    return fig


ROLE_COLOURS = dict(zip(ROLES, OKABE_ITO))


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
    colours = np.array(OKABE_ITO[: len(ROLES)], dtype=object)[np.clip(view.role, 0, len(ROLES) - 1)]
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


PLOTS: dict[str, Callable[[Frames, list[dict], float], Figure]] = {
    "members": figure_members_by_role,
    "recruits": figure_recruits_by_channel,
    "origins": figure_networks_by_origin,
    "forums": figure_forum_activity,
    "losses": figure_cumulative_losses,
}


NETWORK_VIEWS = {"network": "treated", "network_twin": "untreated"}


def plot_figure(twin: TwinRun, name: str) -> Figure:
    """Figure `name` (a key of PLOTS or NETWORK_VIEWS) of the twin run as it is now."""
    if name in NETWORK_VIEWS:
        run = NETWORK_VIEWS[name]
        return figure_network_view(twin.network_view(run), run, side_by_side=twin.untreated is not None)
    frames = {run: twin.timeseries(run) for run in twin.models}
    return PLOTS[name](frames, twin.marks(), twin.horizon_years)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes: Agg straight to PIL at low compression (savefig costs more)."""
    canvas = FigureCanvasAgg(fig)
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
ARREST_CORE = {"type": "arrests", "targeting": "core", "share": 0.5, "label": "arrest half of core"}
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
@solara.component
def Plot(twin: TwinRun, name: str):
    """One figure of the twin run, redrawn once per step (and when an intervention is added)."""
    update_counter.get()
    absent = NETWORK_VIEWS.get(name) == "untreated" and twin.untreated is None

    def draw() -> bytes | None:
        if absent:
            return None
        started = time.perf_counter()
        data = png(plot_figure(twin, name))
        twin.render_seconds[name] = time.perf_counter() - started
        return data

    data = solara.use_memo(draw, [id(twin), twin.step_now, len(twin.live), name])
    if data is None:
        with solara.Card("Twin without interventions"):
            solara.Text("Side by side is off: tick it in the sidebar and press Reset to run the twin.")
    else:
        with solara.Column(classes=[f"recruitsim-plot-{name}"]):
            solara.Image(data, width="100%")


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
            solara.Button("Arrest core members", color="primary", on_click=lambda: act(ARREST_CORE))
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
    return "<br>".join(lines) + table


@solara.component
def StatusPanel(twin: TwinRun):
    """Where the run is, how fast it goes, and the difference between the twins."""
    update_counter.get()
    with solara.Card("Run", classes=["recruitsim-status"]):
        solara.HTML(unsafe_innerHTML=status_html(twin))
        for note in twin.notes:
            solara.Warning(note, dense=True)


# SolaraViz calls each entry with the model and refreshes it after every step.
def status_view(twin: TwinRun):
    return StatusPanel(twin)


def interventions_view(twin: TwinRun):
    return InterventionPanel(twin)


def _plot_view(name: str):
    def view(twin: TwinRun):
        return Plot(twin, name)

    view.__name__ = f"{name}_view"
    return view


network_view = _plot_view("network")
network_twin_view = _plot_view("network_twin")
members_view = _plot_view("members")
recruits_view = _plot_view("recruits")
origins_view = _plot_view("origins")
forums_view = _plot_view("forums")
losses_view = _plot_view("losses")

VIEWS = [interventions_view, status_view, network_view, network_twin_view, members_view, recruits_view, origins_view, forums_view, losses_view]
