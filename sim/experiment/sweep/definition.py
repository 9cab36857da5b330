"""The experiment file of `recruitsim sweep`: what varies, how it is sampled, what is measured.

    name: intervention_effect_sizes
    scenarios: [baseline, combined_package]      # files (relative to this file) or bundled names; FILE:KEY=VALUE too
    overrides: {population.size: 10000}          # --set for every scenario (optional)
    parameters:
      - path: interventions[money-mule awareness campaign].effect
        range: [0.1, 0.9]                        # uniform; or distribution: {type: normal, mean: .., sd: ..}; or values: [..]
    design: sobol                                # grid | lhs | sobol | morris
    samples: 64                                  # grid: levels per parameter; lhs: points; sobol: N (a power of 2); morris: trajectories
    replications: 2
    outcomes: [involved.last_year_mean, recruits_all.since_start]
    seed: 7

Validated with pydantic as scenarios are (strict, unknown keys refused), one `error:` line naming
the file and the key. Each parameter's distribution maps a point of the unit interval to a value
(its quantile function), so every design samples the unit hypercube and one transform gives the
values.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from sim.experiment.endpoints import DEFAULT_PRIMARY, unknown_endpoints
from sim.experiment.errors import ExperimentError

DESIGNS = ("grid", "lhs", "sobol", "morris")
STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class Uniform(BaseModel):
    model_config = STRICT
    type: Literal["uniform"]
    low: float
    high: float

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.low + u * (self.high - self.low)

    @model_validator(mode="after")
    def _ordered(self):
        if not self.high > self.low:
            raise ValueError(f"high must be above low, got low {self.low:g} and high {self.high:g}")
        return self


class LogUniform(Uniform):
    """Uniform on the log scale: as likely between 0.01 and 0.1 as between 0.1 and 1."""

    type: Literal["loguniform"]  # type: ignore[assignment]

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))

    @model_validator(mode="after")
    def _positive(self):
        if self.low <= 0:
            raise ValueError(f"low must be above 0 on a log scale, got {self.low:g}")
        return self


class Triangular(BaseModel):
    model_config = STRICT
    type: Literal["triangular"]
    low: float
    mode: float
    high: float

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy import stats

        width = self.high - self.low
        return stats.triang.ppf(u, (self.mode - self.low) / width, loc=self.low, scale=width)

    @model_validator(mode="after")
    def _ordered(self):
        if not (self.low <= self.mode <= self.high and self.high > self.low):
            raise ValueError("needs low <= mode <= high and high above low")
        return self


class Normal(BaseModel):
    """Normal, cut to [low, high] where given (a share must stay within 0 and 1)."""

    model_config = STRICT
    type: Literal["normal"]
    mean: float
    sd: float = Field(gt=0)
    low: float | None = None
    high: float | None = None

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy import stats

        a = -np.inf if self.low is None else (self.low - self.mean) / self.sd
        b = np.inf if self.high is None else (self.high - self.mean) / self.sd
        return stats.truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd)

    @property
    def bounded(self) -> bool:
        return self.low is not None and self.high is not None

    @model_validator(mode="after")
    def _ordered(self):
        if self.low is not None and self.high is not None and not self.high > self.low:
            raise ValueError("high must be above low")
        return self


Distribution = Annotated[Uniform | LogUniform | Triangular | Normal, Field(discriminator="type")]


class Parameter(BaseModel):
    """One uncertain input: a key path of the scenarios and its range, distribution or values."""

    model_config = STRICT
    path: str = Field(min_length=1, description="a scenario key path: recruitment.rules.forums.accept_base, "
                                                "interventions[0].effect or interventions[LABEL].effect")
    name: str | None = Field(None, description="its column in samples.parquet and its label in figures (default: the path)")
    range: list[float] | None = Field(None, min_length=2, max_length=2, description="[low, high]: uniform between them")
    distribution: Distribution | None = None
    values: list[Any] | None = Field(None, min_length=1, description="equally likely values (numbers, or words such as core)")

    @model_validator(mode="after")
    def _one_source(self):
        given = [key for key in ("range", "distribution", "values") if getattr(self, key) is not None]
        if len(given) != 1:
            raise ValueError(f"parameter {self.path!r}: give exactly one of range, distribution or values"
                             + (f" (got {' and '.join(given)})" if given else ""))
        if self.range is not None and not self.range[1] > self.range[0]:
            raise ValueError(f"parameter {self.path!r}: range [low, high] needs high above low, got {self.range}")
        return self

    @property
    def label(self) -> str:
        return self.name or self.path

    @property
    def bounded(self) -> bool:
        """Whether the quantile function is finite at 0 and 1 (a grid then includes both ends)."""
        return not isinstance(self.distribution, Normal) or self.distribution.bounded

    def values_at(self, u: np.ndarray) -> list:
        """This parameter's values at points `u` of the unit interval (its quantile function)."""
        u = np.asarray(u, dtype=float)
        if self.values is not None:
            index = np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)
            return [self.values[i] for i in index]
        if self.range is not None:
            numbers = self.range[0] + u * (self.range[1] - self.range[0])
        else:
            numbers = self.distribution.ppf(u)
        return [float(x) for x in numbers]


