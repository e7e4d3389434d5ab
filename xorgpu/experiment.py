"""Run a whole experiment in this process: seeds -> blocks -> engine -> results + statistics.

`prepare` decides, once, what trains a config (backend, engine, block size, processes)
and compiles what the engine needs; the Plan it returns then trains any seed range.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from . import provenance
from .backend import Backend, resolve_backend
from .config import Config, RunOptions, SeedRange
from .memory import check_fits
from .engines.selection import Engine, bytes_per_net, select_engine
from .init import nets_of
from .lifetime import die_with
from .params import per_net, weight_names
from .results import NetResults, bytes_per_net_result
from .stats import Summary, outcomes

Progress = Callable[[int], None]  # called with the number of nets just finished


@dataclass(frozen=True)
class Plan:
    """What trains a config: the resolved backend and engine, and how blocks are cut."""

    config: Config
    backend: Backend
    engine: Engine
    processes: int  # blocks trained at once (worker processes when > 1)
    block_nets: int  # nets per block, at most

    def ran(self) -> dict[str, str]:
        """What actually trained, for result records: never "auto"."""
        return {"engine": self.engine.name, "backend": self.backend.name, "device": self.backend.device}

    def train(self, seeds: SeedRange, progress: Progress | None = None,
              keep_weights: bool = False) -> tuple[NetResults, Summary]:
        """Train the nets of `seeds`; per-net results and their statistics.

        Net s's results depend on (config, s, engine, dtype) alone: not on the backend's
        processes, the block size, or which other seeds are trained alongside it. As always
        with multiprocessing, a script whose plan has processes > 1 must guard its top
        level with `if __name__ == "__main__":`.
        keep_weights: keep each net's initial and final weights in the results.
        """
        check_fits_in_memory(len(seeds), self, keep_weights)
        block_nets = min(self.block_nets, -(-len(seeds) // self.processes))
        blocks = seeds.split(block_nets)
        parts: list[NetResults] = []
        summary = Summary()
        for part, piece in self._train_blocks(blocks, min(self.processes, len(blocks)), keep_weights):
            parts.append(part)
            summary = summary.merge(piece)
            if progress is not None:
                progress(len(part))
        return NetResults.concatenate(parts), summary

    def measure(self, seeds: SeedRange, progress: Progress | None = None,
                keep_weights: bool = False) -> tuple[NetResults, dict[str, Any]]:
        """Train the nets of `seeds`: their results, and their statistics with provenance
        (xorgpu.Run holds the two, with the config)."""
        started, clock = time.time(), time.perf_counter()
        results, summary = self.train(seeds, progress, keep_weights)
        stats = {**summary.report(self.config, final_losses=results.final_loss),
                 "provenance": provenance.of_local_run(seeds, self.ran(), started, time.perf_counter() - clock)}
        return results, stats

    def train_block(self, seeds: SeedRange, keep_weights: bool = False) -> tuple[NetResults, Summary]:
        """Train one block of nets in this process: host init -> device -> engine -> host."""
        seed_array = np.arange(seeds.start, seeds.stop, dtype=np.int64)
        params = nets_of(self.config, seed_array, self.backend.xp)
        initial = per_net(params.map(self.backend.to_host)) if keep_weights else None
        record = self.engine.train_block(params, self.config, self.backend)
        outcome = outcomes(record)
        results = NetResults.of_block(seed_array, record, outcome)
        if keep_weights:
            results.initial_weights, results.final_weights = initial, per_net(params.map(self.backend.to_host))
        return results, Summary.of_block(record, outcome, self.config)

    def _train_blocks(self, blocks: list[SeedRange], processes: int,
                      keep_weights: bool) -> Iterator[tuple[NetResults, Summary]]:
        if processes <= 1:
            yield from (self.train_block(block, keep_weights) for block in blocks)
            return
        # NumPy holds the GIL between its many small calls, so threads scale poorly here and
        # processes do (docs/benchmarks.md). forkserver: never fork a threaded parent. Each
        # child ends when this process ends, so a killed run leaves no process behind, and
        # ignores Ctrl-C, which its terminal sends to the whole process group: this process
        # stops them, and says so in one line, rather than each printing a traceback.
        context = multiprocessing.get_context("forkserver")
        pool = context.Pool(processes, initializer=_start_child, initargs=(os.getpid(),))
        try:
            yield from pool.imap(_train_block_in_child, [(self.config, self.engine.name, self.backend.name, b,
                                                          keep_weights) for b in blocks])
        except BaseException:  # an error, an interrupt, or a consumer that stopped: stop the children now
            pool.terminate()
            raise
        pool.close()
        pool.join()


def prepare(config: Config, options: RunOptions = RunOptions(), backend: Backend | None = None,
            on_compile: Callable[[str], None] | None = None) -> Plan:
    """Choose and prepare what trains `config`: an unavailable backend or engine is a
    ConfigError now, before any work; on_compile hears of a slow first compile."""
    backend = backend or resolve_backend(options.backend)
    engine = select_engine(config, backend, options.engine)
    engine.prepare(config, on_compile or (lambda message: None))
    return Plan(config, backend, engine, processes=options.processes or engine.processes,
                block_nets=options.block_nets or engine.block_nets)


def _start_child(parent: int) -> None:
    die_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _train_block_in_child(job: tuple[Config, str, str, SeedRange, bool]) -> tuple[NetResults, Summary]:
    config, engine, backend, seeds, keep_weights = job
    return prepare(config, RunOptions(backend=backend, engine=engine, processes=1)).train_block(seeds, keep_weights)


def check_fits_in_memory(nets: int, plan: Plan | None = None, keep_weights: bool = False) -> None:
    """Refuse, before any work, a job whose per-net results and blocks cannot fit in the
    memory available now."""
    config = plan.config if plan is not None else None
    needed = 2 * nets * bytes_per_net_result(config.patterns if config else 4)  # the parts, and their concatenation
    if config is not None and keep_weights:
        weights = len(weight_names(config.hidden, config.inputs, config.skip))
        needed += 2 * 2 * nets * weights * np.dtype(config.dtype).itemsize
    if plan is not None:
        needed += plan.processes * min(nets, plan.block_nets) * bytes_per_net(plan.config)
    check_fits(needed, f"{nets:,} nets", "split the seed range")
