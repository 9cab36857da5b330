"""Failures while running: one line saying what happened and how to recover, never a traceback,
never a half-written output that looks complete, never an orphan process."""

from __future__ import annotations

import errno
from concurrent.futures import CancelledError
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import cli

SMALL = "name: small\nsteps: 2\nburn_in_years: 0\npopulation: {size: 60, neighbourhood_size: 30}\nnetworks: {initial_per_10k: {phishing: 0, carding: 0, ddos_for_hire: 0, banking_malware: 0, ransomware_affiliate: 0}}\n"


def invoke(*args):
    return CliRunner().invoke(cli, [str(arg) for arg in args])


@pytest.fixture
def scenario_file(tmp_path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def failing_with(monkeypatch, exc: BaseException) -> None:
    import sim.experiment.comparison

    def fail(*args, **kwargs):
        raise exc

    monkeypatch.setattr(sim.experiment.comparison, "run_experiment", fail)


@pytest.mark.parametrize(("exc", "what"), [
    (BrokenProcessPool("A process in the process pool was terminated abruptly"), "a worker process died"),
    (CancelledError(), "the Dask scheduler or its workers went away"),
    (OSError(errno.ENOSPC, "No space left on device", "/out/shards/x"), "cannot write /out/shards/x: the disk is full"),
    (PermissionError(errno.EROFS, "Read-only file system", "/out/experiment.json"), "cannot write /out/experiment.json: it is on a read-only"),
    (PermissionError(errno.EACCES, "Permission denied"), "cannot write "),
])
def test_a_compare_that_fails_while_running_ends_in_one_line_that_says_how_to_resume(tmp_path, scenario_file, monkeypatch, exc, what):
    failing_with(monkeypatch, exc)
    out = tmp_path / "out"
    result = invoke("compare", scenario_file, "--reps", "1", "--workers", "1", "--out", out, "--quiet")
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {what}") and f"finished runs are kept in {out}; to resume, rerun the same command: recruitsim compare" in line


def test_a_lost_dask_connection_is_one_line(tmp_path, scenario_file, monkeypatch):
    CommClosedError = type("CommClosedError", (OSError,), {})  # as distributed.comm.core names it
    failing_with(monkeypatch, CommClosedError("in <TCP (closed)>: Stream is closed"))
    result = invoke("compare", scenario_file, "--reps", "1", "--workers", "1", "--out", tmp_path / "out", "--quiet")
    assert result.exit_code == 1 and result.stderr.startswith("error: the Dask scheduler or its workers went away")


def test_a_bug_keeps_its_traceback(tmp_path, scenario_file, monkeypatch):
    failing_with(monkeypatch, ZeroDivisionError("a bug"))
    result = invoke("compare", scenario_file, "--reps", "1", "--workers", "1", "--out", tmp_path / "out", "--quiet")
    assert isinstance(result.exception, ZeroDivisionError)


def test_a_full_disk_in_run_is_one_line_and_leaves_nothing(tmp_path, scenario_file, monkeypatch):
    import sim.outputs.writer

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / ".out.tmp-x" / "events.parquet"))

    monkeypatch.setattr(sim.outputs.writer, "_write_table", full)
    result = invoke("run", scenario_file, "--out", tmp_path / "out", "--quiet")
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: cannot write {tmp_path / '.out.tmp-x' / 'events.parquet'}: the disk is full; nothing was written")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml"]


