"""The `recruitsim` command line: run, validate, list and document scenarios.

Bad input (any `sim.errors.RecruitsimError`) ends as one line `error: <message>` on stderr and
exit code 2, the code click uses for its own usage errors; anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations

import errno
import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from sim import __version__
from sim.dashboard.command import dashboard
from sim.errors import RecruitsimError, ScenarioError, show_warnings_in_one_line
from sim.scenario import Scenario, load_scenario
from sim.scenario.bundled import bundled_scenarios, copy_scenario, description_of, find_scenario


class InputError(click.ClickException):
    """A RecruitsimError on its way out: printed as one `error:` line, exit code 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True, file=file)


class RecruitsimGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            with one_line_warnings():
                return super().invoke(ctx)
        except RecruitsimError as exc:
            raise InputError(" ".join(str(exc).splitlines()) or type(exc).__name__) from exc
        except RuntimeError as exc:
            from sim import compiled

            if (message := compiled.broken_cache_message(exc)) is None:
                raise  # a bug: keep its traceback
            click.echo(f"error: {message}", err=True)
            raise SystemExit(1) from None


@contextmanager
def one_line_warnings() -> Iterator[None]:
    """Show each RecruitsimWarning once, as one `warning: <message>` line on stderr (Python's own
    format adds the file, line number and source line of the code that warned)."""
    with warnings.catch_warnings():
        show_warnings_in_one_line()
        yield


def warn_about(scenario, source: Path) -> None:
    """One `warning:` line for each intervention of `scenario` that is void or conflicts with another."""
    from sim.interventions.checks import intervention_warnings

    for note in intervention_warnings(scenario):
        click.echo(f"warning: {source}: {note}", err=True)


@click.group(cls=RecruitsimGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="recruitsim")
def cli() -> None:
    """Agent-based simulation of recruitment into cybercriminal networks."""


@cli.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="output directory (default: chosen by the runner from the scenario name)")
@click.option("--seed", type=int, help="seed of every random draw; same as --set seed=N")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help="override a scenario key, e.g. --set population.size=2000 (repeatable; the value is YAML)")
@click.option("--replication", type=click.IntRange(min=0), metavar="I", help="draw the random numbers of replication I of `recruitsim compare` (0, 1, ...): the outputs are those of its shard")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True, help="format of the output tables")
@click.option("--export-networks", is_flag=True, help="also write the criminal networks as GraphML, one file per snapshot, in graphs/ (same as --set outputs.network_graphs=true)")
@click.option("--figure-format", type=click.Choice(["png", "svg", "pdf"]), default="png", show_default=True, help="format of composition.* (svg or pdf for papers)")
@click.option("--quiet", is_flag=True, help="no progress bar and no summary")
@click.option("--overwrite", is_flag=True, help="replace an existing output directory")
@click.option("--threads", type=click.IntRange(min=1), help="threads for large batches of work; outputs do not depend on it  [default: the CPUs available]")
def run(scenario: Path, out_dir: Path | None, seed: int | None, overrides: tuple[str, ...], replication: int | None,
        fmt: str, export_networks: bool, figure_format: str, quiet: bool, overwrite: bool, threads: int | None) -> None:
    """Run SCENARIO, print the output directory, and a short summary of the run on stderr.

    SCENARIO is a YAML file, the name of a bundled scenario (`recruitsim run baseline`; see
    `recruitsim scenarios`), or the manifest.json of an earlier run or comparison shard (or its
    directory), which is run again exactly as recorded, in the same replication.
    """
    scenario = find_scenario(scenario)
    if _is_manifest(scenario):
        loaded, source, key = _from_manifest(scenario, seed, overrides)
    else:
        seed_override = (f"seed={seed}",) if seed is not None else ()
        export = ("outputs.network_graphs=true",) if export_networks else ()
        loaded, source, key = load_scenario(scenario, (*overrides, *seed_override, *export)), scenario, ()
    warn_about(loaded, source)
    if replication is not None:
        key = (replication,)  # the key `compare` gives replication I (sim/experiment/replicate.py)
    from sim.runner import (
        run_scenario,  # here, not at the top: it pulls in mesa and pandas, which only `run` needs
    )

    from sim import compiled
    from sim.resources import available_cpus, reuse_freed_memory

    compiled.set_threads(threads or available_cpus())  # a single run has the machine
    reuse_freed_memory()
    try:
        out = run_scenario(loaded, out_dir, fmt=fmt, quiet=quiet, overwrite=overwrite, source=source, replication=key,
                           on_done=None if quiet else _print_summary, figure_format=figure_format)
    except OSError as exc:
        if exc.errno not in _WRITE_FAILURES:
            raise  # a bug: keep its traceback
        where = exc.filename or out_dir or "the output directory"
        click.echo(f"error: cannot write {where}: {_WRITE_FAILURES[exc.errno]}; nothing was written (outputs are all or nothing); "
                   "make room or choose another --out, and run again", err=True)
        raise SystemExit(1) from None
    click.echo(str(out))  # stdout: the directory alone, for scripts (`out=$(recruitsim run ...)`)


