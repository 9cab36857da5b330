"""Benchmark: the baseline scenario at several population sizes, early and late years.

Prints, per size: set-up time (the town and its ties, before any step), the burn-in (the
scenario's `burn_in_years` of unrecorded steps, run when the model is built: 520 weekly steps in
the baseline), microseconds per person-step in year 1 (steps 1-52) and in years 9-10 (steps
417-520: cost grows with networks and ties, so late years must be timed too), the whole recorded
run, its ratio to bare numpy doing the same meetings in the same process (`numpy_floor`: a
figure that depends less on the machine's speed than a time, but still does), and peak memory
(resident set size of a fresh process per size, so sizes do not pollute each other). Goals
(issue 14): 10k x 520 steps <= 3 s; 1M x 520 <= 5 min; set-up at 1M <= 5 s. To compare versions,
or a version with the goals on a day the machine is slow, run them in turn: benchmarks/alternate.py.

    python benchmarks/run_benchmark.py                   # 10k and 100k, 520 steps
    python benchmarks/run_benchmark.py --million         # and 1M (about 9 minutes)
    python benchmarks/run_benchmark.py --repeat 3        # each size 3 times: the median of each figure
    python benchmarks/run_benchmark.py --sizes 10000 --steps 520 --one   # one size, JSON, this process
    python benchmarks/run_benchmark.py --kernels both    # each size with the compiled kernels, then their numpy twins

The numba kernels (sim/compiled.py) compile on first use and are cached on disk; run once before
timing set-up on a fresh checkout, or its first size's set-up includes compiling them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

from sim.resources import available_cpus

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"
EARLY = 52  # year 1
LATE = 104  # the last two years


def numpy_floor(size: int, steps: int = 10, contacts: int = 3, seed: int = 0) -> float:
    """Microseconds per person-step of bare numpy doing a step's core work: every person visits
    one of size / 100 places, meets `contacts` co-visitors there, and the pairs are deduplicated
    by a sort. Timed in the same process as the model, it is the floor the model is compared with:
    the ratio depends less on the machine and on what else runs on it than a time does (at 10,000
    persons it still moved from 5.7-6.9 to 7.8-8.2 between a fast hour and a slow one)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    for _ in range(steps):
        place = rng.integers(0, max(size // 100, 1), size)
        person = np.argsort(place, kind="stable")  # persons grouped by place
        grouped = place[person]
        starts = np.concatenate([[0], np.flatnonzero(np.diff(grouped)) + 1])
        sizes = np.diff(np.concatenate([starts, [size]]))
        start, count = np.repeat(starts, sizes), np.repeat(sizes, sizes)
        position = np.arange(size) - start
        keys = []
        for _ in range(contacts):
            partner = person[start + (position + 1 + (rng.random(size) * np.maximum(count - 1, 1)).astype(np.int64)) % count]
            keys.append(np.minimum(person, partner) * size + np.maximum(person, partner))
        keys = np.sort(np.concatenate(keys))
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    return (time.perf_counter() - started) / (steps * size) * 1e6


def measure(size: int, steps: int, seed: int) -> dict:
    """One run in this process; returns its figures."""
    from sim.model import RecruitModel
    from sim.resources import reuse_freed_memory
    from sim.scenario import load_scenario

    reuse_freed_memory()  # as `recruitsim run` does
    scenario = load_scenario(SCENARIO, [f"population.size={size}", f"steps={steps}", f"seed={seed}"])
    started = time.perf_counter()
    RecruitModel(scenario.model_copy(update={"burn_in_years": 0.0}))  # the set-up alone (the same town, no steps)
    t0 = time.perf_counter()
    setup_s = t0 - started
    model = RecruitModel(scenario)  # set-up and burn-in
    t1 = time.perf_counter()
    marks = [t1]
    for step in range(1, steps + 1):
        model.step()
        if step in (min(EARLY, steps), max(steps - LATE, 0)):
            marks.append(time.perf_counter())
    t2 = time.perf_counter()
    results = model.results()
    t3 = time.perf_counter()
    early_steps, late_steps = min(EARLY, steps), min(LATE, steps)
    early_s = marks[1] - t1
    late_s = t2 - (marks[2] if len(marks) > 2 else t1)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    floor = numpy_floor(size)
    return {
        "persons": size, "steps": steps, "setup_s": setup_s, "burn_in_s": t1 - t0 - setup_s,
        "burn_in_steps": model.clock.burn_in_steps, "run_s": t2 - t1, "results_s": t3 - t2,
        "us_early": early_s / (size * early_steps) * 1e6, "us_late": late_s / (size * late_steps) * 1e6,
        "us_per_person_step": (t2 - t1) / (size * steps) * 1e6, "floor_us": floor,
        "over_floor": (t2 - t1) / (size * steps) * 1e6 / floor,
        "peak_mib": peak_kib / 1024, "ties": len(model.ties), "networks": len(model.network_agents),
        "members_end": int(results.timeseries["involved"].iloc[-1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--million", action="store_true", help="add 1,000,000 persons to the sizes")
    parser.add_argument("--steps", type=int, default=520)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--one", action="store_true", help="run the first size in this process and print JSON")
    parser.add_argument("--kernels", choices=["compiled", "numpy", "both"], default="compiled",
                        help="the compiled kernels, their numpy twins (RECRUITSIM_KERNELS=numpy), or a row for each")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per size, each in a fresh process; a row shows each figure's median and the runs' range of run times")
    parser.add_argument("--threads", type=int, default=available_cpus(),
                        help="threads the kernels may use (RECRUITSIM_THREADS; outputs do not depend on it)  [default: the CPUs available]")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, not {args.repeat}")
    if args.one:
        print(json.dumps(measure(args.sizes[0], args.steps, args.seed)))
        return
    sizes = args.sizes + ([1_000_000] if args.million else [])
    print(f"recruitsim benchmark: baseline scenario, {args.steps} steps, seed {args.seed}, "
          f"python {platform.python_version()}, {platform.machine()}, {args.threads} thread(s), load {os.getloadavg()[0]:.1f}")
    print(f"{'persons':>9} {'kernels':>8} {'setup s':>8} {'burn-in s':>10} {'run s':>8} {'us/p-step':>10} {'year 1':>8} {'years 9-10':>11} "
          f"{'floor':>6} {'x floor':>7} {'peak MiB':>9} {'ties':>10} {'networks':>9} {'members':>8}  {'runs s':>8}")
    modes = ["compiled", "numpy"] if args.kernels == "both" else [args.kernels]
    for size in sizes:
        for mode in modes:
            runs = [run_one(size, args, mode) for _ in range(args.repeat)]
            r = medians(runs)
            spread = f"{min(x['run_s'] for x in runs):.1f}-{max(x['run_s'] for x in runs):.1f}" if len(runs) > 1 else ""
            print(f"{r['persons']:>9,} {mode:>8} {r['setup_s']:>8.2f} {r['burn_in_s']:>10.1f} {r['run_s']:>8.1f} {r['us_per_person_step']:>10.2f} "
                  f"{r['us_early']:>8.2f} {r['us_late']:>11.2f} {r['floor_us']:>6.2f} {r['over_floor']:>7.1f} {r['peak_mib']:>9.0f} {r['ties']:>10,} "
                  f"{r['networks']:>9} {r['members_end']:>8}  {spread:>8}", flush=True)
    print("us/p-step: microseconds per person-step over the recorded run; year 1 and years 9-10 over those steps only; "
          "burn-in: the unrecorded steps before step 1 (520 in the baseline); floor: the same for bare numpy meetings "
          "(everyone meets 3 co-visitors, pairs deduplicated by a sort) in the same process; x floor: the run over it"
          + (f"; each figure the median of {args.repeat} runs, runs s: their run times' range" if args.repeat > 1 else ""))


def medians(runs: list[dict]) -> dict:
    """Each figure's median over repeated runs of one size (the machine's speed varies by up to
    15% between runs: one run can hide a change or invent one). Counts (ties, networks, members)
    are the same in every run: same scenario, same seed."""
    import statistics

    return {name: statistics.median(run[name] for run in runs) for name in runs[0]}


def run_one(size: int, args: argparse.Namespace, kernels: str) -> dict:
    """One size in a fresh process (peak memory is then that size's own)."""
    env = {**os.environ, "RECRUITSIM_KERNELS": "numpy" if kernels == "numpy" else "numba", "RECRUITSIM_THREADS": str(args.threads)}
    out = subprocess.run([sys.executable, __file__, "--one", "--sizes", str(size), "--steps", str(args.steps),
                          "--seed", str(args.seed)], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
