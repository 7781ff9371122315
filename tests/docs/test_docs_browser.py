"""``/docs`` in a real browser: headless Chromium (Debian's ``chromium`` + ``chromium-driver``)
driven by selenium against a live server on 127.0.0.1.

The browser may resolve no host name at all (``--host-resolver-rules``), so the test also
proves the page works without internet. A screenshot goes to ``artifacts/`` whatever the
outcome, for a person (or CI) to look at.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from tests.docs.examples_support import ROOT, load_example, openapi_examples
from tests.support.binaries import require_binary

pytestmark = pytest.mark.slow

ARTIFACTS = ROOT / "artifacts"
SCREENSHOT = ARTIFACTS / "docs-try-it-out.png"
WAIT_SECONDS = 30

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,2000",
    # Every host name fails to resolve: a CDN link would break the page, not load quietly.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


@pytest.fixture(scope="module")
def live_server(app: Flask) -> Iterator[str]:
    """The app on a free 127.0.0.1 port, served by werkzeug in a background thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="docs-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile; skipped locally (failed under CI) if absent."""
    chromium = require_binary("chromium")
    chromedriver = require_binary("chromedriver", package="chromium-driver")
    with tempfile.TemporaryDirectory(prefix="popcheck-chromium-") as profile:
        options = webdriver.ChromeOptions()
        # Explicit paths keep selenium from trying to download a browser or driver.
        options.binary_location = chromium
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
        try:
            yield driver
        finally:
            driver.quit()


def _screenshot(driver: WebDriver) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(SCREENSHOT))
    return SCREENSHOT


def test_try_it_out_with_the_first_example(browser: WebDriver, live_server: str) -> None:
    first = next(iter(openapi_examples()))
    expected_level = load_example(first).expect["urgency"]
    wait = WebDriverWait(browser, WAIT_SECONDS)
    try:
        # Through "/", as someone who opens the service in a browser would.
        browser.get(f"{live_server}/")
        assert browser.current_url == f"{live_server}/docs"

        path = wait.until(
            ec.element_to_be_clickable(
                (By.CSS_SELECTOR, '.opblock-post .opblock-summary-path[data-path="/assess"]')
            )
        )
        # The operation's own block (class token "opblock"), not its summary row.
        operation = path.find_element(
            By.XPATH, "./ancestor::div[contains(concat(' ', @class, ' '), ' opblock ')][1]"
        )
        path.click()

        operation_wait = WebDriverWait(operation, WAIT_SECONDS)
        operation_wait.until(
            lambda op: op.find_element(By.CSS_SELECTOR, "button.try-out__btn")
        ).click()
        chosen = operation_wait.until(
            lambda op: op.find_element(By.CSS_SELECTOR, ".examples-select select")
        )
        assert chosen.get_attribute("value") == first, "the first example should be preselected"
        operation_wait.until(lambda op: op.find_element(By.CSS_SELECTOR, "button.execute")).click()

        status = operation_wait.until(
            lambda op: op.find_element(
                By.CSS_SELECTOR, ".live-responses-table .response .response-col_status"
            )
        )
        body = operation.find_element(
            By.CSS_SELECTOR, ".live-responses-table .response-col_description pre"
        )
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", status)
        assert status.text.strip() == "200"
        answer = json.loads(body.get_attribute("textContent") or "")
        assert answer["urgency"]["level"] == expected_level
    finally:
        _screenshot(browser)

    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], "the page logged errors (a blocked request or a script failure)"
    assert SCREENSHOT.stat().st_size > 10_000