def _print_summary(done) -> None:
    from sim.outputs.summary import run_summary

    click.echo("\n".join(run_summary(done.results.timeseries, done.manifest)), err=True)


def _is_manifest(path: Path) -> bool:
    return path.is_dir() or path.suffix == ".json"


def _from_manifest(path: Path, seed: int | None, overrides: tuple[str, ...]) -> tuple[Scenario, Path, tuple[int, ...]]:
    """The recorded scenario and replication of a manifest: a re-run changes nothing."""
    from sim.outputs.manifest import read_manifest, replication_of
    from sim.scenario.loader import load_resolved

    file, manifest = read_manifest(path)
    if seed is not None or overrides:
        raise ScenarioError(f"{file}: a manifest is run again exactly as recorded; --seed and --set apply to scenario files only")
    return load_resolved(manifest["scenario"], file), file, replication_of(manifest)


@cli.command()
@click.argument("scenarios", nargs=-1, required=True, metavar="SCENARIOS...")
@click.option("--reps", type=click.IntRange(min=1), default=10, show_default=True, help="replications of each scenario")
@click.option("--workers", type=click.IntRange(min=1), help="local worker processes; 1 runs in this process  [default: number of CPUs]")
@click.option("--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster, e.g. tcp://HOST:8786 (needs recruitsim[cluster])")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="output directory; rerunning the same command there resumes  [default: runs/compare-<timestamp>]")
@click.option("--seed", type=int, help="seed of every scenario  [default: the baseline's seed]")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help="override a key in every scenario, e.g. --set population.size=2000 (repeatable)")
@click.option("--primary", multiple=True, metavar="ENDPOINT", help="a primary end point, judged on its own at 5% (repeatable; the others share a false discovery rate of 5%)  [default: involved.last_year_mean, recruits_all.since_start, offences.since_start]")
@click.option("--precision", type=float, metavar="SHARE", help="add replications in batches (from --reps, doubling) until the 95% intervals of the primary end points' differences are within ± SHARE of the baseline mean, e.g. 0.1")
@click.option("--max-reps", type=int, metavar="N", help="with --precision: stop at N replications of each scenario  [default: 10 x --reps]")
@click.option("--quiet", is_flag=True, help="no progress bar")
@click.option("--allow-code-change", is_flag=True, help="resume an output directory run by other code (another version or commit), keeping its runs; recorded as mixed in experiment.json")
def compare(scenarios: tuple[str, ...], reps: int, workers: int | None, scheduler: str | None, out_dir: Path | None,
            seed: int | None, overrides: tuple[str, ...], primary: tuple[str, ...], precision: float | None, max_reps: int | None,
            quiet: bool, allow_code_change: bool) -> None:
    """Compare SCENARIOS (YAML files or bundled names; the first is the baseline) over many replications.

    A scenario may carry overrides of its own: `baseline.yaml:population.size=2000:steps=52`
    (after the --set overrides, which apply to every scenario).

    Writes summary.csv, aggregates.parquet, figures and report.html, and prints the output directory.
    """
    import os

    # here, not at the top: the comparison pulls in pandas, matplotlib and the model
    from sim.experiment import ExperimentError, load_experiment
    from sim.experiment.backends import check_scheduler_address
    from sim.experiment.adaptive import Precision
    from sim.experiment.comparison import default_out_dir, run_adaptive, run_experiment
    from sim.interventions.checks import intervention_warnings

    if scheduler is not None and workers is not None:
        raise ExperimentError("give --workers (local processes) or --scheduler (a Dask cluster), not both")
    if max_reps is not None and precision is None:
        raise ExperimentError("--max-reps needs --precision (without it, --reps replications are run)")
    adaptive = None if precision is None else Precision(precision, max_reps or 10 * reps)
    if adaptive is not None:
        adaptive.check(reps)
    if scheduler is not None:
        check_scheduler_address(scheduler)  # before the scenarios are loaded: a typo is the first thing to hear about
    out_dir = out_dir or default_out_dir()
    workers = workers or os.cpu_count() or 1
    command = _compare_command(scenarios, reps, workers, scheduler, out_dir, seed, overrides, allow_code_change, primary, adaptive)
    spec = load_experiment(scenarios, reps=reps, overrides=overrides, seed=seed, primary=primary or None)  # FILE:KEY=VALUE parsed there
    for entry in spec.scenarios:  # as `run` warns of each scenario
        for note in intervention_warnings(entry.scenario()):
            click.echo(f"warning: {entry.source}: {note}", err=True)
    with resumable(out_dir, command):
        options = dict(workers=workers, scheduler=scheduler, quiet=quiet, command=command, allow_code_change=allow_code_change)
        result = run_experiment(spec, out_dir, **options) if adaptive is None else run_adaptive(spec, adaptive, out_dir, **options)
    if result.precision is not None:
        click.echo(describe_precision(result.precision), err=True)
    click.echo(str(result.out_dir))


