"""Run a whole experiment in this process: seeds -> blocks -> engine -> results + statistics."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Callable, Iterator

import numpy as np

from .backend import Backend, resolve_backend
from .config import Config, ConfigError, SeedRange
from .engines import Engine, select_engine
from .init import initial_params
from .results import BYTES_PER_NET, NetResults
from .stats import Summary

Progress = Callable[[int], None]  # called with the number of nets just finished


def train_seeds(
    config: Config,
    seeds: SeedRange,
    backend: Backend | None = None,
    progress: Progress | None = None,
    block_nets: int | None = None,
    processes: int | None = 1,
) -> tuple[NetResults, Summary]:
    """Train the nets of `seeds` under `config`; per-net results and their statistics.

    Net s's results depend on (config, s) alone: not on the backend, the engine, the block
    size, the number of processes or which other seeds are trained alongside it.
    processes: blocks trained at once in worker processes (None: the engine's choice,
    the usable CPUs for the NumPy array engine). As always with multiprocessing, a
    script that asks for more than 1 must guard its top level with
    `if __name__ == "__main__":`.
    """
    backend = backend or resolve_backend(config.backend)
    engine = select_engine(config, backend)
    processes = processes or engine.processes
    block_nets = block_nets or min(engine.block_nets, -(-len(seeds) // processes))
    blocks = seeds.split(block_nets)
    processes = min(processes, len(blocks))
    parts: list[NetResults] = []
    summary = Summary()
    for part, piece in _train_blocks(config, blocks, backend, engine, processes):
        parts.append(part)
        summary = summary.merge(piece)
        if progress is not None:
            progress(len(part))
    return NetResults.concatenate(parts), summary


def train_range(
    config: Config, seeds: SeedRange, backend: Backend, engine: Engine | None = None
) -> tuple[NetResults, Summary]:
    """Train one block of nets in this process: host init -> device -> engine -> host."""
    engine = engine or select_engine(config, backend)
    seed_array = np.arange(seeds.start, seeds.stop, dtype=np.int64)
    params = initial_params(config.init_scheme, seed_array, config.hidden, config.dtype, backend.xp)
    record = engine.train_block(params, config, backend)
    return NetResults.of_block(seed_array, record), Summary.of_block(record)


def _train_blocks(
    config: Config, blocks: list[SeedRange], backend: Backend, engine: Engine, processes: int
) -> Iterator[tuple[NetResults, Summary]]:
    if processes <= 1:
        yield from (train_range(config, block, backend, engine) for block in blocks)
        return
    # NumPy holds the GIL between its many small calls, so threads scale poorly here
    # (measured, 2-core EPYC, float64: 2 threads 5.2M, 2 processes 6.6M net-epochs/s);
    # processes do. forkserver: never fork a threaded parent.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        yield from pool.map(partial(_train_range_by_name, config, backend.name), blocks)


def _train_range_by_name(config: Config, backend_name: str, seeds: SeedRange):
    return train_range(config, seeds, resolve_backend(backend_name))


def check_fits_in_memory(nets: int) -> None:
    """Refuse, before any work, a job whose per-net results cannot fit in available memory."""
    needed = 2 * nets * BYTES_PER_NET  # the parts, and their concatenation
    available = _available_memory()
    if available is not None and needed > available:
        raise ConfigError(
            f"{nets} nets need about {needed / 2**30:.1f} GiB for their results, "
            f"but only {available / 2**30:.1f} GiB is available: split the seed range"
        )


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
