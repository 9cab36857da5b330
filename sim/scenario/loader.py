"""Reading a scenario: YAML file, `extends` chain, `--set` overrides, validation, one-line errors.

Order of precedence, lowest first: the schema defaults, the root of the `extends` chain, ... the
file itself, then the `--set` overrides in the order given. Between files, mappings merge key by
key and lists and single values replace. The schema's defaults merge the same way: a section
(`population`) fills the keys it leaves out from its defaults, and a mapping of named entries
(`places.venues`, `networks.initial_per_10k`, ...) changes the default entries it names, adds new ones,
and removes those set to null (see `sim.scenario.params.merge_named_entries`).
Two keys are handled by the loader, not merged:

- `extends` is consumed: the returned scenario is self-contained (its `extends` is None).

A resolved scenario (`Scenario.resolved()`, recorded in every manifest.json) is read back by
`load_resolved`, not merged: merging it into the defaults again would bring back entries removed
with `null`.
- `name` is not inherited: a file without a `name` is named after its file stem, so a variant
  never writes its outputs under its base's name.

Every problem raises `ScenarioError` with one line `<file>: <key.path>: <what is wrong> (<allowed>)`,
naming the file that set the offending key (a base file, or the main file plus the `--set`).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import ValidationError

from sim.errors import ScenarioError
from sim.scenario.docs import allowed_text, choices, format_number, is_section, range_text, unwrap
from sim.scenario.params import deep_merge
from sim.scenario.schema import Scenario

Key = tuple[Any, ...]

# Bounds on what the loader reads, far above any real scenario (a few kilobytes, six levels deep,
# a few hundred values) and far below what exhausts the machine: YAML aliases can name a mapping
# that names another ... ("billion laughs"), and merging walks every expanded path.
MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 50  # nested mappings and lists
MAX_ALIAS_EXPANSION = 100_000  # values, counting each use of an alias in full


@dataclass(frozen=True)
class Override:
    """One `--set KEY.PATH=VALUE`, parsed."""

    text: str
    path: tuple[str, ...]
    value: Any


Origin = Path | Override


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Read, merge, override and validate a scenario file; raise ScenarioError on any problem."""
    if isinstance(overrides, str):  # a lone string would be read letter by letter
        raise TypeError("overrides must be a sequence of 'KEY.PATH=VALUE' strings, not one string")
    path = Path(path)
    parsed = [parse_override(text) for text in overrides]
    chain = read_extends_chain(path)
    data, origins = _merge_chain(chain)
    data.setdefault("name", path.stem)
    for override in parsed:
        data = apply_override(data, override)
        origins.update(dict.fromkeys(_leaf_paths(_nest(override.path, override.value)), override))
    return _validate(data, path, origins)


# --------------------------------------------------------------------------- --set
def parse_override(text: str) -> Override:
    """`a.b.c=value` -> Override(path=('a', 'b', 'c'), value parsed as YAML)."""
    key, sep, raw = text.partition("=")
    path = tuple(part.strip() for part in key.split("."))
    if not sep or not all(path):
        raise ScenarioError(f"--set {text!r}: expected KEY.PATH=VALUE")
    if path[0] == "extends":
        raise ScenarioError(f"--set {text!r}: extends cannot be set from the command line (write a scenario file that extends)")
    try:
        value = load_bounded_yaml(raw)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"--set {_show(text)}: the value is not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    except TooLargeError as exc:
        raise ScenarioError(f"--set {_show(text)}: {exc}") from None
    return Override(text, path, value)


def apply_override(data: dict, override: Override) -> dict:
    """A copy of `data` with the override set; missing or non-mapping intermediates become mappings."""
    head, *rest = override.path
    if not rest:
        return {**data, head: override.value}
    child = data.get(head) if isinstance(data.get(head), dict) else {}
    return {**data, head: apply_override(child, Override(override.text, tuple(rest), override.value))}


def _nest(path: tuple[str, ...], value: Any) -> dict:
    for key in reversed(path):
        value = {key: value}
    return value


# --------------------------------------------------------------------------- files and extends
class TooLargeError(Exception):
    """YAML beyond the loader's bounds (MAX_DEPTH, MAX_ALIAS_EXPANSION); the message says which."""


