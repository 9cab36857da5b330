"""`recruitsim dashboard [SCENARIO]`: serve the dashboard locally with `solara run`.

This module imports only click (and the standard library), so `recruitsim --help` works without
the dashboard extra; the extra's absence is reported when the command runs.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import click

APP = Path(__file__).with_name("app.py")
SCENARIO_ENV = "RECRUITSIM_DASHBOARD_SCENARIO"  # read by sim/dashboard/app.py
NEEDED = ("solara", "mesa.visualization", "matplotlib")


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
            import solara  # noqa: F401

            import mesa.visualization  # noqa: F401  (imports altair)
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
}


def solara_command(host: str, port: int) -> list[str]:
    """The `solara run` command line serving the app (production mode: no auto-reload, no dev tools)."""
    return [sys.executable, "-m", "solara", "run", str(APP), "--host", host, "--port", str(port),
            "--production", "--no-open", "--no-check-version"]


def server_env(scenario: Path | None, base: dict | None = None) -> dict:
    """The environment of the server process: the scenario to open on, and Solara kept quiet."""
    env = dict(os.environ if base is None else base)
    env.update(QUIET_ENV)
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
    env = server_env(scenario)
    command = solara_command(host, port)
    if open_browser:
        command.remove("--no-open")
    click.echo(f"recruitsim dashboard on http://{host}:{port}/ (Ctrl-C stops it)", err=True)
    try:
        completed = subprocess.run(command, env=env, check=False)
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    if completed.returncode not in (0, -2, 130):
        raise SystemExit(completed.returncode)
