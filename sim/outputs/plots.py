"""composition.png (or .svg, .pdf): who is in the networks, how they got there, what kind of networks
exist, and when interventions acted.

Built on `matplotlib.figure.Figure` rather than pyplot: no global state, no GUI backend, safe
to call from threads and from headless servers without the caller choosing a backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.vocabulary import CHANNELS, readable

FIGSIZE = (11.0, 10.0)  # inches
DPI = 120
FORMATS = ("png", "svg", "pdf")  # png for screens; svg and pdf are vector, for papers

# One meaning per colour across the three panels (Okabe & Ito 2008 colours, distinguishable with
# the common forms of colour blindness): blue is offline and vermillion online wherever they
# appear (channels, their totals, origin types); roles have colours of their own.
OFFLINE, ONLINE = "#0072B2", "#D55E00"
ROLE_COLOURS = {"core": "#009E73", "technical_enabler": "#CC79A7", "recruiter": "#F0E442", "money_mule": "#999999"}
ORIGIN_COLOURS = {"offline": OFFLINE, "offline_core_online_growth": "#56B4E9",  # offline core, lighter: grew online too
                  "online": ONLINE, "online_core_offline_growth": "#E69F00"}  # online core, lighter: grew offline too
# Channels: the colour says offline or online, the line style which channel.
CHANNEL_STYLES = {
    "founder": ("#000000", ":"),
    "offline_ties": (OFFLINE, "-"), "offline_venues": (OFFLINE, "--"),
    "forums": (ONLINE, "-"), "adverts": (ONLINE, "--"),
    "self_selection": ("#8C6D31", "-"),  # volunteers come offline or online: a colour of its own
}
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")  # for categories without a fixed colour
MARK_COLOUR = "#444444"
NOTE_COLOUR = "#777777"
# Legend wording for names that read badly with underscores replaced by spaces alone.
def plot_composition(timeseries: pd.DataFrame, path: Path | str, title: str, *, marks: Sequence[dict] = (),
                     fmt: str | None = None) -> Path:
    """Write the three-panel figure (members by role, yearly recruits by channel, networks by
    origin) as png, svg or pdf (`fmt`, default: the file's suffix), with the interventions'
    moments marked (`marks`: InterventionSchedule.marks() entries)."""
    fmt = fmt or Path(path).suffix.lstrip(".") or "png"
    if fmt not in FORMATS:
        raise ValueError(f"figure format {fmt!r} (allowed: {', '.join(FORMATS)})")
    path = Path(path)
    composition_figure(timeseries, title, marks=marks).savefig(path, dpi=DPI, format=fmt)
    return path


def composition_figure(timeseries: pd.DataFrame, title: str, *, marks: Sequence[dict] = ()) -> Figure:
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    ax_roles, ax_channels, ax_origins = fig.subplots(3, 1, sharex=True)
    years = timeseries["year"].to_numpy(dtype=float)

    _stacked(ax_roles, years, timeseries, "members_", ROLE_COLOURS)
    ax_roles.set_title("(a) Network members by role", loc="left")
    ax_roles.set_ylabel("persons")

    window = _steps_per_year(timeseries)
    _recruits(ax_channels, years, timeseries, window)
    ax_channels.set_title(f"(b) New recruits by channel in the past year (rolling sum over {window} steps)", loc="left")
    ax_channels.set_ylabel("recruits per year")

    _stacked(ax_origins, years, timeseries, "networks_", ORIGIN_COLOURS)
    ax_origins.set_title("(c) Active networks by origin", loc="left")
    ax_origins.set_ylabel("networks")
    ax_origins.set_xlabel("years since start")

    end = float(years[-1]) if len(years) else 0.0
    moments = intervention_moments(marks, end)
    for ax in (ax_roles, ax_channels, ax_origins):
        _tidy(ax, years)
        _mark(ax, moments, labelled=ax is ax_roles)
    fig.suptitle(title, fontsize=14, fontweight="bold")
    return fig


def intervention_moments(marks: Sequence[dict], end_year: float) -> list[tuple[float, str]]:
    """(year, label) of every moment an intervention acts up to `end_year`: its start, and each
    repeat of an `every` intervention; the label only on its first moment."""
    moments = []
    for mark in marks:
        start, every, until = float(mark["start_year"]), mark.get("every_years"), mark.get("until_year")
        last = min(end_year, until) if until is not None else end_year
        years = np.arange(start, last + 1e-9, every) if every else np.array([start])
        moments += [(float(year), mark["label"] if i == 0 else "") for i, year in enumerate(years) if year <= end_year + 1e-9]
    return moments


def _steps_per_year(timeseries: pd.DataFrame) -> int:
    """Steps in one year, read from `step` / `year`; capped at the run length so short runs still plot."""
    years = timeseries["year"].to_numpy(dtype=float)
    steps = timeseries["step"].to_numpy(dtype=float)
    positive = years > 0
    if not positive.any():
        return 1
    per_year = int(round(float(np.median(steps[positive] / years[positive]))))
    return max(1, min(per_year, len(timeseries)))


def label(name: str) -> str:
    return readable(name)


def _stacked(ax, years, timeseries: pd.DataFrame, prefix: str, colours: dict[str, str]) -> None:
    values = [timeseries[prefix + name].to_numpy(dtype=float) for name in colours]
    ax.stackplot(years, values, labels=[label(n) for n in colours], colors=list(colours.values()), alpha=0.85, linewidth=0)
    # Legend order follows the stack from top to bottom, as the eye reads it.
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def _recruits(ax, years, timeseries: pd.DataFrame, window: int) -> None:
    def yearly(column: str) -> np.ndarray:
        # A full window only: partial sums over the first months would look like a slow start.
        return timeseries[column].rolling(window, min_periods=window).sum().to_numpy(dtype=float)

    for channel in CHANNELS:
        colour, style = CHANNEL_STYLES[channel]
        ax.plot(years, yearly(f"recruits_{channel}"), color=colour, linestyle=style, linewidth=1.4, label=label(channel))
    # the totals: the same colours, thick and pale underneath, so the channels stay readable
    ax.plot(years, yearly("recruits_offline"), color=OFFLINE, linewidth=5, alpha=0.35, zorder=1, label="all offline")
    ax.plot(years, yearly("recruits_online"), color=ONLINE, linewidth=5, alpha=0.35, zorder=1, label="all online")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    if window > 1 and len(years) > window:
        # Say why the lines start late rather than leave a blank the reader has to puzzle over.
        ax.text(years[window - 1] / 2, 0.5, "first year:\nno full year\nto sum yet", transform=ax.get_xaxis_transform(),
                ha="center", va="center", fontsize=9, color=NOTE_COLOUR, style="italic")


def _mark(ax, moments: list[tuple[float, str]], labelled: bool) -> None:
    """A dotted line at each intervention moment; the top panel names each intervention once."""
    for year, text in moments:
        ax.axvline(year, color=MARK_COLOUR, linestyle=":", linewidth=1.1, zorder=3)
        if labelled and text:
            ax.text(year, 1.0, f" {text}", transform=ax.get_xaxis_transform(), rotation=90, ha="left", va="top",
                    fontsize=8, color=MARK_COLOUR)


def _tidy(ax, years) -> None:
    ax.grid(True, axis="y", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_ylim(bottom=0)
    if len(years):
        ax.set_xlim(0, max(float(years[-1]), 1e-9))
