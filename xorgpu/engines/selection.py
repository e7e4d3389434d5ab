"""Which engine trains a config on a backend, and how many nets go in a block.

`select_engine` picks one: `auto` means fused where the backend has a fused kernel for
the config (full-batch updates; on a GPU, H <= fused_gpu.MAX_HIDDEN), else array. numba
is imported only when the fused CPU engine is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..backend import Backend
from ..config import Config, ConfigError
from ..params import Params
from . import array, fused_gpu
from .contract import BlockRecord, sample_epochs, why_not_compiled

TrainBlock = Callable[[Params, Config, Backend], BlockRecord]
Prepare = Callable[[Config, Callable[[str], None]], None]

# Nets trained together per block, at most; fewer where one net's working set is large
# (bytes_per_net), so a block stays within its memory budget.
ARRAY_CPU_BLOCK_NETS = 8192  # a few MB: the block stays in cache through all its epochs
ARRAY_CPU_BLOCK_BYTES = 16 << 20
GPU_BLOCK_NETS = 1 << 21  # on a GPU, the more nets at once the better
GPU_BLOCK_BYTES = 4 << 30
FUSED_CPU_BLOCK_NETS = 1 << 16  # numba spreads a block's nets over the threads itself
FUSED_CPU_BLOCK_BYTES = 256 << 20


@dataclass(frozen=True)
class Engine:
    name: str  # "array" or "fused"
    train_block: TrainBlock
    block_nets: int  # nets per block
    processes: int  # blocks trained at once, in worker processes
    # compile (or load) what train_block needs now; the callback hears of a slow compile first
    prepare: Prepare = lambda config, on_compile: None


def bytes_per_net(config: Config) -> int:
    """An upper bound of the memory one net takes while its block trains, on any engine:
    weights, velocities, gradients, activations and scratch (about 26 H + 24 numbers for the
    notebook's net; for the others, which general.py trains with temporaries of P x H, about
    12 P H + 4 N H + 8 H + 12 P + 4 N + 24), its loss samples, and the 64-bit integers its
    initial weights are drawn from."""
    if config.classic_net:
        numbers = 26 * config.hidden + 24
    else:
        p, n, h = config.patterns, config.inputs, config.hidden
        numbers = 12 * p * h + 4 * n * h + 8 * h + 12 * p + 4 * n + 24
    numbers += len(sample_epochs(config))
    return np.dtype(config.dtype).itemsize * numbers + 8 * (config.inputs + 2) * config.hidden


def select_engine(config: Config, backend: Backend, wanted: str = "auto") -> Engine:
    """The engine for `config` on `backend`: `wanted` is auto, array or fused."""
    fused, why_not = _fused_engine(config, backend)
    if wanted == "fused" and fused is None:
        raise ConfigError(f"engine fused is not available: {why_not}")
    if wanted == "array" or fused is None:
        on_device = backend.on_device
        budget, most = (GPU_BLOCK_BYTES, GPU_BLOCK_NETS) if on_device else (ARRAY_CPU_BLOCK_BYTES, ARRAY_CPU_BLOCK_NETS)
        return Engine("array", array.train_block, _block_nets(config, budget, most), backend.processes)
    return fused


def _fused_engine(config: Config, backend: Backend) -> tuple[Engine | None, str]:
    if why_not_compiled(config):
        return None, why_not_compiled(config)
    if backend.name == "cupy":
        if fused_gpu.why_not(config):
            return None, fused_gpu.why_not(config)
        return Engine("fused", fused_gpu.train_block, _block_nets(config, GPU_BLOCK_BYTES, GPU_BLOCK_NETS), 1), ""
    if backend.name == "numpy":
        from . import fused_cpu  # noqa: PLC0415  (numba takes half a second to import)

        if not fused_cpu.available():
            return None, "numba does not import"
        blocks = _block_nets(config, FUSED_CPU_BLOCK_BYTES, FUSED_CPU_BLOCK_NETS)
        return Engine("fused", fused_cpu.train_block, blocks, 1, fused_cpu.prepare), ""
    return None, f"backend {backend.name} has no fused kernel"


def _block_nets(config: Config, budget: int, most: int) -> int:
    return max(1, min(most, budget // bytes_per_net(config)))
