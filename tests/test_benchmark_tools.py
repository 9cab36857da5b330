"""benchmarks/alternate.py: versions it cannot run are named in one line, a stopped comparison
leaves no benchmark running, and its summary's ratios are the runs' (real runs take minutes: a
stand-in checkout's benchmark here)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "alternate.py"


def alternate_module():
    spec = importlib.util.spec_from_file_location("alternate", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(*words: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *words], capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_a_version_that_is_neither_a_checkout_nor_a_revision_is_one_line(tmp_path: Path):
    for version, says in ((str(tmp_path), "not a recruitsim checkout"), ("no-such-revision-xyz", "neither a directory nor a revision")):
        done = run(version, str(ROOT), "--rounds", "1")
        assert done.returncode == 1, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("alternate: ") and says in lines[0], done.stderr
        assert "Traceback" not in done.stderr and done.stdout == ""


def test_one_version_is_a_usage_error():
    done = run(str(ROOT))
    assert done.returncode == 2 and "at least two versions" in done.stderr


def test_the_summary_gives_each_versions_fastest_run_and_its_ratios_to_the_first(capsys):
    runs = [[{"run_s": 30.0}, {"run_s": 27.0}, {"run_s": 28.0}], [{"run_s": 9.0}, {"run_s": 8.1}, {"run_s": 7.0}]]
    alternate_module().summarise(["ref", "new"], runs)
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.strip().splitlines()[1:]}
    assert rows["ref"][1:4] == ["27.00", "28.00", "1.000"]
    # fastest over fastest 7 / 27; by round 9/30, 8.1/27, 7/28: 0.250-0.300, median 0.300
    assert rows["new"][1:4] == ["7.00", "8.10", f"{7 / 27:.3f}"] and rows["new"][4:] == ["0.250-0.300", "(0.300)"]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads a process's state in /proc")
def test_a_stopped_comparison_leaves_no_benchmark_running(tmp_path: Path):
    """SIGTERM (as Ctrl-C) kills the version's benchmark being run and says so in one line."""
    import os
    import signal
    import time

    fake = tmp_path / "fake"
    (fake / "benchmarks").mkdir(parents=True)
    (fake / "benchmarks" / "run_benchmark.py").write_text(
        "import os, pathlib, time\n"
        f"pathlib.Path({str(tmp_path / 'pid')!r}).write_text(str(os.getpid()))\n"
        "time.sleep(120)\n")
    comparison = subprocess.Popen([sys.executable, str(SCRIPT), str(fake), str(fake)], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not ((tmp_path / "pid").exists() and (tmp_path / "pid").read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        benchmark = int((tmp_path / "pid").read_text())
        comparison.send_signal(signal.SIGTERM)
        _, err = comparison.communicate(timeout=30)
    finally:
        comparison.kill()
    time.sleep(0.2)
    alive = _running(benchmark)
    if alive:
        os.kill(benchmark, signal.SIGKILL)  # (not left behind by a failing test)
    assert comparison.returncode == 1 and err.strip().splitlines() == [
        "alternate: stopped (the running benchmark killed, temporary worktrees removed; nothing was written)"]
    assert not alive, "the benchmark of the stopped comparison is still running"


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "zombie" not in state
