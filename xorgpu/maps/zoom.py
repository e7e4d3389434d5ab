"""Zooms: a map centred on a point, and a sequence of maps closing in on one."""

from __future__ import annotations

import math

from ..config import ConfigError
from .axes import Axis
from .spec import MapSpec


def zoom_frames(first: MapSpec, target: tuple[float, float], frames: int, factor: float) -> list[MapSpec]:
    """`frames` maps from `first` to one `factor` times narrower along each axis, each
    narrower than the last by the same ratio, the target staying where it is in the frame
    (so it is the point the zoom closes in on). Log axes zoom in decades."""
    if not (isinstance(frames, int) and 2 <= frames <= 1000):
        raise ConfigError(f"--frames must be an integer in 2..1000, got {frames!r}")
    if not (math.isfinite(factor) and factor > 1):
        raise ConfigError(f"--zoom-factor must be a number > 1, got {factor!r}")
    for axis, point in zip((first.x, first.y), target):
        if not axis.low <= point <= axis.high:
            raise ConfigError(f"--zoom-to {point!r} is outside the first frame's {axis.knob.name} range "
                              f"{axis.low:.6g}..{axis.high:.6g}")
    specs = []
    for k in range(frames):
        shrink = factor ** (-k / (frames - 1))
        axes = [_shrunk(axis, point, shrink) for axis, point in zip((first.x, first.y), target)]
        specs.append(MapSpec(first.config, axes[0], axes[1], first.resolution, first.seed))
    return specs


def _shrunk(axis: Axis, point: float, shrink: float) -> Axis:
    to, back = (math.log10, lambda v: 10.0 ** v) if axis.log else (float, float)
    low, high, fixed = to(axis.low), to(axis.high), to(point)
    return Axis.of(axis.knob, back(fixed + (low - fixed) * shrink), back(fixed + (high - fixed) * shrink), axis.log)
