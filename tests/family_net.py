"""An independent single-net trainer for every net of the family, in plain Python floats.

Written from issue 22's definitions, sharing no code with xorgpu: the task's patterns and
targets are built here (pattern p holds the bits of p, first input most significant;
parity, or a table of two inputs), the units, their derivatives, the two losses, the
encodings, biases or none, skip weights from the inputs to the output, batch or online
updates, a learning rate per layer and classical momentum. final_loss is the mean over
patterns of (o - y)^2; `round` means every output on its target's side of the midpoint of
the two target values. Slow (pure Python), so tests give it a few small nets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def patterns_of(task: str) -> list[tuple[list[int], int]]:
    """[(input bits, target bit)] of a task: xor, parity:N or table:BITS."""
    if task == "xor":
        task = "table:0110"
    if task.startswith("parity:"):
        n = int(task.split(":")[1])
        rows = [[(p >> (n - 1 - i)) & 1 for i in range(n)] for p in range(2**n)]
        return [(bits, sum(bits) % 2) for bits in rows]
    table = task.split(":")[1]
    return [([p >> 1, p & 1], int(table[p])) for p in range(4)]


def unit(name: str, z: float) -> float:
    if name == "sigmoid":
        return 1.0 / (1.0 + math.exp(min(-z, 708.0))) if not math.isnan(z) else math.nan
    if name == "tanh":
        return math.tanh(z)
    if name == "relu":
        return z if z > 0 else 0.0
    return z


def derivative(name: str, a: float) -> float:
    """The unit's derivative at the input that gave output a."""
    if name == "sigmoid":
        return a * (1 - a)
    if name == "tanh":
        return 1 - a * a
    if name == "relu":
        return 1.0 if a > 0 else 0.0
    return 1.0


@dataclass
class FamilyResult:
    epochs_to_solve: int
    final_loss: float
    outputs: list[float]
    diverged: bool


@dataclass
class Net:
    w1: list[list[float]]  # [input][hidden]
    b1: list[float]
    w2: list[float]
    b2: float
    ws: list[float] | None  # skip weights [input], or None


def train_family_net(net: Net, *, task: str = "xor", activation: str = "sigmoid", output: str = "sigmoid",
                     encoding: str = "01", loss: str = "sse", bias: bool = True, update: str = "batch",
                     lr: float = 0.1, momentum: float = 0.0, epochs: int = 100, criterion: str = "round",
                     mean: bool = False, lr_hidden: float | None = None, lr_output: float | None = None) -> FamilyResult:
    """lr_hidden (W1, b1) and lr_output (W2, b2, Ws): each layer's own rate, lr if not given."""
    low, high = (0.0, 1.0) if encoding == "01" else (-1.0, 1.0)
    data = [([high if b else low for b in bits], high if t else low) for bits, t in patterns_of(task)]
    n_in, hidden = len(data[0][0]), len(net.w2)
    w1 = [list(r) for r in net.w1]
    b1, w2, b2 = list(net.b1), list(net.w2), net.b2
    ws = list(net.ws) if net.ws is not None else None
    steps = {layer: (rate if rate is not None else lr) / (len(data) if mean else 1)
             for layer, rate in (("hidden", lr_hidden), ("output", lr_output))}
    velocity: dict[str, list[float]] = {}

    def forward(x: list[float]) -> tuple[list[float], float]:
        h = [unit(activation, sum(x[i] * w1[i][j] for i in range(n_in)) + b1[j]) for j in range(hidden)]
        z = sum(h[j] * w2[j] for j in range(hidden)) + b2
        if ws is not None:
            z += sum(x[i] * ws[i] for i in range(n_in))
        return h, unit(output, z)

    def grads(batch: list[tuple[list[float], float]]) -> dict[str, list[float]]:
        g = {"w1": [0.0] * (n_in * hidden), "b1": [0.0] * hidden, "w2": [0.0] * hidden, "b2": [0.0],
             "ws": [0.0] * n_in}
        for x, y in batch:
            h, o = forward(x)
            d_o = (o - y) if loss == "cross-entropy" else (o - y) * derivative(output, o)
            g["b2"][0] += d_o
            for i in range(n_in):
                g["ws"][i] += x[i] * d_o
            for j in range(hidden):
                g["w2"][j] += h[j] * d_o
                d_h = d_o * w2[j] * derivative(activation, h[j])
                g["b1"][j] += d_h
                for i in range(n_in):
                    g["w1"][i * hidden + j] += x[i] * d_h
        return g

    def apply(g: dict[str, list[float]]) -> None:
        nonlocal b2
        current = {"w1": [w1[i][j] for i in range(n_in) for j in range(hidden)], "b1": b1, "w2": w2, "b2": [b2],
                   "ws": ws or []}
        for name, values in current.items():
            if name == "ws" and ws is None or name in ("b1", "b2") and not bias:
                continue
            v = velocity.setdefault(name, [0.0] * len(values))
            step = steps["hidden" if name in ("w1", "b1") else "output"]
            for k in range(len(values)):
                v[k] = momentum * v[k] - step * g[name][k]
                values[k] = values[k] + v[k]
            if name == "w1":
                for i in range(n_in):
                    for j in range(hidden):
                        w1[i][j] = values[i * hidden + j]
            elif name == "b2":
                b2 = values[0]

    def judge() -> tuple[bool, float, list[float]]:
        outs = [forward(x)[1] for x, _ in data]
        errors = [o - y for o, (_, y) in zip(outs, data)]
        mse = sum(e * e for e in errors) / len(data)
        kind, _, value = criterion.partition(":")
        if kind == "round":
            mid = (low + high) / 2
            solved = all((o > mid) if y == high else (o < mid) for o, (_, y) in zip(outs, data))
        elif kind == "within":
            solved = all(abs(e) < float(value) for e in errors)
        else:
            solved = sum(e * e for e in errors) < float(value)
        return solved, mse, outs

    solved_at = -1
    for epoch in range(epochs + 1):
        solved, mse, outs = judge()
        if solved and solved_at < 0:
            solved_at = epoch
        if epoch == epochs:
            break
        if update == "online":
            for pattern in data:
                apply(grads([pattern]))
        else:
            apply(grads(data))
    weights = [v for row in w1 for v in row] + b1 + w2 + [b2] + (ws or [])
    diverged = not (math.isfinite(mse) and all(math.isfinite(w) for w in weights))
    return FamilyResult(solved_at, mse, outs, diverged)
