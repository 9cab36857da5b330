"""The scenario keys in words: type, range and allowed values, and the reference page built from them.

`render_markdown()` writes docs/scenarios.md (`make docs`). It walks the pydantic models rather than
the JSON Schema because the schema leaves out defaults made by factories (sections, venues, ...).
The loader uses the same wording for the "allowed" part of its error messages, so the reference
and the errors cannot disagree.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.scenario.schema import Scenario

_HEADER = """\
# Scenario keys

<!-- Generated from sim/scenario/schema.py by `make docs` (recruitsim schema --markdown); do not edit. -->

A scenario is a YAML file. Every key is optional: a key left out takes the default below, so an
empty mapping `{}` is the baseline. Unknown keys are errors, so a typo never falls back to a default
silently. Units are in brackets at the end of a description; rates are per year and are turned
into per-step probabilities by the step length (`step`).

- `extends: other.yaml` (relative to the file) starts from another scenario: mappings merge key by
  key, lists and single values replace. Chains are allowed, cycles are errors. The loader consumes
  `extends`, so a loaded scenario is self-contained. `name` is not inherited: a file without one is
  named after its file name (`runs/x.yaml` is `x`).
- `recruitsim run FILE --set population.size=2000 --set step=month` overrides keys after `extends`
  is applied; values are read as YAML (`3`, `0.5`, `true`, `[a, b]`). `--seed N` is `--set seed=N`.
- `recruitsim validate FILE...` checks files without running them.
"""


# --------------------------------------------------------------------------- types in words
def unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The bare type under `Annotated[...]`, and its constraints (Ge, Le, ...)."""
    constraints: list[Any] = []
    while get_origin(annotation) is Annotated:
        annotation, *extras = get_args(annotation)
        for extra in extras:
            constraints.extend(extra.metadata if isinstance(extra, FieldInfo) else [extra])
    return annotation, constraints


def is_section(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def choices(annotation: Any) -> list[str]:
    """The values of a Literal type; empty for any other type."""
    return [str(value) for value in get_args(annotation)] if get_origin(annotation) is Literal else []


def _is_optional(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)


def type_name(annotation: Any) -> str:
    """A short name a scenario author understands: integer, number, mapping, ..."""
    annotation, _ = unwrap(annotation)
    if _is_optional(annotation):
        others = [arg for arg in get_args(annotation) if arg is not type(None)]
        return " or ".join(type_name(arg) for arg in others) + " or null"
    if is_section(annotation):
        return "section"
    simple = {int: "integer", float: "number", bool: "boolean", str: "string"}
    if annotation in simple:
        return simple[annotation]
    if get_origin(annotation) is Literal:
        return "choice"
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType) and all(is_section(unwrap(arg)[0]) for arg in get_args(annotation)):
        return "entry (see its section)"
    if origin in (Union, types.UnionType):
        return " or ".join(type_name(arg) for arg in get_args(annotation))
    if origin is list:
        return f"list of {type_name(get_args(annotation)[0])}"
    if origin is dict:
        key, value = get_args(annotation)
        return f"mapping: {type_name(key)} -> {type_name(value)}"
    return str(annotation)


