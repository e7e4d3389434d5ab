"""The weights of a batch of 2-H-1 nets, nets on the last (contiguous) axis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


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
