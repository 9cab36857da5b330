"""Run one scenario from start to finish and write its outputs (docs/outputs.md)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from collections.abc import Callable
from typing import Any, NamedTuple

from tqdm import tqdm

from sim.outputs.manifest import build_manifest
from sim.outputs.paths import RUNS_DIR, timestamped_dir
from sim.outputs.results import RunResults
from sim.outputs.writer import check_format, check_out_dir, write_run
from sim.resources import check_memory

__all__ = ["RUNS_DIR", "default_out_dir", "run_scenario", "simulate"]


def run_scenario(
    scenario,
    out_dir: Path | str | None = None,
    *,
    fmt: str = "parquet",
    quiet: bool = False,
    overwrite: bool = False,
    source: Path | str | None = None,
    replication: tuple[int, ...] = (),
    on_done: Callable[[Simulation], object] | None = None,
    figure_format: str = "png",
) -> Path:
    """Run `scenario` for `scenario.steps` steps and write its outputs; returns the output directory.

    `replication=(i,)` draws the random numbers of replication i of a comparison, so the outputs
    are those of its shard (`recruitsim compare` runs replication 0, 1, ... of every scenario).
    `on_done` is called with the finished simulation once its outputs are written (the command
    line prints its summary there)."""
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir(scenario)
    # Refuse a bad format or destination before a run that may take hours, not after it.
    check_format(fmt)
    check_out_dir(out_dir, overwrite)
    check_memory(scenario.population.size)
    done = simulate(scenario, replication=replication, source=source, quiet=quiet)
    written = write_run(done.results, out_dir, fmt=fmt, manifest=done.manifest, overwrite=overwrite,
                        figure_format=figure_format, marks=done.model.intervention_schedule.marks())
    if on_done is not None:
        on_done(done)
    return written


class Simulation(NamedTuple):
    model: Any
    results: RunResults
    manifest: dict


def simulate(scenario, *, replication: tuple[int, ...] = (), source: Path | str | None = None, quiet: bool = True) -> Simulation:
    """Run `scenario` for its steps: the model, its results and its manifest. A plain run and a
    comparison's shard both come from here, so replication i gives the same outputs either way."""
    started = datetime.now(UTC)
    clock = time.perf_counter()
    # A plain run is built as RecruitModel(scenario): the model's own default replication.
    model = _make_model(scenario, replication=replication) if replication else _make_model(scenario)
    _advance(model, scenario.steps, desc=scenario.name, quiet=quiet)
    results = model.results()
    wall_time = time.perf_counter() - clock
    manifest = build_manifest(
        scenario, seed_info=model.seed_info(), wall_time_s=wall_time, steps=scenario.steps, source=source, started=started
    )
    return Simulation(model, results, manifest)


def default_out_dir(scenario, now: datetime | None = None) -> Path:
    """runs/<scenario name>-<YYYYmmdd-HHMMSS> (local time, as a user reads their clock)."""
    return timestamped_dir(scenario.name, now)


def _make_model(scenario, **options):
    # Imported here so that the CLI's other commands and the writer do not pay for, or depend on, the model.
    from sim.model import RecruitModel

    return RecruitModel(scenario, **options)


def _advance(model, steps: int, *, desc: str, quiet: bool) -> None:
    with tqdm(total=steps, unit="step", desc=desc, disable=quiet, dynamic_ncols=True) as bar:
        for _ in range(steps):
            model.step()
            bar.update()
