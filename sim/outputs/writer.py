"""Write a run's outputs atomically: a directory is either complete or absent.

Everything is written into a hidden sibling (`.<name>.tmp-XXXX`) that is renamed onto the
output directory only when complete, so an interrupted or failed run never leaves a
half-written directory that looks like a result. `write_atomic` is that mechanism, for a file
or a directory; the experiment's files (sim/experiment/) are written with it too.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.outputs.graphs import graph_file_name
from sim.errors import OutputError
from sim.outputs.manifest import MANIFEST
from sim.outputs.plots import plot_composition
from sim.outputs.results import RunResults

TABLES = ("timeseries", "networks", "events")
FORMATS = {"parquet": "parquet", "csv": "csv"}  # format name -> file extension
GRAPHS = "graphs"  # directory of the GraphML files of outputs.network_graphs
FIGURE = "composition"  # + the figure format's suffix (png by default)
CHECKSUMS = "sha256"  # manifest key: file name -> SHA-256 of its bytes
CSV_NAN = "NaN"  # written for missing numbers so that empty strings stay empty strings


def check_format(fmt: str) -> str:
    """The file extension of `fmt`; OutputError if the format is unknown."""
    try:
        return FORMATS[fmt]
    except KeyError:
        raise OutputError(f"unknown output format {fmt!r}; use one of: {', '.join(FORMATS)}") from None


def check_out_dir(out_dir: Path | str, overwrite: bool) -> Path:
    """Fail now (OutputError) if `write_run` would refuse `out_dir` later; returns it as a Path."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"output path {out_dir} exists and is not a directory; choose another --out")
    if _is_nonempty_dir(out_dir):
        if not overwrite:
            raise OutputError(f"output directory {out_dir} exists and is not empty; use --overwrite to replace it or choose another --out")
        # --overwrite deletes a directory tree: only ever one that a previous run wrote.
        if not (out_dir / MANIFEST).is_file():
            raise OutputError(f"output directory {out_dir} is not a recruitsim run (no {MANIFEST}); refusing to replace it, choose another --out")
    parent = _nearest_existing(out_dir.absolute().parent)
    if not _writable(parent):
        raise OutputError(f"cannot write under {parent} (permission denied); choose another --out")
    return out_dir


def write_run(
    results: RunResults,
    out_dir: Path | str,
    *,
    fmt: str = "parquet",
    manifest: dict,
    overwrite: bool = False,
    plot: bool = True,
    figure_format: str = "png",
    marks: list[dict] = (),
) -> Path:
    """Write the tables, manifest.json and composition.<figure_format> (the interventions' moments
    marked: `marks`, InterventionSchedule.marks()) to `out_dir`, all or nothing."""
    ext = check_format(fmt)
    out_dir = check_out_dir(out_dir, overwrite)
    clean_stale_siblings(out_dir)

    def write_into(tmp: Path) -> None:
        tmp.mkdir()  # not mkdtemp: its 0700 mode would be kept by the finished directory
        files = {f"{name}.{ext}": _write_table(getattr(results, name), tmp / f"{name}.{ext}", fmt) for name in TABLES}
        for graph in results.graphs:  # with outputs.network_graphs: one GraphML file per snapshot
            files[f"{GRAPHS}/{graph_file_name(graph.step)}"] = _write_graph(graph, tmp)
        if plot:
            figure = f"{FIGURE}.{figure_format}"
            plot_composition(results.timeseries, tmp / figure, _title(manifest), marks=marks, fmt=figure_format)
            files[figure] = None
        checksums = {name: file_sha256(tmp / name) for name in files}  # verified when a comparison reads the shard again
        write_json(tmp / MANIFEST, {**manifest, "files": files, CHECKSUMS: checksums})

    return write_atomic(out_dir, write_into)


