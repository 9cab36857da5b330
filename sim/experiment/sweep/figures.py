"""The sweep's figures (matplotlib `Figure` objects, no pyplot): indices with their 95% intervals,
and each outcome against each parameter."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.experiment.endpoints import all_endpoints
from sim.experiment.figures import GRID, SCENARIO_COLOURS

FIRST, TOTAL = SCENARIO_COLOURS[0], SCENARIO_COLOURS[5]
MAX_SCATTER_PARAMETERS = 10
SOBOL_VIEW = (-0.25, 1.25)
LABELS = {e.key: e.label for e in all_endpoints()}


def outcome_label(key: str) -> str:
    return LABELS.get(key, key)


def indices_figure(indices: pd.DataFrame, design: str, title: str) -> Figure:
    """One panel per outcome: Sobol S1 and ST bars, Morris mu* against sigma, or Spearman's rho."""
    outcomes = list(dict.fromkeys(indices["outcome"]))
    parameters = list(dict.fromkeys(indices["parameter"]))
    columns = min(2, len(outcomes))
    rows = -(-len(outcomes) // columns)
    height = max(2.6, 0.32 * len(parameters) + 1.4) if design != "morris" else 4.0
    fig = Figure(figsize=(6.2 * columns, height * rows + 0.6), layout="constrained")
    fig.suptitle(title, fontweight="bold")
    for k, outcome in enumerate(outcomes):
        ax = fig.add_subplot(rows, columns, k + 1)
        rows_of = indices[indices["outcome"] == outcome]
        if design == "morris":
            _morris_panel(ax, rows_of, parameters)
        else:
            _bar_panel(ax, rows_of, parameters, ("S1", "ST") if design == "sobol" else ("spearman",))
        ax.set_title(outcome_label(outcome), loc="left", fontsize=10)
    return fig


def _bar_panel(ax, rows: pd.DataFrame, parameters: list[str], kinds: tuple[str, ...]) -> None:
    y = np.arange(len(parameters))
    height = 0.8 / len(kinds)
    for i, (kind, colour) in enumerate(zip(kinds, (FIRST, TOTAL), strict=False)):
        part = rows[rows["index"] == kind].set_index("parameter").reindex(parameters)
        value = part["value"].to_numpy(dtype=float)
        error = np.vstack([value - part["ci_low"].to_numpy(dtype=float), part["ci_high"].to_numpy(dtype=float) - value])
        offset = (i - (len(kinds) - 1) / 2) * height
        label = {"S1": "first order (S1)", "ST": "total order (ST)", "spearman": "rank correlation"}[kind]
        ax.barh(y + offset, np.nan_to_num(value), height=height, color=colour, label=label,
                xerr=np.nan_to_num(np.abs(error)), error_kw={"elinewidth": 1, "capsize": 2, "ecolor": "#333333"})
    ax.set_yticks(y, parameters, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="#888888", linewidth=0.8)
    ax.grid(axis="x", color=GRID)
    ax.set_axisbelow(True)
    ax.legend(fontsize=8, loc="lower right")
    if "S1" in kinds:
        # indices are shares: a wider view would hide them behind the intervals of a small sample (cut at the edges)
        ax.set_xlim(SOBOL_VIEW)
        ax.set_xlabel("share of the outcome's variance (95% bootstrap interval)")
    else:
        ax.set_xlim(-1, 1)
        ax.set_xlabel("Spearman's rho (95% interval)")


def _morris_panel(ax, rows: pd.DataFrame, parameters: list[str]) -> None:
    wide = rows.pivot_table(index="parameter", columns="index", values=["value", "ci_low", "ci_high"], dropna=False).reindex(parameters)
    mu_star, sigma = wide[("value", "mu_star")].to_numpy(float), wide[("value", "sigma")].to_numpy(float)
    low, high = wide[("ci_low", "mu_star")].to_numpy(float), wide[("ci_high", "mu_star")].to_numpy(float)
    ax.errorbar(mu_star, sigma, xerr=np.nan_to_num(np.abs(np.vstack([mu_star - low, high - mu_star]))), fmt="o", color=FIRST,
                ecolor="#555555", elinewidth=1, capsize=2)
    for name, x, s in zip(parameters, mu_star, sigma, strict=True):
        if np.isfinite(x) and np.isfinite(s):
            ax.annotate(name, (x, s), fontsize=7, xytext=(3, 3), textcoords="offset points")
    top = np.nanmax(np.concatenate([high, sigma, [0.0]]))
    ax.plot([0, top], [0, top], color="#bbbbbb", linewidth=0.8, linestyle="--")  # sigma = mu*: strongly non-linear or interacting
    ax.set_xlabel("mu* (mean |elementary effect| over the parameter's range; 95% interval)")
    ax.set_ylabel("sigma (spread of the effects)")
    ax.grid(color=GRID)


def scatter_figure(means: pd.DataFrame, parameters: list[str], outcomes: list[str], title: str) -> Figure:
    """Each outcome (rows) against each parameter (columns): one point per design point (mean of its replications)."""
    shown = parameters[:MAX_SCATTER_PARAMETERS]
    fig = Figure(figsize=(max(6.5, 2.3 * len(shown) + 0.8), 2.1 * len(outcomes) + 0.8), layout="constrained")
    fig.suptitle(title, fontweight="bold", fontsize=11)
    axes = fig.subplots(len(outcomes), len(shown), squeeze=False, sharey="row")
    for i, outcome in enumerate(outcomes):
        for j, parameter in enumerate(shown):
            ax = axes[i][j]
            x = pd.to_numeric(means[parameter], errors="coerce")
            if x.isna().all():  # words (values: [core, central]): their positions
                x = pd.Series(pd.factorize(means[parameter])[0], index=means.index)
            ax.scatter(x, means[outcome], s=12, alpha=0.7, color=FIRST, linewidths=0)
            ax.grid(color=GRID)
            ax.tick_params(labelsize=7)
            if i == len(outcomes) - 1:
                ax.set_xlabel(parameter, fontsize=8)
            if j == 0:
                ax.set_ylabel(_wrapped(outcome_label(outcome)), fontsize=8)
    return fig


def _wrapped(text: str, width: int = 28) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])
