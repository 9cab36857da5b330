"""Playing a run at a steady pace, drawing as often as drawing allows.

Drawing the page costs more than a step (a few hundred milliseconds against tens), so a player
that drew after every step would crawl. Instead the run keeps to a pace in steps per second of
wall time, and each frame makes the steps that fell due while the previous frame was drawn:
with a 0.4 s frame at 8 steps per second, every frame shows 3-4 new steps. The picture is never
more than one frame behind the model, and a slow screen slows the frames, not the run.

If the machine cannot keep the pace (steps cost more than the pace allows), the player does not
run up a debt to catch up on later: at most `MAX_STEPS_PER_FRAME_S` seconds of steps are made in
one frame, then the clock restarts from now.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# Label -> years of model time per second of wall time. "normal" plays a ten-year run in a minute
# and a half; the browser test requires at least 3 steps a second on the CI machine.
PACES = {
    "slow: 1 year in 20 s": 1 / 20,
    "normal: 1 year in 8 s": 1 / 8,
    "fast: 1 year in 4 s": 1 / 4,
    "fastest": math.inf,
}
DEFAULT_PACE = "normal: 1 year in 8 s"
MAX_STEPS_PER_FRAME_S = 1.0  # at most this much wall time of steps per frame (and for "fastest")


@dataclass
class PlayClock:
    """How many steps are due at each frame, for a pace in steps per second of wall time."""

    steps_per_s: float
    started: float  # wall time the clock (re)started [s]
    made: int = 0  # steps made since then
    last_frame_s: float = field(default=0.0)  # wall time of the last frame: drawing and steps [s]

    def due(self, now: float, step_cost_s: float) -> int:
        """Steps to make in the frame starting at `now`, at least one; `step_cost_s` is what a
        step costs here (to bound a frame when the pace cannot be kept)."""
        cap = max(1, int(MAX_STEPS_PER_FRAME_S / max(step_cost_s, 1e-6)))
        if math.isinf(self.steps_per_s):
            return cap
        owed = math.floor((now - self.started) * self.steps_per_s) - self.made
        if owed > cap:  # behind the pace: do what a frame allows and forget the rest
            self.started, self.made = now, 0
            return min(cap, max(1, math.ceil(self.steps_per_s * MAX_STEPS_PER_FRAME_S)))
        return max(1, owed)

    def made_steps(self, steps: int) -> None:
        self.made += steps

    def wait_s(self, now: float) -> float:
        """How long to wait before the next step falls due (0 if it is due)."""
        if math.isinf(self.steps_per_s):
            return 0.0
        next_due = self.started + (self.made + 1) / self.steps_per_s
        return max(0.0, next_due - now)


def steps_per_second(pace_label: str, steps_per_year: float) -> float:
    """The pace in steps per second of wall time, for the scenario's step length."""
    return PACES[pace_label] * steps_per_year
