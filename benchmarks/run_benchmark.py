"""Benchmark: the baseline scenario at several population sizes.

Prints, per size: set-up time, run time, microseconds per person-step, steps per second and
peak memory (resident set size of a fresh process per size, so sizes do not pollute each other).
Targets (issue 2): 10k persons x 520 weekly steps <= 10 s; 100k <= 2 min.

    python benchmarks/run_benchmark.py                   # 10k and 100k, 520 steps
    python benchmarks/run_benchmark.py --sizes 1000000 --steps 52
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"


def measure(size: int, steps: int, seed: int) -> dict:
    """One run in this process; returns its figures."""
    from sim.model import RecruitModel
    from sim.scenario import load_scenario

    scenario = load_scenario(SCENARIO, [f"population.size={size}", f"steps={steps}", f"seed={seed}"])
    t0 = time.perf_counter()
    model = RecruitModel(scenario)
    t1 = time.perf_counter()
    for _ in range(steps):
        model.step()
    t2 = time.perf_counter()
    results = model.results()
    t3 = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "persons": size, "steps": steps, "setup_s": t1 - t0, "run_s": t2 - t1, "results_s": t3 - t2,
        "us_per_person_step": (t2 - t1) / (size * steps) * 1e6, "steps_per_s": steps / (t2 - t1),
        "peak_mib": peak_kib / 1024, "ties": len(model.ties), "members_end": int(results.timeseries["involved"].iloc[-1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--steps", type=int, default=520)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # internal: run one size here
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.sizes[0], args.steps, args.seed)))
        return
    print(f"recruitsim benchmark: baseline scenario, {args.steps} steps, seed {args.seed}, "
          f"python {platform.python_version()}, {platform.machine()}")
    header = f"{'persons':>9} {'setup s':>8} {'run s':>8} {'us/person-step':>15} {'steps/s':>8} {'peak MiB':>9} {'ties':>10} {'members':>8}"
    print(header)
    for size in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", "--sizes", str(size), "--steps", str(args.steps), "--seed", str(args.seed)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['persons']:>9,} {r['setup_s']:>8.2f} {r['run_s']:>8.2f} {r['us_per_person_step']:>15.3f} "
              f"{r['steps_per_s']:>8.1f} {r['peak_mib']:>9.0f} {r['ties']:>10,} {r['members_end']:>8}", flush=True)


if __name__ == "__main__":
    main()
