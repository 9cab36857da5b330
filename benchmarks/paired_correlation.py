"""How well do common random numbers keep paired runs paired? (issue 7, item 1)

Runs the baseline and each intervention scenario R times. Replication i of every scenario has the
same seed and replication key, exactly as `recruitsim compare` does (sim/experiment/spec.py and
replicate.py), so the runs are paired. Two outcomes per run: end-of-run network membership
(`involved` at the last step) and cumulative recruits (sum of `recruits_offline` +
`recruits_online`; founders, who are not approached, are not counted).

For each intervention and outcome the table gives:

- r: Pearson correlation over the R replications of (baseline, intervention). Close to 1 means
  the pairing removes most of the run-to-run noise from the difference; near 0, pairing gains nothing.
- mean_diff, sd_diff: mean and SD (ddof 1) of the paired differences intervention - baseline.
- n_paired: replications needed for a 95% CI half-width of +-10% of the baseline mean on the
  difference, n = ceil((1.96 * sd_diff / (0.1 * mean_baseline))^2).
- n_unpaired: the same with independent runs, sd = sqrt(var_baseline + var_intervention).
  n_paired / n_unpaired ~ 1 - r (for equal variances) is what pairing saves.
- goal_r: issue 7's target correlation for membership.

With R = 8, r is itself uncertain (roughly +-0.2 near 0.7), so read it as a rough figure.

    python benchmarks/paired_correlation.py --workers 2 --out benchmarks/results/paired_before.csv
    python benchmarks/paired_correlation.py --quick   # N=2000, 3 years, 3 reps: a smoke check

With --quick the run ends before the interventions start (year 3), so every pair must be
identical: r = 1 (or nan if the baseline does not vary), mean_diff = sd_diff = 0.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
GOAL_R = {"awareness_campaign": 0.95, "bank_hardening": 0.95, "diversion_programme": 0.95,
          "public_private_partnership": 0.95, "forum_takedown": 0.85, "core_arrests": 0.85,
          "central_arrests": 0.6, "combined_package": 0.6}
OUTCOMES = ("membership_end", "recruits_cumulative")


def run_one(name: str, rep: int, dump: dict) -> tuple[str, int, dict, float]:
    """Replication `rep` of one scenario, exactly as sim.experiment.replicate.run_replication runs it."""
    from sim.runner import simulate
    from sim.scenario.schema import Scenario

    clock = time.perf_counter()
    ts = simulate(Scenario.from_resolved(dump), replication=(rep,)).results.timeseries
    outcomes = {"membership_end": int(ts["involved"].iloc[-1]),
                "recruits_cumulative": int(ts["recruits_offline"].sum() + ts["recruits_online"].sum())}
    return name, rep, outcomes, time.perf_counter() - clock


def summarise(runs: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """One row per (outcome, intervention): the paired statistics described in the module docstring."""
    rows = []
    for outcome in OUTCOMES:
        wide = runs.pivot(index="rep", columns="scenario", values=outcome).astype(float)
        b = wide[baseline]
        for name in wide.columns.drop(baseline):
            i = wide[name]
            diff = i - b
            sd_unpaired = math.sqrt(b.var() + i.var())
            need = lambda sd: math.ceil((1.96 * sd / (0.1 * b.mean())) ** 2) if b.mean() > 0 else math.nan  # noqa: E731
            r = np.corrcoef(b, i)[0, 1] if b.std() > 0 and i.std() > 0 else math.nan
            rows.append({"outcome": outcome, "scenario": name, "reps": len(diff), "mean_baseline": b.mean(),
                         "mean_intervention": i.mean(), "r": r, "mean_diff": diff.mean(), "sd_diff": diff.std(),
                         "n_paired": need(diff.std()), "n_unpaired": need(sd_unpaired),
                         "goal_r": GOAL_R.get(name, math.nan) if outcome == "membership_end" else math.nan})
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    """A markdown table, numbers to three significant figures (pandas' to_markdown needs tabulate)."""
    cell = lambda v: f"{v:.3g}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = [list(table.columns), ["---"] * table.shape[1], *([cell(v) for v in row] for row in table.itertuples(index=False))]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", nargs="+", default=list(GOAL_R), metavar="NAME",
                        help="intervention scenarios (file stems in scenarios/); default: the eight of issue 7")
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--size", type=int, default=10_000, help="population size N")
    parser.add_argument("--years", type=float, default=10.0, help="run length in years of weekly steps")
    parser.add_argument("--seed", type=int, default=None, help="default: the baseline's seed (as compare)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="further override applied to every scenario")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="smoke check: N=2000, 3 years, 3 reps")
    parser.add_argument("--out", type=Path, help="also write the table as CSV")
    args = parser.parse_args()
    if args.quick:
        args.size, args.years, args.reps = 2000, 3.0, 3

    from sim.experiment.spec import load_experiment

    overrides = [f"population.size={args.size}", "step=week", f"steps={round(args.years * 52)}", *args.overrides]
    paths = [SCENARIOS / "baseline.yaml", *(SCENARIOS / f"{name}.yaml" for name in args.scenarios)]
    spec = load_experiment(paths, reps=args.reps, overrides=overrides, seed=args.seed)
    if idle := spec.idle_interventions():
        print(f"note: {len(idle)} interventions start after the last step, e.g. {idle[0]}", file=sys.stderr)

    # replication-major, as compare orders its tasks
    tasks = [(entry.name, rep, entry.dump) for rep in range(args.reps) for entry in spec.scenarios]
    print(f"{len(tasks)} runs: {len(spec.scenarios)} scenarios x {args.reps} reps, N={args.size}, "
          f"{spec.steps} steps, seed {spec.seed}, {args.workers} workers", file=sys.stderr)
    started, records = time.perf_counter(), []
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run_one, *task) for task in tasks]
        for done, future in enumerate(as_completed(futures), 1):
            name, rep, outcomes, wall = future.result()
            records.append({"scenario": name, "rep": rep, **outcomes})
            print(f"[{done}/{len(tasks)}] {name} rep {rep}: {outcomes} ({wall:.0f} s; "
                  f"{time.perf_counter() - started:.0f} s elapsed)", file=sys.stderr, flush=True)

    table = summarise(pd.DataFrame(records), spec.baseline.name)
    print(f"Paired replications: N={args.size}, {spec.steps} weekly steps, {args.reps} reps, seed {spec.seed}\n")
    print(markdown(table))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
