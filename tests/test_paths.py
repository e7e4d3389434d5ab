"""Outputs and inputs that are not regular files: a command refuses them in one line and
leaves them as they were, for every command that writes or reads a file. A device node,
a FIFO or a link to nowhere is never replaced, written through, or read until it ends."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

XORGPU = [sys.executable, "-m", "xorgpu.cli.main"]
SMALL_RUN = ["--nets", "10", "--epochs", "10"]


def made(kind: str, folder: Path) -> Path:
    """A path of `kind` in folder: a FIFO, a link to nowhere, a link to a FIFO."""
    path = folder / f"the-{kind}.out"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dangling link":
        path.symlink_to(folder / "nowhere" / "x")
    elif kind == "link to a fifo":
        os.mkfifo(folder / "real-fifo")
        path.symlink_to(folder / "real-fifo")
    return path


def state(path: Path) -> tuple:
    info = os.lstat(path)
    return stat.S_IFMT(info.st_mode), info.st_ino, info.st_mtime_ns, os.readlink(path) if path.is_symlink() else None


OUTPUTS = {  # command, with {out} where the output goes, and the suffix it must have
    "run -o": (["run", *SMALL_RUN, "-o", "{out}"], ".parquet"),
    "run -o .npz": (["run", *SMALL_RUN, "-o", "{out}"], ".npz"),
    "map --out": (["map", "--x", "lr:0.1:1", "--y", "b2:0:1", "--resolution", "4", "--epochs", "5", "--out", "{out}"],
                  ".npz"),
    "map --png": (["map", "--x", "lr:0.1:1", "--y", "b2:0:1", "--resolution", "4", "--epochs", "5", "--png", "{out}"],
                  ".png"),
    "sweep -o": (["sweep", *SMALL_RUN, "--hidden", "2,3", "-o", "{out}"], ".jsonl"),
    "report -o": (["report", "{good}", "-o", "{out}"], ".html"),
    "compare --report": (["compare", "{good}", "{good}", "--report", "{out}"], ".html"),
}


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("good") / "nets.npz"
    subprocess.run([*XORGPU, "run", "--nets", "20", "--epochs", "20", "-o", str(path)], check=True, capture_output=True)
    return path


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", ["fifo", "dangling link", "link to a fifo", "/dev/null"])
@pytest.mark.parametrize("command, suffix", OUTPUTS.values(), ids=OUTPUTS.keys())
def test_an_output_that_is_not_a_regular_file_is_refused_and_left_untouched(command, suffix, kind, good, tmp_path):
    if kind == "/dev/null":
        target = Path("/dev/null")
        if suffix != ".parquet":
            pytest.skip("one suffix is enough for /dev/null (its name has none: it is refused by its kind first)")
    else:
        target = made(kind, tmp_path).rename(tmp_path / f"the-{kind.replace(' ', '-')}{suffix}")
    before = state(target)
    args = [a.replace("{out}", str(target)).replace("{good}", str(good)) for a in command]
    result = subprocess.run([*XORGPU, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("xorgpu: error: cannot write ") and ("not a regular file" in line or "link to" in line)
    assert state(target) == before


INPUTS = {
    "inspect": ["inspect", "{in}", "--seed", "0"],
    "plot": ["plot", "{in}", "-o", "figures"],
    "report": ["report", "{in}", "-o", "r.html"],
    "compare": ["compare", "{in}", "{in}"],
    "load": ["results-of-python"],
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["fifo", "link to a fifo", "/dev/zero"])
@pytest.mark.parametrize("command", INPUTS.values(), ids=INPUTS.keys())
def test_an_input_that_is_not_a_regular_file_is_refused_at_once(command, kind, tmp_path):
    source = Path("/dev/zero") if kind == "/dev/zero" else made(kind, tmp_path)
    if command == ["results-of-python"]:
        result = subprocess.run([sys.executable, "-c", f"import xorgpu; xorgpu.load({str(source)!r})"], cwd=tmp_path,
                                capture_output=True, text=True, timeout=30)
        assert result.returncode != 0 and "is not a regular file" in result.stderr
        return
    args = [a.replace("{in}", str(source)) for a in command]
    result = subprocess.run([*XORGPU, *args], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert "is not a regular file" in line
