"""Converting the scenario's per-year quantities to per-step ones.

Rates in scenarios are hazards per year. A step of length dt (in years) turns a hazard r into
the probability 1 - exp(-r * dt) that the event happens at least once in the step, so the same
scenario means the same at any step length.
"""

from __future__ import annotations

import numpy as np

from sim import compiled
from sim.vocabulary import STEPS_PER_YEAR


@compiled.kernel
def _visits_given_any_kernel(rate, chance, dt):
    # `Clock.visits_given_any` with the chances given, value by value (its numpy twin's arithmetic)
    out = np.empty(len(rate))
    for i in range(len(rate)):
        lam = rate[i] * dt
        out[i] = lam / max(chance[i], 1e-300) if lam > 1e-9 else 1.0
    return out


class Clock:
    """Step length arithmetic for one scenario.

    `burn_in_steps` is the number of model steps run before the outputs start: the model's
    steps keep counting from 1 (keyed random numbers are keyed by them), while the scenario's
    times (`step_at`: intervention moments) and the outputs count from the end of the burn-in.
    """

    def __init__(self, step: str, burn_in_steps: int = 0):
        self.step_name = step
        self.steps_per_year = STEPS_PER_YEAR[step]
        self.dt = 1.0 / self.steps_per_year  # years per step
        self.burn_in_steps = int(burn_in_steps)
        self._probs: dict[float, np.float64] = {}  # `prob` of the scalar rates asked for so far

    def output_step(self, model_step: int) -> int:
        """The step of the outputs (1 = the first after the burn-in) of a model step."""
        return int(model_step) - self.burn_in_steps

    def prob(self, rate_per_year):
        """Per-step probability of an event with the given yearly hazard (scalar or array)."""
        if isinstance(rate_per_year, float | int):  # a scenario's rate: asked for every step, worked out once
            known = self._probs.get(rate_per_year)
            if known is None:
                known = self._probs[rate_per_year] = -np.expm1(-np.asarray(rate_per_year, dtype=float) * self.dt)
            return known
        return -np.expm1(-np.asarray(rate_per_year, dtype=float) * self.dt)

    def expected(self, rate_per_year):
        """Expected number of events per step (for Poisson counts)."""
        return np.asarray(rate_per_year, dtype=float) * self.dt

    def visits_given_any(self, rate_per_year, chance=None) -> np.ndarray:
        """Expected number of events in a step in which at least one happens: lambda / (1 - e^-lambda).

        Visits are drawn as "at least one this step"; scaling what a visit does (contacts made)
        by this keeps yearly totals independent of the step length. `chance`: `prob(rate_per_year)`
        if the caller has it (the same numbers: not worked out again).
        """
        rate = np.asarray(rate_per_year, dtype=float)
        if chance is not None and compiled.enabled() and rate.ndim == 1:  # one pass (a million persons' visitors: ~5 as numpy)
            return _visits_given_any_kernel(np.ascontiguousarray(rate), np.ascontiguousarray(chance, dtype=float), self.dt)
        lam = rate * self.dt
        chance = -np.expm1(-lam) if chance is None else chance
        return np.where(lam > 1e-9, lam / np.maximum(chance, 1e-300), 1.0)

    def whole_steps(self, years: float) -> int:
        """Years as a whole number of steps, rounded to the nearest (halves to even, Python's
        `round`). The one place where years become steps: schedules, durations and checks of
        the run length all round here, so they agree."""
        return int(round(years * self.steps_per_year))

    def step_at(self, years: float) -> int:
        """The model step in which the moment `years` after the start (the end of the burn-in)
        falls: year 0 is the first step after the burn-in (steps are counted from 1, and what
        happens at a moment happens at the start of its step)."""
        return self.burn_in_steps + 1 + self.whole_steps(years)

    def steps(self, years: float) -> int:
        """A duration in years as a whole number of steps (at least 1 for positive durations)."""
        n = self.whole_steps(years)
        return max(n, 1) if years > 0 else 0

    def decay(self, half_life_years: float) -> float:
        """Per-step multiplier of a quantity with the given half-life (1.0 = no decay)."""
        if half_life_years <= 0:
            return 1.0
        return 0.5 ** (self.dt / half_life_years)
