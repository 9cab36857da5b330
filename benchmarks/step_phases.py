"""Where a step's time goes: milliseconds per step of each phase of the model's step, and the
Python calls a step makes.

At 10,000 persons a step is ~6-7 ms, of which the compiled kernels called from the step's own
thread are about two fifths; the rest is thousands of small numpy calls and the Python around
them (issue 14: 520 steps in 3 s needs ~5.8 ms a step). This prints, for the baseline scenario
after its burn-in:

- each phase of `RecruitModel.step` (and, indented, the parts timed within it), in ms per step,
  timed in place (`time.perf_counter` around each call: a phase's cache misses included, unlike a
  micro-benchmark of the same call repeated);
- the time a step spends in compiled kernels called from its own thread (a wrapper around each
  kernel; with two threads, the other thread's kernels run beside it and are not counted), the
  kernels that take most, and what is left: Python and numpy;
- the Python function calls per step (cProfile, over fewer steps: it slows them), and the
  functions called most often: the per-call overhead a faster step must cut.

    python benchmarks/step_phases.py                    # 10,000 persons, 300 steps, 1 thread
    python benchmarks/step_phases.py --size 100000 --steps 100 --threads 2

The figures are for one process on a machine that may be busy: compare two versions by running
both, one after the other (their ratio), not against figures of another day.
"""

from __future__ import annotations

import argparse
import cProfile
import collections
import functools
import pstats
import time
from pathlib import Path

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"


def timed_phases(model) -> list[tuple[int, str, object, str]]:
    """(depth, label, owner, attribute) of what to time: the step's phases, then parts of them."""
    from sim.crime import desistance, enforcement, founding, lifecycle, offending
    from sim.model import RecruitModel
    from sim.places.online_spaces import OnlineSpaces
    from sim.places.venues import Venues
    from sim.ties import StepMeetings

    phases = [
        (0, "turnover (ageing, exits, newcomers)", RecruitModel, "_turnover"),
        (0, "meetings (visits and the ties they make)", RecruitModel, "_meet"),
        (1, "venue visits, the online visits alongside", Venues, "visit"),
        (2, "online visits (other thread, if any)", OnlineSpaces, "visit"),
        (2, "their ties (other thread, if any)", StepMeetings, "strengthen"),
        (1, "tie store: shared pieces (a large town)", StepMeetings, "help"),
        (1, "tie store: the step's new ties added", StepMeetings, "add"),
        (0, "tie maintenance (every prune_every steps)", RecruitModel, "_maintain_ties"),
        (0, "recruitment market opened", RecruitModel, "_open_market"),
        (0, "recruitment (every rule)", RecruitModel, "_recruit"),
        *[(1, f"rule: {rule.name}", type(rule), "step") for rule in model.rules],
        (0, "founding", founding, "found_new_networks"),
        (0, "offending", offending, "offend"),
        (0, "co-offending (crews, lost contact)", type(model.joint_offending), "step"),
        *[(0, f"enforcement: {name}", enforcement, name) for name in ("release", "take_in_informants", "detect_networks", "detect_mules")],
        (0, "desistance", desistance, "desist"),
        (0, "regrouping", lifecycle, "regroup"),
        (0, "dissolving", lifecycle, "dissolve"),
        (0, "recording (timeseries, snapshots)", RecruitModel, "_record"),
    ]
    return phases


def time_in_place(owner, attribute: str, spent: collections.Counter, label: str) -> None:
    """Replace `owner.attribute` by a wrapper that adds each call's time to `spent[label]`."""
    original = getattr(owner, attribute)  # (raises if the step no longer has it: update the list above)

    @functools.wraps(original)
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - started

    setattr(owner, attribute, timed)