def describe_precision(record: dict) -> str:
    """One line on stderr: the precision asked for and reached, in how many replications."""
    reached = "not computable" if record["reached"] is None else f"±{record['reached']:.1%}"
    verdict = "reached" if record["met"] else f"not reached: stopped at --max-reps {record['max_reps']}"
    return f"precision: ±{record['target']:.1%} of the baseline mean asked for, {reached} with {record['reps']} replications ({verdict})"


# errno values that mean "this output directory cannot take more", not a bug
_WRITE_FAILURES = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
                   errno.EROFS: "it is on a read-only file system", errno.EACCES: "permission denied",
                   errno.EPERM: "permission denied"}


@contextmanager
def resumable(out_dir: Path, command: str):
    """Around the runs of `compare`, `sweep` and `patterns`: Ctrl-C, or a failure outside the code
    (a worker killed, the cluster gone, the disk full), ends with one line saying that finished
    runs are kept in `out_dir` and the command that resumes; a bug (or a RecruitsimError, which
    the group prints as one line) propagates."""
    try:
        yield
    except KeyboardInterrupt:
        click.echo(f"interrupted: finished runs are kept in {out_dir}; to resume, run: {command}", err=True)
        raise SystemExit(130) from None
    except Exception as exc:
        what = failure_while_running(exc, out_dir)
        if what is None:
            raise  # a bug: keep its traceback
        click.echo(f"error: {what}; finished runs are kept in {out_dir}; to resume, rerun the same command: {command}", err=True)
        raise SystemExit(1) from None


def failure_while_running(exc: BaseException, out_dir: Path) -> str | None:
    """What went wrong, in a few words, when a comparison fails for a reason outside the code
    (a worker killed, the cluster gone, the disk full or read-only); None for anything else."""
    from concurrent.futures import CancelledError
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(exc, BrokenProcessPool):
        return "a worker process died (killed, or out of memory: the kernel's OOM killer ends the largest process)"
    if isinstance(exc, CancelledError) or _is_lost_cluster(exc):
        return "the Dask scheduler or its workers went away (lost connection) before the runs finished"
    if isinstance(exc, OSError) and exc.errno in _WRITE_FAILURES:
        where = exc.filename or out_dir
        return f"cannot write {where}: {_WRITE_FAILURES[exc.errno]}"
    return None


def _is_lost_cluster(exc: BaseException) -> bool:
    """Dask's own errors for a connection or worker lost mid-computation (dask is optional)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"CommClosedError", "FutureCancelledError", "KilledWorker", "StreamClosedError"})


def _compare_command(scenarios, reps, workers, scheduler, out_dir, seed, overrides, allow_code_change, primary=(), adaptive=None) -> str:
    """The command line that repeats (or resumes) this comparison, for the report's provenance."""
    import shlex

    args = ["recruitsim", "compare", *map(str, scenarios), "--reps", str(reps)]
    args += ["--scheduler", scheduler] if scheduler else ["--workers", str(workers)]
    args += ["--out", str(out_dir), *(["--seed", str(seed)] if seed is not None else [])]
    args += ["--allow-code-change"] if allow_code_change else []
    args += [part for key in primary for part in ("--primary", key)]
    args += ["--precision", f"{adaptive.target:g}", "--max-reps", str(adaptive.max_reps)] if adaptive else []
    return shlex.join(args + [part for o in overrides for part in ("--set", o)])


