"""Per-net training values: a learning rate per layer and a momentum for each net.

By default every net of a block trains with its config's `lr` and `momentum`. A map of
trainability (xorgpu.maps) gives each net its own: `lr_hidden` scales the steps of W1 and
b1, `lr_output` those of W2 and b2. Every engine takes them the same way, as three (n,)
arrays of the config's dtype (`steps`), so a net with given values trains exactly as a
block of nets that all share them (tests/engines/test_knobs.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import Config, ConfigError


@dataclass(frozen=True)
class NetKnobs:
    """Each net's own values, (n,) float64 host arrays; None: the config's value for all."""

    lr_hidden: np.ndarray | None = None
    lr_output: np.ndarray | None = None
    momentum: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name in ("lr_hidden", "lr_output"):
            values = getattr(self, name)
            if values is not None and not np.all(np.isfinite(values) & (values > 0)):
                raise ConfigError(f"every net's {name} must be a positive finite number")
        if self.momentum is not None and not np.all((self.momentum >= 0) & (self.momentum < 1)):
            raise ConfigError("every net's momentum must be in [0, 1)")

    def any_momentum(self, config: Config) -> bool:
        """Does some net train with momentum (the kernels then run their momentum variant)?"""
        if self.momentum is None:
            return config.momentum > 0
        return bool(np.any(self.momentum > 0))


UNIFORM = NetKnobs()


@dataclass(frozen=True)
class Steps:
    """What the update multiplies, per net, as (n,) arrays of the config's dtype on xp."""

    hidden: Any  # the step of W1 and b1: lr_hidden, or lr_hidden / P for the mean loss
    output: Any  # the step of W2 and b2
    momentum: Any  # (each a scalar of the dtype where steps(arrays=False) and all nets share it)


def steps(knobs: NetKnobs, config: Config, n: int, xp: Any, arrays: bool = True) -> Steps:
    """The per-net steps of n nets: each from its knob if set, else from the config.

    Config.step's rule (lr, or lr / 4 for loss_reduction mean) is applied in float64 and
    rounded to the dtype once, as for a config's own lr. arrays=False: a value shared by
    every net stays a scalar of the dtype (the array engine multiplies by it faster; the
    products are the same).
    """
    def per_net(values: np.ndarray | None, default: float, is_rate: bool) -> Any:
        if values is None and not arrays:
            return np.dtype(config.dtype).type(default)
        if values is None:
            host = np.full(n, default, dtype=np.float64)
        else:
            host = np.asarray(values, dtype=np.float64)
            if host.shape != (n,):
                raise ConfigError(f"per-net values for {host.shape} nets given to a block of {n}")
            if is_rate and config.loss_reduction == "mean":
                host = host / config.patterns
        return xp.asarray(host.astype(config.dtype))

    return Steps(
        hidden=per_net(knobs.lr_hidden, config.step, True),
        output=per_net(knobs.lr_output, config.step, True),
        momentum=per_net(knobs.momentum, config.momentum, False),
    )
