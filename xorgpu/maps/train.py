"""Train a map, or any range of its pixels (a tile), on the engine a run would use.

Locally a map's pixels train block after block in this process (`train_map`); on the
service each chunk of a map job is a tile of pixels (`train_tile`, called by the worker),
whose per-net results are those of a chunk of seeds with the pixel index as the seed, and
`map_of_job` puts the job's files back together. A pixel's values depend on the spec and
the engine alone: not on its block, its tile, or the worker.
"""

from __future__ import annotations

import time
from typing import Callable, Iterator

import numpy as np

from .. import provenance
from ..memory import check_fits
from ..config import RunOptions, SeedRange
from ..engines.contract import BlockRecord
from ..engines.selection import bytes_per_net
from ..experiment import Plan, prepare
from ..results import NetOutcomes, NetResults
from ..stats import Summary, outcomes
from .result import MapResult
from .spec import MapSpec

Progress = Callable[[int], None]  # called with the number of pixels just trained
BYTES_PER_PIXEL = 8 + 8 + 1 + 4  # epochs to solve, final loss, outcome, and 4 bytes of colour when drawn


def _blocks(spec: MapSpec, plan: Plan, pixels: SeedRange) -> Iterator[tuple[SeedRange, BlockRecord, np.ndarray]]:
    """(pixels, record, outcomes) of each block of plan.block_nets pixels, in order, trained
    one after another in this process (the fused engines spread a block over the machine)."""
    backend = plan.backend
    for block in pixels.split(plan.block_nets):
        params, knobs = spec.nets(block.start, block.stop, backend.xp)  # built on the device
        record = plan.engine.train_block(params, spec.config, backend, knobs=knobs)
        yield block, record, outcomes(record)


def train_pixels(spec: MapSpec, plan: Plan, start: int, stop: int,
                 progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """epochs_to_solve, final_loss and outcome of pixels start..stop-1 (flat, row by row)."""
    n = stop - start
    epochs_to_solve = np.empty(n, dtype=np.int64)
    final_loss = np.empty(n, dtype=np.float64)
    outcome = np.empty(n, dtype=np.uint8)
    for block, record, block_outcome in _blocks(spec, plan, SeedRange(start, stop)):
        here = slice(block.start - start, block.stop - start)
        epochs_to_solve[here] = record.epochs_to_solve
        final_loss[here] = record.final_loss
        outcome[here] = block_outcome
        if progress is not None:
            progress(len(block))
    return epochs_to_solve, final_loss, outcome


def train_tile(spec: MapSpec, plan: Plan, pixels: SeedRange) -> tuple[NetResults, Summary]:
    """A service chunk of a map job: its pixels' per-net results (the pixel index in the
    seed column) and their statistics."""
    parts, summary = [], Summary()
    for block, record, block_outcome in _blocks(spec, plan, pixels):
        parts.append(NetResults.of_block(np.arange(block.start, block.stop, dtype=np.int64), record, block_outcome))
        summary = summary.merge(Summary.of_block(record, block_outcome, spec.config))
    return NetResults.concatenate(parts), summary


def train_map(spec: MapSpec, options: RunOptions = RunOptions(), progress: Progress | None = None,
              on_compile: Callable[[str], None] | None = None) -> MapResult:
    """Every pixel of the map, trained in this process, on the engine and blocks `xorgpu run`
    would choose for its config."""
    plan = prepare(spec.config, options, on_compile=on_compile)
    check_map_fits(spec, plan)
    started, clock = time.time(), time.perf_counter()
    epochs_to_solve, final_loss, outcome = train_pixels(spec, plan, 0, spec.pixels, progress)
    wall = time.perf_counter() - clock
    shape = (spec.resolution, spec.resolution)
    return MapResult(spec, epochs_to_solve.reshape(shape), final_loss.reshape(shape), outcome.reshape(shape),
                     {**provenance.here(), **plan.ran(), "started": provenance.iso(started),
                      "wall_seconds": round(wall, 3)})


def check_map_fits(spec: MapSpec, plan: Plan | None = None) -> None:
    """Refuse, before any work, a map whose pixels cannot fit in the memory available now:
    its arrays (twice: while trained, then saved or drawn) and a block of the plan's nets."""
    needed = 2 * spec.pixels * BYTES_PER_PIXEL
    if plan is not None:
        needed += min(spec.pixels, plan.block_nets) * bytes_per_net(spec.config)
    check_fits(needed, f"a map of {spec.resolution:,} x {spec.resolution:,} pixels", "lower --resolution")


def map_of_outcomes(spec: MapSpec, nets: NetOutcomes, made: dict[str, object]) -> MapResult:
    """The map of a job's nets (pixel index as seed, in any order)."""
    order = np.argsort(nets.seeds, kind="stable")
    if not np.array_equal(nets.seeds[order], np.arange(spec.pixels)):
        raise ValueError(f"the job's nets are not the {spec.pixels:,} pixels of its map, once each")
    shape = (spec.resolution, spec.resolution)
    return MapResult(spec, nets.epochs_to_solve[order].reshape(shape), nets.final_loss[order].reshape(shape),
                     nets.outcome[order].reshape(shape), dict(made))
