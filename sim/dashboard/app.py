"""The recruitsim dashboard: a Mesa SolaraViz page, served locally by `solara run`.

Start it with `recruitsim dashboard [SCENARIO]`, which runs `solara run sim/dashboard/app.py`
with the scenario in the environment variable RECRUITSIM_DASHBOARD_SCENARIO (default: the
bundled baseline). Everything is drawn on the server with matplotlib and sent as images: the
page loads nothing from the internet (see docs/dashboard.md).

Sidebar (SolaraViz): play/pause, step, reset, speed (play interval, render interval), and the
inputs a trainer varies, applied on Reset: scenario, seed, population size, forum and offline
recruitment intensity, and whether to run the twin without interventions side by side.
Main area: live-intervention buttons, the run's status and the twins' difference, the network
view, and the plots.
"""

from __future__ import annotations

import os
from pathlib import Path

import solara
from mesa.visualization import SolaraViz

from sim.dashboard import components
from sim.dashboard.side_by_side import (
    DEFAULT_POPULATION,
    DEFAULT_SCENARIO,
    POPULATION_RANGE,
    SCENARIO_ENV,
    TwinRun,
    bundled_scenarios,
    choice_name,
)
from sim.scenario import load_scenario

TITLE = "recruitsim: recruitment into cybercriminal networks"
PLAY_INTERVAL_MS = 100
RATE_MAX = 48.0  # slider ends for the recruitment intensities (scenario default: 12 per year)


def start_scenario() -> Path:
    """The scenario the dashboard opens on: $RECRUITSIM_DASHBOARD_SCENARIO, or the baseline."""
    return Path(os.environ.get(SCENARIO_ENV) or DEFAULT_SCENARIO)


def model_params(start: Path, choices: dict[str, Path]) -> dict:
    """SolaraViz inputs (names are TwinRun keyword arguments); defaults come from the start scenario."""
    scenario = load_scenario(start)
    rules = scenario.recruitment.rules
    return {
        "scenario_name": {"type": "Select", "label": "Scenario", "value": choice_name(start, choices),
                          "values": list(choices)},
        "seed": {"type": "InputText", "label": "Seed", "value": str(scenario.seed)},
        "population": {"type": "SliderInt", "label": "Population", "value": DEFAULT_POPULATION,
                       "min": POPULATION_RANGE[0], "max": POPULATION_RANGE[1], "step": 500},
        "forum_search_rate": {"type": "SliderFloat", "label": "Forum recruitment",
                              "value": float(rules.forums.search_rate), "min": 0.0, "max": RATE_MAX, "step": 1.0},
        "offline_attempt_rate": {"type": "SliderFloat", "label": "Offline recruitment",
                                 "value": float(rules.offline_ties.attempt_rate), "min": 0.0, "max": RATE_MAX, "step": 1.0},
        "side_by_side": {"type": "Checkbox", "label": "Side by side (twin without interventions)", "value": True},
        "choices": choices,  # fixed: not an input
    }


def initial_model(params: dict) -> TwinRun:
    """The model the page opens with: exactly what Reset builds from the inputs' defaults."""
    kwargs = {name: (p["value"] if isinstance(p, dict) and "type" in p else p) for name, p in params.items()}
    return TwinRun(**kwargs)


@solara.component
def Page():
    start = start_scenario()
    choices = solara.use_memo(lambda: bundled_scenarios(start), [str(start)])
    params = solara.use_memo(lambda: model_params(start, choices), [str(start)])
    model = solara.use_memo(lambda: initial_model(params), [str(start)])  # one model per browser tab
    solara.Title("recruitsim dashboard")
    SolaraViz(model, components=list(components.VIEWS), model_params=params, name=TITLE, play_interval=PLAY_INTERVAL_MS)