def format_number(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def range_text(constraints: list[Any]) -> str:
    """'0 to 1' for two inclusive bounds, else the bounds joined: '> 0 and <= 100'."""
    bounds = {type(c).__name__: c for c in constraints if isinstance(c, (annotated_types.Ge, annotated_types.Gt, annotated_types.Le, annotated_types.Lt))}
    if "Ge" in bounds and "Le" in bounds:
        return f"{format_number(bounds['Ge'].ge)} to {format_number(bounds['Le'].le)}"
    symbols = {"Ge": (">=", "ge"), "Gt": (">", "gt"), "Le": ("<=", "le"), "Lt": ("<", "lt")}
    return " and ".join(f"{symbols[name][0]} {format_number(getattr(bound, symbols[name][1]))}" for name, bound in bounds.items())


def allowed_text(annotation: Any, constraints: list[Any] = ()) -> str:
    """What a key accepts, beyond its type: a range, a list of choices or of keys; '' if anything."""
    annotation, inner = unwrap(annotation)
    constraints = [*constraints, *inner]
    if _is_optional(annotation):
        others = [arg for arg in get_args(annotation) if arg is not type(None)]
        return allowed_text(others[0], constraints) if len(others) == 1 else ""
    if get_origin(annotation) is Literal:
        return ", ".join(choices(annotation))
    if is_section(annotation):
        return "keys: " + ", ".join(annotation.model_fields)
    if get_origin(annotation) is list:
        items = allowed_text(get_args(annotation)[0])
        return f"items: {items}" if items else ""
    if get_origin(annotation) is dict:
        keys, values = (allowed_text(arg) for arg in get_args(annotation))
        parts = [f"keys: {keys}" if keys else "", f"values: {values}" if values else ""]
        return "; ".join(part for part in parts if part)
    return range_text(constraints)


# --------------------------------------------------------------------------- values in words
def format_value(value: Any) -> str:
    """A value as it would be written in a scenario file (YAML flow style)."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    if value == "":
        return '""'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {format_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    return str(value)


def _field_default(field: FieldInfo) -> Any:
    if field.is_required():
        return "(required)"
    return field.default_factory() if field.default_factory is not None else field.default


# --------------------------------------------------------------------------- markdown
def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{text}`" if text else ""


def _is_section_dict(annotation: Any) -> bool:
    """A mapping of user-chosen names to sections (venues, online spaces, business models)."""
    annotation, _ = unwrap(annotation)
    return get_origin(annotation) is dict and is_section(unwrap(get_args(annotation)[1])[0])


def _rows(model: type[BaseModel], values: BaseModel | None, prefix: str) -> Iterator[str]:
    """One table row per key of `model`, nested sections flattened into dotted paths.

    `values` is the default instance when there is one: defaults of nested sections come from
    their parent's factory (it_skill is Beta(2, 6), not Beta's own 2, 5).
    """
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = field.annotation
        default = getattr(values, name) if values is not None else _field_default(field)
        if _is_section_dict(annotation):
            continue  # documented in a subsection of its own
        if is_section(annotation):
            yield f"| `{path}` | section | | | {_cell(field.description or '')} |"
            yield from _rows(annotation, default if isinstance(default, BaseModel) else None, f"{path}.")
            continue
        allowed = allowed_text(annotation, field.metadata)
        yield f"| `{path}` | {type_name(annotation)} | {_code(format_value(default))} | {_cell(allowed)} | {_cell(field.description or '')} |"


_TABLE_HEAD = "| key | type | default | allowed | description |\n|---|---|---|---|---|"


def _table(model: type[BaseModel], values: BaseModel | None, prefix: str) -> str:
    return "\n".join([_TABLE_HEAD, *_rows(model, values, prefix)])


def _section_dict_text(path: str, field: FieldInfo, entries: dict[str, BaseModel]) -> str:
    item_model = unwrap(get_args(unwrap(field.annotation)[0])[1])[0]
    lines = [
        f"### `{path}.<name>`",
        "",
        f"{field.description or ''}. Each entry is a section with the keys below.",
        "A scenario that sets this mapping changes the default entries it names (keys it leaves out keep the default",
        "entry's values), adds entries with new names (keys left out take this table's defaults), and removes an entry set to `null`.",
        "",
        _table(item_model, None, f"{path}.<name>."),
        "",
        "Default entries:",
        "",
        "| name | " + " | ".join(item_model.model_fields) + " |",
        "|---|" + "---|" * len(item_model.model_fields),
    ]
    for name, entry in entries.items():
        cells = [_code(format_value(getattr(entry, key))) for key in item_model.model_fields]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _section_text(name: str, field: FieldInfo, values: BaseModel) -> str:
    model = unwrap(field.annotation)[0]
    intro = model.__dict__.get("__doc__") or field.description or ""
    parts = [f"## `{name}`", "", *([intro, ""] if intro else []), _table(model, values, f"{name}.")]
    for sub_name, sub_field in model.model_fields.items():
        if _is_section_dict(sub_field.annotation):
            parts += ["", _section_dict_text(f"{name}.{sub_name}", sub_field, getattr(values, sub_name))]
    return "\n".join(parts)


# Defaults the loader supplies, which the schema's own default would misstate.
_LOADER_DEFAULTS = {"name": "(the file name without .yaml)"}


def render_markdown() -> str:
    """The reference of every scenario key: docs/scenarios.md."""
    defaults = Scenario()
    top_level = {name: field for name, field in Scenario.model_fields.items() if not is_section(field.annotation)}
    sections = {name: field for name, field in Scenario.model_fields.items() if is_section(field.annotation)}
    top_rows = [
        f"| `{name}` | {type_name(field.annotation)} | {_LOADER_DEFAULTS.get(name) or _code(format_value(getattr(defaults, name)))} | {_cell(allowed_text(field.annotation, field.metadata))} | {_cell(field.description or '')} |"
        for name, field in top_level.items()
    ]
    parts = [_HEADER, "## Top level", "", _TABLE_HEAD, *top_rows]
    for name, field in sections.items():
        parts += ["", _section_text(name, field, getattr(defaults, name))]
    parts += ["", _interventions_text()]
    return "\n".join(parts) + "\n"


def _interventions_text() -> str:
    """`interventions:` is a list of entries, each of one registered type with keys of its own."""
    import sys

    from sim.interventions import INTERVENTIONS
    from sim.interventions.base import InterventionParams

    common = set(InterventionParams.model_fields)
    parts = [
        "## `interventions`",
        "",
        " ".join((sys.modules[InterventionParams.__module__].__doc__ or "").split("\n\n")[0].split()),
        "",
        "Keys every intervention has:",
        "",
        _TABLE_HEAD,
        *(_alias_rows(InterventionParams, common, "interventions[].")),
    ]
    for name, cls in INTERVENTIONS.items():
        doc = " ".join((sys.modules[cls.__module__].__doc__ or "").split())
        parts += ["", f"### `type: {name}`", "", doc, "", _TABLE_HEAD,
                  *_alias_rows(cls.Params, set(cls.Params.model_fields) - common - {"type"}, "interventions[].")]
    return "\n".join(parts)


def _alias_rows(model: type[BaseModel], keys: set[str], prefix: str) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        if name not in keys:
            continue
        shown = field.alias or name
        default = "(required)" if field.is_required() else _code(format_value(_field_default(field)))
        rows.append(f"| `{prefix}{shown}` | {type_name(field.annotation)} | {default} | "
                    f"{_cell(allowed_text(field.annotation, field.metadata))} | {_cell(field.description or '')} |")
    return rows
