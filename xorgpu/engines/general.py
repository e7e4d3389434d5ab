"""The array engine for every net of the family: N-H-1 nets of any task, units, encoding,
loss, with or without biases and skip weights. The reference for them.

`array.py` trains the notebook's net (sigmoid units, biases, squared error, 0/1 encoding,
two inputs) with code tuned for it; every other config comes here (`array.train_block`
chooses). The maths, per epoch e = 0..E, for P patterns x (P, N) and targets y (P,) in
the config's encoding (xorgpu.tasks), with f the hidden units' function and g the output's:
    forward    z1 = x W1 + b1, a1 = f(z1), z2 = (a1 W2 + b2) + x Ws, a2 = g(z2)
    judge      err = a2 - y; record the first e at which the criterion holds
    backward   d_z2 = err * g'(z2)       (squared error, L = 1/2 sum_p err_p^2)
               d_z2 = err                (cross-entropy of a sigmoid output,
                                          L = -sum_p [y log a2 + (1 - y) log(1 - a2)])
               d_z1 = d_z2 W2 * f'(z1)
               d_W2 = sum_p a1 d_z2, d_b2 = sum_p d_z2, d_Ws = sum_p x d_z2,
               d_W1 = sum_p x d_z1, d_b1 = sum_p d_z1
    update     w <- w - step * d_w, the hidden layer's step for W1, b1, the output layer's
               for W2, b2, Ws (momentum as array.py); a net without biases never moves them
with f' and g' from the unit's output: sigmoid a (1 - a), tanh 1 - a^2, relu 1 where a > 0
(0 at 0), linear 1. Sums over patterns run in pattern order, sums over inputs in input
order, so a net's bits do not depend on the block it is trained in.

`final_loss` is the mean over patterns of err^2, in the encoding's units, whatever the
loss trained on. A net has diverged when its final loss or any weight is no longer finite
(inf or NaN): a linear output or ReLU units can leave every finite bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import Backend
from ..config import Config, Criterion
from ..params import Params
from .contract import EXP_ARG_MAX, BlockRecord, epoch_before_end, sample_epochs, task_arrays
from .knobs import UNIFORM, NetKnobs, Steps, steps


@dataclass(frozen=True)
class EpochView:
    """The nets at one epoch, after the forward pass and before learning (as array.EpochView)."""

    epoch: int
    params: Params
    outputs: Any  # (P, n)
    error: Any  # (P, n)


@dataclass(frozen=True)
class Task:
    """The task on the engine's array module: inputs (P, N) and targets (P, 1) in the encoding."""

    x: Any
    y: Any
    side: Any  # (P, 1): +1 where the target is the higher value, -1 where the lower (the side rule)

    @classmethod
    def of(cls, config: Config, xp: Any) -> Task:
        """The arrays the compiled kernels take (contract.task_arrays), targets and sides as columns."""
        arrays = task_arrays(config, xp)
        return cls(arrays["inputs"], arrays["targets"][:, None], arrays["side"][:, None])


def unit(xp: Any, name: str, z: Any, clip: float) -> Any:
    """A unit's output for inputs z (new array)."""
    if name == "sigmoid":
        return 1 / (1 + xp.exp(xp.minimum(-z, clip)))  # the notebook's formula, clipped as array.py's
    if name == "tanh":
        return xp.tanh(z)
    if name == "relu":
        return xp.maximum(z, 0)
    return z.copy()  # linear


def slope(xp: Any, name: str, a: Any) -> Any:
    """A unit's derivative, from its output a."""
    if name == "sigmoid":
        return (1 - a) * a
    if name == "tanh":
        return 1 - a * a
    if name == "relu":
        return (a > 0).astype(a.dtype)
    return xp.ones_like(a)  # linear


def _sum_rows(values: Any) -> Any:
    """values[0] + values[1] + ... in order (a fixed order, whatever the block size)."""
    total = values[0].copy()
    for k in range(1, values.shape[0]):
        total += values[k]
    return total


def forward(xp: Any, p: Params, x: Any, config: Config, clip: float) -> tuple[Any, Any]:
    """a1 (P, H, n) and a2 (P, n) for inputs x (P, N): z1 = (x W1) + b1 and
    z2 = ((a1 W2) + b2) + (x Ws), each product summed in order, as `x @ W1 + b1` reads."""
    z1 = inputs_times(x, p.w1) + p.b1  # (P, H, n)
    a1 = unit(xp, config.activation, z1, clip)
    z2 = _sum_rows(xp.moveaxis(a1 * p.w2, 1, 0)) + p.b2  # sum over hidden units in order: (P, n)
    if p.ws is not None:
        z2 += inputs_times(x, p.ws)
    return a1, unit(xp, config.output, z2, clip)


def inputs_times(x: Any, weights: Any) -> Any:
    """sum_i x[:, i] * weights[i], in input order: (P, ...) for weights (N, ...)."""
    extra = (None,) * (weights.ndim - 1)
    total = x[(slice(None), 0, *extra)] * weights[0]
    for i in range(1, x.shape[1]):
        total += x[(slice(None), i, *extra)] * weights[i]
    return total


