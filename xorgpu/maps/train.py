"""Train a map, or any range of its pixels, in this process, on the engine a run would use."""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from .. import provenance
from ..config import RunOptions, SeedRange
from ..experiment import Plan, prepare
from ..stats import outcomes
from .result import MapResult
from .spec import MapSpec

Progress = Callable[[int], None]  # called with the number of pixels just trained


def map_plan(spec: MapSpec, options: RunOptions = RunOptions(),
             on_compile: Callable[[str], None] | None = None) -> Plan:
    """What trains the map's nets: the engine and block size `xorgpu run` would choose."""
    return prepare(spec.config, options, on_compile=on_compile)


def train_pixels(spec: MapSpec, plan: Plan, start: int, stop: int,
                 progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """epochs_to_solve, final_loss and outcome of pixels start..stop-1 (flat, row by row).

    Blocks of plan.block_nets pixels train one after another in this process (the fused
    engines spread a block over the machine themselves); a pixel's values do not depend
    on the block it falls in.
    """
    n = stop - start
    epochs_to_solve = np.empty(n, dtype=np.int64)
    final_loss = np.empty(n, dtype=np.float64)
    outcome = np.empty(n, dtype=np.uint8)
    backend = plan.backend
    for block in SeedRange(start, stop).split(plan.block_nets):
        params, knobs = spec.nets(block.start, block.stop)
        record = plan.engine.train_block(params.map(backend.to_device), spec.config, backend, knobs=knobs)
        here = slice(block.start - start, block.stop - start)
        epochs_to_solve[here] = record.epochs_to_solve
        final_loss[here] = record.final_loss
        outcome[here] = outcomes(record)
        if progress is not None:
            progress(len(block))
    return epochs_to_solve, final_loss, outcome


def train_map(spec: MapSpec, options: RunOptions = RunOptions(), progress: Progress | None = None,
              on_compile: Callable[[str], None] | None = None) -> MapResult:
    """Every pixel of the map, trained in this process."""
    plan = map_plan(spec, options, on_compile)
    started, clock = time.time(), time.perf_counter()
    epochs_to_solve, final_loss, outcome = train_pixels(spec, plan, 0, spec.pixels, progress)
    wall = time.perf_counter() - clock
    shape = (spec.resolution, spec.resolution)
    return MapResult(spec, epochs_to_solve.reshape(shape), final_loss.reshape(shape), outcome.reshape(shape),
                     {**provenance.here(), **plan.ran(), "started": provenance.iso(started),
                      "wall_seconds": round(wall, 3)})