def _write_graph(graph, tmp: Path) -> None:
    import networkx as nx

    (tmp / GRAPHS).mkdir(exist_ok=True)
    nx.write_graphml(graph.to_networkx(), tmp / GRAPHS / graph_file_name(graph.step))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomic(path: Path, write: Callable[[Path], object]) -> Path:
    """Call `write(tmp)` on a hidden sibling of `path`, which `write` creates as a file or a
    directory, then rename it onto `path`: readers see the old content or the new, never half.
    On any failure (KeyboardInterrupt too) the sibling is removed and `path` is left as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(path, "tmp")
    try:
        write(tmp)
        _replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    return path


def write_json(path: Path, data: dict) -> Path:
    """`data` as indented JSON, atomically; numpy values, paths and dates become plain JSON."""
    text = json.dumps(data, indent=2, default=_json_value, allow_nan=False) + "\n"
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_run(run_dir: Path | str) -> RunResults:
    """Read the tables a run wrote (either format) back into a RunResults."""
    run_dir = Path(run_dir)
    tables = {}
    for name in TABLES:
        found = [run_dir / f"{name}.{ext}" for ext in FORMATS.values() if (run_dir / f"{name}.{ext}").is_file()]
        if not found:
            raise OutputError(f"{run_dir} has no {name} table ({' or '.join(f'{name}.{e}' for e in FORMATS.values())})")
        tables[name] = _read_table(found[0])
    return RunResults(**tables)


# --------------------------------------------------------------------------- tables
def _write_table(frame: pd.DataFrame, path: Path, fmt: str) -> int:
    if fmt == "parquet":
        pq.write_table(arrow_table(frame), path)
    else:
        frame.to_csv(path, index=False, na_rep=CSV_NAN)
    return len(frame)


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """`frame` as Arrow, text columns always `large_string`: an empty text column would otherwise
    be typed `null`, and a run without events could not be read together with one that has them
    (pyarrow.dataset, DuckDB, polars all refuse to merge the two schemas)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = [field.with_type(pa.large_string()) if _is_text(field.type) else field for field in table.schema]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_null(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _read_table(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path, engine="pyarrow")
    try:
        return pd.read_csv(path, keep_default_na=False, na_values=[CSV_NAN])
    except pd.errors.EmptyDataError:  # a table without columns (no networks ever) is an empty file
        return pd.DataFrame()


# --------------------------------------------------------------------------- manifest
def _title(manifest: dict) -> str:
    name = manifest.get("scenario_name") or manifest.get("scenario", {}).get("name", "run")
    seed = manifest.get("scenario", {}).get("seed")
    return f"{name} (seed {seed})" if seed is not None else str(name)


def _json_value(value: Any) -> Any:
    """Values a model may put in seed_info that json cannot encode by itself."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (Path, datetime, date)):
        return str(value) if isinstance(value, Path) else value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    # Losing a finished run over an odd value in the provenance would be worse than a string.
    return repr(value)


# --------------------------------------------------------------------------- directories
def _replace(tmp: Path, target: Path) -> None:
    """Rename `tmp` onto `target`. A file is replaced in one step; a directory cannot be renamed
    onto a non-empty one, so an old directory is moved aside first and deleted only after."""
    if not (tmp.is_dir() and target.exists()):
        os.replace(tmp, target)
        return
    old = _sibling(target, "old")
    target.rename(old)
    try:
        tmp.rename(target)
    except BaseException:
        old.rename(target)  # put the previous run back where it was
        raise
    shutil.rmtree(old, ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _sibling(out_dir: Path, purpose: str) -> Path:
    """A hidden, unused name next to `out_dir` (`.tmp-` in it: .gitignore and users know it is
    scratch), naming the process that writes it, so that a later run can tell a leftover of a
    killed run from the work of one still running."""
    return out_dir.parent / f".{out_dir.name}.tmp-{purpose}-{os.getpid()}-{uuid.uuid4().hex[:12]}"


def clean_stale_siblings(out_dir: Path) -> None:
    """Remove what killed runs left next to `out_dir`: a half-written `tmp` sibling is deleted; an
    `old` one (the previous run, moved aside during a replace) is deleted if the new run is in
    place, else put back. Siblings of running processes are left alone."""
    if not out_dir.parent.is_dir():
        return
    for sibling in out_dir.parent.glob(f".{glob.escape(out_dir.name)}.tmp-*"):
        purpose, _, rest = sibling.name.removeprefix(f".{out_dir.name}.tmp-").partition("-")
        if _writer_alive(rest):
            continue
        if purpose == "old" and not out_dir.exists():
            sibling.rename(out_dir)
        else:
            _remove(sibling)


def _writer_alive(rest: str) -> bool:
    """Whether the process named in a sibling's `<pid>-<random>` suffix still runs (an older
    suffix without a pid: no)."""
    pid, _, random = rest.partition("-")
    if not (pid.isdigit() and random):
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return int(pid) < 2**31  # another user's process; an absurd pid is no process
    return True


def _is_nonempty_dir(path: Path) -> bool:
    return path.is_dir() and any(path.iterdir())


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK | os.X_OK)