def deltas(xp: Any, p: Params, a1: Any, a2: Any, err: Any, config: Config) -> tuple[Any, Any]:
    """d_z2 = dL/dz2 (P, n) and d_z1 = dL/dz1 (P, H, n), at the weights that gave a1, a2."""
    d_z2 = err if config.loss == "cross-entropy" else err * slope(xp, config.output, a2)  # (P, n)
    return d_z2, d_z2[:, None, :] * p.w2 * slope(xp, config.activation, a1)


def gradients(xp: Any, p: Params, x: Any, a1: Any, a2: Any, err: Any, config: Config) -> Params:
    """dL/dw for every weight, at the weights that gave a1, a2 (shapes as Params)."""
    d_z2, d_z1 = deltas(xp, p, a1, a2, err, config)
    d_w1 = xp.empty_like(p.w1)
    d_ws = None if p.ws is None else xp.empty_like(p.ws)
    for i in range(x.shape[1]):
        d_w1[i] = _sum_rows(x[:, i, None, None] * d_z1)
        if d_ws is not None:
            d_ws[i] = _sum_rows(x[:, i, None] * d_z2)
    return Params(w1=d_w1, b1=_sum_rows(d_z1), w2=_sum_rows(a1 * d_z2[:, None, :]), b2=_sum_rows(d_z2), ws=d_ws)


def update(xp: Any, p: Params, grads: Params, velocity: Params | None, net_steps: Steps, bias: bool) -> None:
    """w <- w - step d_w, or with momentum v <- mu v - step d_w; w <- w + v (in place)."""
    for name in Params.NAMES:
        weight, grad = getattr(p, name), getattr(grads, name)
        if weight is None or (name in ("b1", "b2") and not bias):
            continue
        step = net_steps.hidden if name in ("w1", "b1") else net_steps.output
        if velocity is None:
            xp.subtract(weight, grad * step, out=weight)
        else:
            v = getattr(velocity, name)
            xp.multiply(v, net_steps.momentum, out=v)
            xp.subtract(v, grad * step, out=v)
            xp.add(weight, v, out=weight)


def meets(xp: Any, criterion: Criterion, err: Any, task: Task) -> Any:
    """(n,) bool: do a net's outputs meet the criterion?"""
    if criterion.kind == "within":
        return xp.all(xp.abs(err) < criterion.threshold, axis=0)
    if criterion.kind == "side":  # (y - o) * side < threshold for every pattern
        return xp.all(-err * task.side < criterion.threshold, axis=0)
    return _sum_rows(err * err) < criterion.threshold


def mean_squared_error(err: Any) -> Any:
    """(n,) the mean over patterns of err^2."""
    return _sum_rows(err * err) * (1.0 / err.shape[0])


def train_block(params: Params, config: Config, backend: Backend, observe: Any = None,
                knobs: NetKnobs = UNIFORM) -> BlockRecord:
    """Train the nets whose initial weights are `params` (device arrays, updated in place)."""
    xp = backend.xp
    n, dtype = params.nets, params.b2.dtype
    task = Task.of(config, xp)
    clip = EXP_ARG_MAX[config.dtype]
    net_steps = steps(knobs, config, n, xp, arrays=False)
    velocity = params.map(xp.zeros_like) if knobs.any_momentum(config) else None
    criterion = config.success
    sample_row = {epoch: row for row, epoch in enumerate(sample_epochs(config))}
    loss_samples = xp.zeros((len(sample_row), n), dtype=dtype)
    loss_before_end = xp.zeros(n, dtype=dtype)
    compare_at = epoch_before_end(config)
    ever_solved = xp.zeros(n, dtype=bool)
    unsolved_epochs = xp.zeros(n, dtype=np.int64)

    with backend.quiet():
        for epoch in range(config.epochs + 1):
            a1, a2 = forward(xp, params, task.x, config, clip)
            err = a2 - task.y
            solved_now = meets(xp, criterion, err, task)
            ever_solved |= solved_now
            unsolved_epochs += ~ever_solved
            if epoch in sample_row:
                loss_samples[sample_row[epoch]] = mean_squared_error(err)
            if epoch == compare_at:
                loss_before_end[...] = mean_squared_error(err)
            if observe is not None:
                observe(EpochView(epoch, params, a2, err))
            if epoch == config.epochs:
                break
            if config.update == "online":  # a step per pattern, each at the weights the last left
                for k in range(task.x.shape[0]):
                    x = task.x[k:k + 1]
                    a1k, a2k = forward(xp, params, x, config, clip)
                    grads = gradients(xp, params, x, a1k, a2k, a2k - task.y[k:k + 1], config)
                    update(xp, params, grads, velocity, net_steps, config.bias)
            else:
                update(xp, params, gradients(xp, params, task.x, a1, a2, err, config), velocity, net_steps,
                       config.bias)

    with backend.quiet():
        final_loss = mean_squared_error(err).astype(dtype)
        finite = xp.isfinite(final_loss)
        for array in params.arrays():
            finite = finite & xp.all(xp.isfinite(array.reshape(-1, n)), axis=0)
    to_host = backend.to_host
    return BlockRecord(
        outputs=to_host(a2).T.copy(),
        final_loss=to_host(final_loss),
        epochs_to_solve=to_host(xp.where(ever_solved, unsolved_epochs, -1)).astype(np.int64),
        solved_at_end=to_host(solved_now),
        diverged=~to_host(finite),
        loss_before_end=to_host(loss_before_end),
        loss_samples=to_host(loss_samples),
    )