def kernels_timed(spent: collections.Counter, calls: collections.Counter) -> list[tuple[object, str, object]]:
    """Wrap every compiled kernel that a module of the package names (all its names for one kernel
    share one wrapper) to add each call's time in this thread to `spent` and `calls`, by kernel
    name; returns (module, name, kernel) to restore them."""
    import sys
    import threading

    import numba

    wrappers, replaced = {}, []
    for module in [module for name, module in sys.modules.items() if name == "sim" or name.startswith("sim.")]:
        for name, value in list(vars(module).items()):
            if not isinstance(value, numba.core.registry.CPUDispatcher):
                continue
            if id(value) not in wrappers:
                label = f"{value.__module__}.{value.__name__}"

                def timed(*args, _kernel=value, _label=label):
                    if threading.current_thread() is not threading.main_thread():
                        return _kernel(*args)  # (beside this thread: not part of its step time)
                    started = time.perf_counter()
                    try:
                        return _kernel(*args)
                    finally:
                        spent[_label] += time.perf_counter() - started
                        calls[_label] += 1
                wrappers[id(value)] = timed
            replaced.append((module, name, value))
            setattr(module, name, wrappers[id(value)])
    return replaced


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=300, help="steps timed (after the burn-in and 20 steps of warm-up), twice: the phases, then the kernels")
    parser.add_argument("--profiled-steps", type=int, default=50, help="steps whose Python calls are counted")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    from sim import compiled
    from sim.model import RecruitModel
    from sim.scenario import load_scenario

    compiled.set_threads(args.threads)
    scenario = load_scenario(SCENARIO, [f"population.size={args.size}", f"steps={2 * args.steps + args.profiled_steps + 20}", "seed=7"])
    model = RecruitModel(scenario)  # (its burn-in runs here)
    for _ in range(20):
        model.step()
    spent: collections.Counter = collections.Counter()
    phases = timed_phases(model)
    for _, label, owner, attribute in phases:
        time_in_place(owner, attribute, spent, label)
    started = time.perf_counter()
    for _ in range(args.steps):
        model.step()
    per_step = (time.perf_counter() - started) / args.steps * 1e3
    print(f"{args.size:,} persons, {args.steps} steps after the burn-in, {args.threads} thread(s): {per_step:.2f} ms a step")
    for depth, label, _, _ in phases:
        ms = spent[label] / args.steps * 1e3
        print(f"  {'    ' * depth}{label:<{48 - 4 * depth}} {ms:7.3f} ms  {ms / per_step:6.1%}")
    print(f"  {'rest of the step':<48} {per_step - sum(spent[label] for depth, label, *_ in phases if depth == 0) / args.steps * 1e3:7.3f} ms")

    in_kernels, kernel_calls = collections.Counter(), collections.Counter()
    replaced = kernels_timed(in_kernels, kernel_calls)
    started = time.perf_counter()
    for _ in range(args.steps):
        model.step()
    with_wrappers = (time.perf_counter() - started) / args.steps * 1e3
    for module, name, kernel in replaced:
        setattr(module, name, kernel)
    kernel_ms = sum(in_kernels.values()) / args.steps * 1e3
    print(f"Compiled kernels called from this thread: {kernel_ms:.2f} ms a step ({sum(kernel_calls.values()) / args.steps:.0f} "
          f"calls; {args.steps} more steps, {with_wrappers:.2f} ms a step with the timing wrappers); the rest, "
          f"{with_wrappers - kernel_ms:.2f} ms, is Python and numpy (and, with threads, waits for the other thread). Most time:")
    for label, seconds in in_kernels.most_common(8):
        print(f"  {seconds / args.steps * 1e3:7.3f} ms {kernel_calls[label] / args.steps:6.1f} calls a step  {label}")

    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.profiled_steps):
        model.step()
    profile.disable()
    stats = pstats.Stats(profile)
    calls = sorted(((count, func) for func, (_, count, *_) in stats.stats.items()), reverse=True)
    print(f"Python calls a step: {sum(count for count, _ in calls) / args.profiled_steps:,.0f} (cProfile, {args.profiled_steps} steps); most often:")
    for count, (path, line, name) in calls[:15]:
        where = f"{Path(path).name}:{line}" if line else path
        print(f"  {count / args.profiled_steps:8.1f} a step  {name} ({where})")


if __name__ == "__main__":
    main()
