"""What every intervention shares: its timing keys, its label and the interface the schedule calls.

Timing, in years since the start (so a scenario means the same at any step length):
- `at: 3` acts once, at year 3, and stays in force from then on;
- `from: 3, until: 5` is in force from year 3 to year 5 (and acts once at year 3);
- `every: 0.5` repeats the action every half year while in force (an arrest wave, a campaign).
Years become steps once, when the model is built (sim/interventions/schedule.py).

The schedule calls, at the start of a step: `begin()` when the intervention comes into force,
`act()` at each of its moments, `each_step()` every step while in force, `end()` when it lapses.
Everything an intervention changes in the model goes through the effects registry
(sim/interventions/effects.py), under its label; its random numbers are keyed by its type and
label (never by its place in the list), so the same intervention draws the same numbers in any
scenario. Effect sizes without evidence are parameters with stated defaults ([evidence §4](evidence.md#4-interventions-and-what-is-known-of-their-effects)).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import ConfigDict, Field, model_validator

from sim.scenario.params import Section

if TYPE_CHECKING:
    from sim.model import RecruitModel


# Far beyond any run (a million monthly steps is 83,334 years) and far below where years times
# steps per year overflows a float on its way to a step number.
MAX_YEARS = 100_000


class InterventionParams(Section):
    """Keys every intervention has."""

    model_config = ConfigDict(populate_by_name=True)

    label: str = Field("", description="a short label for plots and reports, and the key of the intervention's random numbers: the same label draws the same numbers in any scenario, whatever its place in the list. Labels must differ within a scenario (default: the type and its target, e.g. `forum_takedown:gated_forum`; arrests: `arrests:` and the targeting, e.g. `arrests:core`)")
    at: float | None = Field(None, ge=0, le=MAX_YEARS, description="time of a one-off action; in force from then on [years]")
    from_: float | None = Field(None, ge=0, le=MAX_YEARS, alias="from", description="start of the period in force [years]")
    until: float | None = Field(None, ge=0, le=MAX_YEARS, description="end of the period in force (exclusive); none = to the end. Moments become steps as 1 + round(years x steps per year); the period must then last at least one step, or the scenario is rejected [years]")
    every: float | None = Field(None, gt=0, le=MAX_YEARS, description="repeat the action at this interval while in force; at least one step after rounding, or the scenario is rejected [years]")

    @model_validator(mode="after")
    def _timing(self):
        if (self.at is None) == (self.from_ is None):
            raise ValueError("give exactly one of 'at' (a moment) or 'from' (the start of a period)")
        start = self.start_year
        if self.until is not None and self.until <= start:
            raise ValueError(f"'until' ({self.until}) must be later than the start ({start})")
        return self

    @property
    def start_year(self) -> float:
        return self.at if self.at is not None else self.from_

    def default_label(self) -> str:
        """The label when none is given: the type, and the target where there is one."""
        target = getattr(self, "target", None)
        return self.type if target is None else f"{self.type}:{target}"


class Intervention:
    """An intervention acting on a running model. Subclasses set `Params` and override hooks."""

    name: ClassVar[str]
    Params: ClassVar[type[InterventionParams]] = InterventionParams

    def __init__(self, model: RecruitModel, params: InterventionParams):
        self.model = model
        self.params = params
        # keyed by type and label: the same intervention draws the same numbers in any scenario
        self.draws = model.streams.process(f"intervention.{self.name}.{self.label}")

    @property
    def label(self) -> str:
        return self.params.label or self.params.default_label()

    @property
    def now(self) -> int:
        return self.model.step_now

    def begin(self) -> None:
        """Comes into force."""

    def act(self) -> None:
        """One of its moments (the start, then every `every` years)."""

    def each_step(self) -> None:
        """Every step while in force."""

    def end(self) -> None:
        """Lapses (at `until`): everything it holds in force in the effects registry ends."""
        self.model.effects.withdraw(self.label)


class SustainedEffects(Intervention):
    """An intervention that, while in force, multiplies model processes (sim/interventions/effects.py).

    `EFFECTS` maps an effect name to the parameter holding its factor.
    """

    EFFECTS: ClassVar[dict[str, str]] = {}

    def begin(self) -> None:
        for effect, key in self.EFFECTS.items():
            self.model.effects.set(effect, self.label, getattr(self.params, key))
