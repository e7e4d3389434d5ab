"""The array engine: the notebook's backprop, vectorised over a block of nets. The reference.

Each net is the notebook's 2-H-1 sigmoid net trained by full-batch gradient descent on
L = 1/2 * sum_p (a2_p - y_p)^2 over the 4 patterns p of a two-input task (XOR, or any
table:BITS; or the mean, a 4x smaller step). Every other net of the family (other units,
encodings, losses, tasks, no biases, skip weights) is trained by `general.py`, which
`train_block` hands it to; the code here is tuned for the notebook's net.
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
rounding (tests/engines/test_array.py). The fused engines follow this module operation
for operation (tests/engines/test_conformance.py).

With `update="online"` the judge is the same, but the epoch's learning is four steps, one
per pattern in PATTERNS order, each on that pattern's loss 1/2 (a2_p - y_p)^2 with the
weights as the previous step left them (`online_epoch`).

Besides `train_block`, what other modules need of one net's training comes from here, so
that none of them copies the loop or the forward pass: an observer hook on the epoch loop
(`train_block(..., observe=...)`, used by `xorgpu inspect` and `demo --explain`), the
forward pass on any inputs (`forward_pass`, `predict`: decision boundaries) and one
step's gradients with the activations behind them (`backprop`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..backend import Backend
from ..config import Config
from ..params import Params
from . import general
from .contract import EXP_ARG_MAX, LOSS_SCALE, PATTERNS, TARGETS, BlockRecord, epoch_before_end, sample_epochs
from .knobs import UNIFORM, NetKnobs, Steps, steps


@dataclass(frozen=True)
class EpochView:
    """The nets at one epoch of training, after the forward pass and before learning.

    Arrays are the engine's own (device arrays, on the backend): read them, never write.
    """

    epoch: int  # updates so far
    params: Params  # weights after `epoch` updates
    outputs: Any  # (4, n) a2, in PATTERNS order
    error: Any  # (4, n) a2 - y


Observer = Callable[[EpochView], None]


def train_block(params: Params, config: Config, backend: Backend, observe: Observer | None = None,
                knobs: NetKnobs = UNIFORM) -> BlockRecord:
    """Train the nets whose initial weights are `params` (device arrays, updated in place).

    observe: called at every epoch 0..E with an EpochView, before that epoch's learning.
    knobs: each net's own learning rates and momentum (default: the config's, for all).
    """
    if not config.classic_net:
        return general.train_block(params, config, backend, observe, knobs)
    xp = backend.xp
    hidden, n = params.hidden, params.nets
    dtype = params.b2.dtype
    buf = Buffers.allocate(xp, hidden, n, dtype, momentum=knobs.any_momentum(config),
                           targets=config.task_spec.target_bits)
    net_steps = steps(knobs, config, n, xp, arrays=False)
    criterion = config.success
    sample_row = {epoch: row for row, epoch in enumerate(sample_epochs(config))}
    loss_samples = xp.zeros((len(sample_row), n), dtype=dtype)  # (S, n)
    loss_before_end = xp.zeros(n, dtype=dtype)
    compare_at = epoch_before_end(config)
    ever_solved = xp.zeros(n, dtype=bool)  # (n,)
    unsolved_epochs = xp.zeros(n, dtype=np.int64)  # (n,) epochs before the first success
    clip = EXP_ARG_MAX[config.dtype]

    with backend.quiet():
        for epoch in range(config.epochs + 1):
            forward(xp, params, buf, clip)
            xp.subtract(buf.a2, buf.y, out=buf.err)  # (4, n)
            solved_now = _meets(xp, criterion, buf)  # (n,) bool
            xp.logical_or(ever_solved, solved_now, out=ever_solved)
            xp.add(unsolved_epochs, xp.logical_not(ever_solved), out=unsolved_epochs)
            if epoch in sample_row:
                _loss(xp, buf, out=loss_samples[sample_row[epoch]])
            if epoch == compare_at:
                _loss(xp, buf, out=loss_before_end)
            if observe is not None:
                observe(EpochView(epoch, params, buf.a2, buf.err))
            if epoch == config.epochs:
                break
            learn(xp, params, buf, config, net_steps, clip)

    final_loss = xp.empty(n, dtype=dtype)
    _loss(xp, buf, out=final_loss)
    finite = xp.isfinite(final_loss)
    for array in params.arrays():
        finite = finite & xp.all(xp.isfinite(array.reshape(-1, n)), axis=0)
    epochs_to_solve = xp.where(ever_solved, unsolved_epochs, -1)
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


def learn(xp: Any, params: Params, buf: Buffers, config: Config, net_steps: Steps, clip: float) -> None:
    """One epoch's learning, after `forward` and the judge have filled buf.a1, a2 and err."""
    if config.update == "online":
        online_epoch(xp, params, buf, net_steps, clip)
        return
    backward(xp, params, buf)
    update(xp, params, buf, net_steps)


