"""`recruitsim dashboard`: no server left behind, a busy port said in one line, exposure said
in one line, idle sessions culled within minutes. The server itself is replaced by stand-ins."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import cli
from sim.dashboard import command

ROOT = Path(__file__).parents[1]


@pytest.fixture
def no_server(monkeypatch):
    started = []
    monkeypatch.setattr(command, "missing_dashboard_packages", lambda: [])
    monkeypatch.setattr(command, "serve", lambda cmd, env: started.append(cmd) or 0)
    return started


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "dashboard.example.org"])
def test_a_non_loopback_address_is_warned_about_in_one_line(no_server, host):
    port = free_port()
    result = CliRunner().invoke(cli, ["dashboard", "--host", host, "--port", str(port)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: serving on {host}: anyone who can reach this computer on port {port} can open the dashboard "
                        "and run models on it (there is no login); use --host 127.0.0.1 to keep it to this computer"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_a_loopback_address_is_not_warned_about(no_server, host):
    result = CliRunner().invoke(cli, ["dashboard", "--host", host, "--port", str(free_port())])
    assert "warning" not in result.stderr


def test_a_busy_port_is_one_line_suggesting_another(no_server):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = CliRunner().invoke(cli, ["dashboard", "--port", str(port)])
    assert result.exit_code == 2 and not no_server
    assert result.stderr.splitlines() == [f"error: port {port} on 127.0.0.1 is in use (another dashboard still running?); "
                                          f"choose another with --port {port + 1}"]


def test_idle_sessions_are_culled_within_minutes():
    pytest.importorskip("solara")
    from solara.server.settings import Kernel
    from solara.util import parse_timedelta

    env = command.server_env(None, base={})
    os_env = {key: value for key, value in env.items() if key.startswith("SOLARA_KERNEL_")}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in os_env.items():
            patch.setenv(key, value)
        culled_after = parse_timedelta(Kernel().cull_timeout)
    assert 0 < culled_after <= 5 * 60


SERVER = "import os, time; print(os.getpid(), flush=True); time.sleep(600)"
PARENT = f"""
import sys
from sim.dashboard.command import serve
serve([sys.executable, "-c", {SERVER!r}], None)
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc (Linux)")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_stopping_the_command_stops_the_server(sig):
    # default dispositions for the command: under `nohup` (SIGHUP ignored, inherited through exec) the
    # stand-in server would ignore the forwarded SIGHUP, as a real server started with nohup should
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)},
                              preexec_fn=lambda: [signal.signal(s, signal.SIG_DFL) for s in (signal.SIGTERM, signal.SIGHUP)])
    server = None
    try:
        server = int(parent.stdout.readline())
        parent.send_signal(sig)
        assert parent.wait(timeout=30) == 0  # serve returned once the server had stopped
        assert not _running(server)
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
        if server is not None and _running(server):
            os.kill(server, signal.SIGKILL)  # only the stand-in this test started
