"""Child processes that end with the process that started them, so a killed command leaves
none behind."""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import threading
import time
from typing import Iterator

PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies
POLL_SECONDS = 1.0  # where the kernel cannot tell us (no pidfd), how often to look


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (a no-op elsewhere).

    For children forked straight from the process they serve (Celery's pool processes)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)


def die_with(pid: int) -> None:
    """End this process when process `pid` ends, whoever this process's parent is.

    For children of multiprocessing's forkserver: their parent is the forkserver, which
    itself lives as long as any of them does, so only the process that asked for them can
    be watched. A daemon thread waits on a pidfd (Linux 5.3+), or looks every second."""
    try:
        handle = os.pidfd_open(pid)
    except (AttributeError, OSError):
        handle = None
        try:
            os.kill(pid, 0)
        except OSError:
            os._exit(1)

    def watch() -> None:
        if handle is not None:
            select.select([handle], [], [])
        else:
            while _exists(pid):
                time.sleep(POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name=f"dies-with-{pid}", daemon=True).start()


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Within it, Ctrl-C is held back, and taken as the process would take it once the block
    ends: for work an interrupt must not cut, such as numba loading or compiling a kernel,
    where a KeyboardInterrupt raised inside a C callback is printed and lost."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if held and callable(previous):
        previous(signal.SIGINT, None)  # Python's own handler raises KeyboardInterrupt