@dataclass
class Buffers:
    """Preallocated work arrays for one block; names follow the module docstring."""

    y: Any  # (4, 1) targets
    a1: Any  # (4, H, n) hidden activations (-z1 until the sigmoid is applied in place)
    a2: Any  # (4, n) outputs (-z2 until the sigmoid is applied in place)
    err: Any  # (4, n) a2 - y
    d_z2: Any  # (4, n)
    d_z1: Any  # (4, H, n)
    d_w1: Any  # (2, H, n)
    d_b1: Any  # (H, n)
    d_w2: Any  # (H, n)
    d_b2: Any  # (n,)
    scratch_phn: Any  # (4, H, n) scratch: products on the way to a sum, slopes, steps
    scratch_hn: Any  # (H, n) scratch: -b1, w1[0] + w1[1]
    scratch_pn: Any  # (4, n) scratch: squared or absolute errors
    ok4: Any  # (4, n) bool
    ok: Any  # (n,) bool
    velocity: Params | None  # momentum buffers, shaped like the weights

    @classmethod
    def allocate(cls, xp: Any, hidden: int, n: int, dtype: Any, momentum: bool,
                 targets: tuple[int, ...] = TARGETS) -> Buffers:
        def empty(*shape: int) -> Any:
            return xp.empty(shape, dtype=dtype)

        velocity = None
        if momentum:
            velocity = Params(
                w1=xp.zeros((2, hidden, n), dtype), b1=xp.zeros((hidden, n), dtype),
                w2=xp.zeros((hidden, n), dtype), b2=xp.zeros(n, dtype),
            )
        return cls(
            y=xp.asarray(np.array(targets, dtype=dtype).reshape(4, 1)),
            a1=empty(4, hidden, n), a2=empty(4, n), err=empty(4, n), d_z2=empty(4, n), d_z1=empty(4, hidden, n),
            d_w1=empty(2, hidden, n), d_b1=empty(hidden, n), d_w2=empty(hidden, n), d_b2=empty(n),
            scratch_phn=empty(4, hidden, n), scratch_hn=empty(hidden, n), scratch_pn=empty(4, n),
            ok4=xp.empty((4, n), dtype=bool), ok=xp.empty(n, dtype=bool),
            velocity=velocity,
        )

    def gradients(self) -> Params:
        return Params(self.d_w1, self.d_b1, self.d_w2, self.d_b2)

    def step_scratch(self) -> Params:
        """Scratch shaped like the weights, for step * gradient (free while updating)."""
        return Params(self.scratch_phn[:2], self.scratch_phn[2], self.scratch_phn[3], self.scratch_pn[0])


def _sigmoid_of_negated_inplace(xp: Any, minus_z: Any, clip: float) -> None:
    """minus_z <- 1 / (1 + exp(-z)), the notebook's formula, given -z, without overflow."""
    xp.minimum(minus_z, clip, out=minus_z)
    xp.exp(minus_z, out=minus_z)
    xp.add(minus_z, 1, out=minus_z)
    xp.divide(1, minus_z, out=minus_z)


