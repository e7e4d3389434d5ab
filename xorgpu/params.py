"""The weights of a batch of 2-H-1 nets, nets on the last (contiguous) axis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np


@dataclass
class Params:
    """Weights of n nets; net k's notebook-shaped weights are w1[..., k], b1[:, k], ...

    Shapes: w1 (2, H, n) input->hidden; b1 (H, n); w2 (H, n) hidden->output; b2 (n,).
    """

    w1: Any
    b1: Any
    w2: Any
    b2: Any

    NAMES = ("w1", "b1", "w2", "b2")

    @property
    def hidden(self) -> int:
        return self.w1.shape[1]

    @property
    def nets(self) -> int:
        return self.b2.shape[0]

    def map(self, fn: Callable[[Any], Any]) -> Params:
        """Apply fn to every array (a dtype cast, a host-to-device copy, a slice)."""
        return Params(*(fn(getattr(self, name)) for name in self.NAMES))

    def arrays(self) -> tuple[Any, Any, Any, Any]:
        return (self.w1, self.b1, self.w2, self.b2)


def weight_names(hidden: int) -> list[str]:
    """The names of one net's 4H + 1 weights, in the order `per_net` lays them out:
    W1[i,j] (input i to hidden unit j), b1[j], W2[j] (hidden unit j to the output), b2.
    It is the order of the notebook's arrays, and of the counter generator's draws."""
    return ([f"W1[{i},{j}]" for i in range(2) for j in range(hidden)] + [f"b1[{j}]" for j in range(hidden)]
            + [f"W2[{j}]" for j in range(hidden)] + ["b2"])


def per_net(params: Params) -> np.ndarray:
    """(n, 4H + 1): each net's weights in a row, as weight_names(H) names them (host arrays)."""
    n = params.nets
    return np.concatenate([params.w1.reshape(-1, n), params.b1, params.w2, params.b2.reshape(1, n)]).T.copy()
