"""End to end: the dashboard served by `solara run`, driven in headless Chromium.

Checks that the page renders its controls, plots and network view, that stepping, playing and a
live-intervention button change the state and the plots, and that the page works offline:
every request the browser makes (page, scripts, styles, fonts, images, websockets) goes to the
loopback server, and none fails. Needs Debian's chromium (/usr/bin/chromium) and the dashboard
extra plus playwright; without them the test is skipped with the reason (never `playwright install`).
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
LOCAL_SCHEMES = {"blob", "data", "about"}  # made by the page itself, not fetched

if not CHROMIUM.exists():
    pytest.skip(f"browser test needs Debian's chromium at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)
pytest.importorskip("solara", reason="browser test needs the dashboard extra (pip install -e '.[dashboard]')")
pytest.importorskip("mesa.visualization", reason="browser test needs the dashboard extra (pip install -e '.[dashboard]')")
sync_api = pytest.importorskip("playwright.sync_api", reason="browser test needs playwright (pip install -e '.[dev]'; never `playwright install`)")

from sim.dashboard.command import server_env, solara_command  # noqa: E402

STARTUP_S = 45  # solara imports and the first model
TIMEOUT_MS = 20_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`solara run` on a free loopback port, as `recruitsim dashboard` starts it."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("dashboard") / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(solara_command("127.0.0.1", port), env=server_env(None), stdout=log, stderr=subprocess.STDOUT,
                                cwd=REPO)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"solara run exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the dashboard did not answer on {url} within {STARTUP_S} s:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.3)
        yield url, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in LOCAL_SCHEMES or (parsed.hostname or "") in LOOPBACK


def step_number(page) -> int:
    return int(page.locator(".recruitsim-step").first.text_content())


def image_src(page, name: str) -> str:
    return page.locator(f".recruitsim-plot-{name} img").first.get_attribute("src")


def wait_for_step(page, at_least: int) -> None:
    page.wait_for_function(
        f"() => {{ const e = document.querySelector('.recruitsim-step'); return e && Number(e.textContent) >= {at_least}; }}",
        timeout=TIMEOUT_MS)


def test_dashboard_in_a_browser_offline(server, tmp_path):
    url, log_path = server
    requests: list[str] = []
    failures: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1250})
            page.set_default_timeout(TIMEOUT_MS)
            page.on("request", lambda r: requests.append(r.url))
            page.on("websocket", lambda ws: requests.append(ws.url))
            page.on("requestfailed", lambda r: failures.append(f"{r.url}: {r.failure}"))
            page.on("response", lambda r: failures.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None)

            page.goto(url)
            # controls (Mesa's sidebar and ours), the network view and every plot render
            page.get_by_text("Live interventions").wait_for()
            for name in ("Reset", "Step", "▶", "Take down", "Infiltrate", "Arrest largest network", "Arrest core of largest network",
                         "Money-mule awareness campaign"):
                assert page.get_by_role("button", name=name, exact=True).is_visible(), name
            for label in ("Scenario", "Seed", "Population", "Forum recruitment", "Offline recruitment", "Play Interval (ms)"):
                assert page.get_by_text(label, exact=True).first.is_visible(), label
            for name in ("network", "network_twin", "members", "recruits", "origins", "forums", "losses"):
                page.locator(f".recruitsim-plot-{name} img").first.wait_for(state="attached")
                assert image_src(page, name), name
            assert step_number(page) == 0

            # step three times
            step = page.get_by_role("button", name="Step", exact=True)
            for i in range(1, 4):
                step.click()
                wait_for_step(page, i)
            members_before = image_src(page, "members")

            # a live intervention while paused: marked on the plots at once, acting from the next step
            page.get_by_role("button", name="Take down", exact=True).click()
            page.get_by_text("takedown open_forum_a: acts at year").wait_for()
            page.wait_for_function(
                f"() => document.querySelector('.recruitsim-plot-members img').src !== {members_before!r}", timeout=TIMEOUT_MS)

            # play; a button pressed while playing acts and the play goes on; pause
            page.get_by_role("button", name="▶", exact=True).click()
            wait_for_step(page, 6)
            page.get_by_role("button", name="Arrest largest network", exact=True).click()
            page.get_by_text("arrest largest network: acts at year").wait_for()
            wait_for_step(page, step_number(page) + 3)
            page.get_by_role("button", name="❚❚", exact=True).click()
            page.get_by_role("button", name="▶", exact=True).wait_for()
            time.sleep(0.5)
            reached = step_number(page)
            assert reached >= 9
            assert image_src(page, "members") != members_before
            status = page.locator(".recruitsim-status").inner_text()
            assert f"(step {reached})" in status and "with interventions" in status and "without (twin)" in status
            assert "Added: takedown open_forum_a (year 0.06); arrest largest network (year" in page.content()

            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 20_000
            print(f"screenshot: {shot}")
        finally:
            browser.close()

    assert requests, "no request recorded"
    outside = sorted({u for u in requests if not is_local(u)})
    assert not outside, f"requests to non-loopback hosts (the page would fail offline): {outside}"
    assert not failures, f"failed requests: {failures}"
    log = log_path.read_text(errors="replace")
    assert str(REPO / "sim") not in log, f"an error in recruitsim code on the server:\n{log[-3000:]}"
    assert "error in step" not in log, log[-3000:]
