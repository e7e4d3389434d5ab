"""Shared fixtures. Service tests (Redis, Celery) live in their own fixtures module."""

from __future__ import annotations

import pytest

from xorgpu.backend import numpy_backend, resolve_backend

from .strict_xp import strict_backend


def _cupy_or_skip():
    try:
        return resolve_backend("cupy")
    except Exception as error:  # noqa: BLE001
        pytest.skip(f"no CUDA device for CuPy here: {error}")


@pytest.fixture(params=["numpy", "strict", "cupy"])
def backend(request):
    """Every array namespace the engine must run on; CuPy only where a CUDA device exists."""
    if request.param == "numpy":
        return numpy_backend()
    if request.param == "strict":
        return strict_backend()
    return _cupy_or_skip()
