"""Where a result came from: which seeds, which xorgpu, what trained it, where and when.

Every report (`--json`, results files, sweep rows, HTML) carries one under "provenance":
    seeds         "A:B"
    version       xorgpu's version
    engine, backend, device
                  what actually trained the nets (never "auto"); a job trained by several
                  kinds of worker lists each, comma-separated
    host, python, numpy
                  the machine and versions (of the submitter, for a job)
    started       when training started, ISO 8601, UTC
    wall_seconds  how long it took (for a job: from its first chunk's start to its end)
    workers, hosts
                  for a job: the workers and hosts that trained its chunks
"""

from __future__ import annotations

import datetime
import platform
import socket
from typing import Any

import numpy as np

from .version import __version__
from .config import SeedRange


def here() -> dict[str, str]:
    """This machine and its versions."""
    return {"version": __version__, "host": socket.gethostname(), "python": platform.python_version(),
            "numpy": np.__version__}


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).isoformat(timespec="seconds")


def of_local_run(seeds: SeedRange, ran: dict[str, str], started: float, wall_seconds: float) -> dict[str, Any]:
    """A run in this process: ran is Plan.ran() (engine, backend, device)."""
    return {"seeds": str(seeds), **here(), **ran, "started": iso(started), "wall_seconds": round(wall_seconds, 3)}


def of_job(seeds: SeedRange, made: dict[str, list[str]], started: float | None, finished: float | None,
           submitted_by: dict[str, str] | None = None) -> dict[str, Any]:
    """A job: made is what trained its chunks (xorgpu.store.JobStore.made: engine, backend,
    device, worker, host -> the distinct values)."""
    return {
        "seeds": str(seeds), **(submitted_by or here()),
        "engine": ", ".join(made.get("engine", [])) or None, "backend": ", ".join(made.get("backend", [])) or None,
        "device": ", ".join(made.get("device", [])) or None,
        "started": iso(started),
        "wall_seconds": None if started is None or finished is None else round(finished - started, 3),
        "workers": made.get("worker", []), "hosts": made.get("host", []),
    }