class ExperimentFile(BaseModel):
    model_config = STRICT
    name: str | None = Field(None, description="the experiment's name (default: the file's stem)")
    description: str = ""
    scenarios: list[str] = Field(min_length=1, description="base scenarios: files relative to this file, bundled names, "
                                                            "or FILE:KEY=VALUE with overrides of that scenario alone")
    overrides: dict[str, Any] = Field(default_factory=dict, description="KEY.PATH: VALUE set in every scenario, as --set")
    parameters: list[Parameter] = Field(min_length=1)
    design: Literal["grid", "lhs", "sobol", "morris"]
    samples: int = Field(ge=1, description="grid: levels per parameter; lhs: points; sobol: N, a power of 2 "
                                           "(N x (parameters + 2) points); morris: trajectories (x (parameters + 1) points)")
    replications: int = Field(1, ge=1, description="runs of every point, replication i with the same random numbers everywhere")
    outcomes: list[str] = Field(default_factory=lambda: list(DEFAULT_PRIMARY), min_length=1,
                                description="end points as in compare's summary.csv")
    seed: int | None = Field(None, ge=0, description="seed of every run (default: the first scenario's)")
    morris_levels: int = Field(4, ge=2, description="grid levels of the Morris design")

    @field_validator("outcomes")
    @classmethod
    def _known_outcomes(cls, outcomes: list[str]) -> list[str]:
        unknown = unknown_endpoints(outcomes)
        if unknown:
            raise ValueError(f"unknown end point {', '.join(map(repr, unknown))} (ids as in compare's summary.csv, "
                             "e.g. recruits_all.since_start; docs/experiments.md lists them)")
        return list(dict.fromkeys(outcomes))

    @model_validator(mode="after")
    def _consistent(self):
        labels = [p.label for p in self.parameters]
        twice = sorted({label for label in labels if labels.count(label) > 1})
        if twice:
            raise ValueError(f"parameters: {', '.join(map(repr, twice))} given twice (paths and names must be unique)")
        if self.design == "sobol" and self.samples & (self.samples - 1):
            lower = 2 ** int(math.log2(self.samples))
            raise ValueError(f"samples: a Sobol design needs a power of 2 (its balance properties), got {self.samples}; "
                             f"use {lower} or {2 * lower}")
        if self.design in ("sobol", "morris") and len(self.parameters) < 2:
            raise ValueError(f"design: {self.design} ranks parameters against each other and needs at least 2; use grid or lhs for one")
        if self.design == "morris" and self.samples < 2:
            raise ValueError("samples: a Morris design needs at least 2 trajectories (sigma is their spread)")
        return self


def read_experiment_file(path: str | Path) -> ExperimentFile:
    """The validated experiment file; ExperimentError (one line naming file and key) on any problem."""
    from sim.errors import ScenarioError
    from sim.scenario.loader import read_mapping

    path = Path(path)
    try:
        data = read_mapping(path)
    except ScenarioError as exc:
        raise ExperimentError(str(exc)) from None
    try:
        return ExperimentFile.model_validate(data)
    except ValidationError as exc:
        raise ExperimentError(f"{path}: {describe_problem(exc.errors(include_url=False)[0])}") from None


def describe_problem(error: dict) -> str:
    """One pydantic error of an experiment file in words: `key.path: what is wrong`."""
    loc = _dotted([part for part in error["loc"] if not _is_tag(part)])
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        message = f"unknown key {error['loc'][-1]!r}"
        loc = _dotted(list(error["loc"][:-1])) or "(top level)"
        allowed = _allowed_keys(error["loc"][:-1])
        message += f" (allowed: {', '.join(allowed)})" if allowed else ""
    elif kind in ("value_error", "assertion_error"):
        message = str((error.get("ctx") or {}).get("error", error["msg"]))
    elif kind == "missing":
        message = "is required"
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        message = f"unknown or missing type (allowed: uniform, loguniform, triangular, normal), got {value!r}"
    else:
        message = f"{error['msg'][0].lower()}{error['msg'][1:]}, got {value!r}"
    return f"{loc}: {message}" if loc else message


def _is_tag(part: Any) -> bool:
    return isinstance(part, str) and part in ("uniform", "loguniform", "triangular", "normal")


def _dotted(loc: list) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _allowed_keys(loc) -> list[str]:
    model: Any = ExperimentFile
    for part in loc:
        if isinstance(part, int):
            continue
        if part == "parameters":
            model = Parameter
        elif part == "distribution":
            return ["type", "low", "high", "mode", "mean", "sd"]
        elif part in ("uniform", "loguniform", "triangular", "normal"):
            continue
        else:
            return []
    return list(model.model_fields)


def default_name(path: Path) -> str:
    return re.sub(r"\s+", "_", Path(path).stem)
