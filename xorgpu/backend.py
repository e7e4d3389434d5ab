"""The CPU/GPU switch: which array module (`xp`) the engine runs on.

This is the only module that imports CuPy, and it does so lazily, when a backend is
resolved, never at import time: a Celery worker must not initialise CUDA before it forks.
The engine receives a `Backend` and never branches on which one it is; results come back
to the host through `Backend.to_host` alone.
"""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass
from typing import Any, Callable, ContextManager

import numpy as np

from .config import BACKENDS, ConfigError
from .memory import available_memory



@dataclass(frozen=True)
class Backend:
    name: str  # "numpy" or "cupy" (or a test stand-in's name)
    xp: Any  # the array module
    to_device: Callable[[np.ndarray], Any]
    to_host: Callable[[Any], np.ndarray]  # the one way results leave the device
    on_device: bool  # arrays live on an accelerator (CuPy): blocks as large as its memory allows
    device: str  # a human-readable name of what computes, for result records
    processes: int  # blocks trained at once, each in its own process
    free_memory: Callable[[], int | None]  # bytes the arrays may still take (None: unknown)
    quiet: Callable[[], ContextManager[Any]] = contextlib.nullcontext  # silence IEEE warnings
    synchronize: Callable[[], None] = lambda: None  # wait for the device's queued work (CuPy)


def resolve_backend(name: str = "auto") -> Backend:
    """`numpy`, `cupy` (an error without a usable CUDA device) or `auto` (CuPy if usable)."""
    if name not in BACKENDS:
        raise ConfigError(f"unknown backend {name!r}: use one of {', '.join(BACKENDS)}")
    if name == "numpy":
        return numpy_backend()
    cupy, why_not = _import_cupy()
    if cupy is not None:
        return _cupy_backend(cupy)
    if name == "cupy":
        raise ConfigError(f"backend cupy is not available: {why_not}")
    return numpy_backend()


def numpy_backend() -> Backend:
    return Backend(
        name="numpy",
        xp=np,
        to_device=np.ascontiguousarray,
        to_host=np.asarray,
        on_device=False,
        device=f"cpu ({socket.gethostname()})",
        processes=_usable_cpus(),
        free_memory=available_memory,
        # Diverging nets produce inf - inf; they are flagged, not warned about.
        quiet=lambda: np.errstate(all="ignore"),
    )


def _cupy_backend(cupy: Any) -> Backend:
    device_id = cupy.cuda.runtime.getDevice()
    props = cupy.cuda.runtime.getDeviceProperties(device_id)
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    return Backend(
        name="cupy",
        xp=cupy,
        to_device=cupy.asarray,
        to_host=cupy.asnumpy,
        on_device=True,
        processes=1,
        device=f"cuda:{device_id} {name} ({socket.gethostname()})",
        free_memory=lambda: int(cupy.cuda.runtime.memGetInfo()[0]) + int(cupy.get_default_memory_pool().free_bytes()),
        synchronize=cupy.cuda.runtime.deviceSynchronize,
    )


def _import_cupy() -> tuple[Any, str]:
    try:
        import cupy  # noqa: PLC0415  (lazy on purpose: see the module docstring)
    except Exception as exc:  # ImportError, or a broken CUDA install raising at import
        return None, f"CuPy does not import ({type(exc).__name__}: {exc}); install xorgpu[gpu]"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        return None, f"no CUDA device ({type(exc).__name__}: {exc})"
    if count < 1:
        return None, "no CUDA device"
    return cupy, ""


def _usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
