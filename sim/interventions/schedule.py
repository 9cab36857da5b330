"""When each intervention begins, acts and ends, resolved to steps once, and the follow-up
events interventions schedule (a takedown's movers arriving, its successor opening).

At the start of step s, before turnover, in this order:
 1. interventions whose period ends at s lapse (`end`), in the scenario's order;
 2. each intervention in the scenario's order: `begin` if s is its first step, `act` if s is one
    of its moments, `each_step` if it is in force;
 3. follow-up events due at s, in the order they were scheduled (one scheduled for a step
    already past runs at the next step).
A period lasts at least one step after rounding, so `end` always comes after `begin`; a follow-up
happens whatever the window of the intervention that scheduled it.

Why not Mesa's `schedule_event`: Mesa orders events of one time by priority and then by the
order they were created, and the model's own step is such an event, so the order within a step
would depend on when each event happened to be scheduled. Here it is the list above.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

from sim.errors import ScenarioError
from sim.interventions.base import Intervention, InterventionParams
from sim.timing import Clock


@dataclass(frozen=True)
class Timing:
    start: int  # first step in force
    stop: int | None  # first step no longer in force
    interval: int | None  # steps between actions

    @classmethod
    def of(cls, params: InterventionParams, clock: Clock, where: str = "intervention") -> Timing:
        """The steps of an intervention's timing; ScenarioError (one line, starting with `where`)
        if its period or repeat interval rounds to no whole step."""
        start = clock.step_at(params.start_year)
        stop = None if params.until is None else clock.step_at(params.until)
        if stop is not None and stop <= start:
            raise ScenarioError(
                f"{where}: from year {params.start_year:g} until year {params.until:g} rounds to no whole step with steps of "
                f"one {clock.step_name} (both fall in step {start}); make the period at least one step ({clock.dt:.4g} years) long")
        interval = None if params.every is None else clock.whole_steps(params.every)
        if interval == 0:
            raise ScenarioError(f"{where}: every {params.every:g} years rounds to no whole step with steps of one {clock.step_name}; "
                                f"repeat at most once a step ({clock.dt:.4g} years)")
        return cls(start, stop, interval)

    def in_force(self, step: int) -> bool:
        return step >= self.start and (self.stop is None or step < self.stop)

    def acts(self, step: int) -> bool:
        if not self.in_force(step):
            return False
        return step == self.start or (self.interval is not None and (step - self.start) % self.interval == 0)


def _check_label_free(label: str, taken: list[str], where: str) -> None:
    if label in taken:
        raise ScenarioError(f"{where}: another intervention is labelled {label!r}; give each a distinct 'label' "
                            "(the label keys the intervention's random numbers)")


def check_interventions(entries: list[InterventionParams], clock: Clock) -> None:
    """The checks the model makes when it is built, without building it (for loaders that know
    the step length): distinct labels, and timing that rounds to whole steps. ScenarioError."""
    taken: list[str] = []
    for i, params in enumerate(entries):
        label = params.label or params.default_label()
        _check_label_free(label, taken, f"interventions[{i}]")
        Timing.of(params, clock, f"interventions[{i}]")  # the loader names the file; the index is enough
        taken.append(label)


class InterventionSchedule:
    """Calls each intervention's hooks at the start of every step, and the follow-ups due."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self.entries: list[tuple[Intervention, Timing]] = []
        self._follow_ups: dict[int, list[Callable[[], None]]] = defaultdict(list)
        self._last_step = 0  # the last step run (0 before the first)
        self._running: int | None = None  # the step being run, None between steps

    def add(self, intervention: Intervention, where: str) -> Intervention:
        """Schedule an intervention (at set-up, or while the model runs); ScenarioError (one line,
        starting with `where`) if its label is taken, its timing rounds to nothing, or it would
        begin in a step already run."""
        label = intervention.label
        _check_label_free(label, [other.label for other, _ in self.entries], where)
        timing = Timing.of(intervention.params, self.clock, f"{where} ({label})")
        if timing.start <= self._last_step:
            raise ScenarioError(f"{where} ({label}): starts at year {intervention.params.start_year:g}, which has passed "
                                f"(the model has run {self._last_step} steps, {self._last_step * self.clock.dt:.4g} years)")
        self.entries.append((intervention, timing))
        return intervention

    def call_at(self, step: int, follow_up: Callable[[], None]) -> None:
        """Run `follow_up` at the start of `step` (after the interventions' own hooks)."""
        earliest = self._running if self._running is not None else self._last_step + 1
        self._follow_ups[max(int(step), earliest)].append(follow_up)

    def step(self, step: int) -> None:
        self._running = step
        self._run_hooks(step)
        while self._follow_ups.get(step):  # a follow-up may schedule another for this step
            for follow_up in self._follow_ups.pop(step):
                follow_up()
        self._running, self._last_step = None, step

    def _run_hooks(self, step: int) -> None:
        for intervention, timing in self.entries:
            if timing.stop == step:
                intervention.end()
        for intervention, timing in self.entries:
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
