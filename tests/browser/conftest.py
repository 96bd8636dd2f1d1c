"""Headless Chromium from the distribution (/usr/bin/chromium + /usr/bin/chromedriver), driven
by Selenium. Tests here skip when the browser is absent, unless PROMESSA_REQUIRE_BROWSER=1
(as in CI) makes that a failure. Selenium never downloads a browser or a driver: both paths are
given.

Selenium is blocking and the live server runs in the test's event loop, so every browser call
goes through `Page`, which runs it in a worker thread while the loop keeps serving.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest

from tests.conftest import ROOT

CHROMIUM = os.environ.get("PROMESSA_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PROMESSA_CHROMEDRIVER", "/usr/bin/chromedriver")
REQUIRE_BROWSER = os.environ.get("PROMESSA_REQUIRE_BROWSER") == "1"
WAIT_SECONDS = 20


def screenshot_dir() -> Path:
    """Where screenshots go: $PROMESSA_SCREENSHOTS, else artifacts/screenshots (gitignored)."""
    path = Path(os.environ.get("PROMESSA_SCREENSHOTS", ROOT / "artifacts" / "screenshots"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).is_file() and os.access(path, os.X_OK)):
            return f"{path} is missing: apt-get install -y chromium chromium-driver"
    return None


def _driver(language: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-dev-shm-usage",
                 "--disable-extensions", "--no-first-run", "--hide-scrollbars",
                 f"--lang={language}", "--window-size=1280,900"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture(scope="session")
def chrome_factory() -> Iterator[Callable[[str], Any]]:
    """`chrome_factory(language)`: a headless Chromium preferring that language, one per
    language for the whole session (started on first use, quit at the end)."""
    reason = _missing()
    if reason:
        if REQUIRE_BROWSER:
            pytest.fail(f"the browser tests are required (PROMESSA_REQUIRE_BROWSER=1) but "
                        f"{reason}")
        pytest.skip(reason)
    drivers: dict[str, Any] = {}

    def get(language: str) -> Any:
        if language not in drivers:
            drivers[language] = _driver(language)
        return drivers[language]

    yield get
    for driver in drivers.values():
        driver.quit()


class Page:
    """The browser, with each blocking Selenium call run in a worker thread."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await anyio.to_thread.run_sync(fn, *args)

    async def open(self, url: str) -> None:
        def go() -> None:
            self.driver.set_window_size(1280, 900)
            self.driver.get("about:blank")
            self.driver.get_log("browser")  # start with a clean console
            self.driver.get(url)

        await self.run(go)

    async def wait(self, condition: Callable[[Any], Any], message: str = "") -> Any:
        from selenium.webdriver.support.ui import WebDriverWait

        return await self.run(lambda: WebDriverWait(self.driver, WAIT_SECONDS).until(
            condition, message))

    async def wait_text(self, element_id: str, text: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec

        await self.wait(ec.text_to_be_present_in_element((By.ID, element_id), text),
                        f"#{element_id} never showed {text!r}")

    async def text(self, element_id: str) -> str:
        from selenium.webdriver.common.by import By

        return await self.run(lambda: self.driver.find_element(By.ID, element_id).text)

    async def console_problems(self) -> list[str]:
        """Console errors and warnings since the last call (CSP violations among them)."""
        entries = await self.run(self.driver.get_log, "browser")
        return [e["message"] for e in entries if e["level"] in ("SEVERE", "WARNING")]

    async def script(self, source: str, *args: Any) -> Any:
        return await self.run(self.driver.execute_script, source, *args)

    async def shot(self, name: str, width: int, height: int) -> Path:
        """Screenshots at one screen size (a phone's is emulated as a mobile screen): what
        fits the screen, and the whole page."""
        def take() -> Path:
            folder = screenshot_dir()
            metrics = {"width": width, "height": height, "deviceScaleFactor": 1,
                       "mobile": width < 600}
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
            try:
                self.driver.save_screenshot(str(folder / f"{name}-{width}.png"))
                full = self.driver.execute_script(
                    "return document.documentElement.scrollHeight")
                self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                            {**metrics, "height": max(height, full)})
                path = folder / f"{name}-{width}-full.png"
                self.driver.save_screenshot(str(path))
                self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
                return path
            finally:
                self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

        return await self.run(take)

    async def fits_width(self, width: int, height: int) -> bool:
        """True when the page needs no sideways scrolling on a screen that wide."""
        def measure() -> bool:
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": height, "deviceScaleFactor": 1,
                "mobile": width < 600})
            try:
                return self.driver.execute_script(
                    "const root = document.documentElement;"
                    "return root.scrollWidth <= root.clientWidth")
            finally:
                self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

        return await self.run(measure)


@pytest.fixture
def page(chrome_factory: Callable[[str], Any]) -> Iterator[Page]:
    """An English-speaking browser with nothing remembered from an earlier test."""
    driver = chrome_factory("en-US")
    yield Page(driver)
    driver.get("about:blank")
    driver.delete_all_cookies()


@pytest.fixture
def italian_page(chrome_factory: Callable[[str], Any]) -> Iterator[Page]:
    driver = chrome_factory("it-IT")
    yield Page(driver)
    driver.get("about:blank")
