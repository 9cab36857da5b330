"""The experiment's output directory: who owns it, and writing files into it safely.

    OUT/experiment.json            provenance, the fingerprints of the inputs and the code, every invocation
    OUT/shards/<scenario>/rep_000/ one complete run each (docs/outputs.md), written atomically
    OUT/summary.csv, OUT/aggregates.parquet, OUT/figures/*.png, OUT/report.html

experiment.json is written before the first run, so that a directory left by a crash or Ctrl-C
can be resumed by the same command, and refused to any other experiment (mixing shards of
different inputs would silently corrupt the comparison), and to other code unless the user
says so (`--allow-code-change`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sim.errors import OutputError
from sim.experiment.spec import ExperimentSpec
from sim.outputs.manifest import code_change_message
from sim.outputs.writer import write_atomic, write_json

__all__ = ["EXPERIMENT", "SHARDS", "check_experiment_dir", "prepare", "write_atomic", "write_json"]

EXPERIMENT = "experiment.json"
SHARDS = "shards"


def check_experiment_dir(out_dir: Path, spec: ExperimentSpec, *, allow_code_change: bool = False) -> list[dict]:
    """The invocations recorded in `out_dir` if it holds this experiment already (resume), [] if
    it is free; OutputError if it belongs to something else, or was run by other code and
    `allow_code_change` is not given. Reads only: nothing is written."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"output path {out_dir} exists and is not a directory; choose another --out")
    if not out_dir.is_dir() or not any(out_dir.iterdir()):
        return []
    stored = _read_stored(out_dir)
    # before code was recorded, `fingerprint` covered the inputs only
    if stored.get("inputs_fingerprint", stored.get("fingerprint")) != spec.inputs_fingerprint:
        raise OutputError(f"output directory {out_dir} holds another experiment: {_what_differs(stored, spec)}; "
                          "choose another --out (runs of different experiments are never mixed)")
    invocations = _invocations(stored)
    other = next((inv.get("code") for inv in invocations if inv.get("code") != spec.code), None)
    if other is not None or not invocations:  # no invocation recorded: code unknown, so other code
        if not allow_code_change:
            raise OutputError(code_change_message(f"output directory {out_dir}", other, spec.code))
    return invocations


def _invocations(stored: dict) -> list[dict]:
    """The invocations experiment.json records, oldest first (none if it predates the history)."""
    recorded = stored.get("invocations")
    if isinstance(recorded, list):
        return [inv for inv in recorded if isinstance(inv, dict)]
    return []


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
        return f"scenarios {_listed(before)} there, {_listed(spec.names)} now"
    changed = [e.name for e in spec.scenarios if before.get(e.name) != e.dump]
    if changed:
        return f"scenario {_listed(changed)} changed since (its file or a --set differs)"
    if stored.get("baseline") != spec.baseline.name:
        return f"baseline {stored.get('baseline')} there, {spec.baseline.name} now"
    return "its inputs differ"


def _listed(names, shown: int = 6) -> str:
    """Names for a one-line message: a sweep has thousands."""
    names = list(map(str, names))
    if len(names) <= shown:
        return ", ".join(names)
    return f"{', '.join(names[:shown])}, ... ({len(names)} in all)"


def prepare(out_dir: Path, provenance: dict) -> None:
    """Create `out_dir`, record the experiment and clear temporaries of runs that were killed."""
    (out_dir / SHARDS).mkdir(parents=True, exist_ok=True)
    write_json(out_dir / EXPERIMENT, provenance)
    for leftover in (out_dir / SHARDS).glob("*/.rep_*.tmp-*"):  # write_run's hidden siblings (see writer._sibling)
        shutil.rmtree(leftover, ignore_errors=True)
