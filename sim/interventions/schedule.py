"""When each intervention of a scenario begins, acts, and ends, in steps."""

from __future__ import annotations

from dataclasses import dataclass

from sim.interventions.base import Intervention
from sim.timing import Clock


@dataclass
class Timing:
    start: int  # first step in force
    stop: int | None  # first step no longer in force
    interval: int | None  # steps between actions

    @classmethod
    def of(cls, intervention: Intervention, clock: Clock) -> Timing:
        p = intervention.params
        to_step = lambda years: 1 + int(round(years * clock.steps_per_year))  # noqa: E731 - year 0 acts in step 1
        return cls(to_step(p.start_year), None if p.until is None else to_step(p.until),
                   None if p.every is None else max(1, int(round(p.every * clock.steps_per_year))))

    def in_force(self, step: int) -> bool:
        return step >= self.start and (self.stop is None or step < self.stop)

    def acts(self, step: int) -> bool:
        if not self.in_force(step):
            return False
        return step == self.start or (self.interval is not None and (step - self.start) % self.interval == 0)


class InterventionSchedule:
    """Calls each intervention's hooks at the start of every step, in the scenario's order."""

    def __init__(self, interventions: list[Intervention], clock: Clock):
        self.entries = [(i, Timing.of(i, clock)) for i in interventions]

    def add(self, intervention: Intervention, clock: Clock) -> None:
        """Add an intervention while the model runs (it acts from its start step on)."""
        self.entries.append((intervention, Timing.of(intervention, clock)))

    def step(self, step: int) -> None:
        for intervention, timing in self.entries:
            if timing.stop == step:
                intervention.end()
            if step == timing.start:
                intervention.begin()
            if timing.acts(step):
                intervention.act()
            if timing.in_force(step):
                intervention.each_step()

    def marks(self) -> list[dict]:
        """One entry per intervention: its label, type, start, end (or None) and repeat interval
        (or None), in years; plots expand repeats themselves."""
        out = []
        for intervention, _ in self.entries:
            p = intervention.params
            out.append({"label": intervention.label, "type": intervention.name, "start_year": p.start_year,
                        "until_year": p.until, "every_years": p.every})
        return out
