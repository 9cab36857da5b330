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

SMALL = "name: small\nsteps: 2\npopulation: {size: 60, neighbourhoods: 2}\nnetworks: {initial: {phishing: 1, carding: 0, ddos_for_hire: 0, banking_malware: 0, ransomware_affiliate: 0}}\n"


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
