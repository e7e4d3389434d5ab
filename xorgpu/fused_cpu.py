"""The fused CPU engine: the whole epoch loop compiled with numba, nets in parallel.

Each net is trained start to finish by one iteration of a `prange` loop (spread over the
CPU's threads), its weights and activations in locals, so a net-epoch costs no Python
and no memory traffic. Arithmetic follows xorgpu.engine operation for operation (no
fast-math, so no reassociation or FMA contraction): float64 results equal the array
engine's to rounding of exp. Compiled on first use and cached on disk (`cache=True`),
so only a user's very first run pays the compile time.
"""

from __future__ import annotations

import numpy as np

from .backend import Backend
from .config import Config
from .engine import _EXP_ARG_MAX, TARGETS, BlockRecord, plateau_window, sample_epochs
from .params import Params

try:
    import numba
except ImportError:  # numba is a dependency; this keeps the array engine usable without it
    numba = None


def available() -> bool:
    return numba is not None


def train_block_fused_cpu(params: Params, config: Config, backend: Backend) -> BlockRecord:
    """Same contract as xorgpu.engine.train_block, on NumPy arrays."""
    n, dtype = params.nets, config.dtype
    real = np.dtype(dtype).type
    samples = sample_epochs(config)
    outputs = np.empty((n, 4), dtype=dtype)
    final_loss = np.empty(n, dtype=dtype)
    epochs_to_solve = np.empty(n, dtype=np.int64)
    solved_at_end = np.empty(n, dtype=np.bool_)
    diverged = np.empty(n, dtype=np.bool_)
    loss_before_end = np.zeros(n, dtype=dtype)
    loss_samples = np.zeros((len(samples), n), dtype=dtype)
    criterion = config.success
    _train_nets(
        params.w1, params.b1, params.w2, params.b2, np.array(TARGETS, dtype=dtype),
        config.epochs, real(config.step), real(config.momentum), config.momentum > 0,
        real(criterion.threshold), criterion.kind == "sse", real(_EXP_ARG_MAX[dtype]),
        config.sample_every, config.epochs - plateau_window(config.epochs),
        outputs, final_loss, epochs_to_solve, solved_at_end, diverged, loss_before_end, loss_samples,
    )
    return BlockRecord(outputs, final_loss, epochs_to_solve, solved_at_end, diverged,
                       loss_before_end, loss_samples)


