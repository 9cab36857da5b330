"""Run one scenario from start to finish and write its outputs (docs/outputs.md)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from sim.outputs.manifest import build_manifest
from sim.outputs.writer import check_format, check_out_dir, write_run

RUNS_DIR = Path("runs")


def run_scenario(
    scenario,
    out_dir: Path | str | None = None,
    *,
    fmt: str = "parquet",
    quiet: bool = False,
    overwrite: bool = False,
    source: Path | str | None = None,
) -> Path:
    """Run `scenario` for `scenario.steps` steps and write its outputs; returns the output directory."""
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir(scenario)
    # Refuse a bad format or destination before a run that may take hours, not after it.
    check_format(fmt)
    check_out_dir(out_dir, overwrite)

    started = datetime.now(UTC)
    clock = time.perf_counter()
    model = _make_model(scenario)
    _advance(model, scenario.steps, desc=scenario.name, quiet=quiet)
    results = model.results()
    wall_time = time.perf_counter() - clock

    manifest = build_manifest(
        scenario, seed_info=model.seed_info(), wall_time_s=wall_time, steps=scenario.steps, source=source, started=started
    )
    return write_run(results, out_dir, fmt=fmt, manifest=manifest, overwrite=overwrite)


def default_out_dir(scenario, now: datetime | None = None) -> Path:
    """runs/<scenario name>-<YYYYmmdd-HHMMSS> (local time, as a user reads their clock)."""
    now = now or datetime.now()
    # A name is free text; keep it from adding path levels (`a/b`, `..`) or awkward characters.
    safe_name = re.sub(r"[^A-Za-z0-9._-]+", "_", scenario.name).strip("._") or "run"
    return RUNS_DIR / f"{safe_name}-{now:%Y%m%d-%H%M%S}"


def _make_model(scenario):
    # Imported here so that the CLI's other commands and the writer do not pay for, or depend on, the model.
    from sim.model import RecruitModel

    return RecruitModel(scenario)


def _advance(model, steps: int, *, desc: str, quiet: bool) -> None:
    with tqdm(total=steps, unit="step", desc=desc, disable=quiet, dynamic_ncols=True) as bar:
        for _ in range(steps):
            model.step()
            bar.update()
