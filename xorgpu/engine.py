"""The array engine: the notebook's backprop, vectorised over a block of nets.

Each net is the notebook's 2-H-1 sigmoid net trained by full-batch gradient descent on
L = 1/2 * sum_p (a2_p - y_p)^2 over the 4 XOR patterns p (or the mean, a 4x smaller step).
Nets lie on the last, contiguous axis of every array; the code works on any array module
`xp` with NumPy's ufunc `out=` arguments (NumPy, CuPy) and never branches on which.
Updates happen in place in preallocated buffers, so a block of nets stays in cache
through all its epochs.

Per epoch e = 0..E, with a1 the hidden activations and a2 the outputs after e updates:
    forward    z1 = x W1 + b1, a1 = s(z1), z2 = a1 W2 + b2, a2 = s(z2)
    judge      err = a2 - y; record the first e at which the criterion holds
    backward   d_z2 = err * a2(1 - a2)          d_w2 = sum_p a1 d_z2,  d_b2 = sum_p d_z2
               d_z1 = (d_z2 W2) * a1(1 - a1)    d_w1 = sum_p x d_z1,   d_b1 = sum_p d_z1
    update     w <- w - step * d_w               (momentum: v <- mu v - step d_w; w <- w + v)
Operation order follows the notebook's NumPy code, so float64 results agree with it to
rounding (tests/test_engine.py).

With `update="online"` the judge is the same, but the epoch's learning is four steps, one
per pattern in PATTERNS order, each on that pattern's loss 1/2 (a2_p - y_p)^2 with the
weights as the previous step left them (`online_epoch`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .backend import Backend
from .config import Config
from .params import Params

PATTERNS = ((0, 0), (0, 1), (1, 0), (1, 1))  # the XOR inputs, in this order everywhere
TARGETS = (0, 1, 1, 0)
# exp(-z) is clipped here so it never overflows: s(z) is then off by < 1e-300 (float64)
# or < 1e-38 (float32) from the exact value, which the notebook's own code rounds to 0 anyway.
EXP_ARG_MAX = {"float64": 708.0, "float32": 88.0}


@dataclass
class BlockRecord:
    """What training leaves of each of n nets, as host arrays."""

    outputs: np.ndarray  # (n, 4) outputs after the last update, in PATTERNS order
    final_loss: np.ndarray  # (n,) the notebook's loss: mean over patterns of (y - o)^2
    epochs_to_solve: np.ndarray  # (n,) int64: first e whose outputs meet the criterion; -1: never
    solved_at_end: np.ndarray  # (n,) bool: the final outputs meet the criterion
    diverged: np.ndarray  # (n,) bool: some weight or output is no longer finite
    loss_before_end: np.ndarray  # (n,) loss at epoch E - plateau_window(E), to tell plateaus
    loss_samples: np.ndarray  # (S, n) loss at the epochs of sample_epochs(config)


def plateau_window(epochs: int) -> int:
    """How far back from the end an unsolved net's loss is compared, to see if it still moves."""
    return max(1, epochs // 10)


def sample_epochs(config: Config) -> list[int]:
    """The epochs at which the loss is sampled for loss curves (0, k, 2k, ... <= E)."""
    if config.sample_every == 0:
        return []
    return list(range(0, config.epochs + 1, config.sample_every))


def train_block(params: Params, config: Config, backend: Backend) -> BlockRecord:
    """Train the nets whose initial weights are `params` (device arrays, updated in place)."""
    xp = backend.xp
    hidden, n = params.hidden, params.nets
    dtype = params.b2.dtype
    buf = Buffers.allocate(xp, hidden, n, dtype, momentum=config.momentum > 0)
    criterion = config.success
    samples = sample_epochs(config)
    sample_row = {epoch: row for row, epoch in enumerate(samples)}
    loss_samples = xp.zeros((len(samples), n), dtype=dtype)  # (S, n)
    loss_before_end = xp.zeros(n, dtype=dtype)
    epoch_before_end = config.epochs - plateau_window(config.epochs)
    ever_solved = xp.zeros(n, dtype=bool)  # (n,)
    epochs_unsolved = xp.zeros(n, dtype=np.int64)  # (n,) epochs before the first success
    clip = EXP_ARG_MAX[config.dtype]

    with backend.quiet():
        for epoch in range(config.epochs + 1):
            forward(xp, params, buf, clip)
            xp.subtract(buf.a2, buf.y, out=buf.err)  # (4, n)
            solved_now = _meets(xp, criterion, buf)  # (n,) bool
            xp.logical_or(ever_solved, solved_now, out=ever_solved)
            xp.add(epochs_unsolved, xp.logical_not(ever_solved), out=epochs_unsolved)
            if epoch in sample_row:
                _loss(xp, buf, out=loss_samples[sample_row[epoch]])
            if epoch == epoch_before_end:
                _loss(xp, buf, out=loss_before_end)
            if epoch == config.epochs:
                break
            learn(xp, params, buf, config, clip)

    final_loss = xp.empty(n, dtype=dtype)
    _loss(xp, buf, out=final_loss)
    finite = xp.isfinite(final_loss)
    for array in params.arrays():
        finite = finite & xp.all(xp.isfinite(array.reshape(-1, n)), axis=0)
    epochs_to_solve = xp.where(ever_solved, epochs_unsolved, -1)
    to_host = backend.to_host
    return BlockRecord(
        outputs=to_host(buf.a2).T.copy(),
        final_loss=to_host(final_loss),
        epochs_to_solve=to_host(epochs_to_solve).astype(np.int64),
        solved_at_end=to_host(solved_now),
        diverged=~to_host(finite),
        loss_before_end=to_host(loss_before_end),
        loss_samples=to_host(loss_samples),
    )


def learn(xp: Any, params: Params, buf: Buffers, config: Config, clip: float) -> None:
    """One epoch's learning, after `forward` and the judge have filled buf.a1, a2 and err."""
    if config.update == "online":
        online_epoch(xp, params, buf, config.step, config.momentum, clip)
        return
    backward(xp, params, buf)
    update(xp, params, buf, config.step, config.momentum)


def gradients(params: Params, backend: Backend) -> Params:
    """dL/dw of L = 1/2 sum_p (a2_p - y_p)^2 at `params` (device arrays), as host arrays.

    The same code as one step of training; tests check it against finite differences.
    """
    xp = backend.xp
    buf = Buffers.allocate(xp, params.hidden, params.nets, params.b2.dtype, momentum=False)
    with backend.quiet():
        forward(xp, params, buf, EXP_ARG_MAX[params.b2.dtype.name])
        xp.subtract(buf.a2, buf.y, out=buf.err)
        backward(xp, params, buf)
    return Params(buf.d_w1, buf.d_b1, buf.d_w2, buf.d_b2).map(backend.to_host)


@dataclass
class Buffers:
    """Preallocated work arrays for one block; names follow the module docstring."""

    y: Any  # (4, 1) targets
    a1: Any  # (4, H, n) hidden activations (z1 until the sigmoid is applied in place)
    a2: Any  # (4, n) outputs
    err: Any  # (4, n) a2 - y
    d_z2: Any  # (4, n)
    d_z1: Any  # (4, H, n) also scratch for a1 * w2 in the forward pass
    slope1: Any  # (4, H, n) a1 (1 - a1), also scratch for a1 * d_z2
    d_w1: Any  # (2, H, n)
    d_b1: Any  # (H, n)
    d_w2: Any  # (H, n)
    d_b2: Any  # (n,)
    scratch4: Any  # (4, n)
    ok4: Any  # (4, n) bool
    ok: Any  # (n,) bool
    velocity: Params | None  # momentum buffers, shaped like the weights

    @classmethod
    def allocate(cls, xp: Any, hidden: int, n: int, dtype: Any, momentum: bool) -> Buffers:
        def empty(*shape: int) -> Any:
            return xp.empty(shape, dtype=dtype)

        velocity = None
        if momentum:
            velocity = Params(
                w1=xp.zeros((2, hidden, n), dtype), b1=xp.zeros((hidden, n), dtype),
                w2=xp.zeros((hidden, n), dtype), b2=xp.zeros(n, dtype),
            )
        return cls(
            y=xp.asarray(np.array(TARGETS, dtype=dtype).reshape(4, 1)),
            a1=empty(4, hidden, n), a2=empty(4, n), err=empty(4, n), d_z2=empty(4, n),
            d_z1=empty(4, hidden, n), slope1=empty(4, hidden, n),
            d_w1=empty(2, hidden, n), d_b1=empty(hidden, n), d_w2=empty(hidden, n), d_b2=empty(n),
            scratch4=empty(4, n), ok4=xp.empty((4, n), dtype=bool), ok=xp.empty(n, dtype=bool),
            velocity=velocity,
        )


def _sigmoid_of_negated_inplace(xp: Any, minus_z: Any, clip: float) -> None:
    """minus_z <- 1 / (1 + exp(-z)), the notebook's formula, given -z, without overflow."""
    xp.minimum(minus_z, clip, out=minus_z)
    xp.exp(minus_z, out=minus_z)
    xp.add(minus_z, 1, out=minus_z)
    xp.divide(1, minus_z, out=minus_z)


def forward(xp: Any, p: Params, buf: Buffers, clip: float) -> None:
    a1, a2 = buf.a1, buf.a2
    # -z1 = -(x W1 + b1) for x in PATTERNS. Negation is exact, and so are the products by
    # 0 and 1, so these equal the negated np.dot(X, W1) + b1 of the notebook bit for bit.
    minus_b1 = buf.d_b1  # (H, n) scratch until the backward pass
    xp.negative(p.b1, out=minus_b1)
    a1[0] = minus_b1  # (H, n)                           x = (0, 0)
    xp.subtract(minus_b1, p.w1[1], out=a1[1])  # (H, n)  x = (0, 1)
    xp.subtract(minus_b1, p.w1[0], out=a1[2])  # (H, n)  x = (1, 0)
    xp.add(p.w1[0], p.w1[1], out=a1[3])  # (H, n)        x = (1, 1)
    xp.subtract(minus_b1, a1[3], out=a1[3])
    _sigmoid_of_negated_inplace(xp, a1, clip)  # (4, H, n)
    xp.multiply(a1, p.w2, out=buf.d_z1)  # (4, H, n) * (H, n) -> (4, H, n)
    xp.sum(buf.d_z1, axis=1, out=a2)  # (4, H, n) -> (4, n): z2 - b2
    xp.add(a2, p.b2, out=a2)  # (4, n) + (n,)
    xp.negative(a2, out=a2)
    _sigmoid_of_negated_inplace(xp, a2, clip)  # (4, n)


def _meets(xp: Any, criterion: Any, buf: Buffers) -> Any:
    """(n,) bool: do a net's current outputs meet the success criterion?"""
    if criterion.kind == "within":
        xp.abs(buf.err, out=buf.scratch4)  # (4, n)
        xp.less(buf.scratch4, criterion.threshold, out=buf.ok4)
        return xp.all(buf.ok4, axis=0, out=buf.ok)  # (4, n) -> (n,)
    xp.multiply(buf.err, buf.err, out=buf.scratch4)  # sse: sum_p err^2 < T
    return xp.less(xp.sum(buf.scratch4, axis=0), criterion.threshold, out=buf.ok)


def _loss(xp: Any, buf: Buffers, out: Any) -> None:
    """The notebook's printed loss, mean over patterns of (y - a2)^2, per net, into out (n,)."""
    xp.multiply(buf.err, buf.err, out=buf.scratch4)  # (4, n)
    xp.sum(buf.scratch4, axis=0, out=out)  # (4, n) -> (n,)
    xp.multiply(out, 0.25, out=out)


def backward(xp: Any, p: Params, buf: Buffers) -> None:
    a1, a2 = buf.a1, buf.a2
    # output layer: d_z2 = err * a2 (1 - a2)
    xp.subtract(1, a2, out=buf.d_z2)  # (4, n)
    xp.multiply(buf.d_z2, a2, out=buf.d_z2)
    xp.multiply(buf.err, buf.d_z2, out=buf.d_z2)  # (4, n)
    d_z2 = buf.d_z2[:, None, :]  # (4, 1, n)
    # hidden layer: d_z1 = (d_z2 W2^T) * a1 (1 - a1), with W2 before its update
    xp.multiply(d_z2, p.w2, out=buf.d_z1)  # (4, 1, n) * (H, n) -> (4, H, n)
    xp.subtract(1, a1, out=buf.slope1)  # (4, H, n)
    xp.multiply(buf.slope1, a1, out=buf.slope1)
    xp.multiply(buf.d_z1, buf.slope1, out=buf.d_z1)  # (4, H, n)
    # weight gradients: sums over patterns, in pattern order as np.dot does
    xp.multiply(a1, d_z2, out=buf.slope1)  # (4, H, n)
    _sum_patterns(xp, buf.slope1, out=buf.d_w2)  # (4, H, n) -> (H, n)
    _sum_patterns(xp, buf.d_z2, out=buf.d_b2)  # (4, n) -> (n,)
    xp.add(buf.d_z1[2], buf.d_z1[3], out=buf.d_w1[0])  # x_0 = 1 in patterns 2, 3
    xp.add(buf.d_z1[1], buf.d_z1[3], out=buf.d_w1[1])  # x_1 = 1 in patterns 1, 3
    _sum_patterns(xp, buf.d_z1, out=buf.d_b1)  # (4, H, n) -> (H, n)


def _sum_patterns(xp: Any, values: Any, out: Any) -> None:
    """out = ((v0 + v1) + v2) + v3: a fixed order, whatever the block size."""
    xp.add(values[0], values[1], out=out)
    xp.add(out, values[2], out=out)
    xp.add(out, values[3], out=out)


def update(xp: Any, p: Params, buf: Buffers, step: float, momentum: float) -> None:
    gradients = (buf.d_w1, buf.d_b1, buf.d_w2, buf.d_b2)
    if buf.velocity is None:  # w <- w - step * d_w, as the notebook's w += (a1 . delta) * lr
        for weight, grad in zip(p.arrays(), gradients):
            xp.multiply(grad, step, out=grad)
            xp.subtract(weight, grad, out=weight)
        return
    for weight, grad, velocity in zip(p.arrays(), gradients, buf.velocity.arrays()):
        xp.multiply(velocity, momentum, out=velocity)  # v <- mu v - step d_w
        xp.multiply(grad, step, out=grad)
        xp.subtract(velocity, grad, out=velocity)
        xp.add(weight, velocity, out=weight)  # w <- w + v


def online_epoch(xp: Any, p: Params, buf: Buffers, step: float, momentum: float, clip: float) -> None:
    """Four steps, one per pattern k, each on 1/2 (a2_k - y_k)^2 at the current weights.

    Pattern 0 comes first, so its forward pass is the judge's (rows k of buf.a1, a2, err);
    the others are recomputed after each step. Inputs of 0 give exact zero gradients, so
    only momentum moves those weights in that step.
    """
    for k, (x0, x1) in enumerate(PATTERNS):
        a1, a2, err, d_z2, d_z1 = buf.a1[k], buf.a2[k], buf.err[k], buf.d_z2[k], buf.d_z1[k]
        if k > 0:
            _forward_pattern(xp, p, buf, k, clip)
            xp.subtract(a2, buf.y[k], out=err)  # (n,)
        xp.subtract(1, a2, out=d_z2)  # d_z2 = err * a2 (1 - a2), as in `backward`
        xp.multiply(d_z2, a2, out=d_z2)
        xp.multiply(err, d_z2, out=d_z2)  # (n,)
        slope = buf.slope1[k]  # (H, n)
        xp.multiply(d_z2, p.w2, out=d_z1)  # (n,) * (H, n) -> (H, n)
        xp.subtract(1, a1, out=slope)
        xp.multiply(slope, a1, out=slope)
        xp.multiply(d_z1, slope, out=d_z1)  # (H, n)
        xp.multiply(a1, d_z2, out=buf.d_w2)  # (H, n)
        buf.d_b2[...] = d_z2
        buf.d_b1[...] = d_z1
        for i, x in enumerate((x0, x1)):
            if x:
                buf.d_w1[i] = d_z1
            else:
                buf.d_w1[i] = 0
        update(xp, p, buf, step, momentum)


def _forward_pattern(xp: Any, p: Params, buf: Buffers, k: int, clip: float) -> None:
    """Rows k of buf.a1 and buf.a2 from the current weights: `forward` for pattern k alone."""
    x0, x1 = PATTERNS[k]
    a1 = buf.a1[k]  # (H, n): -z1 until the sigmoid
    xp.negative(p.b1, out=a1)
    if x0 and x1:
        xp.add(p.w1[0], p.w1[1], out=buf.d_b1)  # scratch: the gradients are not yet computed
        xp.subtract(a1, buf.d_b1, out=a1)
    elif x0 or x1:
        xp.subtract(a1, p.w1[0 if x0 else 1], out=a1)
    _sigmoid_of_negated_inplace(xp, a1, clip)
    xp.multiply(a1, p.w2, out=buf.d_z1[k])  # (H, n)
    a2 = buf.a2[k]  # (n,)
    xp.sum(buf.d_z1[k], axis=0, out=a2)  # z2 - b2
    xp.add(a2, p.b2, out=a2)
    xp.negative(a2, out=a2)
    _sigmoid_of_negated_inplace(xp, a2, clip)
