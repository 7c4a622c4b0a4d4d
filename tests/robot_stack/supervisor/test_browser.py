"""The dashboard in headless Chromium, served by a real uvicorn, fed by synthetic episodes:
the charts fill, the e-stop button publishes `estop` and the page shows it; a screenshot is kept."""
from __future__ import annotations

import os
import time

import pytest

from robot_stack.topics import EventKind as K
from tests.robot_stack.supervisor.conftest import TOKEN
from tests.robot_stack.supervisor.helpers import Feeder

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def page():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: `./rlif.sh test` installs it (apt package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            pg = browser.new_page(viewport={"width": 1400, "height": 900})
            pg.set_default_timeout(15_000)
            yield pg
        finally:
            browser.close()


def offline(page, url: str) -> list[str]:
    """Refuse (and record) every request that does not go to the supervisor itself."""
    outside: list[str] = []

    def route(r):
        if r.request.url.startswith(url) or r.request.url.startswith("data:"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return outside


def points(page, chart: str) -> int:
    return int(page.get_attribute(f"#chart-{chart}", "data-points") or 0)


def wait_until(cond, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_dashboard_fills_charts_and_estop_works(page, live_server, state, events, artifacts_dir):
    _, url = live_server
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    outside = offline(page, url)
    feeder = Feeder(state)
    feeder.start()
    try:
        page.goto(f"{url}/?token={TOKEN}")
        assert "token=" not in page.url  # taken into sessionStorage, out of the address bar
        page.wait_for_function("document.querySelector('#chart-success').dataset.points >= 3")
        first = points(page, "success")
        page.wait_for_function(f"document.querySelector('#chart-success').dataset.points > {first}")
        for chart in ("interv", "length", "updates"):
            assert points(page, chart) >= 3, chart
        assert page.get_attribute("#drives", "data-drives") in ("policy", "operator", "hold")
        page.wait_for_selector("#conn.up")
        page.wait_for_selector("#camera:not([hidden])")
        assert page.inner_text("#t-episodes") != "0"

        assert not page.is_visible("#estop-banner") and page.is_disabled("#btn-clear")
        page.click("#btn-estop")
        page.wait_for_selector("#estop-banner", state="visible")
        page.wait_for_selector("body[data-estop='true']")
        assert K.ESTOP in events.kinds() and state.status()["estop"]
        page.wait_for_function(f"document.querySelector('#chart-success').dataset.points > {points(page, 'success')}")
        page.screenshot(path=os.path.join(artifacts_dir, "supervisor-dashboard.png"), full_page=True)

        page.on("dialog", lambda d: d.accept())  # "Clear the e-stop?" confirmation
        page.click("#btn-clear")
        page.wait_for_selector("#estop-banner", state="hidden")
        wait_until(lambda: not state.status()["estop"], what="estop cleared in the state")
        assert events.kinds()[-1] == K.ESTOP_CLEAR

        page.click("#btn-pause")
        page.wait_for_selector("#btn-resume:not([hidden])")
        assert events.kinds()[-1] == K.TRAINING_PAUSE
    finally:
        feeder.stop()
    assert feeder.episodes > 5
    assert not errors, errors
    assert not outside, f"the dashboard fetched from outside the supervisor: {outside}"


def test_dashboard_without_a_token_asks_for_one(page, live_server, events):
    _, url = live_server
    page.goto(f"{url}/")
    page.click("#btn-estop")
    page.wait_for_selector("#token-form:not([hidden])")
    assert "token" in page.inner_text("#message") and events.events == []
    page.fill("#token-input", "wrong")
    page.click("#token-form button")
    page.click("#btn-estop")
    page.wait_for_function("document.querySelector('#message').textContent.includes('rejected')")
    assert events.events == []


def test_read_only_dashboard_disables_the_controls(page, tmp_path):
    import dataclasses

    from robot_stack.config import SupervisorConfig
    from robot_stack.supervisor.app import create_app
    from robot_stack.supervisor.server import SupervisorServer
    from robot_stack.supervisor.state import SupervisorState

    state = SupervisorState(None)
    state.add_metrics([{"episode": i, "success": i % 2, "interventions": 1, "intervention_rate": 0.1,
                        "length": 50 + i, "autonomous": 0, "updates_per_s": 10.0} for i in range(30)])
    cfg = dataclasses.replace(SupervisorConfig(), port=0)
    with SupervisorServer(create_app(state, TOKEN, tmp_path, cfg), cfg) as server:
        page.goto(server.url + "/")
        page.wait_for_function("document.querySelector('#chart-length').dataset.points == 30")
        page.wait_for_function("document.querySelector('#mode').textContent.includes('read-only')")
        for button in ("#btn-estop", "#btn-start", "#btn-success", "#btn-abort", "#btn-pause", "#btn-clear"):
            assert page.is_disabled(button), button
