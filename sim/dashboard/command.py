"""`recruitsim dashboard [SCENARIO]`: serve the dashboard locally with `solara run`.

This module imports only click (and the standard library), so `recruitsim --help` works without
the dashboard extra; the extra's absence is reported when the command runs.
"""

from __future__ import annotations

import errno
import importlib.util
import ipaddress
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import click

from sim.resources import available_cpus

APP = Path(__file__).with_name("app.py")
SCENARIO_ENV = "RECRUITSIM_DASHBOARD_SCENARIO"  # read by sim/dashboard/app.py
WARM_UP_ENV = "RECRUITSIM_DASHBOARD_WARM_UP"  # "1": app.py burns in the opening town when the server starts
NEEDED = ("solara", "matplotlib")


def missing_dashboard_packages() -> list[str]:
    """Modules of the dashboard extra that cannot be imported here."""
    missing = []
    for name in NEEDED:
        try:
            if importlib.util.find_spec(name) is None:
                missing.append(name)
        except ImportError:
            missing.append(name)
    if "solara" not in missing:
        try:
            import solara  # noqa: F401  (its own dependencies: ipyvuetify, starlette, ...)
        except ImportError as exc:
            missing.append(exc.name or str(exc))
    return missing


# Solara phones home by default (usage telemetry to mixpanel, a version check on PyPI), and its
# server fetches any front-end file missing from its cache (sys.prefix/share/solara/cdn, filled
# by the solara-assets package) from a CDN. A classroom laptop is offline, and a police
# trainer's machine should not report usage: telemetry and the version check are off, and the
# CDN is pointed at a closed loopback port, so a missing file fails at once, here as in class,
# instead of being fetched from the internet.
NO_CDN = "http://127.0.0.1:9/no-cdn/"
QUIET_ENV = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_ASSETS_CDN": NO_CDN,
    # A closed browser tab keeps its models in memory until its kernel is culled: Solara's default
    # is a day (10 open/close cycles grew the server by 157 MB). A tab that reconnects within
    # this time (a laptop lid closed for a moment) keeps its run.
    "SOLARA_KERNEL_CULL_TIMEOUT": "3m",
    "SOLARA_THEME_SHOW_BANNER": "False",  # "This website runs on Solara" would sit on the plots in class
}


def solara_command(host: str, port: int) -> list[str]:
    """The `solara run` command line serving the app (production mode: no auto-reload, no dev tools)."""
    return [sys.executable, "-m", "solara", "run", str(APP), "--host", host, "--port", str(port),
            "--production", "--no-open", "--no-check-version"]


def server_env(scenario: Path | None, base: dict | None = None) -> dict:
    """The environment of the server process: the scenario to open on, and Solara kept quiet."""
    env = dict(os.environ if base is None else base)
    env.update(QUIET_ENV)
    env[WARM_UP_ENV] = "1"
    env.setdefault("RECRUITSIM_THREADS", str(available_cpus()))  # the room's one run has the machine
    # Solara warns on every new browser that a loopback address other than "localhost" gets a
    # lax session cookie: true, and harmless here; keep the trainer's terminal readable.
    env["PYTHONWARNINGS"] = ",".join(filter(None, [env.get("PYTHONWARNINGS"), "ignore:Cookies with samesite=none:UserWarning"]))
    if scenario is not None:
        env[SCENARIO_ENV] = str(Path(scenario).resolve())
    else:
        env.pop(SCENARIO_ENV, None)
    return env


@click.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True, help="port to serve on")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to serve on (127.0.0.1: this computer only)")
@click.option("--open/--no-open", "open_browser", default=False, show_default=True, help="open a browser on the page")
def dashboard(scenario: Path | None, port: int, host: str, open_browser: bool) -> None:
    """Open the interactive dashboard on SCENARIO, a file or a bundled name (default: the bundled baseline).

    Serves http://HOST:PORT/ until Ctrl-C; needs no internet (install: pip install 'recruitsim[dashboard]').
    """
    from sim.errors import RecruitsimError

    missing = missing_dashboard_packages()
    if missing:
        raise RecruitsimError(f"the dashboard needs the 'dashboard' extra ({', '.join(missing)} missing): pip install 'recruitsim[dashboard]'")
    if scenario is not None:
        from sim.scenario import load_scenario
        from sim.scenario.bundled import find_scenario

        scenario = find_scenario(scenario)
        load_scenario(scenario)  # a bad file fails here, as one line, not in the browser
    if port_in_use(host, port):
        raise RecruitsimError(f"port {port} on {host} is in use (another dashboard still running?); choose another with --port {port + 1}")
    if not is_loopback(host):
        click.echo(f"warning: serving on {host}: anyone who can reach this computer on port {port} can open the dashboard and "
                   "run models on it (there is no login); use --host 127.0.0.1 to keep it to this computer", err=True)
    env = server_env(scenario)
    command = solara_command(host, port)
    if open_browser:
        command.remove("--no-open")
    click.echo(f"recruitsim dashboard on http://{host}:{port}/ (Ctrl-C stops it)", err=True)
    returncode = serve(command, env)
    if returncode not in (0, -2, 130, -signal.SIGTERM, 128 + signal.SIGTERM):
        raise SystemExit(returncode)


def serve(command: list[str], env: dict | None) -> int:
    """Run the server until it stops; its exit code. SIGTERM and SIGHUP sent to this process are
    passed on to the server, so that stopping `recruitsim dashboard` (a service manager, `kill`,
    a closed terminal) never leaves the server behind, listening on the port. Ctrl-C reaches both
    already (one process group)."""
    server = subprocess.Popen(command, env=env)
    forward = {sig: signal.signal(sig, lambda signum, frame: server.send_signal(signum)) for sig in _FORWARDED}
    try:
        return server.wait()
    except KeyboardInterrupt:
        return server.wait()  # the server got the same Ctrl-C and is stopping
    finally:
        for sig, previous in forward.items():
            signal.signal(sig, previous)
        if server.poll() is None:  # an error here: do not leave the server running
            server.terminate()
            server.wait()


_FORWARDED = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this computer only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def port_in_use(host: str, port: int) -> bool:
    """Whether another process listens on `port` at `host` (the server would fail with uvicorn's own error)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a closed server's TIME_WAIT is no conflict
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False
