"""One net's training, epoch by epoch: what `xorgpu inspect` shows.

Runs the array engine's own forward, backward and learning steps (xorgpu.engine) on a
block of one net, on NumPy, and keeps a snapshot every `every` epochs: the loss, the
four outputs and the norm of the full-batch gradient (whatever the update rule). A
plateau shows as a loss that stays flat while the gradient norm is small: the net sits
near a saddle or a flat region.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import engine
from .backend import numpy_backend
from .config import Config
from .init import initial_params


@dataclass(frozen=True)
class Snapshot:
    epoch: int
    loss: float  # mean over patterns of (y - o)^2
    outputs: tuple[float, float, float, float]
    gradient_norm: float  # |dL/dw| over all weights, L = 1/2 sum (o - y)^2


def trajectory(config: Config, seed: int, every: int) -> list[Snapshot]:
    """Snapshots at epochs 0, every, 2*every, ... and the last epoch."""
    xp = np
    params = initial_params(config.init_scheme, np.array([seed]), config.hidden, config.dtype)
    buf = engine.Buffers.allocate(xp, config.hidden, 1, params.b2.dtype, momentum=config.momentum > 0)
    clip = engine.EXP_ARG_MAX[config.dtype]
    snapshots = []
    with numpy_backend().quiet():
        for epoch in range(config.epochs + 1):
            engine.forward(xp, params, buf, clip)
            xp.subtract(buf.a2, buf.y, out=buf.err)
            engine.backward(xp, params, buf)
            last = epoch == config.epochs
            if last or epoch % every == 0:
                gradients = (buf.d_w1, buf.d_b1, buf.d_w2, buf.d_b2)
                snapshots.append(Snapshot(
                    epoch, float((buf.err[:, 0] ** 2).mean()), tuple(float(o) for o in buf.a2[:, 0]),
                    float(np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in gradients))),
                ))
            if last:
                return snapshots
            engine.learn(xp, params, buf, config, clip)
    return snapshots
