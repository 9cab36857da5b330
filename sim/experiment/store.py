"""The experiment's output directory: who owns it, and writing files into it safely.

    OUT/experiment.json            provenance, and the fingerprint of the experiment's inputs
    OUT/shards/<scenario>/rep_000/ one complete run each (docs/outputs.md), written atomically
    OUT/summary.csv, OUT/aggregates.parquet, OUT/figures/*.png, OUT/report.html

experiment.json is written before the first run, so that a directory left by a crash or Ctrl-C
can be resumed by the same command, and refused to any other experiment (mixing shards of
different inputs would silently corrupt the comparison).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sim.errors import OutputError
from sim.experiment.spec import ExperimentSpec
from sim.outputs.writer import write_atomic, write_json

__all__ = ["EXPERIMENT", "SHARDS", "check_experiment_dir", "prepare", "write_atomic", "write_json"]

EXPERIMENT = "experiment.json"
SHARDS = "shards"


def check_experiment_dir(out_dir: Path, spec: ExperimentSpec) -> bool:
    """Whether `out_dir` holds this experiment already (True: resume), is free (False), or
    belongs to something else (OutputError). Reads only: nothing is written."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"output path {out_dir} exists and is not a directory; choose another --out")
    if not out_dir.is_dir() or not any(out_dir.iterdir()):
        return False
    stored = _read_stored(out_dir)
    if stored.get("fingerprint") != spec.fingerprint:
        raise OutputError(f"output directory {out_dir} holds another experiment: {_what_differs(stored, spec)}; "
                          "choose another --out (runs of different experiments are never mixed)")
    return True


def _read_stored(out_dir: Path) -> dict:
    path = out_dir / EXPERIMENT
    if not path.is_file():
        raise OutputError(f"output directory {out_dir} exists and is not a recruitsim comparison (no {EXPERIMENT}); choose another --out")
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OutputError(f"{path} cannot be read ({exc}); choose another --out") from None
    return stored if isinstance(stored, dict) else {}


def _what_differs(stored: dict, spec: ExperimentSpec) -> str:
    """A short reason, for the error message."""
    if stored.get("seed") != spec.seed:
        return f"seed {stored.get('seed')} there, {spec.seed} now"
    before = {s.get("name"): s.get("scenario") for s in stored.get("scenarios", []) if isinstance(s, dict)}
    if sorted(before) != sorted(spec.names):
        return f"scenarios {', '.join(map(str, before))} there, {', '.join(spec.names)} now"
    changed = [e.name for e in spec.scenarios if before.get(e.name) != e.dump]
    if changed:
        return f"scenario {', '.join(changed)} changed since (its file or a --set differs)"
    if stored.get("baseline") != spec.baseline.name:
        return f"baseline {stored.get('baseline')} there, {spec.baseline.name} now"
    return "its inputs differ"


def prepare(out_dir: Path, provenance: dict) -> None:
    """Create `out_dir`, record the experiment and clear temporaries of runs that were killed."""
    (out_dir / SHARDS).mkdir(parents=True, exist_ok=True)
    write_json(out_dir / EXPERIMENT, provenance)
    for leftover in (out_dir / SHARDS).glob("*/.rep_*.tmp-*"):  # write_run's hidden siblings (see writer._sibling)
        shutil.rmtree(leftover, ignore_errors=True)
