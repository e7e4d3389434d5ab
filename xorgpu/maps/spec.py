"""A map: one net per pixel, all from one seed's initial weights, two knobs varied.

Pixel [i, j] is the net at (x[j], y[i]); pixels are numbered row by row, p = i R + j, and
any range of pixels (a block, a tile of a service job) is built from the spec alone, so a
pixel trains the same whatever range it falls in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import Config, ConfigError
from ..engines.knobs import NetKnobs
from ..init import nets_of
from ..params import Params
from .axes import Axis, check_pair

MAX_RESOLUTION = 16384  # 2.7e8 pixels: a 4096^2 map is 1.7e7


@dataclass(frozen=True)
class MapSpec:
    config: Config
    x: Axis
    y: Axis
    resolution: int  # R: the map is R x R pixels
    seed: int = 0  # the net whose initial weights every pixel starts from

    def __post_init__(self) -> None:
        if isinstance(self.resolution, bool) or not isinstance(self.resolution, int) \
                or not 1 <= self.resolution <= MAX_RESOLUTION:
            raise ConfigError(f"resolution must be an integer in 1..{MAX_RESOLUTION}, got {self.resolution!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise ConfigError(f"seed must be an integer in [0, 2**32), got {self.seed!r}")
        check_pair(self.x, self.y)
        self.xs(), self.ys()  # refuse, now, ranges too narrow for float64 at this resolution

    @property
    def pixels(self) -> int:
        return self.resolution * self.resolution

    def xs(self) -> np.ndarray:
        return self.x.values(self.resolution)

    def ys(self) -> np.ndarray:
        return self.y.values(self.resolution)

    def pixel_values(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Each knob's float64 value at pixels start..stop-1."""
        pixel = np.arange(start, stop, dtype=np.int64)
        return {self.x.knob.name: self.xs()[pixel % self.resolution],
                self.y.knob.name: self.ys()[pixel // self.resolution]}

    def nets(self, start: int, stop: int, xp: Any = np) -> tuple[Params, NetKnobs]:
        """The initial weights (arrays of the config's dtype on xp, NumPy or CuPy) and the
        knobs (host arrays) of pixels start..stop-1."""
        if not 0 <= start < stop <= self.pixels:
            raise ConfigError(f"pixels {start}:{stop} are not in this {self.resolution}x{self.resolution} map")
        n, dtype = stop - start, np.dtype(self.config.dtype)
        values = self.pixel_values(start, stop)
        seed_net = nets_of(self.config, np.array([self.seed]), xp)
        params = seed_net.map(lambda a: xp.repeat(a, n, axis=-1))  # (..., n), contiguous copies
        if "init_scale" in values:
            scale = xp.asarray(values["init_scale"].astype(dtype))
            params = params.map(lambda a: a * scale)
        for axis in (self.x, self.y):
            if axis.knob.weight is not None:
                array, index = axis.knob.weight
                getattr(params, array)[index] = xp.asarray(values[axis.knob.name].astype(dtype))
        rate = values.get("lr")
        knobs = NetKnobs(lr_hidden=values.get("lr_hidden", rate), lr_output=values.get("lr_output", rate),
                         momentum=values.get("momentum"))
        return params, knobs

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.config.to_dict(), "x": self.x.to_dict(), "y": self.y.to_dict(),
                "resolution": self.resolution, "seed": self.seed}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> MapSpec:
        if not isinstance(data, dict) or set(data) != {"config", "x", "y", "resolution", "seed"}:
            raise ConfigError("a map spec must be a JSON object with config, x, y, resolution and seed")
        config = Config.from_dict(data["config"])
        try:
            x, y = (Axis.from_dict(data[k], config) for k in ("x", "y"))
        except (KeyError, TypeError, ValueError) as error:
            raise ConfigError(f"a map spec's axis is malformed: {error}") from None
        return cls(config, x, y, data["resolution"], data["seed"])

    @classmethod
    def from_json(cls, text: str) -> MapSpec:
        try:
            return cls.from_dict(json.loads(text))
        except ValueError as error:
            raise ConfigError(f"a map spec is not valid JSON: {error}") from None
