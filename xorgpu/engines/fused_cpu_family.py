"""The fused CPU kernel for every net of the family that is not the notebook's: any task,
units, encoding, loss, with or without biases and skip weights.

It follows engines/general.py operation for operation, in the same order (sums over
patterns from pattern 0, over inputs from input 0), in one pass over the patterns per
epoch: each pattern's forward pass, its error for the judge, and its share of every
gradient, added in pattern order. Nets lie in SIMD lanes as in fused_cpu.py (tiles of
TILE nets, a prange over tiles, each multiply-add one explicit fma where family_train has
one, nothing contracted by the compiler); the unit, loss,
criterion, biases, skip weights and momentum are switches after
contract.FAMILY_KERNEL_PARAMETERS, constant through a call, so the compiler hoists them
out of the loops over nets.
"""

from __future__ import annotations

import numpy as np

try:
    import numba

    from .fast_exp import fma, vexp, vtanh
except ImportError:  # numba is a dependency; fused_cpu.available() says so
    numba = None

TILE = 256  # nets per tile: the (N, H, TILE) weights, velocities and gradients of a tile stay in L2
SIGMOID, TANH, RELU, LINEAR = 0, 1, 2, 3  # contract.UNIT_CODES
WITHIN, SSE, SIDE = 0, 1, 2  # contract.CRITERION_CODES


def _unit(code, z, clip, one):  # pragma: no cover  (compiled)
    if code == SIGMOID:
        return one / (vexp(np.minimum(-z, clip)) + one)  # general.unit: 1 / (1 + exp(min(-z, clip)))
    if code == TANH:
        return vtanh(z)
    if code == RELU:
        return np.maximum(z, one - one)
    return z


def _slope(code, a, one):  # pragma: no cover  (compiled)
    if code == SIGMOID:
        return (one - a) * a
    if code == TANH:
        return fma(-a, a, one)
    if code == RELU:
        return one if a > one - one else one - one
    return one