class UniqueKeySafeLoader(yaml.SafeLoader):
    """The safe loader, but a key given twice in one mapping is an error, not a silent overwrite,
    and nesting deeper than MAX_DEPTH is refused before the composer recurses into it."""

    _depth = 0

    def compose_node(self, parent, index):
        if self._depth >= MAX_DEPTH:
            raise TooLargeError(f"nested more than {MAX_DEPTH} levels deep (a scenario needs fewer than 10)")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_bounded_yaml(text: str) -> Any:
    """YAML `text` read with the safe loader, within MAX_DEPTH and MAX_ALIAS_EXPANSION
    (TooLargeError otherwise; yaml.YAMLError on bad syntax)."""
    data = yaml.load(text, Loader=UniqueKeySafeLoader)  # a SafeLoader: no arbitrary objects
    _check_expanded_size(data)
    return data


def _check_expanded_size(data: Any) -> None:
    """TooLargeError if `data` holds more than MAX_ALIAS_EXPANSION values once its aliases are
    expanded, or contains itself. Each distinct object is counted once (memoised by identity),
    so a bomb is measured in the time it took to parse, not the time it would take to expand."""
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()

    def size(value: Any) -> int:
        if not isinstance(value, (dict, list)):
            return 1
        key = id(value)
        if key in sizes:
            return sizes[key]
        if key in in_progress:
            raise TooLargeError("an alias refers to itself (a value that contains itself has no end)")
        in_progress.add(key)
        children = value.values() if isinstance(value, dict) else value
        total = 1 + sum(size(child) for child in children)
        if total > MAX_ALIAS_EXPANSION:
            raise TooLargeError(f"holds more than {MAX_ALIAS_EXPANSION:,} values once its aliases (*name) are expanded "
                                "(a scenario has a few hundred)")
        in_progress.discard(key)
        sizes[key] = total
        return total

    size(data)