@cli.command("sweep")
@click.argument("experiment", type=click.Path(path_type=Path))
@click.option("--workers", type=click.IntRange(min=1), help="local worker processes; 1 runs in this process  [default: number of CPUs]")
@click.option("--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster, e.g. tcp://HOST:8786 (needs recruitsim[cluster])")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="output directory; rerunning the same command there resumes  [default: runs/sweep-<name>-<timestamp>]")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help="override a key in every base scenario, e.g. --set population.size=1000 (repeatable)")
@click.option("--samples", type=click.IntRange(min=1), help="instead of the file's `samples`")
@click.option("--reps", type=click.IntRange(min=1), help="instead of the file's `replications`")
@click.option("--seed", type=click.IntRange(min=0), help="instead of the file's `seed`")
@click.option("--quiet", is_flag=True, help="no progress bar")
@click.option("--allow-code-change", is_flag=True, help="resume an output directory run by other code, keeping its runs (recorded as mixed)")
def sweep_command(experiment: Path, workers: int | None, scheduler: str | None, out_dir: Path | None, overrides: tuple[str, ...],
                  samples: int | None, reps: int | None, seed: int | None, quiet: bool, allow_code_change: bool) -> None:
    """Sensitivity analysis: run the EXPERIMENT file's design over its uncertain parameters.

    Writes samples.parquet, indices.parquet, figures and report.html (docs/experiments.md), and
    prints the output directory. Every run's scenario is validated before the first run.
    """
    import os
    import shlex

    from sim.experiment import ExperimentError
    from sim.experiment.backends import check_scheduler_address
    from sim.experiment.sweep.plan import load_sweep
    from sim.experiment.sweep.run import default_out_dir, run_sweep

    if scheduler is not None and workers is not None:
        raise ExperimentError("give --workers (local processes) or --scheduler (a Dask cluster), not both")
    if scheduler is not None:
        check_scheduler_address(scheduler)
    spec = load_sweep(experiment, overrides=overrides, samples=samples, replications=reps, seed=seed)
    out_dir = out_dir or default_out_dir(spec)
    workers = workers or os.cpu_count() or 1
    args = ["recruitsim", "sweep", str(experiment), *(["--scheduler", scheduler] if scheduler else ["--workers", str(workers)]),
            "--out", str(out_dir), *[part for o in overrides for part in ("--set", o)]]
    args += [part for flag, value in (("--samples", samples), ("--reps", reps), ("--seed", seed)) if value is not None
             for part in (flag, str(value))]
    command = shlex.join(args + (["--allow-code-change"] if allow_code_change else []))
    from sim.interventions.checks import intervention_warnings

    for base in spec.bases:  # as `run` and `compare` warn of each scenario (at the base values of the parameters)
        for note in intervention_warnings(base.scenario()):
            click.echo(f"warning: {base.source}: {note}", err=True)
    if not quiet:
        click.echo(f"sweep {spec.name}: {spec.samples} points x {len(spec.bases)} scenario(s) x {spec.runs.reps} replication(s) "
                   f"= {spec.total_runs} runs, all validated", err=True)
    with resumable(out_dir, command):
        result = run_sweep(spec, out_dir, workers=workers, scheduler=scheduler, quiet=quiet, command=command,
                           allow_code_change=allow_code_change)
    click.echo(str(result.out_dir))


