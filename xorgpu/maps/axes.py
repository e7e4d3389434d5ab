"""The two axes of a map: which knob each varies, over which range, on which scale.

An axis is written `NAME:LOW:HIGH[:log]`; NAME is a knob:
- `lr` (both layers), `lr_hidden` (W1, b1), `lr_output` (W2, b2), `momentum`: per-net
  training values (engines/knobs.py);
- `init_scale`: every initial weight and bias of the map's seed multiplied by it;
- `W1[i,j]` (input i to hidden unit j), `b1[j]`, `W2[j]` (hidden unit j to the output),
  `b2`, `Ws[i]` (input i to the output, in a net with skip weights): that one initial
  weight set to the value (a net without biases has no b1 or b2 to set).
Log axes take `geomspace(LOW, HIGH, R)`, linear ones `linspace(LOW, HIGH, R)`, in float64.
A zoom gives an axis by its centre and span instead (`Axis.around`): on a log axis the
span counts decades.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ..config import Config, ConfigError

TRAINING_KNOBS = ("lr", "lr_hidden", "lr_output", "momentum")
KNOB_HELP = "lr, lr_hidden, lr_output, momentum, init_scale, W1[i,j], b1[j], W2[j], b2 or Ws[i]"
_WEIGHT = re.compile(r"^(W1)\[(\d+),(\d+)\]$|^(b1|W2)\[(\d+)\]$|^(b2)$|^(Ws)\[(\d+)\]$")


@dataclass(frozen=True)
class Knob:
    """What an axis varies: a training value, the init scale, or one initial weight."""

    name: str  # as written, canonical (no spaces)
    # ("w1", (i, j)), ("b1", (j,)), ("w2", (j,)), ("b2", ()), ("ws", (i,))
    weight: tuple[str, tuple[int, ...]] | None = None

    @classmethod
    def parse(cls, text: str, config: Config) -> Knob:
        """A knob of the nets `config` trains (their inputs, hidden units, biases, skip weights)."""
        name = "".join(text.split())
        if name in (*TRAINING_KNOBS, "init_scale"):
            return cls(name)
        match = _WEIGHT.match(name)
        if match is None:
            raise ConfigError(f"unknown map axis {text!r}: use {KNOB_HELP}")
        array, *indices = [group for group in match.groups() if group is not None]
        index = tuple(int(i) for i in indices)
        hidden, inputs = config.hidden, config.inputs
        if array in ("W1", "Ws") and index[0] >= inputs:
            raise ConfigError(f"map axis {name}: the net has {inputs} inputs, so i is "
                              + ("0 or 1" if inputs == 2 else f"0..{inputs - 1}"))
        if array in ("W1", "b1", "W2") and index[-1] >= hidden:
            raise ConfigError(f"map axis {name}: hidden units are numbered 0..{hidden - 1} (H = {hidden})")
        if array in ("b1", "b2") and not config.bias:
            raise ConfigError(f"map axis {name}: the net has no biases (--no-bias)")
        if array == "Ws" and not config.skip:
            raise ConfigError(f"map axis {name}: the net has no skip weights (give --skip)")
        return cls(name, (array.lower(), index))  # named as Params names its arrays

    @property
    def is_rate(self) -> bool:
        return self.name in ("lr", "lr_hidden", "lr_output")

    def check(self, low: float, high: float) -> None:
        """Refuse values no net can train with."""
        if self.is_rate and low <= 0:
            raise ConfigError(f"map axis {self.name}: learning rates must be positive, got {low:g}")
        if self.name == "momentum" and not (low >= 0 and high < 1):
            raise ConfigError(f"map axis momentum: values must be in [0, 1), got {low:g}..{high:g}")


@dataclass(frozen=True)
class Axis:
    knob: Knob
    low: float
    high: float
    log: bool = False

    @classmethod
    def parse(cls, text: str, config: Config) -> Axis:
        """NAME:LOW:HIGH[:log] (or :lin)."""
        if not isinstance(text, str):
            raise ConfigError(f"a map axis must be a string NAME:LOW:HIGH[:log], got {text!r}")
        parts = text.split(":")
        if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] not in ("log", "lin")):
            raise ConfigError(f"malformed map axis {text!r}: use NAME:LOW:HIGH or NAME:LOW:HIGH:log (or NAME, NAME:log "
                              "with --center and --span)")
        knob = Knob.parse(parts[0], config)
        low, high = (_number(value, text) for value in parts[1:3])
        return cls.of(knob, low, high, len(parts) == 4 and parts[3] == "log")

    @classmethod
    def of(cls, knob: Knob, low: float, high: float, log: bool) -> Axis:
        if not low < high:
            raise ConfigError(f"map axis {knob.name}: need LOW < HIGH, got {low!r} and {high!r}")
        if log and low <= 0:
            raise ConfigError(f"map axis {knob.name}: a log axis needs LOW > 0, got {low!r}")
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ConfigError(f"map axis {knob.name}: LOW and HIGH must be finite")
        knob.check(low, high)
        return cls(knob, float(low), float(high), log)

    @classmethod
    def around(cls, knob: Knob, centre: float, span: float, log: bool) -> Axis:
        """The axis centred on `centre`, `span` wide (in decades on a log axis)."""
        if not (math.isfinite(centre) and math.isfinite(span) and span > 0):
            raise ConfigError(f"map axis {knob.name}: the centre must be finite and the span positive")
        if log:
            if centre <= 0:
                raise ConfigError(f"map axis {knob.name}: a log axis needs a positive centre, got {centre!r}")
            factor = 10.0 ** (span / 2)
            return cls.of(knob, centre / factor, centre * factor, log)
        return cls.of(knob, centre - span / 2, centre + span / 2, log)

    @property
    def centre(self) -> float:
        return math.sqrt(self.low * self.high) if self.log else (self.low + self.high) / 2

    @property
    def span(self) -> float:
        """HIGH - LOW, or decades on a log axis."""
        return math.log10(self.high / self.low) if self.log else self.high - self.low

    def values(self, resolution: int) -> np.ndarray:
        """The R float64 values of the pixels' centres, strictly increasing."""
        if resolution == 1:
            return np.array([self.centre])
        values = (np.geomspace if self.log else np.linspace)(self.low, self.high, resolution)
        if not np.all(np.diff(values) > 0):
            raise ConfigError(f"map axis {self}: {resolution} pixels are finer than float64 can tell apart "
                              "here: zoom out or lower --resolution")
        return values

    def __str__(self) -> str:
        return f"{self.knob.name}:{self.low!r}:{self.high!r}" + (":log" if self.log else "")

    def to_dict(self) -> dict[str, object]:
        return {"name": self.knob.name, "low": self.low, "high": self.high, "log": self.log}

    @classmethod
    def from_dict(cls, data: dict[str, object], config: Config) -> Axis:
        return cls.of(Knob.parse(str(data["name"]), config), float(data["low"]), float(data["high"]),
                      bool(data["log"]))


def _number(text: str, spec: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"map axis {spec!r}: {text!r} is not a number") from None


def check_pair(x: Axis, y: Axis) -> None:
    """Two axes must vary different things, and `lr` is both rates."""
    names = {x.knob.name, y.knob.name}
    if len(names) == 1:
        raise ConfigError(f"both map axes vary {x.knob.name}: choose two different knobs")
    if "lr" in names and names & {"lr_hidden", "lr_output"}:
        raise ConfigError("map axes lr and lr_hidden/lr_output overlap: lr sets both layers' rates")
