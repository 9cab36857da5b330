"""Scenarios: the schema of every key (`schema`), and loading YAML files into it (`loader`).

`Scenario` and `load_scenario` are imported on first use, not here: `sim.recruitment` imports
`sim.scenario.params` while it registers the rules, and the schema imports `sim.recruitment`,
so importing the schema eagerly from this package would be an import cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.errors import ScenarioError

if TYPE_CHECKING:
    from sim.scenario.loader import load_scenario
    from sim.scenario.schema import Scenario

__all__ = ["Scenario", "ScenarioError", "load_scenario"]


def __getattr__(name: str):
    if name == "Scenario":
        from sim.scenario.schema import Scenario

        return Scenario
    if name == "load_scenario":
        from sim.scenario.loader import load_scenario

        return load_scenario
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
