"""Time two or more versions of recruitsim in the same hour, run by run in turn.

The reference machine's speed changes by a factor of three between days and by a fifth within
minutes, so a time measured today says little against one of another day, and two versions
timed one after the other can differ by the hour alone. This runs each version's own benchmark
(`benchmarks/run_benchmark.py --one`, one fresh process a run) in rounds, every version once a
round (after an untimed first run of each, which compiles its kernels), and prints every run,
each version's fastest and median run, and its ratio to the first version (fastest over
fastest, and the rounds' ratios: their range and median).

A version is a checkout (a directory) or a git revision of this repository, checked out for the
run in a temporary worktree (removed at the end). Every version runs with this interpreter and
its packages, from its own source (PYTHONPATH), on the same number of threads.

    python benchmarks/alternate.py ae1fcbe HEAD                  # 10,000 persons x 520 steps, 3 rounds
    python benchmarks/alternate.py ../other-checkout . --rounds 5 --size 100000

With the first version the code issue 14's table measured (ae1fcbe: 10,000 persons x 520 steps
in ~8.5 s), the ratio carries the goal of 3 s over to any hour: a version meets it if its runs
take at most 3 / 8.5 of that version's, in the same hour (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from sim.resources import available_cpus

REPO = Path(__file__).resolve().parent.parent
WARM_UP_PERSONS = 2_000  # a first run of each version, untimed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("versions", nargs="+", help="checkouts (directories) or git revisions; ratios are to the first")
    parser.add_argument("--size", type=int, default=10_000, help="persons  [default: 10000]")
    parser.add_argument("--steps", type=int, default=520, help="recorded steps  [default: 520]")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each version, in turn  [default: 3]")
    parser.add_argument("--threads", type=int, default=available_cpus(),
                        help="RECRUITSIM_THREADS for every run, as run_benchmark.py's  [default: the CPUs available]")
    args = parser.parse_args()
    if len(args.versions) < 2 or args.rounds < 1:
        parser.error("give at least two versions and at least one round")
    signal.signal(signal.SIGTERM, stop)  # as Ctrl-C: the running benchmark killed, the worktrees removed
    try:
        with ExitStack() as cleanup:
            checkouts = [checkout_of(version, cleanup) for version in args.versions]
            runs = alternate(checkouts, args)
    except (VersionError, RunError) as error:
        sys.exit(f"alternate: {error}")
    except KeyboardInterrupt:
        sys.exit("alternate: stopped (the running benchmark killed, temporary worktrees removed; nothing was written)")
    summarise(args.versions, runs)


def stop(signum, frame) -> None:
    raise KeyboardInterrupt


class VersionError(Exception):
    """A version that is neither a checkout nor a revision of this repository."""


class RunError(Exception):
    """A version's benchmark failed."""


def checkout_of(version: str, cleanup: ExitStack) -> Path:
    """The directory of a version: itself, or a temporary worktree of the revision (removed by `cleanup`)."""
    path = Path(version)
    if path.is_dir():
        if not (path / "benchmarks" / "run_benchmark.py").is_file():
            raise VersionError(f"{version} is a directory without benchmarks/run_benchmark.py: not a recruitsim checkout")
        return path.resolve()
    found = git("rev-parse", "--verify", "--quiet", f"{version}^{{commit}}")
    if found.returncode != 0:
        raise VersionError(f"{version!r} is neither a directory nor a revision of {REPO} (git rev-parse found none)")
    where = Path(tempfile.mkdtemp(prefix=f"recruitsim-{version[:12].replace('/', '_')}-"))
    added = git("worktree", "add", "--detach", str(where), found.stdout.strip())
    if added.returncode != 0:
        shutil.rmtree(where, ignore_errors=True)  # the temporary folder, not left behind
        raise VersionError(f"could not check out {version}: {added.stderr.strip().splitlines()[-1] if added.stderr.strip() else 'git worktree add failed'}")
    cleanup.callback(git, "worktree", "remove", "--force", str(where))
    return where


def git(*words: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(REPO), *words], capture_output=True, text=True)


def alternate(checkouts: list[Path], args: argparse.Namespace) -> list[list[dict]]:
    """`args.rounds` rounds of one run of each checkout, in turn; each run's figures, by checkout."""
    for checkout in checkouts:  # untimed: compiles the version's kernels (numba caches them in its checkout)
        run_once(checkout, argparse.Namespace(**{**vars(args), "size": WARM_UP_PERSONS, "steps": 1}))
    runs: list[list[dict]] = [[] for _ in checkouts]
    for round_number in range(1, args.rounds + 1):
        for i, checkout in enumerate(checkouts):
            run = run_once(checkout, args)
            runs[i].append(run)
            print(f"{time.strftime('%H:%M:%S')}  round {round_number}  {args.versions[i]:<14} run {run['run_s']:7.2f} s  "
                  f"{run['us_per_person_step']:6.3f} us per person-step  load {os.getloadavg()[0]:.1f}", flush=True)
    return runs


def run_once(checkout: Path, args: argparse.Namespace) -> dict:
    """One run of a checkout's own benchmark in a fresh process; its figures (the JSON it prints last)."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "RECRUITSIM_THREADS": str(args.threads)}
    command = [sys.executable, str(checkout / "benchmarks" / "run_benchmark.py"), "--one", "--sizes", str(args.size), "--steps", str(args.steps)]
    done = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RunError(f"the benchmark of {checkout} failed (exit {done.returncode}): {last}")
    return json.loads(lines[-1])


def summarise(versions: list[str], runs: list[list[dict]]) -> None:
    first = [run["run_s"] for run in runs[0]]
    ratios_head = "ratio by round (median)"
    print(f"\n{'version':<14} {'fastest s':>10} {'median s':>9} {'fastest/first':>14} {ratios_head:>24}")
    for version, own in zip(versions, runs):
        times = [run["run_s"] for run in own]
        ratios = [mine / theirs for mine, theirs in zip(times, first)]
        print(f"{version:<14} {min(times):>10.2f} {statistics.median(times):>9.2f} {min(times) / min(first):>14.3f} "
              f"{min(ratios):>8.3f}-{max(ratios):.3f} ({statistics.median(ratios):.3f})")


if __name__ == "__main__":
    main()