# --------------------------------------------------------------------------- orphans
PARENT = """
import os, sys, time
from sim.experiment.backends.local import local_backend

with local_backend(2) as backend:
    for _ in range(3):
        backend.executor.submit(time.sleep, 600)  # both workers busy, one task queued, when the parent is killed
    print(" ".join(map(str, sorted(backend.executor._processes))), flush=True)
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc (Linux)")
def test_workers_die_when_their_parent_is_killed(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    try:
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(workers) == 2
        parent.send_signal(signal.SIGKILL)  # no chance to clean up, as with the OOM killer
        parent.wait()
        for _ in range(200):  # polls for up to 20 s; the watchdog needs about PARENT_CHECK_S
            if not any(_alive(pid) for pid in workers):
                break
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers), f"orphaned workers still running: {workers}"
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
        for pid in workers if "workers" in locals() else []:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)  # only the workers this test started


# --------------------------------------------------------------------------- damaged shards
def _flip_a_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_damaged_shards_are_detected_said_and_run_again(tmp_path, scenario_file):
    out = tmp_path / "out"
    args = ("compare", scenario_file, "--reps", "4", "--workers", "1", "--out", out, "--quiet")
    assert invoke(*args).exit_code == 0
    summary = (out / "summary.csv").read_text()
    shards = out / "shards" / "small"
    _flip_a_bit(shards / "rep_000" / "timeseries.parquet")  # used silently before: changed an aggregate
    events = shards / "rep_001" / "events.parquet"
    events.write_bytes(events.read_bytes()[:-100])  # truncated
    (shards / "rep_002" / "timeseries.parquet").unlink()  # a pyarrow traceback before
    (shards / "rep_003" / "manifest.json").write_text('{"scenario": ')  # a JSON traceback before
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert [line.partition(" is damaged ")[2] for line in result.stderr.splitlines()] == [
        "(timeseries.parquet has changed since it was written (its checksum differs)); running it again",
        "(events.parquet has changed since it was written (its checksum differs)); running it again",
        "(timeseries.parquet is missing); running it again",
        "(its manifest.json cannot be read (JSONDecodeError)); running it again"]
    assert (out / "summary.csv").read_text() == summary
    assert invoke(*args).stderr == ""  # all sound again


def test_a_shard_directory_without_its_manifest_is_run_again(tmp_path, scenario_file):
    out = tmp_path / "out"
    args = ("compare", scenario_file, "--reps", "1", "--workers", "1", "--out", out, "--quiet")
    assert invoke(*args).exit_code == 0
    (out / "shards" / "small" / "rep_000" / "manifest.json").unlink()
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [f"warning: shard {out.absolute() / 'shards' / 'small' / 'rep_000'} is damaged "
                                          "(it has no manifest.json); running it again"]


# --------------------------------------------------------------------------- leftovers of killed runs
def test_run_cleans_what_killed_runs_left_next_to_its_output(tmp_path, scenario_file):
    import os

    killed = tmp_path / ".out.tmp-tmp-4194305-0123456789ab"  # a pid above Linux's largest: no such process
    older = tmp_path / ".out.tmp-tmp-0123456789ab"  # named before siblings carried a pid
    running = tmp_path / f".out.tmp-tmp-{os.getpid()}-0123456789ab"  # a run still writing
    for leftover in (killed, older, running):
        leftover.mkdir()
        (leftover / "events.parquet").write_bytes(b"half")
    result = invoke("run", scenario_file, "--out", tmp_path / "out", "--quiet")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([running.name, "out", "small.yaml"])


def test_a_previous_run_moved_aside_by_a_killed_replace_is_put_back(tmp_path):
    from sim.outputs.writer import clean_stale_siblings

    aside = tmp_path / ".out.tmp-old-4194305-0123456789ab"
    aside.mkdir()
    (aside / "manifest.json").write_text("{}")
    clean_stale_siblings(tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and (tmp_path / "out" / "manifest.json").is_file()


# --------------------------------------------------------------------------- one schema per table
def _run(tmp_path: Path, name: str, settings: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\n{settings}", encoding="utf-8")
    result = invoke("run", path, "--out", tmp_path / name, "--quiet")
    assert result.exit_code == 0, result.output
    return tmp_path / name


@pytest.fixture(scope="module")
def empty_and_busy_runs(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("runs")
    empty = _run(tmp_path, "empty", SMALL.split("\n", 1)[1].replace("steps: 2", "steps: 1"))  # no networks, no events
    busy = _run(tmp_path, "busy", "steps: 8\npopulation: {size: 400, neighbourhood_size: 200}\nnetworks: {initial_per_10k: {phishing: 75}}\n")
    return empty, busy


@pytest.mark.parametrize("table", ["events", "networks"])
def test_duckdb_reads_an_empty_table_and_a_full_one_together(empty_and_busy_runs, table):
    import duckdb

    empty, busy = (run / f"{table}.parquet" for run in empty_and_busy_runs)
    rows = duckdb.sql(f"SELECT count(*) FROM read_parquet(['{empty}', '{busy}'])").fetchall()[0][0]
    assert rows == duckdb.sql(f"SELECT count(*) FROM read_parquet('{busy}')").fetchall()[0][0] > 0


@pytest.mark.parametrize("table", ["timeseries", "events", "networks"])
def test_every_run_writes_the_same_schema_for_a_table(empty_and_busy_runs, table):
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    empty, busy = (run / f"{table}.parquet" for run in empty_and_busy_runs)
    assert pq.read_schema(empty).remove_metadata() == pq.read_schema(busy).remove_metadata()
    assert ds.dataset([str(empty), str(busy)]).to_table().num_rows == pq.read_metadata(empty).num_rows + pq.read_metadata(busy).num_rows


def test_warnings_in_compare_worker_processes_are_one_line_each(tmp_path):
    """A warning raised inside a worker process (here: more initial networks than founders) is
    shown as the parent shows its own: one `warning:` line, not Python's file-and-source format."""
    import subprocess
    import sys

    base = tmp_path / "crowded.yaml"
    base.write_text("name: crowded\nsteps: 2\npopulation:\n  size: 60\n  neighbourhood_size: 30\nnetworks:\n  initial_per_10k:\n    phishing: 10000\n")
    twin = tmp_path / "twin.yaml"
    twin.write_text(f"extends: {base}\nname: twin\n")
    run = subprocess.run([sys.executable, "-m", "sim", "compare", str(base), str(twin), "--reps", "1", "--workers", "2",
                          "--out", str(tmp_path / "cmp")], capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    worded = [line for line in run.stderr.replace("\r", "\n").splitlines() if "networks.initial_per_10k asks" in line]
    assert len(worded) == 1, run.stderr  # the same warning from two runs is shown once
    assert worded[0].startswith("warning: "), worded
    assert "warnings.warn" not in run.stderr and "Warning:" not in run.stderr, run.stderr
