"""Open a report in a real headless browser (Debian's chromium, driven by selenium through
Debian's chromedriver: nothing is downloaded) and read what it drew.

Where there is no chromium the report tests are skipped, unless XORGPU_REQUIRE_BROWSER=1
(.ci/run sets it), which makes that a failure.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import time
import urllib.parse
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)
DRAW_TIMEOUT = 30  # seconds for a page to draw all its figures


def start_browser(profile: Path):
    """A headless chromium at 1280 x 900, or a skip saying what is missing."""
    missing = [name for name, path in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)) if path is None]
    try:
        from selenium import webdriver  # noqa: PLC0415
        from selenium.webdriver.chrome.service import Service  # noqa: PLC0415
    except ImportError:
        missing.append("selenium (pip install -e '.[test]')")
    if missing:
        reason = f"no {', '.join(missing)} here (.ci/run installs Debian's chromium and chromium-driver)"
        if os.environ.get("XORGPU_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={profile}"):
        options.add_argument(argument)
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


class Rendered:
    """A page as the browser drew it."""

    def __init__(self, driver, page: Path) -> None:
        self.driver = driver
        driver.get(page.resolve().as_uri())
        deadline = time.monotonic() + DRAW_TIMEOUT
        while self.figures_drawn is None and time.monotonic() < deadline:
            time.sleep(0.1)
        self.log = driver.get_log("browser")

    def script(self, code: str, *arguments):
        return self.driver.execute_script(code, *arguments)

    @property
    def figures_drawn(self) -> int | None:
        """How many figures the page's script saw drawn (None: it has not finished)."""
        value = self.script("return document.body.getAttribute('data-figures-drawn')")
        return None if value is None else int(value)

    @property
    def figures_on_page(self) -> int:
        """Every figure the page holds: interactive ones and images."""
        return self.script("return document.querySelectorAll('div.plot, img').length")

    def figures_with_data(self) -> list[int]:
        """For each interactive figure, how many marks (lines, bars, heatmap cells) plotly drew."""
        return self.script("""return Array.prototype.map.call(document.querySelectorAll('div.plot'), function (d) {
            return d.querySelectorAll('.scatterlayer .trace, .barlayer .point, .heatmaplayer image, .hm').length; });""")

    def console_errors(self) -> list[str]:
        return [entry["message"] for entry in self.log if entry["level"] in ("SEVERE", "ERROR")]

    @property
    def text(self) -> str:
        return self.script("return document.body.innerText")

    @property
    def source(self) -> str:
        return self.driver.page_source

    def headers(self, table: str) -> list[str]:
        return self.script(f"return Array.prototype.map.call(document.querySelectorAll('#{table} th'), "
                           "function (th) { return th.getAttribute('data-key'); })")

    def column(self, table: str, key: str) -> list[str]:
        """The raw values (data-value) of one column, in the order the page shows them."""
        index = self.headers(table).index(key)
        return self.script(f"return Array.prototype.map.call(document.querySelectorAll('#{table} tbody tr'), "
                           f"function (tr) {{ return tr.cells[{index}].getAttribute('data-value'); }})")

    def click_header(self, table: str, key: str) -> None:
        index = self.headers(table).index(key)
        self.driver.find_elements("css selector", f"#{table} th")[index].click()

    def csv(self, table: str) -> list[dict[str, str]]:
        """The rows behind the table's "download as CSV" link."""
        link = self.script(f"return document.getElementById('{table}-csv').getAttribute('href')")
        prefix = "data:text/csv;charset=utf-8,"
        assert link.startswith(prefix), link
        return list(csv.DictReader(io.StringIO(urllib.parse.unquote(link[len(prefix):]))))

    def tables(self) -> list[str]:
        return self.script("return Array.prototype.map.call(document.querySelectorAll('table.data'), "
                           "function (t) { return t.id; })")


def numbers(values: list[str]) -> list[float]:
    return [float(v) if v not in ("", None) else float("nan") for v in values]
