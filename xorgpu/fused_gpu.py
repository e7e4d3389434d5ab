"""The fused GPU engine: the whole epoch loop in one CUDA kernel, one thread per net.

Each thread keeps its net's weights and activations in registers for all epochs and
writes only the per-net record at the end, so a block costs one launch instead of ~60
per epoch. H, the dtype, the criterion and momentum are compile-time constants; each
combination is compiled once (NVRTC, through CuPy's RawModule, which also caches the
binary on disk). Arithmetic follows xorgpu.engine operation for operation, with FMA
contraction off (`--fmad=false`), so results agree with the array engine to rounding of
exp (float64: ~1e-15). CuPy is reached through `backend.xp`, never imported here.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .backend import Backend
from .config import Config
from .engine import EXP_ARG_MAX, BlockRecord, plateau_window, sample_epochs
from .params import Params

_SOURCE = r"""
typedef __REAL__ real;

__device__ __forceinline__ real sigmoid_of_negated(real m, real clip) {
    m = m > clip ? clip : m;            // as xp.minimum: NaN stays NaN
    real e = exp(m);
    e = e + (real)1;
    return (real)1 / e;
}

extern "C" __global__ void xor_train(
    real* __restrict__ w1, real* __restrict__ b1, real* __restrict__ w2, real* __restrict__ b2,
    const long long n, const int epochs, const real step, const real momentum,
    const real threshold, const real clip, const int sample_every, const int epoch_before_end,
    real* __restrict__ outputs, real* __restrict__ final_loss, long long* __restrict__ epochs_to_solve,
    bool* __restrict__ solved_at_end, bool* __restrict__ diverged,
    real* __restrict__ loss_before_end, real* __restrict__ loss_samples)
{
    const long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= n) return;
    const real y[4] = {0, 1, 1, 0};
    real W1[2][H], B1[H], W2[H], B2;
    real V1[2][H], VB1[H], V2[H], VB2 = 0;      // momentum velocities
    #pragma unroll
    for (int h = 0; h < H; ++h) {
        W1[0][h] = w1[(0 * H + h) * n + k];
        W1[1][h] = w1[(1 * H + h) * n + k];
        B1[h] = b1[h * n + k];
        W2[h] = w2[h * n + k];
        V1[0][h] = V1[1][h] = VB1[h] = V2[h] = 0;
    }
    B2 = b2[k];
    real A1[4][H], A2[4], err[4];
    bool ever_solved = false, solved_now = false;
    long long unsolved_epochs = 0;

    for (int epoch = 0; ; ++epoch) {
        // forward: -z1 for patterns (0,0), (0,1), (1,0), (1,1), as xorgpu.engine.forward
        #pragma unroll
        for (int h = 0; h < H; ++h) {
            const real minus_b1 = -B1[h];
            A1[0][h] = sigmoid_of_negated(minus_b1, clip);
            A1[1][h] = sigmoid_of_negated(minus_b1 - W1[1][h], clip);
            A1[2][h] = sigmoid_of_negated(minus_b1 - W1[0][h], clip);
            A1[3][h] = sigmoid_of_negated(minus_b1 - (W1[0][h] + W1[1][h]), clip);
        }
        #pragma unroll
        for (int p = 0; p < 4; ++p) {
            real z2 = A1[p][0] * W2[0];
            #pragma unroll
            for (int h = 1; h < H; ++h) z2 = z2 + A1[p][h] * W2[h];
            A2[p] = sigmoid_of_negated(-(z2 + B2), clip);
            err[p] = A2[p] - y[p];
        }
        // judge
        const real sse = ((err[0] * err[0] + err[1] * err[1]) + err[2] * err[2]) + err[3] * err[3];
#if CRITERION_SSE
        solved_now = sse < threshold;
#else
        solved_now = fabs(err[0]) < threshold && fabs(err[1]) < threshold
                  && fabs(err[2]) < threshold && fabs(err[3]) < threshold;
#endif
        ever_solved = ever_solved || solved_now;
        unsolved_epochs += !ever_solved;
        if (sample_every > 0 && epoch % sample_every == 0)
            loss_samples[(long long)(epoch / sample_every) * n + k] = sse * (real)0.25;
        if (epoch == epoch_before_end) loss_before_end[k] = sse * (real)0.25;
        if (epoch == epochs) break;

        // backward, as xorgpu.engine.backward
        real d_z2[4], d_z1[4][H];
        #pragma unroll
        for (int p = 0; p < 4; ++p) d_z2[p] = err[p] * (((real)1 - A2[p]) * A2[p]);
        #pragma unroll
        for (int p = 0; p < 4; ++p) {
            #pragma unroll
            for (int h = 0; h < H; ++h)
                d_z1[p][h] = (d_z2[p] * W2[h]) * (((real)1 - A1[p][h]) * A1[p][h]);
        }
        real d_b2 = ((d_z2[0] + d_z2[1]) + d_z2[2]) + d_z2[3];
        // update: w <- w - step * d_w, or with momentum v <- mu v - step d_w; w <- w + v
        #pragma unroll
        for (int h = 0; h < H; ++h) {
            real d_w2 = ((A1[0][h] * d_z2[0] + A1[1][h] * d_z2[1]) + A1[2][h] * d_z2[2]) + A1[3][h] * d_z2[3];
            real d_w10 = d_z1[2][h] + d_z1[3][h];
            real d_w11 = d_z1[1][h] + d_z1[3][h];
            real d_b1 = ((d_z1[0][h] + d_z1[1][h]) + d_z1[2][h]) + d_z1[3][h];
#if MOMENTUM
            V1[0][h] = V1[0][h] * momentum - d_w10 * step; W1[0][h] = W1[0][h] + V1[0][h];
            V1[1][h] = V1[1][h] * momentum - d_w11 * step; W1[1][h] = W1[1][h] + V1[1][h];
            VB1[h] = VB1[h] * momentum - d_b1 * step;      B1[h] = B1[h] + VB1[h];
            V2[h] = V2[h] * momentum - d_w2 * step;        W2[h] = W2[h] + V2[h];
#else
            W1[0][h] = W1[0][h] - d_w10 * step;
            W1[1][h] = W1[1][h] - d_w11 * step;
            B1[h] = B1[h] - d_b1 * step;
            W2[h] = W2[h] - d_w2 * step;
#endif
        }
#if MOMENTUM
        VB2 = VB2 * momentum - d_b2 * step; B2 = B2 + VB2;
#else
        B2 = B2 - d_b2 * step;
#endif
    }

    bool finite = isfinite(((err[0] * err[0] + err[1] * err[1]) + err[2] * err[2]) + err[3] * err[3]);
    #pragma unroll
    for (int h = 0; h < H; ++h) {
        finite = finite && isfinite(W1[0][h]) && isfinite(W1[1][h]) && isfinite(B1[h]) && isfinite(W2[h]);
        w1[(0 * H + h) * n + k] = W1[0][h];
        w1[(1 * H + h) * n + k] = W1[1][h];
        b1[h * n + k] = B1[h];
        w2[h * n + k] = W2[h];
    }
    finite = finite && isfinite(B2);
    b2[k] = B2;
    #pragma unroll
    for (int p = 0; p < 4; ++p) outputs[p * n + k] = A2[p];
    final_loss[k] = (((err[0] * err[0] + err[1] * err[1]) + err[2] * err[2]) + err[3] * err[3]) * (real)0.25;
    epochs_to_solve[k] = ever_solved ? unsolved_epochs : -1;
    solved_at_end[k] = solved_now;
    diverged[k] = !finite;
}
"""

THREADS_PER_BLOCK = 128


@functools.cache
def _kernel(cupy: Any, hidden: int, dtype: str, sse: bool, momentum: bool) -> Any:
    real = "double" if dtype == "float64" else "float"
    source = (f"#define H {hidden}\n#define CRITERION_SSE {int(sse)}\n#define MOMENTUM {int(momentum)}\n"
              + _SOURCE.replace("__REAL__", real))
    module = cupy.RawModule(code=source, options=("--fmad=false", "-std=c++14"))
    return module.get_function("xor_train")


def train_block_fused_gpu(params: Params, config: Config, backend: Backend) -> BlockRecord:
    """Same contract as xorgpu.engine.train_block, on CuPy arrays."""
    xp = backend.xp
    n, dtype = params.nets, config.dtype
    criterion = config.success
    kernel = _kernel(xp, params.hidden, dtype, criterion.kind == "sse", config.momentum > 0)
    real = np.dtype(dtype).type
    samples = sample_epochs(config)
    outputs = xp.empty((4, n), dtype=dtype)
    final_loss = xp.empty(n, dtype=dtype)
    epochs_to_solve = xp.empty(n, dtype=np.int64)
    solved_at_end = xp.empty(n, dtype=bool)
    diverged = xp.empty(n, dtype=bool)
    loss_before_end = xp.zeros(n, dtype=dtype)
    loss_samples = xp.zeros((len(samples), n), dtype=dtype)
    kernel(
        ((n + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK,), (THREADS_PER_BLOCK,),
        (params.w1, params.b1, params.w2, params.b2, np.int64(n), np.int32(config.epochs),
         real(config.step), real(config.momentum), real(criterion.threshold),
         real(EXP_ARG_MAX[dtype]), np.int32(config.sample_every),
         np.int32(config.epochs - plateau_window(config.epochs)),
         outputs, final_loss, epochs_to_solve, solved_at_end, diverged, loss_before_end, loss_samples),
    )
    to_host = backend.to_host
    return BlockRecord(
        outputs=to_host(outputs).T.copy(), final_loss=to_host(final_loss),
        epochs_to_solve=to_host(epochs_to_solve), solved_at_end=to_host(solved_at_end),
        diverged=to_host(diverged), loss_before_end=to_host(loss_before_end),
        loss_samples=to_host(loss_samples),
    )
