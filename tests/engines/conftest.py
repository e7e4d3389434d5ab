"""Fixtures of the engine tests: the CUDA kernel built for the host, CuPy where there is a GPU."""

from __future__ import annotations

import os

import pytest

from xorgpu.backend import Backend, resolve_backend
from xorgpu.config import ConfigError
from xorgpu.engines import fused_gpu
from xorgpu.engines.contract import Specialisation

from .cuda_on_host import HostKernels, compiler

# CI sets this, so that a missing compiler fails the CUDA checks instead of skipping them.
REQUIRE_TOOLKIT_ENV = "XORGPU_REQUIRE_CUDA_TOOLKIT"


def skip_or_fail(reason: str) -> None:
    if os.environ.get(REQUIRE_TOOLKIT_ENV) == "1":
        pytest.fail(f"{reason} (and {REQUIRE_TOOLKIT_ENV}=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def host_kernels(tmp_path_factory):
    """spec -> launch: the CUDA kernel compiled for the host, every specialisation of the
    conformance table in one library."""
    if compiler() is None:
        skip_or_fail("no C++ compiler to build the CUDA kernel for the host")
    from .test_conformance import CASES  # noqa: PLC0415

    specs = [Specialisation.of(c) for c in CASES.values() if not fused_gpu.why_not(c)]
    return HostKernels(specs, tmp_path_factory.mktemp("cuda-on-host")).compiled


def cupy_backend_or_none() -> Backend | None:
    try:
        return resolve_backend("cupy")
    except ConfigError:
        return None
