"""Views and zooms: a map given by ranges or by a centre and span, and a sequence of maps
closing in on a point."""

from __future__ import annotations

import math

from ..config import Config, ConfigError
from .axes import Axis, Knob
from .spec import MapSpec


def parse_point(text: str, flag: str, allow_one: bool = False) -> tuple[float, float]:
    """`X,Y` (or, with allow_one, `X` meaning X,X) as two floats."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        values = []
    if len(values) == 1 and allow_one:
        return values[0], values[0]
    if len(values) != 2:
        raise ConfigError(f"{flag} {text!r}: use two numbers X,Y" + (" or one" if allow_one else ""))
    return values[0], values[1]


def view(config: Config, x: str, y: str, resolution: int, seed: int = 0, center: str | None = None,
         span: str | None = None) -> MapSpec:
    """The map of `map --x X --y Y` (NAME:LOW:HIGH[:log]), or with --center X,Y --span
    D[,DY] (axes then NAME or NAME:log), as the flags give them."""
    if (center is None) != (span is None):
        raise ConfigError("--center and --span go together")
    if center is None or span is None:
        return MapSpec(config, Axis.parse(x, config), Axis.parse(y, config), resolution, seed)
    centres, spans = parse_point(center, "--center"), parse_point(span, "--span", allow_one=True)
    axes = []
    for text, middle, width in zip((x, y), centres, spans):
        name, _, scale = text.partition(":")
        if scale not in ("", "log", "lin"):
            raise ConfigError(f"with --center/--span, give the axis as NAME or NAME:log, not {text!r}")
        axes.append(Axis.around(Knob.parse(name, config), middle, width, scale == "log"))
    return MapSpec(config, axes[0], axes[1], resolution, seed)


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
