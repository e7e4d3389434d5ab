"""Which engine trains a block: the readable array engine, or a fused one where available.

`array` (xorgpu.engine) is the reference on any array module. `fused` runs the whole
epoch loop in one compiled kernel: numba on the CPU (xorgpu.fused_cpu), a CUDA kernel on
CuPy (xorgpu.fused_gpu). `auto` picks fused when the backend has one. All engines give
the same per-net results, to rounding of exp (tests/test_fused.py). The fused kernels
train full-batch only: online (per-pattern) updates run on the array engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import fused_cpu
from .backend import GPU_BLOCK_NETS, Backend
from .config import Config, ConfigError
from .engine import BlockRecord, train_block
from .params import Params

TrainBlock = Callable[[Params, Config, Backend], BlockRecord]
FUSED_CPU_BLOCK_NETS = 1 << 16  # numba spreads a block's nets over the threads itself


@dataclass(frozen=True)
class Engine:
    name: str  # "array" or "fused"
    train_block: TrainBlock
    block_nets: int  # nets per block
    processes: int  # blocks trained at once, in worker processes
    # compile (or load) what train_block needs now; the callback hears of a slow compile first
    prepare: Callable[[Config, Callable[[str], None]], None] = lambda config, on_compile: None


def select_engine(config: Config, backend: Backend) -> Engine:
    if config.update == "online":
        if config.engine == "fused":
            raise ConfigError("engine fused trains full-batch only: use --engine array or auto for online updates")
        return Engine("array", train_block, backend.block_nets, backend.processes)
    fused = _fused_engine(backend)
    if config.engine == "fused" and fused is None:
        raise ConfigError(f"engine fused is not available on backend {backend.name}"
                          + ("" if fused_cpu.available() else " (numba does not import)"))
    if config.engine == "array" or fused is None:
        return Engine("array", train_block, backend.block_nets, backend.processes)
    return fused


def _fused_engine(backend: Backend) -> Engine | None:
    if backend.name == "cupy":
        from .fused_gpu import train_block_fused_gpu  # noqa: PLC0415

        return Engine("fused", train_block_fused_gpu, GPU_BLOCK_NETS, 1)
    if backend.name == "numpy" and fused_cpu.available():
        return Engine("fused", fused_cpu.train_block_fused_cpu, FUSED_CPU_BLOCK_NETS, 1, fused_cpu.prepare)
    return None
