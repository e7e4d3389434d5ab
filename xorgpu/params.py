"""The weights of a batch of N-H-1 nets, nets on the last (contiguous) axis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np


@dataclass
class Params:
    """Weights of n nets; net k's notebook-shaped weights are w1[..., k], b1[:, k], ...

    Shapes: w1 (N, H, n) input->hidden; b1 (H, n); w2 (H, n) hidden->output; b2 (n,);
    ws (N, n) input->output, the skip weights, None in a net without them. A net without
    biases keeps b1 and b2 at zero.
    """

    w1: Any
    b1: Any
    w2: Any
    b2: Any
    ws: Any = None

    NAMES = ("w1", "b1", "w2", "b2", "ws")

    @property
    def inputs(self) -> int:
        return self.w1.shape[0]

    @property
    def hidden(self) -> int:
        return self.w1.shape[1]

    @property
    def nets(self) -> int:
        return self.b2.shape[0]

    def map(self, fn: Callable[[Any], Any]) -> Params:
        """Apply fn to every array (a dtype cast, a host-to-device copy, a slice)."""
        return Params(*(None if getattr(self, name) is None else fn(getattr(self, name)) for name in self.NAMES))

    def arrays(self) -> tuple[Any, ...]:
        """w1, b1, w2, b2, and ws where the nets have skip weights."""
        return (self.w1, self.b1, self.w2, self.b2) + (() if self.ws is None else (self.ws,))


def weight_names(hidden: int, inputs: int = 2, skip: bool = False) -> list[str]:
    """The names of one net's (N + 2) H + 1 (+ N) weights, in the order `per_net` lays them
    out: W1[i,j] (input i to hidden unit j), b1[j], W2[j] (hidden unit j to the output), b2,
    then Ws[i] (input i to the output) for a net with skip weights. It is the order of the
    notebook's arrays, and of the counter generator's draws."""
    return ([f"W1[{i},{j}]" for i in range(inputs) for j in range(hidden)] + [f"b1[{j}]" for j in range(hidden)]
            + [f"W2[{j}]" for j in range(hidden)] + ["b2"] + ([f"Ws[{i}]" for i in range(inputs)] if skip else []))


def per_net(params: Params) -> np.ndarray:
    """(n, weights): each net's weights in a row, as weight_names names them (host arrays)."""
    n = params.nets
    rows = [params.w1.reshape(-1, n), params.b1, params.w2, params.b2.reshape(1, n)]
    return np.concatenate(rows + ([] if params.ws is None else [params.ws])).T.copy()
