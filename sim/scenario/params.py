"""Building blocks shared by every section of the scenario schema.

Every section is a strict pydantic model: unknown keys are errors (so a typo never silently
falls back to a default), values are type-checked, and every field carries a description with
its unit and, where the literature gives one, the source of its default.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

# Validation context of a resolved scenario (a `model_dump()`), as opposed to one a user wrote.
# A user's mapping of named entries is merged into the default entries; a resolved one already
# holds every entry that is left, so merging it again would bring back the entries the user
# removed with `name: null`. See `Scenario.from_resolved`.
RESOLVED = {"resolved": True}


def is_resolved(info: ValidationInfo) -> bool:
    """Whether the data being validated is a resolved scenario (see RESOLVED)."""
    return bool(info.context and info.context.get("resolved"))


class Section(BaseModel):
    """A strict, documented group of scenario keys."""

    # strict: YAML `true` is not a seed and "10" is not a number; no infinities or NaNs
    model_config = ConfigDict(extra="forbid", validate_default=True, strict=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _complete_when_resolved(cls, data: Any, info: ValidationInfo) -> Any:
        # A resolved scenario states every key: a partial mapping is a user's scenario, which
        # must go through the merging path (Scenario.model_validate), not be taken as exact.
        if is_resolved(info) and isinstance(data, dict):
            missing = [name for name, field in cls.model_fields.items() if name not in data and (field.alias or name) not in data]
            if missing:
                raise ValueError(f"a resolved scenario states every key; missing: {', '.join(missing)}")
        return data


def deep_merge(base: Any, update: Any) -> Any:
    """`update` laid over `base`: mappings merge key by key, recursively; lists and single values
    replace. The one merge of scenario data (files of an `extends` chain, named entries over their
    defaults). Neither input is changed, but the result shares their nested values."""
    if isinstance(base, dict) and isinstance(update, dict):
        return {**base, **{key: deep_merge(base.get(key), value) for key, value in update.items()}}
    return update


def merge_named_entries(defaults: dict[str, Any], given: Any) -> Any:
    """A mapping of named entries (venues, online spaces, business models, ...) given in a
    scenario changes the default entries instead of replacing them all: an entry with a default
    name merges into that default, a new name adds an entry, and `name: null` removes one."""
    if not isinstance(given, dict):
        return given  # let validation report the wrong type
    merged = dict(defaults)
    for name, value in given.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = deep_merge(defaults.get(name), value)
    return merged


def rate(default: float, description: str, **kw) -> float:
    """A hazard rate per year (converted to a per-step probability by the step length)."""
    return Field(default, ge=0.0, description=f"{description} [per year]", **kw)


def prob(default: float, description: str, **kw) -> float:
    """A probability or share in [0, 1]."""
    return Field(default, ge=0.0, le=1.0, description=f"{description} [0-1]", **kw)


Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]


class Beta(Section):
    """A Beta(a, b) distribution for an attribute scaled to [0, 1]; mean = a / (a + b)."""

    # At least 0.1: smaller shapes put whole populations at exactly 0 or 1 (the draws underflow),
    # and weights drawn from them no longer form a distribution.
    a: float = Field(2.0, ge=0.1, description="first shape parameter")
    b: float = Field(5.0, ge=0.1, description="second shape parameter")


class AgeBand(Section):
    """An age interval [min, max) in years."""

    min: float = Field(16.0, ge=0, le=120, description="lowest age included [years]")
    max: float = Field(30.0, ge=0, le=120, description="first age excluded [years]")

    @model_validator(mode="after")
    def _ordered(self) -> AgeBand:
        if self.max <= self.min:
            raise ValueError(f"max ({self.max}) must be larger than min ({self.min})")
        return self