def forward(xp: Any, p: Params, buf: Buffers, clip: float) -> None:
    """buf.a1, buf.a2 for the 4 PATTERNS: `forward_pass` specialised to inputs of 0 and 1."""
    a1, a2 = buf.a1, buf.a2
    # -z1 = -(x W1 + b1) for x in PATTERNS. Negation is exact, and so are the products by
    # 0 and 1, so these equal the negated np.dot(X, W1) + b1 of the notebook bit for bit.
    minus_b1 = buf.scratch_hn  # (H, n)
    xp.negative(p.b1, out=minus_b1)
    a1[0] = minus_b1  # (H, n)                           x = (0, 0)
    xp.subtract(minus_b1, p.w1[1], out=a1[1])  # (H, n)  x = (0, 1)
    xp.subtract(minus_b1, p.w1[0], out=a1[2])  # (H, n)  x = (1, 0)
    xp.add(p.w1[0], p.w1[1], out=a1[3])  # (H, n)        x = (1, 1)
    xp.subtract(minus_b1, a1[3], out=a1[3])
    _sigmoid_of_negated_inplace(xp, a1, clip)  # (4, H, n)
    xp.multiply(a1, p.w2, out=buf.scratch_phn)  # (4, H, n) * (H, n) -> (4, H, n)
    xp.sum(buf.scratch_phn, axis=1, out=a2)  # (4, H, n) -> (4, n): z2 - b2
    xp.add(a2, p.b2, out=a2)  # (4, n) + (n,)
    xp.negative(a2, out=a2)
    _sigmoid_of_negated_inplace(xp, a2, clip)  # (4, n)


def _meets(xp: Any, criterion: Any, buf: Buffers) -> Any:
    """(n,) bool: do a net's current outputs meet the success criterion?"""
    if criterion.kind == "within":
        xp.abs(buf.err, out=buf.scratch_pn)  # (4, n)
        xp.less(buf.scratch_pn, criterion.threshold, out=buf.ok4)
        return xp.all(buf.ok4, axis=0, out=buf.ok)  # (4, n) -> (n,)
    xp.multiply(buf.err, buf.err, out=buf.scratch_pn)  # sse: sum_p err^2 < T
    return xp.less(xp.sum(buf.scratch_pn, axis=0), criterion.threshold, out=buf.ok)


def _loss(xp: Any, buf: Buffers, out: Any) -> None:
    """The notebook's printed loss, mean over patterns of (y - a2)^2, per net, into out (n,)."""
    xp.multiply(buf.err, buf.err, out=buf.scratch_pn)  # (4, n)
    xp.sum(buf.scratch_pn, axis=0, out=out)  # (4, n) -> (n,)
    xp.multiply(out, LOSS_SCALE, out=out)


def backward(xp: Any, p: Params, buf: Buffers) -> None:
    a1, a2 = buf.a1, buf.a2
    # output layer: d_z2 = err * a2 (1 - a2)
    xp.subtract(1, a2, out=buf.d_z2)  # (4, n)
    xp.multiply(buf.d_z2, a2, out=buf.d_z2)
    xp.multiply(buf.err, buf.d_z2, out=buf.d_z2)  # (4, n)
    d_z2 = buf.d_z2[:, None, :]  # (4, 1, n)
    # hidden layer: d_z1 = (d_z2 W2^T) * a1 (1 - a1), with W2 before its update
    slope1 = buf.scratch_phn  # (4, H, n) a1 (1 - a1)
    xp.multiply(d_z2, p.w2, out=buf.d_z1)  # (4, 1, n) * (H, n) -> (4, H, n)
    xp.subtract(1, a1, out=slope1)  # (4, H, n)
    xp.multiply(slope1, a1, out=slope1)
    xp.multiply(buf.d_z1, slope1, out=buf.d_z1)  # (4, H, n)
    # weight gradients: sums over patterns, in pattern order as np.dot does
    a1_d_z2 = buf.scratch_phn  # (4, H, n)
    xp.multiply(a1, d_z2, out=a1_d_z2)  # (4, H, n)
    _sum_patterns(xp, a1_d_z2, out=buf.d_w2)  # (4, H, n) -> (H, n)
    _sum_patterns(xp, buf.d_z2, out=buf.d_b2)  # (4, n) -> (n,)
    xp.add(buf.d_z1[2], buf.d_z1[3], out=buf.d_w1[0])  # x_0 = 1 in patterns 2, 3
    xp.add(buf.d_z1[1], buf.d_z1[3], out=buf.d_w1[1])  # x_1 = 1 in patterns 1, 3
    _sum_patterns(xp, buf.d_z1, out=buf.d_b1)  # (4, H, n) -> (H, n)


