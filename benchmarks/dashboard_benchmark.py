"""How fast the dashboard plays: steps per second with every figure drawn, on the server side.

    python benchmarks/dashboard_benchmark.py [--population 3000 10000] [--seconds 20] [--pace "normal: 1 year in 8 s"]

For each population: the burn-in (first opening, once per server) and a copy of the burned-in
town (every later tab, Reset, story); a step of both twins; drawing one frame (every figure on
the page); then the page's own play loop (sim/dashboard/app.py, `play_loop`) for --seconds at
the pace, each frame drawing every figure as the page does, and the steps per second it kept.
The browser adds sending and showing the PNGs: tests/test_dashboard_browser.py prints the
steps it saw in 10 s of play.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import solara

from sim.dashboard.app import play_loop
from sim.dashboard.figures import NETWORK_VIEWS, PLOTS, figure_png
from sim.dashboard.player import DEFAULT_PACE, PACES, steps_per_second
from sim.dashboard.side_by_side import DEFAULT_SCENARIO, Settings, TwinRun

FIGURES = (*PLOTS, *NETWORK_VIEWS)


class DrawingFrame:
    """Stands in for the page's frame counter: each `set` draws every figure, as a re-render does."""

    def __init__(self, twin: TwinRun):
        self.twin, self.value, self.draw_s = twin, 0, []

    def set(self, value: int) -> None:
        started = time.perf_counter()
        for name in FIGURES:
            figure_png(self.twin, name)
        self.draw_s.append(time.perf_counter() - started)
        self.value = value


def measure(population: int, seconds: float, pace: str) -> None:
    settings = Settings(scenario=DEFAULT_SCENARIO, population=population)
    started = time.perf_counter()
    twin = TwinRun(settings)
    first = time.perf_counter() - started
    started = time.perf_counter()
    TwinRun(settings)
    again = time.perf_counter() - started
    step_s = []
    for _ in range(20):
        started = time.perf_counter()
        twin.advance(1)
        step_s.append(time.perf_counter() - started)
    frame = DrawingFrame(twin)
    frame.set(1)
    twin.advance(1)
    frame.set(2)  # a second frame: the plots kept on the twin are updated in place from now on
    frame.draw_s.clear()
    playing, pace_value, jump_to = solara.reactive(True), solara.reactive(pace), solara.reactive(None)
    before = twin.step_now
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    play_loop(twin, playing, pace_value, jump_to, frame, lambda: time.monotonic() < deadline)
    elapsed = time.monotonic() - started
    steps = twin.step_now - before
    target = steps_per_second(pace, twin.treated.clock.steps_per_year)
    print(f"{population:>7,} persons | burn-in (first tab) {first:5.1f} s | later tabs (a copy: side_by_side.burned_in) {again:5.2f} s | "
          f"step of both twins {1000 * statistics.median(step_s):5.1f} ms | frame (all {len(FIGURES)} figures) "
          f"{1000 * statistics.median(frame.draw_s):5.0f} ms | played {steps / elapsed:5.1f} steps/s "
          f"({target:.1f} asked, {steps / max(len(frame.draw_s), 1):.1f} steps per frame, {len(frame.draw_s) / elapsed:.1f} frames/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, nargs="+", default=[3_000, 10_000])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--pace", choices=list(PACES), default=DEFAULT_PACE)
    args = parser.parse_args()
    print(f"dashboard benchmark: pace {args.pace!r}, {args.seconds:g} s of play; load {os.getloadavg()[0]:.2f}")
    for population in args.population:
        measure(population, args.seconds, args.pace)


if __name__ == "__main__":
    main()