@cli.command()
@click.argument("scenario", required=False, default="baseline", type=click.Path(path_type=Path))
@click.option("--seeds", type=click.IntRange(min=1), default=10, show_default=True, help="replications of the scenario")
@click.option("--workers", type=click.IntRange(min=1), help="local worker processes; 1 runs in this process  [default: number of CPUs]")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="output directory; rerunning the same command there resumes  [default: runs/patterns-<timestamp>]")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help="override a key in every scenario run, e.g. --set population.size=2000 (repeatable)")
@click.option("--no-interventions", is_flag=True, help="only the baseline patterns (no takedown, arrest or removal runs)")
@click.option("--intervention-seeds", type=click.IntRange(min=1), metavar="N", help="replications of each intervention scenario  [default: --seeds]")
@click.option("--sensitivity", is_flag=True, help="also run each key parameter at x0.5 and x1.5 (one at a time) and say which changes flip a baseline pattern")
@click.option("--sensitivity-seeds", type=click.IntRange(min=1), default=3, show_default=True, metavar="N", help="replications of each sensitivity run")
@click.option("--quiet", is_flag=True, help="no progress")
@click.option("--allow-code-change", is_flag=True, help="resume runs made by other code (recorded as mixed), as in `compare`")
def patterns(scenario: Path, seeds: int, workers: int | None, out_dir: Path | None, overrides: tuple[str, ...], no_interventions: bool,
             intervention_seeds: int | None, sensitivity: bool, sensitivity_seeds: int, quiet: bool, allow_code_change: bool) -> None:
    """Check the empirical patterns (docs/evidence.md section 6) over seeds of SCENARIO (default: baseline).

    Writes patterns.csv, patterns.md and patterns.html (and the runs, under runs/) and prints the
    output directory. See docs/experiments.md.
    """
    import os
    import shlex

    from sim.analysis.pattern_report import PatternJob, run_pattern_report
    from sim.outputs.paths import timestamped_dir

    out_dir = out_dir or timestamped_dir("patterns")
    args = ["recruitsim", "patterns", str(scenario), "--seeds", str(seeds), "--workers", str(workers or os.cpu_count() or 1), "--out", str(out_dir)]
    args += ["--no-interventions"] if no_interventions else (["--intervention-seeds", str(intervention_seeds)] if intervention_seeds else [])
    args += ["--sensitivity", "--sensitivity-seeds", str(sensitivity_seeds)] if sensitivity else []
    args += [part for o in overrides for part in ("--set", o)] + (["--allow-code-change"] if allow_code_change else [])
    command = shlex.join(args)
    job = PatternJob(scenario=find_scenario(scenario), seeds=seeds, out_dir=out_dir, workers=workers or os.cpu_count() or 1,
                     overrides=overrides, interventions=not no_interventions, intervention_seeds=intervention_seeds or seeds,
                     sensitivity=sensitivity, sensitivity_seeds=sensitivity_seeds, quiet=quiet, allow_code_change=allow_code_change,
                     command=command)
    say = (lambda text: None) if quiet else (lambda text: click.echo(text, err=True))
    with resumable(out_dir, command):
        run_pattern_report(job, say)
    click.echo(str(out_dir))


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help="override a key in every file, as `run --set` does (repeatable)")
def validate(files: tuple[Path, ...], overrides: tuple[str, ...]) -> None:
    """Check scenario FILES (or bundled names) without running them.

    Prints one `ok:` line per valid file and stops at the first invalid one (exit code 2).
    """
    for file in files:
        scenario = load_scenario(find_scenario(file), overrides)
        warn_about(scenario, file)
        click.echo(f"ok: {file} ({scenario.name}: {scenario.population.size} persons, {scenario.steps} steps of one {scenario.step})")


@cli.command()
@click.option("--markdown", is_flag=True, help="the reference page (docs/scenarios.md) instead of the JSON Schema")
def schema(markdown: bool) -> None:
    """Print the scenario JSON Schema, or the markdown reference."""
    if markdown:
        from sim.scenario.docs import render_markdown

        click.echo(render_markdown(), nl=False)
    else:
        click.echo(json.dumps(Scenario.model_json_schema(), indent=2))


@cli.group(invoke_without_command=True)
@click.pass_context
def scenarios(ctx: click.Context) -> None:
    """List the bundled scenarios (`recruitsim scenarios`), or copy one to edit (`recruitsim scenarios copy NAME`).

    A bundled scenario runs by name from any directory: `recruitsim run NAME`.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_scenarios)


@scenarios.command("list")
def list_scenarios() -> None:
    """List the bundled scenarios: name and description."""
    found = bundled_scenarios()
    width = max(map(len, found), default=0)
    for name, path in found.items():
        click.echo(f"{name:<{width}}  {description_of(path)}")


@scenarios.command("copy")
@click.argument("name")
@click.option("--to", "dest", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True, help="directory to copy into")
@click.option("--overwrite", is_flag=True, help="replace files that exist")
def copy(name: str, dest: Path, overwrite: bool) -> None:
    """Copy the bundled scenario NAME (and the bundled files it extends) into a directory to edit.

    Prints each file written; run the copy with `recruitsim run NAME.yaml`.
    """
    for path in copy_scenario(name, dest, overwrite=overwrite):
        click.echo(str(path))


cli.add_command(dashboard)


def main() -> None:
    """Entry point of the `recruitsim` script and of `python -m sim`."""
    cli(prog_name="recruitsim")
