"""The fused CPU engine: the whole epoch loop compiled with numba, nets in SIMD lanes.

Nets are cut into tiles of TILE nets; a `prange` loop hands tiles to the CPU's threads,
and each tile trains through all its epochs in arrays of a few KB that stay in L1. Every
step is a loop over the tile's nets (the last, contiguous axis) with straight-line
arithmetic and a vectorisable exp (`fast_exp.vexp`), so the compiler turns it into SIMD
over nets. Arithmetic follows the array engine (`array.py`) operation for operation, in
the same order (no reassociation), with one licence: each multiply-add is one fused
multiply-add, placed explicitly (`fast_exp.fma`) where the CUDA kernel places its own,
and the compiler contracts nothing else. So a net's bits are the same on every x86-64 CPU
(with FMA instructions or without) and equal the CUDA kernel's; they differ from the array
engine's in the last bits, as its exp does (tests/engines/test_conformance.py). The
kernel takes contract.KERNEL_PARAMETERS, then the Specialisation's two switches. It trains
the notebook's net; every other net of the family goes to fused_cpu_family.py's kernel. A
block trains in a series of calls (contract.epoch_slices, about half a second each), each
resuming from the weights and KernelState the one before left: Ctrl-C stops a run between
two.
Compiled on first use and cached on disk (`cache=True`): only a user's first run pays.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..backend import Backend
from ..config import Config
from ..lifetime import interrupts_deferred
from ..params import Params
from .contract import BlockRecord, KernelState, RecordArrays, Specialisation, epoch_slices, kernel_arguments, task_arrays
from .knobs import UNIFORM, NetKnobs, steps

try:
    import numba
    from numba.core import event as numba_events

    from . import fused_cpu_family
    from .fast_exp import fma, vexp
except ImportError:  # numba is a dependency; this keeps the array engine usable without it
    numba = None

TILE = 512  # nets per tile: (4, H, TILE) activations stay in L1/L2 for small H (measured best of 128..2048)
FIRST_SLICE_LANE_EPOCHS = 2_000_000  # a block's first call: lanes x epochs per thread (milliseconds)


def available() -> bool:
    return numba is not None


def train_block(params: Params, config: Config, backend: Backend | None = None, knobs: NetKnobs = UNIFORM
                ) -> BlockRecord:
    """The array engine's train_block, on NumPy arrays, in calls of the compiled kernel."""
    n = params.nets
    spec = Specialisation.of(config, knobs)
    kernel, tile = (_train_nets, TILE) if spec.classic else (fused_cpu_family._train_family, fused_cpu_family.TILE)
    record = RecordArrays.allocate(np, n, config)
    state = KernelState.allocate(np, n, config, spec.momentum)
    task = task_arrays(config, np)
    net_steps = steps(knobs, config, n, np)
    tiles = -(-n // tile)
    lanes_per_thread = -(-tiles // max(1, min(tiles, numba.get_num_threads()))) * tile  # padding counts
    work = lanes_per_thread * (1 if spec.classic else config.patterns * config.inputs // 8 + 1)
    for first, stop in epoch_slices(config.epochs, FIRST_SLICE_LANE_EPOCHS // work):
        kernel(*kernel_arguments(params, task, config, record, net_steps, state, first, stop), *spec.switches)
    return record.to_block_record(np.asarray)


def prepare(config: Config, on_compile: Callable[[str], None]) -> None:
    """Load the kernel for config's dtype from numba's cache, or compile it, now.

    Compiling takes seconds, once per machine and dtype, so on_compile(message) is called
    first when it must happen; a run can then say why its first call is slow. Ctrl-C meanwhile
    is taken once the kernel is loaded (numba would swallow it).
    """

    class Announce(numba_events.Listener):
        def on_start(self, event: numba_events.Event) -> None:
            if event.data["dispatcher"] in (_train_nets, fused_cpu_family._train_family):
                nets = "the notebook's net" if config.classic_net else "the other nets of the family"
                on_compile(f"compiling the fused CPU kernel of {nets} for {config.dtype}: once on this machine, "
                           "numba caches it")

        def on_end(self, event: numba_events.Event) -> None:
            pass

    shapes = ((config.inputs, 1, 1), (1, 1), (1, 1), (1,)) + (((config.inputs, 1),) if config.skip else ())
    one_net = Params(*(np.zeros(shape, dtype=config.dtype) for shape in shapes))
    with interrupts_deferred(), numba_events.install_listener("numba:compile", Announce()):
        train_block(one_net, config.replace(epochs=1, sample_every=0, hidden=1))


def _sigmoid_of_negated(m, clip, one):  # pragma: no cover  (compiled)
    return one / (vexp(np.minimum(m, clip)) + one)  # np.minimum as in the array engine: NaN stays NaN


def _train_nets_py(w1, b1, w2, b2, targets, step_hidden, step_output, momentum, n, epochs, threshold, clip, loss_scale,
                   sample_every, epoch_before_end, first_epoch, stop_epoch, v1, vb1, v2, vb2, ever_solved, unsolved_epochs,
                   outputs, final_loss, epochs_to_solve, solved_at_end, diverged, loss_before_end, loss_samples,
                   sse_criterion, use_momentum):  # pragma: no cover
    hidden = w2.shape[0]
    one = w2.dtype.type(1)  # in the weights' dtype, so float32 stays float32
    for tile in numba.prange((n + TILE - 1) // TILE):
        lo = tile * TILE
        L = min(TILE, n - lo)  # real nets in this tile; the rest are zero-weight padding
        # Every tile is TILE lanes wide, a compile-time constant: all nets then go through
        # the same SIMD code, so a net's bits do not depend on where in a tile it falls.
        # np.empty and explicit loops: inside prange, numba turns every np.zeros and slice
        # assignment into a parallel loop of its own to compile (first runs 1.5 s slower).
        W1 = np.empty((2, hidden, TILE), dtype=w2.dtype)
        B1 = np.empty((hidden, TILE), dtype=w2.dtype)
        W2 = np.empty((hidden, TILE), dtype=w2.dtype)
        B2 = np.empty(TILE, dtype=w2.dtype)
        V1 = np.empty_like(W1)
        VB1 = np.empty_like(B1)
        V2 = np.empty_like(W2)
        VB2 = np.empty_like(B2)
        STEP1 = np.empty_like(B2)  # each net's own step of W1 and b1
        STEP2 = np.empty_like(B2)  # of W2 and b2
        MU = np.empty_like(B2)  # and momentum
        zero = one - one
        for h in range(hidden):
            for j in range(L):
                W1[0, h, j], W1[1, h, j] = w1[0, h, lo + j], w1[1, h, lo + j]
                B1[h, j], W2[h, j] = b1[h, lo + j], w2[h, lo + j]
            for j in range(L, TILE):
                W1[0, h, j] = W1[1, h, j] = B1[h, j] = W2[h, j] = zero
            for j in range(TILE):
                V1[0, h, j] = V1[1, h, j] = VB1[h, j] = V2[h, j] = zero
            if use_momentum:  # the velocities the call before left
                for j in range(L):
                    V1[0, h, j], V1[1, h, j] = v1[0, h, lo + j], v1[1, h, lo + j]
                    VB1[h, j], V2[h, j] = vb1[h, lo + j], v2[h, lo + j]
        for j in range(L):
            B2[j] = b2[lo + j]
            STEP1[j], STEP2[j], MU[j] = step_hidden[lo + j], step_output[lo + j], momentum[lo + j]
        for j in range(L, TILE):
            B2[j] = STEP1[j] = STEP2[j] = MU[j] = zero
        A1 = np.empty((4, hidden, TILE), dtype=w2.dtype)
        A2 = np.empty((4, TILE), dtype=w2.dtype)
        err = np.empty((4, TILE), dtype=w2.dtype)
        d_z2 = np.empty((4, TILE), dtype=w2.dtype)
        z2 = np.empty(TILE, dtype=w2.dtype)
        sse = np.empty(TILE, dtype=w2.dtype)
        EVER = np.empty(TILE, dtype=np.uint8)
        solved_now = np.empty(TILE, dtype=np.uint8)
        UNSOLVED = np.empty(TILE, dtype=np.int64)
        for j in range(TILE):
            VB2[j] = zero
            EVER[j] = solved_now[j] = 0
            UNSOLVED[j] = 0
        for j in range(L):
            if use_momentum:
                VB2[j] = vb2[lo + j]
            EVER[j] = 1 if ever_solved[lo + j] else 0
            UNSOLVED[j] = unsolved_epochs[lo + j]
        epoch = first_epoch
        while True:
            # forward: -z1 per pattern, a = 1 / (1 + exp(min(-z, clip)))
            for h in range(hidden):
                for j in range(TILE):
                    minus_b1 = -B1[h, j]
                    A1[0, h, j] = _sigmoid_of_negated(minus_b1, clip, one)
                    A1[1, h, j] = _sigmoid_of_negated(minus_b1 - W1[1, h, j], clip, one)
                    A1[2, h, j] = _sigmoid_of_negated(minus_b1 - W1[0, h, j], clip, one)
                    A1[3, h, j] = _sigmoid_of_negated(minus_b1 - (W1[0, h, j] + W1[1, h, j]), clip, one)
            for p in range(4):
                for j in range(TILE):
                    z2[j] = A1[p, 0, j] * W2[0, j]
                for h in range(1, hidden):
                    for j in range(TILE):
                        z2[j] = fma(A1[p, h, j], W2[h, j], z2[j])
                for j in range(TILE):
                    A2[p, j] = _sigmoid_of_negated(-(z2[j] + B2[j]), clip, one)
                    err[p, j] = A2[p, j] - targets[p]
            # judge
            for j in range(TILE):
                e0, e1, e2, e3 = err[0, j], err[1, j], err[2, j], err[3, j]
                sse[j] = fma(e3, e3, fma(e2, e2, fma(e1, e1, e0 * e0)))
                if sse_criterion:
                    ok = sse[j] < threshold
                else:
                    ok = (abs(e0) < threshold) & (abs(e1) < threshold) & (abs(e2) < threshold) & (abs(e3) < threshold)
                solved_now[j] = ok
                EVER[j] = EVER[j] | solved_now[j]
                UNSOLVED[j] += 1 - EVER[j]
            if sample_every > 0 and epoch % sample_every == 0:
                for j in range(L):
                    loss_samples[epoch // sample_every, lo + j] = sse[j] * loss_scale
            if epoch == epoch_before_end:
                for j in range(L):
                    loss_before_end[lo + j] = sse[j] * loss_scale
            if epoch == epochs:
                break
            # backward and update
            for p in range(4):
                for j in range(TILE):
                    d_z2[p, j] = err[p, j] * ((one - A2[p, j]) * A2[p, j])
            for h in range(hidden):
                for j in range(TILE):
                    a0, a1, a2, a3 = A1[0, h, j], A1[1, h, j], A1[2, h, j], A1[3, h, j]
                    g0, g1, g2, g3 = d_z2[0, j], d_z2[1, j], d_z2[2, j], d_z2[3, j]
                    w = W2[h, j]
                    d0 = (g0 * w) * ((one - a0) * a0)
                    d1 = (g1 * w) * ((one - a1) * a1)
                    d2 = (g2 * w) * ((one - a2) * a2)
                    d3 = (g3 * w) * ((one - a3) * a3)
                    d_w2 = fma(a3, g3, fma(a2, g2, fma(a1, g1, a0 * g0)))
                    d_w10 = d2 + d3
                    d_w11 = d1 + d3
                    d_b1 = ((d0 + d1) + d2) + d3
                    step1, step2 = STEP1[j], STEP2[j]
                    if use_momentum:
                        mu = MU[j]
                        V1[0, h, j] = fma(V1[0, h, j], mu, -(d_w10 * step1))
                        W1[0, h, j] = W1[0, h, j] + V1[0, h, j]
                        V1[1, h, j] = fma(V1[1, h, j], mu, -(d_w11 * step1))
                        W1[1, h, j] = W1[1, h, j] + V1[1, h, j]
                        VB1[h, j] = fma(VB1[h, j], mu, -(d_b1 * step1))
                        B1[h, j] = B1[h, j] + VB1[h, j]
                        V2[h, j] = fma(V2[h, j], mu, -(d_w2 * step2))
                        W2[h, j] = W2[h, j] + V2[h, j]
                    else:
                        W1[0, h, j] = fma(-d_w10, step1, W1[0, h, j])
                        W1[1, h, j] = fma(-d_w11, step1, W1[1, h, j])
                        B1[h, j] = fma(-d_b1, step1, B1[h, j])
                        W2[h, j] = fma(-d_w2, step2, W2[h, j])
            for j in range(TILE):
                d_b2 = ((d_z2[0, j] + d_z2[1, j]) + d_z2[2, j]) + d_z2[3, j]
                if use_momentum:
                    VB2[j] = fma(VB2[j], MU[j], -(d_b2 * STEP2[j]))
                    B2[j] = B2[j] + VB2[j]
                else:
                    B2[j] = fma(-d_b2, STEP2[j], B2[j])
            epoch += 1
            if epoch == stop_epoch:  # this call's last epoch: the next call judges this one first
                break

        if epoch == epochs:  # the last call: the record
            for j in range(L):
                k = lo + j
                finite = np.isfinite(sse[j]) and np.isfinite(B2[j])
                for h in range(hidden):
                    finite = finite and np.isfinite(W1[0, h, j]) and np.isfinite(W1[1, h, j])
                    finite = finite and np.isfinite(B1[h, j]) and np.isfinite(W2[h, j])
                for p in range(4):
                    outputs[p, k] = A2[p, j]
                final_loss[k] = sse[j] * loss_scale
                epochs_to_solve[k] = UNSOLVED[j] if EVER[j] else -1
                solved_at_end[k] = solved_now[j] == 1
                diverged[k] = not finite
        for h in range(hidden):
            for j in range(L):
                w1[0, h, lo + j], w1[1, h, lo + j] = W1[0, h, j], W1[1, h, j]
                b1[h, lo + j], w2[h, lo + j] = B1[h, j], W2[h, j]
                if use_momentum:
                    v1[0, h, lo + j], v1[1, h, lo + j] = V1[0, h, j], V1[1, h, j]
                    vb1[h, lo + j], v2[h, lo + j] = VB1[h, j], V2[h, j]
        for j in range(L):
            b2[lo + j] = B2[j]
            if use_momentum:
                vb2[lo + j] = VB2[j]
            ever_solved[lo + j] = EVER[j] == 1
            unsolved_epochs[lo + j] = UNSOLVED[j]


if numba is not None:
    _sigmoid_of_negated = numba.njit(inline="always")(_sigmoid_of_negated)
    _train_nets = numba.njit(parallel=True, cache=True)(_train_nets_py)  # no contraction: fma places each
else:
    _train_nets = None
