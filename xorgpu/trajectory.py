"""One net's training again, epoch by epoch: what `xorgpu inspect` shows; and chosen nets
trained again for the figures of their decision boundaries.

Trains the net with the array engine on NumPy and watches its epoch loop
(`train_block(..., observe=...)`): every `every` epochs it keeps the loss, the four
outputs and the norm of the full-batch gradient of the training loss at that point
(whatever the update rule).
A plateau shows as a loss that stays flat while the gradient norm is small: the net sits
near a saddle or a flat region.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .backend import numpy_backend
from .config import Config
from .engines import general
from .engines.array import EpochView, backprop, train_block
from .engines.contract import EXP_ARG_MAX
from .init import nets_of
from .params import Params


@dataclass(frozen=True)
class Snapshot:
    epoch: int
    loss: float  # mean over patterns of (y - o)^2
    outputs: tuple[float, ...]  # one per pattern
    gradient_norm: float  # |dL/dw| over all weights trained, L the training loss (summed over patterns)


def trajectory(config: Config, seed: int, every: int) -> list[Snapshot]:
    """Snapshots at epochs 0, every, 2*every, ... and the last epoch."""
    backend = numpy_backend()
    params = nets_of(config, np.array([seed]))
    snapshots = []

    def observe(view: EpochView) -> None:
        if view.epoch % every and view.epoch != config.epochs:
            return
        gradients = full_batch_gradients(view.params, config)
        error = view.error[:, 0]
        snapshots.append(Snapshot(
            epoch=view.epoch,
            loss=float(np.mean(error * error)),
            outputs=tuple(float(o) for o in view.outputs[:, 0]),
            gradient_norm=float(np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in gradients))),
        ))

    train_block(params, config.replace(sample_every=0), backend, observe=observe)
    return snapshots


def full_batch_gradients(params: Params, config: Config) -> list[np.ndarray]:
    """The gradients of the training loss at `params` of every weight trained: the notebook's
    net through array.backprop, the others through general.gradients."""
    if config.classic_net:
        return list(backprop(params, numpy_backend()).gradients.arrays())
    task = general.Task.of(config, np)
    a1, a2 = general.forward(np, params, task.x, config, EXP_ARG_MAX[config.dtype])
    grads = general.gradients(np, params, task.x, a1, a2, a2 - task.y, config)
    return [getattr(grads, name) for name in grads.NAMES
            if getattr(grads, name) is not None and (config.bias or name not in ("b1", "b2"))]


def trained_nets(config: Config, chosen: list[tuple[int, str]]) -> list[tuple[int, str, Params]]:
    """(seed, why, its trained weights) of each chosen net (seed, why), trained again from
    its seed with the array engine on NumPy: what a figure of decision boundaries draws."""
    backend = numpy_backend()
    trained = []
    for seed, why in chosen:
        params = nets_of(config, np.array([seed]))
        train_block(params, config.replace(sample_every=0), backend)  # updates params in place
        trained.append((seed, why, params))
    return trained
