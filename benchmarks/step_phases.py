"""Where a step's time goes: milliseconds per step of each phase of the model's step, and the
Python calls a step makes.

At 10,000 persons a step is ~10 ms, of which the compiled kernels are about a quarter; the rest
is hundreds of small numpy calls and the Python around them (issue 14: 520 steps in 3 s needs
~5.8 ms a step). This prints, for the baseline scenario after its burn-in:

- each phase of `RecruitModel.step` (and, indented, the parts timed within it), in ms per step,
  timed in place (`time.perf_counter` around each call: a phase's cache misses included, unlike a
  micro-benchmark of the same call repeated);
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
    from sim.ties import TieStore

    phases = [
        (0, "turnover (ageing, exits, newcomers)", RecruitModel, "_turnover"),
        (0, "meetings (visits and the ties they make)", RecruitModel, "_meet"),
        (1, "venue visits (meetings: other thread, if any)", Venues, "start_visits"),
        (1, "online visits, forum churn, meetings", OnlineSpaces, "visit"),
        (1, "tie store: a step's meetings", TieStore, "meet"),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=300, help="steps timed (after the burn-in and 20 steps of warm-up)")
    parser.add_argument("--profiled-steps", type=int, default=50, help="steps whose Python calls are counted")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    from sim import compiled
    from sim.model import RecruitModel
    from sim.scenario import load_scenario

    compiled.set_threads(args.threads)
    scenario = load_scenario(SCENARIO, [f"population.size={args.size}", f"steps={args.steps + args.profiled_steps + 20}", "seed=7"])
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
