"""Open a page in a real headless browser (Debian's chromium) and read what it rendered."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def render(page: Path, profile: Path) -> tuple[str, str]:
    """(the DOM after load, the browser's log), from chromium --headless --dump-dom."""
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH (.ci/run installs Debian's chromium)")
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000",
         "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    return done.stdout, done.stderr


def console_errors(log: str) -> list[str]:
    return [line for line in log.splitlines() if re.search(r"CONSOLE|Uncaught|ERROR:.*(js|script)", line)]


def figures_loaded(dom: str) -> int:
    found = re.search(r'data-figures-loaded="(\d+)"', dom)
    return int(found.group(1)) if found else -1
