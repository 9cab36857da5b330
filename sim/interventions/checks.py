"""Interventions that validate but cannot do what they say: one warning line each.

`check_interventions` (schedule.py) refuses what the model cannot run; this finds what it would
run to no effect: an intervention that starts after the last step, a second takedown of a space
already down, an infiltration of a space that is down. (An arrest wave of a network id that does
not exist when it comes is only known while running: `Arrests` warns then.)
"""

from __future__ import annotations

from sim.interventions.base import InterventionParams
from sim.interventions.schedule import Timing
from sim.timing import Clock


def intervention_warnings(scenario) -> list[str]:
    """One line per void or conflicting intervention of a validated `scenario`."""
    return idle_interventions(scenario) + conflicting_interventions(scenario)


def idle_interventions(scenario) -> list[str]:
    """Interventions that start after the last step (typically after a shortened `--set steps=...`)."""
    clock = Clock(scenario.step)
    notes = [_after_the_end(i, params, timing, scenario.steps, clock) for i, params, timing in _timed(scenario)]
    return [note for note in notes if note]


def conflicting_interventions(scenario) -> list[str]:
    """Takedowns and infiltrations of a space that another takedown has already taken down."""
    timed = _timed(scenario)
    notes = [_while_taken_down(i, params, timing, timed) for i, params, timing in timed]
    return [note for note in notes if note]


def _timed(scenario) -> list[tuple[int, InterventionParams, Timing]]:
    clock = Clock(scenario.step)
    return [(i, params, Timing.of(params, clock)) for i, params in enumerate(scenario.interventions)]


def _name(i: int, params: InterventionParams) -> str:
    return f"interventions[{i}] ({params.label or params.default_label()})"


def _after_the_end(i: int, params: InterventionParams, timing: Timing, steps: int, clock: Clock) -> str | None:
    if timing.start <= steps:
        return None
    years = steps * clock.dt
    return (f"{_name(i, params)}: starts at year {params.start_year:g}, after the last step (the run lasts {years:.4g} "
            f"year{'' if years == 1 else 's'}), so it has no effect")


def _while_taken_down(i: int, params: InterventionParams, timing: Timing, timed: list) -> str | None:
    """A takedown or infiltration of a space that an earlier-starting (or, at the same step,
    earlier-listed) takedown has taken down: a takedown closes a space for good, whatever its
    `until` (a successor, if any, is another space)."""
    if params.type not in ("forum_takedown", "forum_infiltration"):
        return None
    for j, other, other_timing in timed:
        if j == i or other.type != "forum_takedown" or other.target != params.target:
            continue
        earlier = other_timing.start < timing.start or (other_timing.start == timing.start and j < i)
        if earlier:
            what = "takes it down again" if params.type == "forum_takedown" else "infiltrates it"
            return (f"{_name(i, params)}: {params.target!r} is already taken down from year {other.start_year:g} by "
                    f"{_name(j, other)}, so this {what} to no effect")
    return None