def read_mapping(path: Path) -> dict:
    """The top-level mapping of a YAML file (safe loader only, within the loader's bounds)."""
    _check_file_size(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a directory, expected a YAML scenario file") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: is not UTF-8 text, expected a YAML scenario file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        data = load_bounded_yaml(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(_yaml_error(path, exc)) from None
    except TooLargeError as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: the top level must be a mapping of keys to values, got {_kind(data)}")
    return data


def _check_file_size(path: Path) -> None:
    """Refuse a huge file before reading it (a missing or unreadable one is reported by the read)."""
    try:
        size = path.stat().st_size
    except OSError:
        return
    if size > MAX_FILE_BYTES:
        raise ScenarioError(f"{path}: is larger than {MAX_FILE_BYTES:,} bytes ({size:,}); a scenario is a few kilobytes "
                            "(is this the right file?)")


def _yaml_error(path: Path, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
    where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
    return f"{where}: YAML syntax error: {' '.join(str(problem).split())}{_indentation_hint(str(problem))}"


INDENTATION_PROBLEMS = ("expected <block end>", "mapping values are not allowed", "did not find expected key",
                        "found character '\\t'")


def _indentation_hint(problem: str) -> str:
    """PyYAML's jargon for a misaligned key, in plain words."""
    if any(text in problem for text in INDENTATION_PROBLEMS):
        return " (check the indentation: the keys of one mapping must line up, indented with spaces, not tabs)"
    return ""


def read_extends_chain(path: Path) -> list[tuple[Path, dict]]:
    """The file and the files it extends, root base first."""
    chain = [(path, read_mapping(path))]
    while (base := chain[-1][1].get("extends")) is not None:
        base_path = _base_path(chain[-1][0], base, [file for file, _ in chain])
        chain.append((base_path, read_mapping(base_path)))
    return chain[::-1]


def _base_path(child: Path, base: Any, seen: list[Path]) -> Path:
    if not isinstance(base, str) or not base.strip():
        raise ScenarioError(f"{child}: extends: expected the path of a scenario file, got {_show(base)}")
    base_path = child.parent / base
    if not base_path.is_file():
        raise ScenarioError(f"{child}: extends: file {base!r} not found (looked for {base_path}; the path is relative to the extending file)")
    if base_path.resolve() in {file.resolve() for file in seen}:
        cycle = " -> ".join(str(file) for file in [*seen, base_path])
        raise ScenarioError(f"{child}: extends: cycle {cycle} (a scenario cannot extend itself, directly or through others)")
    return base_path


def _merge_chain(chain: list[tuple[Path, dict]]) -> tuple[dict, dict[Key, Origin]]:
    """The merged data, and the file each leaf key came from (later files win)."""
    data: dict = {}
    origins: dict[Key, Origin] = {}
    for position, (file, layer) in enumerate(chain):
        is_main = position == len(chain) - 1
        layer = {key: value for key, value in layer.items() if key != "extends" and (is_main or key != "name")}
        data = deep_merge(data, layer)
        origins.update(dict.fromkeys(_leaf_paths(layer), file))
    return data, origins


def _leaf_paths(data: dict, prefix: Key = ()) -> Iterator[Key]:
    for key, value in data.items():
        if isinstance(value, dict) and value:
            yield from _leaf_paths(value, (*prefix, key))
        else:
            yield (*prefix, key)


# --------------------------------------------------------------------------- resolved scenarios
def load_resolved(data: Any, source: Path) -> Scenario:
    """A resolved scenario (the `scenario` recorded in a manifest), exactly as it was run: its
    named entries are not merged into the defaults again. ScenarioError naming `source` on any problem."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: scenario: expected a mapping of keys to values, got {_kind(data)}")
    try:
        return Scenario.from_resolved(data)
    except ValidationError as exc:
        raise ScenarioError(_error_line(exc.errors(include_url=False)[0], source, {})) from None


# --------------------------------------------------------------------------- validation
def _validate(data: dict, main: Path, origins: dict[Key, Origin]) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]  # one line: the first problem is enough to act on
        raise ScenarioError(_error_line(first, main, origins)) from None


def _error_line(error: dict, main: Path, origins: dict[Key, Origin]) -> str:
    loc = tuple(error["loc"])
    shown = _without_union_tags(loc)  # the user's path: interventions[0].target, not ...[0].forum_takedown.target
    # a missing key belongs to the mapping that lacks it (e.g. a venue made by --set)
    origin = _origin_of(shown[:-1] if error["type"] == "missing" else shown, origins)
    file = origin if isinstance(origin, Path) else main
    via = f" (from --set {origin.text})" if isinstance(origin, Override) else ""
    message = describe_error(error)
    if not shown and _names_its_key(message):  # a whole-scenario check that names the key itself
        return f"{file}: {message}{via}"
    return f"{file}: {dotted(shown) or '(top level)'}: {message}{via}"


def _without_union_tags(loc: Key) -> Key:
    """Drop the tag pydantic puts after a list index in a discriminated union's error path."""
    from sim.interventions import INTERVENTIONS

    return tuple(part for i, part in enumerate(loc) if not (i > 0 and isinstance(loc[i - 1], int) and part in INTERVENTIONS))


def _names_its_key(message: str) -> bool:
    head = message.split(": ", 1)[0]
    return ": " in message and " " not in head


def _origin_of(loc: Key, origins: dict[Key, Origin]) -> Origin | None:
    """Who set the key at `loc`: the longest recorded prefix; else an override below it (a section's
    own check failed after an override changed one of its keys)."""
    key_loc = tuple(part for part in loc if part != "[key]")
    for end in range(len(key_loc), 0, -1):
        if key_loc[:end] in origins:
            return origins[key_loc[:end]]
    below = [origin for path, origin in origins.items() if isinstance(origin, Override) and key_loc and path[: len(key_loc)] == key_loc]
    return below[-1] if below else None


def dotted(loc: Key) -> str:
    """('a', 'b', 0, 'c') -> 'a.b[0].c'; pydantic's '[key]' marker (a bad mapping key) is dropped."""
    text = ""
    for part in loc:
        if part == "[key]":
            continue
        text += f"[{part}]" if isinstance(part, int) and text else f".{part}" if text else str(part)
    return text


# --------------------------------------------------------------------------- messages
_EXPECTED = {
    "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer", "int_parsing_size": "an integer",
    "float_type": "a number", "float_parsing": "a number", "finite_number": "a finite number",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "string_type": "a string", "list_type": "a list",
    "dict_type": "a mapping of keys to values", "model_type": "a mapping of keys to values", "model_attributes_type": "a mapping of keys to values",
}  # fmt: skip
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}


def describe_error(error: dict) -> str:
    """What is wrong with one pydantic error, and what is allowed, in the user's words."""
    kind, loc, value, ctx = error["type"], tuple(error["loc"]), error.get("input"), error.get("ctx") or {}
    if kind == "extra_forbidden":
        return _unknown_key(loc[:-1], loc[-1])
    if kind == "literal_error" and loc and loc[-1] == "[key]":
        return _unknown_key(loc[:-2], loc[-2])
    if kind == "invalid_key":
        return "keys must be strings (quote the key: YAML reads unquoted yes/no/on/off as true/false and digits as numbers)"
    if kind == "literal_error":
        return f"{_show(value)} is not allowed (allowed: {', '.join(_expected_literals(loc, ctx))})"
    if kind in _BOUNDS:
        limit = next(iter(ctx.values()))
        return f"must be {_BOUNDS[kind]} {format_number(limit)}, got {_show(value)}" + _hint(_two_sided_range(loc))
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_show(value)}" + _hint(_allowed_at(loc))
    if kind == "missing":
        return "is required" + _hint(_allowed_at(loc))
    if kind == "union_tag_invalid":
        return f"unknown type {_show(ctx.get('tag'))} (allowed: {_union_tags()})"
    if kind == "union_tag_not_found":
        return f"needs a 'type' (allowed: {_union_tags()})"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", error["msg"]))
    if kind == "string_too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else f"must have at least {ctx.get('min_length')} characters"
    return f"{error['msg'][0].lower()}{error['msg'][1:]}, got {_show(value)}"


