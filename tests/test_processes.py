"""A killed command leaves no process behind: run, sweep and worker, killed every usual way,
with their process trees listed before and checked after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .service_helpers import wait_until

XORGPU = [sys.executable, "-m", "xorgpu.cli.main"]
LONG_ARRAY_RUN = ["run", "--nets", "100000", "--epochs", "1000000", "--engine", "array", "--processes", "2",
                  "--backend", "numpy"]
LONG_ARRAY_SWEEP = ["sweep", "--nets", "100000", "--epochs", "1000000", "--hidden", "2,3", "--engine", "array",
                    "--backend", "numpy"]


def children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def descendants(pid: int) -> set[int]:
    tree, found, todo = children_of(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped by whoever adopted it, does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def at_least(count: int, found: set[int]) -> set[int] | None:
    return found if len(found) >= count else None


def start(command: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, **(env or {})})


def assert_family_dies(process: subprocess.Popen, family: set[int], how: str) -> None:
    try:
        if how != "timeout":
            os.kill(process.pid, getattr(signal, how))
        process.wait(timeout=60)
        wait_until(lambda: not [pid for pid in family if alive(pid)], timeout=20,
                   what=f"every process of the command to end after {how}")
    finally:  # whatever the verdict, leave nothing running
        for pid in family:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGKILL", "timeout"])
@pytest.mark.parametrize("command", [LONG_ARRAY_RUN, LONG_ARRAY_SWEEP], ids=["run", "sweep"])
def test_a_killed_local_run_leaves_no_process_behind(command, how, tmp_path):
    full = XORGPU + command
    if how == "timeout":
        full = ["timeout", "4", *full]
    process = start(full, tmp_path)
    # the forkserver and the pool's two processes are up (and training) once there are 3 or more
    family = wait_until(lambda: at_least(3, descendants(process.pid)), timeout=60, what="the pool processes to start")
    assert_family_dies(process, family | {process.pid}, how)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGKILL"])
def test_a_killed_worker_leaves_no_process_behind(how, redis_server, tmp_path):
    process = start(XORGPU + ["worker", "--concurrency", "2", "--redis-url", redis_server.url], tmp_path,
                    {"XORGPU_BACKEND": "numpy"})
    family = wait_until(lambda: at_least(2, descendants(process.pid)), timeout=60,
                        what="the worker's pool processes to start")
    assert_family_dies(process, family | {process.pid}, how)


LONG_FUSED = {  # each would run for hours: only a stop between the kernel's calls ends it
    "run, one net, 1e8 epochs": ["run", "--nets", "1", "--epochs", "100000000", "--engine", "fused"],
    "run, 2e5 nets": ["run", "--nets", "200000", "--epochs", "1000000", "--engine", "fused", "-o", "never.parquet"],
    "map": ["map", "--x", "lr:0.1:10:log", "--y", "momentum:0:0.9", "--resolution", "2000", "--epochs", "1000000",
            "--engine", "fused", "--out", "never.npz"],
    "array engine in processes": [*LONG_ARRAY_RUN, "-o", "never.parquet"],
}


@pytest.mark.slow
@pytest.mark.parametrize("signal_name, status, said", [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated")])
@pytest.mark.parametrize("command", LONG_FUSED.values(), ids=LONG_FUSED.keys())
def test_ctrl_c_and_sigterm_stop_every_engine_within_seconds_in_one_line(command, signal_name, status, said, tmp_path):
    import time  # noqa: PLC0415

    subprocess.run([*XORGPU, "run", "--nets", "10", "--epochs", "10"], check=True, capture_output=True)  # compiled
    process = subprocess.Popen(XORGPU + command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    time.sleep(3)  # well into training
    assert process.poll() is None
    sent = time.monotonic()
    os.killpg(process.pid, getattr(signal, signal_name))  # as a terminal's Ctrl-C: the whole process group
    _, stderr = process.communicate(timeout=60)
    assert time.monotonic() - sent < 5, f"took {time.monotonic() - sent:.1f} s to stop"
    assert process.returncode == status and stderr == f"xorgpu: error: {said}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no output, not even half of one