def _sum_patterns(xp: Any, values: Any, out: Any) -> None:
    """out = ((v0 + v1) + v2) + v3: a fixed order, whatever the block size."""
    xp.add(values[0], values[1], out=out)
    xp.add(out, values[2], out=out)
    xp.add(out, values[3], out=out)


def update(xp: Any, p: Params, buf: Buffers, net_steps: Steps) -> None:
    """w <- w - step * d_w (the notebook's w += (a1 . delta) * lr), or with momentum
    v <- mu v - step d_w; w <- w + v: each net with its own step per layer and momentum,
    (n,) arrays that broadcast over the nets' last axis (scalars where every net shares one)."""
    layer_steps = (net_steps.hidden, net_steps.hidden, net_steps.output, net_steps.output)  # w1, b1, w2, b2
    scratch = buf.step_scratch()
    if buf.velocity is None:
        for weight, grad, step_taken, step in zip(p.arrays(), buf.gradients().arrays(), scratch.arrays(),
                                                  layer_steps):
            xp.multiply(grad, step, out=step_taken)
            xp.subtract(weight, step_taken, out=weight)
        return
    for weight, grad, step_taken, step, velocity in zip(p.arrays(), buf.gradients().arrays(), scratch.arrays(),
                                                        layer_steps, buf.velocity.arrays()):
        xp.multiply(velocity, net_steps.momentum, out=velocity)
        xp.multiply(grad, step, out=step_taken)
        xp.subtract(velocity, step_taken, out=velocity)
        xp.add(weight, velocity, out=weight)


def online_epoch(xp: Any, p: Params, buf: Buffers, net_steps: Steps, clip: float) -> None:
    """Four steps, one per pattern k, each on 1/2 (a2_k - y_k)^2 at the current weights.

    Pattern 0 comes first, so its forward pass is the judge's (rows k of buf.a1, a2, err);
    the others are recomputed after each step. Each step's gradients are `backward`'s for
    one pattern: inputs of 0 give exact zero gradients, so only momentum moves those
    weights in that step.
    """
    for k, (x0, x1) in enumerate(PATTERNS):
        a1, a2, err, d_z2, d_z1 = buf.a1[k], buf.a2[k], buf.err[k], buf.d_z2[k], buf.d_z1[k]
        if k > 0:
            _forward_pattern(xp, p, buf, k, clip)
            xp.subtract(a2, buf.y[k], out=err)  # (n,)
        xp.subtract(1, a2, out=d_z2)  # d_z2 = err * a2 (1 - a2)
        xp.multiply(d_z2, a2, out=d_z2)
        xp.multiply(err, d_z2, out=d_z2)  # (n,)
        slope1 = buf.scratch_phn[k]  # (H, n) a1 (1 - a1)
        xp.multiply(d_z2, p.w2, out=d_z1)  # (n,) * (H, n) -> (H, n)
        xp.subtract(1, a1, out=slope1)
        xp.multiply(slope1, a1, out=slope1)
        xp.multiply(d_z1, slope1, out=d_z1)  # (H, n)
        xp.multiply(a1, d_z2, out=buf.d_w2)  # (H, n)
        buf.d_b2[...] = d_z2
        buf.d_b1[...] = d_z1
        for i, x in enumerate((x0, x1)):
            if x:
                buf.d_w1[i] = d_z1
            else:
                buf.d_w1[i] = 0
        update(xp, p, buf, net_steps)