def _train_nets_py(w1, b1, w2, b2, y, epochs, step, momentum, use_momentum, threshold, sse_criterion,
                   clip, sample_every, epoch_before_end, outputs, final_loss, epochs_to_solve,
                   solved_at_end, diverged, loss_before_end, loss_samples):  # pragma: no cover
    hidden, n = w2.shape
    one = y[1]  # 1 in the weights' dtype, so float32 stays float32
    quarter = one / (one + one + one + one)
    for k in numba.prange(n):
        W1 = w1[:, :, k].copy()  # (2, H)
        B1 = b1[:, k].copy()  # (H,)
        W2 = w2[:, k].copy()  # (H,)
        B2 = b2[k]
        V1 = np.zeros_like(W1)
        VB1 = np.zeros_like(B1)
        V2 = np.zeros_like(W2)
        VB2 = B2 - B2
        A1 = np.empty((4, hidden), dtype=w2.dtype)
        D1 = np.empty((4, hidden), dtype=w2.dtype)
        A2 = np.empty(4, dtype=w2.dtype)
        err = np.empty(4, dtype=w2.dtype)
        d_z2 = np.empty(4, dtype=w2.dtype)
        ever_solved = False
        solved_now = False
        unsolved_epochs = 0
        sse = err[0]
        epoch = 0
        while True:
            # forward: -z1 per pattern, sigmoid as 1 / (1 + exp(min(-z, clip)))
            for h in range(hidden):
                minus_b1 = -B1[h]
                A1[0, h] = minus_b1
                A1[1, h] = minus_b1 - W1[1, h]
                A1[2, h] = minus_b1 - W1[0, h]
                A1[3, h] = minus_b1 - (W1[0, h] + W1[1, h])
                for p in range(4):
                    m = A1[p, h]
                    m = clip if m > clip else m
                    A1[p, h] = one / (np.exp(m) + one)
            for p in range(4):
                z2 = A1[p, 0] * W2[0]
                for h in range(1, hidden):
                    z2 = z2 + A1[p, h] * W2[h]
                m = -(z2 + B2)
                m = clip if m > clip else m
                A2[p] = one / (np.exp(m) + one)
                err[p] = A2[p] - y[p]
            # judge
            sse = ((err[0] * err[0] + err[1] * err[1]) + err[2] * err[2]) + err[3] * err[3]
            if sse_criterion:
                solved_now = sse < threshold
            else:
                solved_now = (abs(err[0]) < threshold and abs(err[1]) < threshold
                              and abs(err[2]) < threshold and abs(err[3]) < threshold)
            ever_solved = ever_solved or solved_now
            if not ever_solved:
                unsolved_epochs += 1
            if sample_every > 0 and epoch % sample_every == 0:
                loss_samples[epoch // sample_every, k] = sse * quarter
            if epoch == epoch_before_end:
                loss_before_end[k] = sse * quarter
            if epoch == epochs:
                break
            # backward and update
            for p in range(4):
                d_z2[p] = err[p] * ((one - A2[p]) * A2[p])
            for p in range(4):
                for h in range(hidden):
                    D1[p, h] = (d_z2[p] * W2[h]) * ((one - A1[p, h]) * A1[p, h])
            d_b2 = ((d_z2[0] + d_z2[1]) + d_z2[2]) + d_z2[3]
            for h in range(hidden):
                d_w2 = ((A1[0, h] * d_z2[0] + A1[1, h] * d_z2[1]) + A1[2, h] * d_z2[2]) + A1[3, h] * d_z2[3]
                d_w10 = D1[2, h] + D1[3, h]
                d_w11 = D1[1, h] + D1[3, h]
                d_b1 = ((D1[0, h] + D1[1, h]) + D1[2, h]) + D1[3, h]
                if use_momentum:
                    V1[0, h] = V1[0, h] * momentum - d_w10 * step
                    W1[0, h] = W1[0, h] + V1[0, h]
                    V1[1, h] = V1[1, h] * momentum - d_w11 * step
                    W1[1, h] = W1[1, h] + V1[1, h]
                    VB1[h] = VB1[h] * momentum - d_b1 * step
                    B1[h] = B1[h] + VB1[h]
                    V2[h] = V2[h] * momentum - d_w2 * step
                    W2[h] = W2[h] + V2[h]
                else:
                    W1[0, h] = W1[0, h] - d_w10 * step
                    W1[1, h] = W1[1, h] - d_w11 * step
                    B1[h] = B1[h] - d_b1 * step
                    W2[h] = W2[h] - d_w2 * step
            if use_momentum:
                VB2 = VB2 * momentum - d_b2 * step
                B2 = B2 + VB2
            else:
                B2 = B2 - d_b2 * step
            epoch += 1

        finite = np.isfinite(sse) and np.isfinite(B2)
        for h in range(hidden):
            finite = finite and np.isfinite(W1[0, h]) and np.isfinite(W1[1, h])
            finite = finite and np.isfinite(B1[h]) and np.isfinite(W2[h])
            w1[0, h, k] = W1[0, h]
            w1[1, h, k] = W1[1, h]
            b1[h, k] = B1[h]
            w2[h, k] = W2[h]
        b2[k] = B2
        for p in range(4):
            outputs[k, p] = A2[p]
        final_loss[k] = sse * quarter
        epochs_to_solve[k] = unsolved_epochs if ever_solved else -1
        solved_at_end[k] = solved_now
        diverged[k] = not finite


_train_nets = numba.njit(parallel=True, cache=True)(_train_nets_py) if numba is not None else None
