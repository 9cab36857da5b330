"""Benchmark of `recruitsim sweep` (issue 10, section 3): runs per minute with 1 and 2 workers,
parallel efficiency, and the overhead per run beyond the simulation itself.

A Latin hypercube over two recruitment parameters of the baseline (10,000 persons, 520 weekly
steps unless told otherwise), one replication per point, run once in this process (--workers 1)
and once on 2 spawned worker processes, each into a fresh output directory.

- simulation: each run's own wall time (model set-up, steps, results: the `wall_time_s` of its
  manifest), summed;
- overhead per run (1 worker): (sweep wall time - simulation) / runs: validating, making tasks,
  writing and checksumming shards, computing outcomes, and the sweep's fixed costs (indices,
  figures, report, experiment.json) spread over the runs; the fixed costs are also shown apart;
- parallel efficiency: (runs per minute with 2 workers) / (2 x runs per minute with 1 worker).

The machine's load average is printed before and after: on a shared machine the figures are
only as good as the cores were free.

    python benchmarks/sweep_benchmark.py                     # 8 runs per setting, 10,000 persons, 520 steps
    python benchmarks/sweep_benchmark.py --runs 4 --steps 104 --size 2000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENT = """name: sweep_benchmark
scenarios: [{baseline}]
parameters:
  - {{name: attempt_rate, path: recruitment.rules.offline_ties.attempt_rate, range: [6.0, 24.0]}}
  - {{name: forums_accept, path: recruitment.rules.forums.accept_base, range: [0.3, 0.9]}}
design: lhs
samples: {runs}
replications: 1
outcomes: [involved.last_year_mean, recruits_all.total, offences.total]
seed: 7
"""


class Timer:
    """Wraps a function of a module and adds up the time spent in it."""

    def __init__(self, module, name: str):
        self.module, self.name, self.seconds = module, name, 0.0
        self.real = getattr(module, name)

    def __enter__(self):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return self.real(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        setattr(self.module, self.name, timed)
        return self

    def __exit__(self, *exc):
        setattr(self.module, self.name, self.real)


def measure(experiment: Path, workers: int, overrides: list[str], out_dir: Path) -> dict:
    from sim.experiment.sweep import outputs, sensitivity
    from sim.experiment.sweep.plan import load_sweep
    from sim.experiment.sweep.run import run_sweep

    start = time.perf_counter()
    spec = load_sweep(experiment, overrides=tuple(overrides))
    validated = time.perf_counter()
    with Timer(outputs, "write_sweep_outputs") as writing, Timer(sensitivity, "indices") as indexing:
        result = run_sweep(spec, out_dir, workers=workers, quiet=True)
    end = time.perf_counter()
    record = json.loads((out_dir / "experiment.json").read_text(encoding="utf-8"))
    runs = result.runs_done
    wall = end - start
    simulation = float(record["simulation_time_s"])
    fixed = (validated - start) + writing.seconds + indexing.seconds
    return {
        "workers": workers, "runs": runs, "wall_s": wall, "runs_per_min": runs / wall * 60, "simulation_s": simulation,
        "simulation_per_run_s": simulation / runs, "validation_s": validated - start, "indices_s": indexing.seconds,
        "outputs_s": writing.seconds, "fixed_s": fixed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8, help="runs per setting (points of the design)")
    parser.add_argument("--size", type=int, default=10_000, help="persons")
    parser.add_argument("--steps", type=int, default=520, help="weekly steps")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    overrides = [f"population.size={args.size}", f"steps={args.steps}"]
    load_before = os.getloadavg()
    print(f"sweep benchmark: {args.runs} runs per setting, {args.size:,} persons, {args.steps} steps; {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    with tempfile.TemporaryDirectory(prefix="sweep-benchmark-") as tmp:
        experiment = Path(tmp) / "experiment.yaml"
        experiment.write_text(EXPERIMENT.format(baseline=ROOT / "scenarios" / "baseline.yaml", runs=args.runs), encoding="utf-8")
        found = {w: measure(experiment, w, overrides, Path(tmp) / f"out{w}") for w in (1, 2)}
        import pandas as pd

        same = pd.read_parquet(Path(tmp) / "out1" / "samples.parquet").equals(pd.read_parquet(Path(tmp) / "out2" / "samples.parquet"))
    load_after = os.getloadavg()
    one, two = found[1], found[2]
    for f in (one, two):
        print(f"{f['workers']} worker(s): {f['runs']} runs in {f['wall_s']:.1f} s = {f['runs_per_min']:.2f} runs/min "
              f"(simulation {f['simulation_per_run_s']:.2f} s per run; validation {f['validation_s']:.2f} s, indices "
              f"{f['indices_s']:.2f} s, figures and report {f['outputs_s']:.2f} s)")
    efficiency = two["runs_per_min"] / (2 * one["runs_per_min"])
    per_run = (one["wall_s"] - one["simulation_s"]) / one["runs"]
    fixed_per_run = one["fixed_s"] / one["runs"]
    print(f"parallel efficiency (2 workers vs 1): {efficiency:.0%}; samples.parquet identical with 1 and 2 workers: {'yes' if same else 'NO'}")
    print(f"overhead per run beyond the simulation (1 worker): {per_run:.3f} s = {per_run / one['simulation_per_run_s']:.1%} "
          f"of a run, of which fixed costs spread over {one['runs']} runs {fixed_per_run:.3f} s and per-run handling "
          f"(tasks, shards, checksums, outcomes) {per_run - fixed_per_run:.3f} s = "
          f"{(per_run - fixed_per_run) / one['simulation_per_run_s']:.1%}")
    print(f"load average after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} (the machine's other work slows both settings)")


if __name__ == "__main__":
    main()