def _forward_pattern(xp: Any, p: Params, buf: Buffers, k: int, clip: float) -> None:
    """Rows k of buf.a1 and buf.a2 from the current weights: `forward` for pattern k alone."""
    x0, x1 = PATTERNS[k]
    a1 = buf.a1[k]  # (H, n): -z1 until the sigmoid
    xp.negative(p.b1, out=a1)
    if x0 and x1:
        w1_sum = buf.scratch_hn
        xp.add(p.w1[0], p.w1[1], out=w1_sum)
        xp.subtract(a1, w1_sum, out=a1)
    elif x0 or x1:
        xp.subtract(a1, p.w1[0 if x0 else 1], out=a1)
    _sigmoid_of_negated_inplace(xp, a1, clip)
    a1_w2 = buf.scratch_phn[k]  # (H, n)
    xp.multiply(a1, p.w2, out=a1_w2)
    a2 = buf.a2[k]  # (n,)
    xp.sum(a1_w2, axis=0, out=a2)  # z2 - b2
    xp.add(a2, p.b2, out=a2)
    xp.negative(a2, out=a2)
    _sigmoid_of_negated_inplace(xp, a2, clip)


# --- one net's activations and gradients, for the modules that show them -----------------


@dataclass(frozen=True)
class Activations:
    """The forward pass on P inputs: (P, H, n) hidden, (P, n) output."""

    z1: Any
    a1: Any
    z2: Any
    a2: Any


def forward_pass(xp: Any, params: Params, inputs: np.ndarray) -> Activations:
    """The forward pass on any inputs (P, 2), allocating; on PATTERNS it equals `forward`
    bit for bit (same operations in the same order)."""
    dtype = params.b2.dtype
    x = np.asarray(inputs, dtype=dtype)
    x0 = xp.asarray(x[:, 0].reshape(-1, 1, 1))  # (P, 1, 1)
    x1 = xp.asarray(x[:, 1].reshape(-1, 1, 1))
    clip = EXP_ARG_MAX[dtype.name]
    minus_z1 = -params.b1 - (x0 * params.w1[0] + x1 * params.w1[1])  # (P, H, n)
    a1 = minus_z1.copy()
    _sigmoid_of_negated_inplace(xp, a1, clip)  # (P, H, n)
    z2 = xp.sum(a1 * params.w2, axis=1) + params.b2  # (P, H, n) -> (P, n)
    a2 = -z2
    _sigmoid_of_negated_inplace(xp, a2, clip)  # (P, n)
    return Activations(z1=-minus_z1, a1=a1, z2=z2, a2=a2)


def predict(xp: Any, params: Params, inputs: np.ndarray) -> Any:
    """(P, n) outputs of the nets for inputs (P, 2)."""
    return forward_pass(xp, params, inputs).a2


@dataclass(frozen=True)
class Backprop:
    """One full-batch backward pass of n nets on the 4 PATTERNS, as host arrays (nets last)."""

    a1: np.ndarray  # (4, H, n)
    a2: np.ndarray  # (4, n)
    d_z2: np.ndarray  # (4, n) dL/dz2 = (a2 - y) a2 (1 - a2)
    d_z1: np.ndarray  # (4, H, n) dL/dz1
    gradients: Params  # dL/dw of L = 1/2 sum_p (a2_p - y_p)^2: d_w1 (2, H, n), d_b1, d_w2, d_b2


def backprop(params: Params, backend: Backend) -> Backprop:
    """Forward and backward at `params` (device arrays, left unchanged): the same code as
    one step of training; tests check it against central finite differences."""
    xp = backend.xp
    buf = Buffers.allocate(xp, params.hidden, params.nets, params.b2.dtype, momentum=False)
    with backend.quiet():
        forward(xp, params, buf, EXP_ARG_MAX[params.b2.dtype.name])
        xp.subtract(buf.a2, buf.y, out=buf.err)
        backward(xp, params, buf)
    to_host = backend.to_host
    return Backprop(a1=to_host(buf.a1), a2=to_host(buf.a2), d_z2=to_host(buf.d_z2), d_z1=to_host(buf.d_z1),
                    gradients=buf.gradients().map(to_host))
