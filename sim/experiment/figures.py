"""The comparison's figures, as `matplotlib.figure.Figure` objects (no pyplot: no global state).

Every time plot shows each scenario's mean with its 95% band and marks the interventions: a
dashed line where one starts (dotted for repeats), a shaded span while a period is in force, in
the colour of the scenario it belongs to. Colours are Okabe-Ito (readable with colour blindness),
the baseline always black; beyond seven interventions the colours repeat with dashed lines and
hatched bars, so that every scenario stays distinguishable.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from sim.experiment.aggregate import RECRUITS_PAST_YEAR
from sim.experiment.endpoints import APPROACHED, name_of
from sim.vocabulary import ROLES

BASELINE_COLOUR = "#000000"
# Okabe & Ito (2008) without black (the baseline's) and with yellow last: it is faint on white.
SCENARIO_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
LINESTYLES = ("-", (0, (6, 2)), (0, (1.5, 1.5)))  # one per round of the colours
HATCHES = (None, "///", "...")
DPI = 110
GRID = "#dddddd"
MARK_LABEL_CHARS = 60  # longer labels of interventions starting together are summarised


@dataclass(frozen=True)
class Style:
    colour: str
    linestyle: object = "-"
    hatch: str | None = None


def scenario_colours(names: Sequence[str]) -> dict[str, str]:
    """The baseline (first) in black, the others in Okabe-Ito colours (cycled beyond seven)."""
    return {name: style.colour for name, style in scenario_styles(names).items()}


def scenario_styles(names: Sequence[str]) -> dict[str, Style]:
    styles = {}
    for i, name in enumerate(names):
        if i == 0:
            styles[name] = Style(BASELINE_COLOUR)
            continue
        round_, colour = divmod(i - 1, len(SCENARIO_COLOURS))
        styles[name] = Style(SCENARIO_COLOURS[colour], LINESTYLES[round_ % len(LINESTYLES)], HATCHES[round_ % len(HATCHES)])
    return styles


def band_alpha(n_scenarios: int) -> float:
    """Fainter bands when many overlap."""
    return max(0.06, 0.18 * min(1.0, 3 / max(1, n_scenarios)))


def png_bytes(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})  # no tool URL inside the file
    return buffer.getvalue()


# --------------------------------------------------------------------------- figures
def members_figure(levels: pd.DataFrame, marks: dict[str, list[dict]], styles: dict[str, Style]) -> Figure:
    """Members involved over time (large), then members by role, per scenario with 95% bands."""
    fig = Figure(figsize=(11.0, 9.5), layout="constrained")
    grid = fig.add_gridspec(3, 2, height_ratios=(1.3, 1, 1))
    top = fig.add_subplot(grid[0, :])
    _bands(top, levels, "involved", styles)
    top.set_title("(a) Members of criminal networks", loc="left", fontweight="bold")
    top.set_ylabel("persons")
    axes = [top]
    for i, role in enumerate(ROLES):
        ax = fig.add_subplot(grid[1 + i // 2, i % 2], sharex=top)
        _bands(ax, levels, f"members_{role}", styles)
        ax.set_title(f"({'bcde'[i]}) {name_of(role).capitalize()}", loc="left")
        ax.set_ylabel("persons")
        axes.append(ax)
    for ax in axes:
        _tidy(ax)
        ax.set_xlim(0, _last_year(levels))
        _mark_interventions(ax, marks, styles, labelled=ax is top)
    for ax in axes[-2:]:
        ax.set_xlabel("years since start")
    _legend(top, styles, marks)
    fig.suptitle("Who is involved: mean of the replications with 95% intervals", fontsize=13)
    return fig


DIFFERENCE_PANELS = (
    ("involved", "Members of criminal networks", "persons"),
    ("networks_active", "Active networks", "networks"),
    (RECRUITS_PAST_YEAR, "New recruits in the past year, all channels (shown once a full year has passed)", "recruits per year"),
)


def difference_figure(differences: pd.DataFrame, marks: dict[str, list[dict]], styles: dict[str, Style]) -> Figure:
    """Scenario minus baseline, paired replication by replication, with 95% bands."""
    panels = [p for p in DIFFERENCE_PANELS if p[0] in set(differences["metric"])]
    fig = Figure(figsize=(11.0, 3.1 * max(1, len(panels)) + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(max(1, len(panels)), 1, sharex=True))
    shown = {name: style for name, style in styles.items() if name in set(differences["scenario"])}
    for ax, (metric, title, unit), letter in zip(axes, panels, "abc"):
        ax.axhline(0, color=BASELINE_COLOUR, linewidth=1.2, label="no difference")
        _bands(ax, differences, metric, shown)
        ax.set_xlim(0, _last_year(differences))
        _mark_interventions(ax, marks, styles, labelled=letter == "a")
        ax.set_title(f"({letter}) {title}: difference from baseline", loc="left", fontweight="bold" if letter == "a" else None)
        ax.set_ylabel(f"{unit}\n(scenario − baseline)")
        _tidy(ax, from_zero=False)
    axes[-1].set_xlabel("years since start")
    _legend(axes[0], shown, marks)
    fig.suptitle("Effect of each intervention: below 0 = fewer than in the baseline (band: 95% interval)", fontsize=13)
    return fig


def recruitment_figure(summary: pd.DataFrame, styles: dict[str, Style], years: float) -> Figure:
    """New recruits over the whole run by channel and by medium: bars per scenario with 95% CIs."""
    fig = Figure(figsize=(11.0, 4.8), layout="constrained")
    by_channel, by_medium = fig.subplots(1, 2, width_ratios=(2.6, 1))
    _grouped_bars(by_channel, summary, [f"recruits_{c}.total" for c in APPROACHED], [name_of(c) for c in APPROACHED], styles)
    by_channel.set_title("(a) By channel", loc="left", fontweight="bold")
    by_channel.set_ylabel(f"new recruits over {years:g} years")
    _grouped_bars(by_medium, summary, ["recruits_offline.total", "recruits_online.total"], ["approached\noffline", "approached\nonline"], styles)
    by_medium.set_title("(b) Offline vs online", loc="left", fontweight="bold")
    by_medium.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=9)
    fig.suptitle("How people were recruited: mean of the replications, bars = 95% intervals", fontsize=13)
    return fig


# --------------------------------------------------------------------------- pieces
def _last_year(frame: pd.DataFrame) -> float:
    return max(float(frame["year"].max()), 1e-9) if len(frame) else 1.0


def _bands(ax, frame: pd.DataFrame, metric: str, styles: dict[str, Style]) -> None:
    rows = frame[frame["metric"] == metric]
    alpha = band_alpha(len(styles))
    for name, style in styles.items():
        own = rows[rows["scenario"] == name]
        if own.empty:
            continue
        years = own["year"].to_numpy(dtype=float)
        ax.plot(years, own["mean"].to_numpy(dtype=float), color=style.colour, linestyle=style.linestyle, linewidth=1.8, label=name)
        low, high = own["ci_low"].to_numpy(dtype=float), own["ci_high"].to_numpy(dtype=float)
        if np.isfinite(low).any():  # one replication: no interval to draw
            ax.fill_between(years, low, high, color=style.colour, alpha=alpha, linewidth=0)


def _mark_interventions(ax, marks: dict[str, list[dict]], styles: dict[str, Style], labelled: bool) -> None:
    xmax = ax.get_xlim()[1]
    starts: dict[float, list[tuple[str, str]]] = {}  # year -> (colour, label) of every intervention starting then
    for name, scenario_marks in marks.items():
        colour = styles[name].colour if name in styles else BASELINE_COLOUR
        for mark in scenario_marks:
            start, until, every = float(mark["start_year"]), mark.get("until_year"), mark.get("every_years")
            starts.setdefault(round(start, 6), []).append((colour, mark["label"]))
            if until is not None:
                ax.axvspan(start, until, color=colour, alpha=0.07, linewidth=0)
            if every:
                for repeat in np.arange(start + every, min(until if until is not None else xmax, xmax), every):
                    ax.axvline(repeat, color=colour, linestyle=":", linewidth=1.0, alpha=0.8)
    for start, entries in starts.items():
        colours_here = list(dict.fromkeys(colour for colour, _ in entries))
        for k, colour in enumerate(colours_here):
            ax.axvline(start, color=colour, linewidth=1.4, linestyle=_dashes(k, len(colours_here)))
        if labelled and start <= xmax:
            labels = list(dict.fromkeys(label for _, label in entries))
            text = " / ".join(labels) if len(" / ".join(labels)) <= MARK_LABEL_CHARS else f"{len(labels)} interventions"
            ax.text(start, 0.98, text + " ", transform=blended_transform_factory(ax.transData, ax.transAxes), rotation=90,
                    va="top", ha="right", fontsize=8, color="#333333", clip_on=True, in_layout=False)


def _dashes(k: int, n: int) -> tuple:
    """A dashed line; when n scenarios' interventions start at the same time, their lines
    interleave (dash k of every n) so that each colour shows."""
    if n == 1:
        return (0.0, (4.0, 3.0))
    return (4.0 * k, (4.0, 4.0 * (n - 1)))


def _legend(ax, styles: dict[str, Style], marks: dict[str, list[dict]]) -> None:
    handles = [Line2D([], [], color=s.colour, linestyle=s.linestyle, linewidth=2.2, label=n) for n, s in styles.items()]
    if any(marks.values()):
        handles.append(Line2D([], [], color="#555555", linestyle="--", label="intervention starts (its scenario's colour)"))
        if any(m.get("every_years") for ms in marks.values() for m in ms):
            handles.append(Line2D([], [], color="#555555", linestyle=":", label="intervention repeats"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)


def _grouped_bars(ax, summary: pd.DataFrame, keys: list[str], labels: list[str], styles: dict[str, Style]) -> None:
    n = max(1, len(styles))
    width = 0.8 / n
    x = np.arange(len(keys))
    for i, (name, style) in enumerate(styles.items()):
        rows = summary[summary["scenario"] == name].set_index("endpoint").reindex(keys)
        mean = rows["mean"].to_numpy(dtype=float)
        errors = np.vstack([mean - rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float) - mean])
        ax.bar(x + (i - (n - 1) / 2) * width, mean, width * 0.92, color=style.colour, hatch=style.hatch, edgecolor="white",
               linewidth=0, label=name, yerr=None if not np.isfinite(errors).any() else errors, capsize=2.5 if n <= 6 else 1.0,
               error_kw={"elinewidth": 1.0 if n <= 6 else 0.7, "ecolor": "#444444"})
    ax.set_xticks(x, labels)
    _tidy(ax)


def _tidy(ax, from_zero: bool = True) -> None:
    ax.grid(True, axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    if from_zero:
        ax.set_ylim(bottom=0)
