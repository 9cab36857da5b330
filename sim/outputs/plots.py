"""composition.png: who is in the networks, how they got there, and what kind of networks exist.

Built on `matplotlib.figure.Figure` rather than pyplot: no global state, no GUI backend, safe
to call from threads and from headless servers without the caller choosing a backend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.vocabulary import CHANNELS, ORIGINS, ROLES

FIGSIZE = (11.0, 10.0)  # inches
DPI = 120

# Okabe & Ito (2008): distinguishable with the common forms of colour blindness.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
TOTAL_COLOUR = "#333333"
NOTE_COLOUR = "#777777"
# Legend wording for names that read badly with underscores replaced by spaces alone.
LABELS = {
    "offline_core_online_growth": "offline core, online growth",
    "online_core_offline_growth": "online core, offline growth",
    "money_mule": "money mule",
    "technical_enabler": "technical enabler",
}


def plot_composition(timeseries: pd.DataFrame, path: Path | str, title: str) -> Path:
    """Write a three-panel PNG (members by role, yearly recruits by channel, networks by origin)."""
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    ax_roles, ax_channels, ax_origins = fig.subplots(3, 1, sharex=True)
    years = timeseries["year"].to_numpy(dtype=float)

    _stacked(ax_roles, years, timeseries, "members_", ROLES)
    ax_roles.set_title("(a) Network members by role", loc="left")
    ax_roles.set_ylabel("persons")

    window = _steps_per_year(timeseries)
    _recruits(ax_channels, years, timeseries, window)
    ax_channels.set_title(f"(b) New recruits by channel in the past year (rolling sum over {window} steps)", loc="left")
    ax_channels.set_ylabel("recruits per year")

    _stacked(ax_origins, years, timeseries, "networks_", ORIGINS)
    ax_origins.set_title("(c) Active networks by origin", loc="left")
    ax_origins.set_ylabel("networks")
    ax_origins.set_xlabel("years since start")

    for ax in (ax_roles, ax_channels, ax_origins):
        _tidy(ax, years)
    fig.suptitle(title, fontsize=14, fontweight="bold")
    path = Path(path)
    fig.savefig(path, dpi=DPI, format="png")
    return path


def _steps_per_year(timeseries: pd.DataFrame) -> int:
    """Steps in one year, read from `step` / `year`; capped at the run length so short runs still plot."""
    years = timeseries["year"].to_numpy(dtype=float)
    steps = timeseries["step"].to_numpy(dtype=float)
    positive = years > 0
    if not positive.any():
        return 1
    per_year = int(round(float(np.median(steps[positive] / years[positive]))))
    return max(1, min(per_year, len(timeseries)))


def _label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " "))


def _stacked(ax, years, timeseries: pd.DataFrame, prefix: str, names: tuple[str, ...]) -> None:
    values = [timeseries[prefix + name].to_numpy(dtype=float) for name in names]
    ax.stackplot(years, values, labels=[_label(n) for n in names], colors=OKABE_ITO[: len(names)], alpha=0.85, linewidth=0)
    # Legend order follows the stack from top to bottom, as the eye reads it.
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def _recruits(ax, years, timeseries: pd.DataFrame, window: int) -> None:
    def yearly(column: str) -> np.ndarray:
        # A full window only: partial sums over the first months would look like a slow start.
        return timeseries[column].rolling(window, min_periods=window).sum().to_numpy(dtype=float)

    for colour, channel in zip(OKABE_ITO, CHANNELS):
        ax.plot(years, yearly(f"recruits_{channel}"), color=colour, linewidth=1.6, label=_label(channel))
    ax.plot(years, yearly("recruits_offline"), color=TOTAL_COLOUR, linewidth=2.6, linestyle="-", label="all offline")
    ax.plot(years, yearly("recruits_online"), color=TOTAL_COLOUR, linewidth=2.6, linestyle="--", label="all online")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    if window > 1 and len(years) > window:
        # Say why the lines start late rather than leave a blank the reader has to puzzle over.
        ax.text(years[window - 1] / 2, 0.5, "first year:\nno full year\nto sum yet", transform=ax.get_xaxis_transform(),
                ha="center", va="center", fontsize=9, color=NOTE_COLOUR, style="italic")


def _tidy(ax, years) -> None:
    ax.grid(True, axis="y", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_ylim(bottom=0)
    if len(years):
        ax.set_xlim(0, max(float(years[-1]), 1e-9))