def _union_tags() -> str:
    from sim.interventions import INTERVENTIONS

    return ", ".join(INTERVENTIONS)


def _hint(allowed: str) -> str:
    if not allowed:
        return ""
    # "allowed keys: a, b" reads better than "allowed: keys: a, b"
    return f" (allowed {allowed})" if allowed.startswith(("keys: ", "items: ")) else f" (allowed: {allowed})"


def _unknown_key(parent: Key, key: Any) -> str:
    names = _known_keys(parent)
    close = difflib.get_close_matches(str(key), names, n=1)
    guess = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key {str(key)!r} ({guess}allowed: {', '.join(names)})"


def _known_keys(loc: Key) -> list[str]:
    """The keys allowed at `loc`: a section's fields, or the choices of a mapping's key type."""
    annotation = annotation_at(loc)
    if is_section(annotation):
        return [field.alias or name for name, field in annotation.model_fields.items()]
    if get_origin(annotation) is dict:
        return choices(unwrap(get_args(annotation)[0])[0])
    return []


def _expected_literals(loc: Key, ctx: dict) -> list[str]:
    annotation = annotation_at(loc)
    return choices(annotation) or [part.strip("'") for part in str(ctx.get("expected", "")).replace(" or ", ", ").split(", ")]


def _allowed_at(loc: Key) -> str:
    annotation, constraints = constrained_annotation_at(loc)
    return allowed_text(annotation, constraints) if annotation is not None else ""


def _two_sided_range(loc: Key) -> str:
    """The range of the key, worth adding only when the error named just one of its bounds."""
    _, constraints = constrained_annotation_at(loc)
    text = range_text(constraints)
    return text if " to " in text or " and " in text else ""


def annotation_at(loc: Key) -> Any:
    return constrained_annotation_at(loc)[0]


def constrained_annotation_at(loc: Key) -> tuple[Any, list[Any]]:
    """The declared type at a pydantic `loc` in the scenario schema, and its constraints."""
    annotation: Any = Scenario
    constraints: list[Any] = []
    for part in loc:
        annotation, constraints = _step_into(annotation, part)
        if annotation is None:
            return None, []
    return annotation, constraints


def _step_into(annotation: Any, part: Any) -> tuple[Any, list[Any]]:
    if is_section(annotation):
        field = annotation.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return None, []
        bare, constraints = unwrap(field.annotation)
        return bare, [*field.metadata, *constraints]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is dict:
        return unwrap(args[0] if part == "[key]" else args[1])
    if origin is list and isinstance(part, int):
        return unwrap(args[0])
    if origin is Union and isinstance(part, str):  # a discriminated union: pydantic's loc names the tag
        for member in args:
            bare = unwrap(member)[0]
            if is_section(bare) and part in choices(unwrap(bare.model_fields["type"].annotation)[0]) if "type" in getattr(bare, "model_fields", {}) else False:
                return bare, []
    return None, []


def _kind(value: Any) -> str:
    if value is None:
        return "an empty file"
    return {list: "a list", str: "a single string"}.get(type(value), f"a single value ({_show(value)})")


def _show(value: Any) -> str:
    """A value as the user wrote it, shortened: 'abc', 3, true, null, {a: 1}."""
    if isinstance(value, str):
        text = repr(value)
    elif value is None or isinstance(value, (bool, dict, list)):
        text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def override_strings(overrides: dict[str, Any], prefix: str = "") -> list[str]:
    """`{"population": {"size": 2000}, "steps": 52}` -> ["population.size=2000", "steps=52"]: the
    `--set` strings of the loader. A nested mapping is split into its leaves, so it changes only
    the keys it names, as a scenario file that `extends` another does. Values are written as JSON,
    which YAML reads back unchanged."""
    strings = []
    for key, value in overrides.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            strings += override_strings(value, f"{path}.")
        else:
            strings.append(f"{path}={json.dumps(value)}")
    return strings