def _train_family_py(w1, b1, w2, b2, ws, targets, inputs, side, step_hidden, step_output, momentum, n, epochs,
                     threshold, clip, loss_scale, sample_every, epoch_before_end, first_epoch, stop_epoch, v1, vb1, v2,
                     vb2, vws, ever_solved, unsolved_epochs, outputs, final_loss, epochs_to_solve, solved_at_end,
                     diverged, loss_before_end, loss_samples,
                     activation, output, cross_entropy, criterion, bias, skip, use_momentum):  # pragma: no cover
    hidden = w2.shape[0]
    n_in = inputs.shape[1]
    patterns = inputs.shape[0]
    one = w2.dtype.type(1)
    zero = one - one
    for tile in numba.prange((n + TILE - 1) // TILE):
        lo = tile * TILE
        L = min(TILE, n - lo)  # real nets in this tile; the rest are zero-weight padding
        W1 = np.empty((n_in, hidden, TILE), dtype=w2.dtype)
        V1 = np.empty_like(W1)
        G1 = np.empty_like(W1)
        B1 = np.empty((hidden, TILE), dtype=w2.dtype)
        W2 = np.empty_like(B1)
        VB1 = np.empty_like(B1)
        V2 = np.empty_like(B1)
        GB1 = np.empty_like(B1)
        G2 = np.empty_like(B1)
        A1 = np.empty_like(B1)  # this pattern's hidden activations
        D1 = np.empty_like(B1)  # and deltas
        WS = np.empty((n_in, TILE), dtype=w2.dtype)
        VWS = np.empty_like(WS)
        GWS = np.empty_like(WS)
        B2 = np.empty(TILE, dtype=w2.dtype)
        VB2 = np.empty_like(B2)
        GB2 = np.empty_like(B2)
        STEP1 = np.empty_like(B2)
        STEP2 = np.empty_like(B2)
        MU = np.empty_like(B2)
        Z2 = np.empty_like(B2)
        A2 = np.empty_like(B2)
        ERR = np.empty_like(B2)
        D2 = np.empty_like(B2)
        SUM = np.empty_like(B2)  # sum of squared errors over the patterns so far
        OK = np.empty(TILE, dtype=np.uint8)  # every pattern so far meets the criterion
        EVER = np.empty(TILE, dtype=np.uint8)
        UNSOLVED = np.empty(TILE, dtype=np.int64)
        for i in range(n_in):
            for h in range(hidden):
                for j in range(TILE):
                    W1[i, h, j] = w1[i, h, lo + j] if j < L else zero
                    V1[i, h, j] = v1[i, h, lo + j] if use_momentum and j < L else zero
            for j in range(TILE):
                WS[i, j] = ws[i, lo + j] if skip and j < L else zero
                VWS[i, j] = vws[i, lo + j] if skip and use_momentum and j < L else zero
        for h in range(hidden):
            for j in range(TILE):
                B1[h, j] = b1[h, lo + j] if j < L else zero
                W2[h, j] = w2[h, lo + j] if j < L else zero
                VB1[h, j] = vb1[h, lo + j] if use_momentum and j < L else zero
                V2[h, j] = v2[h, lo + j] if use_momentum and j < L else zero
        for j in range(TILE):
            real = j < L
            B2[j] = b2[lo + j] if real else zero
            VB2[j] = vb2[lo + j] if use_momentum and real else zero
            STEP1[j] = step_hidden[lo + j] if real else zero
            STEP2[j] = step_output[lo + j] if real else zero
            MU[j] = momentum[lo + j] if real else zero
            EVER[j] = (1 if ever_solved[lo + j] else 0) if real else 0
            UNSOLVED[j] = unsolved_epochs[lo + j] if real else 0
        epoch = first_epoch
        last = False
        while True:
            last = epoch == epochs
            for p in range(patterns):
                # forward: z1 = (x W1) + b1, a1 = f(z1); z2 = ((a1 W2) + b2) + x Ws, a2 = g(z2)
                for h in range(hidden):
                    for j in range(TILE):
                        A1[h, j] = inputs[p, 0] * W1[0, h, j]
                    for i in range(1, n_in):
                        for j in range(TILE):
                            A1[h, j] = fma(inputs[p, i], W1[i, h, j], A1[h, j])
                    for j in range(TILE):
                        A1[h, j] = _unit(activation, A1[h, j] + B1[h, j], clip, one)
                for j in range(TILE):
                    Z2[j] = A1[0, j] * W2[0, j]
                for h in range(1, hidden):
                    for j in range(TILE):
                        Z2[j] = fma(A1[h, j], W2[h, j], Z2[j])
                for j in range(TILE):
                    Z2[j] = Z2[j] + B2[j]
                if skip:
                    for j in range(TILE):
                        D2[j] = inputs[p, 0] * WS[0, j]  # D2 as scratch: x Ws
                    for i in range(1, n_in):
                        for j in range(TILE):
                            D2[j] = fma(inputs[p, i], WS[i, j], D2[j])
                    for j in range(TILE):
                        Z2[j] = Z2[j] + D2[j]
                y = targets[p]
                for j in range(TILE):
                    A2[j] = _unit(output, Z2[j], clip, one)
                    ERR[j] = A2[j] - y
                    SUM[j] = ERR[j] * ERR[j] if p == 0 else fma(ERR[j], ERR[j], SUM[j])
                    if criterion == WITHIN:
                        ok = abs(ERR[j]) < threshold
                    elif criterion == SIDE:
                        ok = (-ERR[j]) * side[p] < threshold
                    else:
                        ok = True
                    OK[j] = ok if p == 0 else OK[j] & ok
                if last:
                    for j in range(L):
                        outputs[p, lo + j] = A2[j]
                    continue  # the last epoch is judged, not learned from
                # this pattern's deltas, and its share of every gradient (pattern 0's starts each sum)
                for j in range(TILE):
                    D2[j] = ERR[j] if cross_entropy else ERR[j] * _slope(output, A2[j], one)
                    GB2[j] = D2[j] if p == 0 else GB2[j] + D2[j]
                for h in range(hidden):
                    for j in range(TILE):
                        D1[h, j] = (D2[j] * W2[h, j]) * _slope(activation, A1[h, j], one)
                        G2[h, j] = A1[h, j] * D2[j] if p == 0 else fma(A1[h, j], D2[j], G2[h, j])
                        GB1[h, j] = D1[h, j] if p == 0 else GB1[h, j] + D1[h, j]
                for i in range(n_in):
                    x = inputs[p, i]
                    for h in range(hidden):
                        for j in range(TILE):
                            G1[i, h, j] = x * D1[h, j] if p == 0 else fma(x, D1[h, j], G1[i, h, j])
                    if skip:
                        for j in range(TILE):
                            GWS[i, j] = x * D2[j] if p == 0 else fma(x, D2[j], GWS[i, j])
            # judge
            for j in range(TILE):
                solved = SUM[j] < threshold if criterion == SSE else OK[j] == 1
                OK[j] = 1 if solved else 0
                EVER[j] = EVER[j] | OK[j]
                UNSOLVED[j] += 1 - EVER[j]
            if sample_every > 0 and epoch % sample_every == 0:
                for j in range(L):
                    loss_samples[epoch // sample_every, lo + j] = SUM[j] * loss_scale
            if epoch == epoch_before_end:
                for j in range(L):
                    loss_before_end[lo + j] = SUM[j] * loss_scale
            if last:
                break
            # update: w <- w - step d_w, or v <- mu v - step d_w; w <- w + v
            for i in range(n_in):
                for h in range(hidden):
                    for j in range(TILE):
                        if use_momentum:
                            V1[i, h, j] = fma(V1[i, h, j], MU[j], -(G1[i, h, j] * STEP1[j]))
                            W1[i, h, j] = W1[i, h, j] + V1[i, h, j]
                        else:
                            W1[i, h, j] = fma(-G1[i, h, j], STEP1[j], W1[i, h, j])
                if skip:
                    for j in range(TILE):
                        if use_momentum:
                            VWS[i, j] = fma(VWS[i, j], MU[j], -(GWS[i, j] * STEP2[j]))
                            WS[i, j] = WS[i, j] + VWS[i, j]
                        else:
                            WS[i, j] = fma(-GWS[i, j], STEP2[j], WS[i, j])
            for h in range(hidden):
                for j in range(TILE):
                    if use_momentum:
                        V2[h, j] = fma(V2[h, j], MU[j], -(G2[h, j] * STEP2[j]))
                        W2[h, j] = W2[h, j] + V2[h, j]
                        if bias:
                            VB1[h, j] = fma(VB1[h, j], MU[j], -(GB1[h, j] * STEP1[j]))
                            B1[h, j] = B1[h, j] + VB1[h, j]
                    else:
                        W2[h, j] = fma(-G2[h, j], STEP2[j], W2[h, j])
                        if bias:
                            B1[h, j] = fma(-GB1[h, j], STEP1[j], B1[h, j])
            if bias:
                for j in range(TILE):
                    if use_momentum:
                        VB2[j] = fma(VB2[j], MU[j], -(GB2[j] * STEP2[j]))
                        B2[j] = B2[j] + VB2[j]
                    else:
                        B2[j] = fma(-GB2[j], STEP2[j], B2[j])
            epoch += 1
            if epoch == stop_epoch:  # this call's last epoch: the next call judges this one first
                break

        if last:  # the record
            for j in range(L):
                k = lo + j
                finite = np.isfinite(SUM[j]) and np.isfinite(B2[j])
                for h in range(hidden):
                    finite = finite and np.isfinite(B1[h, j]) and np.isfinite(W2[h, j])
                    for i in range(n_in):
                        finite = finite and np.isfinite(W1[i, h, j])
                if skip:
                    for i in range(n_in):
                        finite = finite and np.isfinite(WS[i, j])
                final_loss[k] = SUM[j] * loss_scale
                epochs_to_solve[k] = UNSOLVED[j] if EVER[j] else -1
                solved_at_end[k] = OK[j] == 1
                diverged[k] = not finite
        for j in range(L):
            k = lo + j
            for h in range(hidden):
                for i in range(n_in):
                    w1[i, h, k] = W1[i, h, j]
                    if use_momentum:
                        v1[i, h, k] = V1[i, h, j]
                b1[h, k], w2[h, k] = B1[h, j], W2[h, j]
                if use_momentum:
                    vb1[h, k], v2[h, k] = VB1[h, j], V2[h, j]
            if skip:
                for i in range(n_in):
                    ws[i, k] = WS[i, j]
                    if use_momentum:
                        vws[i, k] = VWS[i, j]
            b2[k] = B2[j]
            if use_momentum:
                vb2[k] = VB2[j]
            ever_solved[k] = EVER[j] == 1
            unsolved_epochs[k] = UNSOLVED[j]


if numba is not None:
    _unit = numba.njit(inline="always")(_unit)
    _slope = numba.njit(inline="always")(_slope)
    _train_family = numba.njit(parallel=True, cache=True)(_train_family_py)  # no contraction: fma places each
else:
    _train_family = None
