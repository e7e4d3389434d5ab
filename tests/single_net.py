"""An independent single-net trainer, written from the equations in plain Python floats.

It shares no code with xorgpu's engines: one 2-H-1 sigmoid net, full-batch gradient
descent on L = 1/2 sum_p (o_p - y_p)^2 over the four XOR patterns, a learning rate per
layer and classical momentum, the sigmoid 1 / (1 + exp(-z)) with exp's argument capped
at 708 (as the engines document, so it never overflows). Slow (about 0.1 ms per epoch),
so tests give it a few nets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

XOR = (((0.0, 0.0), 0.0), ((0.0, 1.0), 1.0), ((1.0, 0.0), 1.0), ((1.0, 1.0), 0.0))


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(min(-z, 708.0))) if not math.isnan(z) else math.nan


@dataclass
class SingleNetResult:
    epochs_to_solve: int  # first epoch whose outputs are all within 0.5 of their targets; -1: never
    final_loss: float  # mean over patterns of (o - y)^2 after the last update
    diverged: bool


def train_single_net(w1: list[list[float]], b1: list[float], w2: list[float], b2: float, *, lr_hidden: float,
                     lr_output: float, momentum: float = 0.0, epochs: int) -> SingleNetResult:
    """w1[i][j]: input i to hidden unit j; b1[j]; w2[j]: hidden unit j to the output; b2."""
    hidden = len(w2)
    w1 = [list(row) for row in w1]
    b1, w2 = list(b1), list(w2)
    v_w1 = [[0.0] * hidden for _ in range(2)]
    v_b1, v_w2, v_b2 = [0.0] * hidden, [0.0] * hidden, 0.0
    solved_at = -1
    for epoch in range(epochs + 1):
        g_w1 = [[0.0] * hidden for _ in range(2)]
        g_b1, g_w2, g_b2 = [0.0] * hidden, [0.0] * hidden, 0.0
        loss, solved = 0.0, True
        for (x0, x1), target in XOR:
            h = [sigmoid(x0 * w1[0][j] + x1 * w1[1][j] + b1[j]) for j in range(hidden)]
            o = sigmoid(sum(h[j] * w2[j] for j in range(hidden)) + b2)
            error = o - target
            loss += error * error / 4
            solved = solved and abs(error) < 0.5
            delta_o = error * o * (1 - o)
            g_b2 += delta_o
            for j in range(hidden):
                g_w2[j] += h[j] * delta_o
                delta_h = delta_o * w2[j] * h[j] * (1 - h[j])
                g_b1[j] += delta_h
                g_w1[0][j] += x0 * delta_h
                g_w1[1][j] += x1 * delta_h
        if solved and solved_at < 0:
            solved_at = epoch
        if epoch == epochs:
            break
        for j in range(hidden):
            for i in range(2):
                v_w1[i][j] = momentum * v_w1[i][j] - lr_hidden * g_w1[i][j]
                w1[i][j] += v_w1[i][j]
            v_b1[j] = momentum * v_b1[j] - lr_hidden * g_b1[j]
            b1[j] += v_b1[j]
            v_w2[j] = momentum * v_w2[j] - lr_output * g_w2[j]
            w2[j] += v_w2[j]
        v_b2 = momentum * v_b2 - lr_output * g_b2
        b2 += v_b2
    weights = [*w1[0], *w1[1], *b1, *w2, b2]
    diverged = not (math.isfinite(loss) and all(math.isfinite(w) for w in weights))
    return SingleNetResult(solved_at, loss, diverged)
