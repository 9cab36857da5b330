"""Key paths into a resolved scenario: `recruitment.rules.forums.accept_base`,
`interventions[0].effect`, `interventions[diversion programme].uptake` (an intervention by label).

A sweep sets its sampled values on each base scenario's resolved dump (`Scenario.resolved()`,
plain JSON data that holds every key), then validates the result with `Scenario.from_resolved`.
Setting into the dump, not through `--set`, is what lets a path reach into a list: the loader's
overrides replace lists whole.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from sim.experiment.errors import ExperimentError

_KEY = re.compile(r"[^.\[\]]+")  # a mapping key: anything up to the next dot or bracket


class PathNotInScenario(Exception):
    """The path selects a list entry this scenario does not have (an intervention it lacks)."""


@dataclass(frozen=True)
class KeyPath:
    text: str
    parts: tuple[str | int, ...]  # str: a mapping key; int: a list index; ("label", text): by label

    def __str__(self) -> str:
        return self.text


def parse_path(text: str) -> KeyPath:
    """ExperimentError for anything but dotted keys with optional [index] or [label] selectors."""
    text = str(text).strip()
    parts: list[Any] = []
    position = 0
    while position < len(text):
        if text[position] == "[":
            end = text.find("]", position)
            selector = text[position + 1:end].strip() if end > 0 else ""
            if not parts or not selector:
                raise _bad_path(text)
            parts.append(int(selector) if selector.isdigit() else ("label", selector))
            position = end + 1
            continue
        if parts:
            if text[position] != ".":
                raise _bad_path(text)
            position += 1
        key = _KEY.match(text, position)
        if key is None or not key.group(0).strip():
            raise _bad_path(text)
        parts.append(key.group(0).strip())
        position = key.end()
    if not parts:
        raise _bad_path(text)
    return KeyPath(text, tuple(parts))


def _bad_path(text: str) -> ExperimentError:
    return ExperimentError(f"parameter path {text!r}: expected dotted keys with optional [index] or [label], "
                           "e.g. recruitment.rules.forums.accept_base or interventions[diversion programme].uptake")


def set_path(dump: dict, path: KeyPath, value: Any) -> dict:
    """A copy of `dump` with `value` at `path`. PathNotInScenario if a list selector matches no
    entry; ExperimentError if a key is unknown or the path runs into a single value."""
    result = copy.deepcopy(dump)
    container: Any = result
    walked: list[str] = []
    for i, part in enumerate(path.parts):
        last = i == len(path.parts) - 1
        key = _locate(container, part, path, walked)
        if last:
            container[key] = _typed(container[key], value, path)
        else:
            container = container[key]
        walked.append(_shown(part))
    return result


def get_path(dump: dict, path: KeyPath) -> Any:
    """The value at `path` (the same errors as `set_path`)."""
    container: Any = dump
    walked: list[str] = []
    for part in path.parts:
        container = container[_locate(container, part, path, walked)]
        walked.append(_shown(part))
    return container


def _locate(container: Any, part: Any, path: KeyPath, walked: list[str]) -> Any:
    where = "".join(walked).lstrip(".") or "the top level"
    if isinstance(part, str):
        if not isinstance(container, dict):
            raise ExperimentError(f"parameter path {path}: {where} is {_kind(container)}, not a mapping with key {part!r}")
        if part not in container:
            keys = ", ".join(map(str, container))
            raise ExperimentError(f"parameter path {path}: unknown key {part!r} in {where} (allowed: {keys})")
        return part
    if not isinstance(container, list):
        raise ExperimentError(f"parameter path {path}: {where} is {_kind(container)}, not a list to select {_shown(part)} from")
    if isinstance(part, int):
        if part >= len(container):
            raise PathNotInScenario(f"{where} has {len(container)} entries")
        return part
    labels = [entry.get("label") for entry in container if isinstance(entry, dict)]
    if part[1] not in labels:
        raise PathNotInScenario(f"no entry labelled {part[1]!r} in {where} (labels: {', '.join(map(repr, labels)) or 'none'})")
    return labels.index(part[1])


def _typed(current: Any, value: Any, path: KeyPath) -> Any:
    """Integers stay integers (a sampled 2,437.6 persons is 2,438); a mapping or list is never
    replaced by a number."""
    if isinstance(current, bool) and not isinstance(value, bool):
        raise ExperimentError(f"parameter path {path}: is true or false; give it `values: [true, false]`")
    if isinstance(current, (dict, list)):
        raise ExperimentError(f"parameter path {path}: is {_kind(current)}; name one of its numbers, e.g. {path}.<key>")
    if isinstance(current, int) and not isinstance(current, bool) and isinstance(value, float):
        return int(round(value))
    return value


def _shown(part: Any) -> str:
    if isinstance(part, str):
        return f".{part}"
    return f"[{part}]" if isinstance(part, int) else f"[{part[1]}]"


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a single value ({value!r})"
