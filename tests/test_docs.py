"""Every example a reader would type, in README.md and docs/*.md, run as they would run it:
each document's `sh` and `python` blocks in order, in one fresh folder, with the installed
`xorgpu` on PATH and a home of its own (so nothing of the machine's is read or written).

A block preceded by `<!-- example: redis -->` gets a throw-away redis-server as the default
XORGPU_REDIS_URL (it starts the workers it needs itself); one preceded by
`<!-- example: not run: REASON -->` is skipped, and must say why. Whatever a block starts
in the background ends with it. A block fails on any command that fails, and on a map
that shows no boundary (an example map that shows one is what the docs promise).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .service_helpers import RedisServer

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?:<!-- example: (?P<directive>[^\n]*?) -->\n)?^```(?P<language>[a-z]*)\n(?P<code>.*?)^```",
                   re.S | re.M)
RUN_LANGUAGES = ("sh", "python")
BLOCK_SECONDS = 400


@dataclass(frozen=True)
class Example:
    document: Path
    line: int
    language: str
    code: str
    directive: str

    @property
    def skipped(self) -> bool:
        return self.directive.startswith("not run")


def examples(document: Path) -> list[Example]:
    text = document.read_text()
    return [Example(document, text[:found.start("code")].count("\n") + 1, found["language"], found["code"],
                    (found["directive"] or "").strip())
            for found in BLOCK.finditer(text) if found["language"] in RUN_LANGUAGES]


def test_every_example_is_run_or_says_why_not():
    every = [example for document in DOCUMENTS for example in examples(document)]
    assert len(every) >= 15
    for example in every:
        assert example.directive in ("", "redis") or re.fullmatch(r"not run: \S.{10,}", example.directive), \
            f"{example.document.name}:{example.line}: unknown directive {example.directive!r}"
    skipped = [e for e in every if e.skipped]
    assert len(skipped) <= 5, [f"{e.document.name}:{e.line}" for e in skipped]  # few, each with its reason


def run_example(example: Example, folder: Path, env: dict[str, str]) -> str:
    if example.language == "sh":
        command = ["bash", "-e", "-o", "pipefail", "-c", example.code]
    else:
        command = [sys.executable, "-c", example.code]
    process = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=BLOCK_SECONDS)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)  # what the block left in the background (a worker)
        except ProcessLookupError:
            pass
    where = f"{example.document.relative_to(ROOT)}:{example.line}"
    assert process.returncode == 0, f"{where} failed (exit {process.returncode}):\n{example.code}\n{output[-4000:]}"
    assert "none: no boundary in this view" not in output, f"{where}: an example map without a boundary:\n{output[-2000:]}"
    return output


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.name for d in DOCUMENTS])
def test_the_examples_of_a_document_run_in_order(document, tmp_path):
    runnable = [e for e in examples(document) if not e.skipped]
    if not runnable:
        pytest.skip(f"{document.name} has no example to run")
    folder, home = tmp_path / "work", tmp_path / "home"
    folder.mkdir()
    home.mkdir()
    binaries = Path(sys.executable).parent
    env = {"PATH": f"{binaries}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "PYTHONUNBUFFERED": "1", "XORGPU_VISIBILITY_TIMEOUT": "60"}
    server = None
    try:
        for example in runnable:
            if example.directive == "redis" and server is None:
                server = RedisServer(tmp_path).start()
            run_example(example, folder, {**env, **({"XORGPU_REDIS_URL": server.url} if server else {})})
    finally:
        if server is not None:
            server.stop()
