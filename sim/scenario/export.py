"""Writing a scenario back as a short YAML file: only what differs from the schema's defaults.

The dashboard's take-home file is one (the scenario a trainer ran, with the interventions they
pressed): a person reads it, and `recruitsim run` reads it back to the very same scenario.
The file is the difference between the scenario's resolved dump and the defaults', key by key:
sections keep only the keys that differ, a named entry the defaults have and the scenario
dropped is written as `name: null` (the loader's way to remove one), lists are written whole.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml

from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario

_MISSING = object()


def difference(value: Any, default: Any) -> Any:
    """What a scenario file must say so that `default`, merged with it, becomes `value`
    (`_MISSING` if nothing)."""
    if isinstance(value, dict) and isinstance(default, dict):
        out = {key: difference(item, default.get(key, _MISSING)) for key, item in value.items()}
        out = {key: item for key, item in out.items() if item is not _MISSING}
        out.update({key: None for key in default if key not in value})  # a named entry removed
        return out if out else _MISSING
    return _MISSING if value == default else value


def intervention_entry(spec) -> dict:
    """An `interventions:` entry as a person writes it: `from`, not the field name `from_`; no empty keys."""
    return spec.model_dump(mode="json", by_alias=True, exclude_none=True)


def scenario_yaml(scenario: Scenario, header: str = "") -> str:
    """`scenario` as a YAML file holding only what differs from the defaults (and its name),
    checked to load back to `scenario` exactly. `header` lines are written as comments on top."""
    changes = difference(scenario.resolved(), Scenario().resolved())
    changes = {} if changes is _MISSING else changes
    changes = {"name": scenario.name, **{key: value for key, value in changes.items() if key != "name"}}
    if scenario.interventions:
        changes["interventions"] = [intervention_entry(spec) for spec in scenario.interventions]
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    text = comments + yaml.safe_dump(changes, sort_keys=False, allow_unicode=True, width=100)
    _check_round_trip(text, scenario)
    return text


def _check_round_trip(text: str, scenario: Scenario) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{scenario.name}.yaml"
        path.write_text(text, encoding="utf-8")
        back = load_scenario(path)
    if back != scenario:  # a bug here, never the user's: say so plainly
        raise RuntimeError(f"scenario {scenario.name!r} does not survive being written as YAML and read back")
