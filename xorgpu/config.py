"""The one frozen, validated description of an experiment.

Every hyperparameter lives here with its default. CLI flags, Celery payloads and stored
results all round-trip through `Config.to_json` / `Config.from_json`, so a stored result
always says exactly how it was produced.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any


class ConfigError(ValueError):
    """An invalid experiment description; its message is one line meant for a user."""


LOSS_REDUCTIONS = ("sum", "mean")
UPDATES = ("batch", "online")
DTYPES = ("float64", "float32")
BACKENDS = ("auto", "numpy", "cupy")
ENGINES = ("auto", "array", "fused")
MAX_SEED = 2**32  # np.random.seed accepts [0, 2**32); every init scheme uses the same range


@dataclass(frozen=True)
class Criterion:
    """When a net counts as having solved XOR, judged on its 4 outputs o against targets y."""

    kind: str  # "within": every |o - y| < threshold; "sse": sum (o - y)^2 < threshold
    threshold: float

    @classmethod
    def parse(cls, text: str) -> Criterion:
        """`round` (every output on the right side of 0.5), `within:TOL` or `sse:T`."""
        if text == "round":
            return cls("within", 0.5)
        name, _, arg = text.partition(":")
        if name in ("within", "sse") and arg:
            value = _parse_float(arg, f"criterion {text!r}")
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"criterion {text!r}: the threshold must be a positive number")
            return cls(name, value)
        raise ConfigError(f"unknown criterion {text!r}: use round, within:TOL or sse:T")


@dataclass(frozen=True)
class InitScheme:
    """How net s gets its initial weights; see xorgpu.init for the generators."""

    kind: str  # "counter" | "notebook" | "uniform"
    low: float = 0.0
    high: float = 1.0

    @classmethod
    def parse(cls, text: str) -> InitScheme:
        """`counter` (default), `notebook` or `uniform:LOW:HIGH`."""
        if text in ("counter", "notebook"):
            return cls(text)
        parts = text.split(":")
        if parts[0] == "uniform" and len(parts) == 3:
            low = _parse_float(parts[1], f"init {text!r}")
            high = _parse_float(parts[2], f"init {text!r}")
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise ConfigError(f"init {text!r}: need finite LOW < HIGH")
            return cls("uniform", low, high)
        raise ConfigError(f"unknown init {text!r}: use counter, notebook or uniform:LOW:HIGH")


@dataclass(frozen=True)
class Config:
    """One experiment: the network, its training, and how success is judged."""

    hidden: int = 4  # hidden units H of the 2-H-1 sigmoid net (the notebook: 4)
    lr: float = 0.1  # learning rate (the notebook: 0.1)
    momentum: float = 0.0  # classical momentum mu: v <- mu*v - lr*grad; w <- w + v
    epochs: int = 10000  # epochs: sweeps through the 4 patterns (the notebook: 10000)
    update: str = "batch"  # batch: one step per epoch on all 4 patterns (the notebook); online: one per pattern
    loss_reduction: str = "sum"  # gradient of 1/2 * sum (sum: the notebook) or mean of squared errors
    init: str = "counter"  # initial weights: counter | notebook | uniform:LOW:HIGH
    criterion: str = "round"  # success: round | within:TOL | sse:T
    dtype: str = "float64"  # float64 | float32
    backend: str = "auto"  # auto | numpy | cupy (auto: CuPy when a CUDA device exists)
    sample_every: int = 0  # record loss percentiles every k epochs (0: off)
    engine: str = "auto"  # auto | array | fused (auto: fused where the backend has one)

    def __post_init__(self) -> None:
        _check_int("hidden", self.hidden, minimum=1)
        _check_int("epochs", self.epochs, minimum=1)
        _check_int("sample_every", self.sample_every, minimum=0)
        _check_real("lr", self.lr)
        if self.lr <= 0:
            raise ConfigError(f"lr must be positive, got {self.lr!r}")
        _check_real("momentum", self.momentum)
        if not 0 <= self.momentum < 1:
            raise ConfigError(f"momentum must be in [0, 1), got {self.momentum!r}")
        _check_choice("update", self.update, UPDATES)
        _check_choice("loss_reduction", self.loss_reduction, LOSS_REDUCTIONS)
        if self.update == "online" and self.loss_reduction == "mean":
            raise ConfigError("loss_reduction mean applies to batch updates: an online step sees one pattern")
        _check_choice("dtype", self.dtype, DTYPES)
        _check_choice("backend", self.backend, BACKENDS)
        _check_choice("engine", self.engine, ENGINES)
        InitScheme.parse(self.init)  # parse now, so a bad value fails at construction
        Criterion.parse(self.criterion)

    @property
    def init_scheme(self) -> InitScheme:
        return InitScheme.parse(self.init)

    @property
    def success(self) -> Criterion:
        return Criterion.parse(self.criterion)

    @property
    def step(self) -> float:
        """The multiplier of the gradient: lr, or lr/4 for the mean over 4 patterns (batch only)."""
        return self.lr if self.loss_reduction == "sum" else self.lr / 4

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown config field(s): {', '.join(unknown)}")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> Config:
        return cls.from_dict(json.loads(text))

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class SeedRange:
    """The half-open range of seeds [start, stop); net i of a job is seed start + i."""

    start: int
    stop: int

    def __post_init__(self) -> None:
        for name in ("start", "stop"):
            _check_int(f"seed {name}", getattr(self, name), minimum=0)
        if self.stop <= self.start:
            raise ConfigError(f"seed range {self}: stop must be greater than start")
        if self.stop > MAX_SEED:
            raise ConfigError(f"seed range {self}: seeds must be below 2**32")

    def __str__(self) -> str:
        return f"{self.start}:{self.stop}"

    def __len__(self) -> int:
        return self.stop - self.start

    @classmethod
    def parse(cls, text: str) -> SeedRange:
        start, sep, stop = text.partition(":")
        if not sep or not _is_int_text(start) or not _is_int_text(stop):
            raise ConfigError(f"malformed seed range {text!r}: use A:B with integers 0 <= A < B")
        return cls(int(start), int(stop))

    @classmethod
    def resolve(cls, nets: int | None, seeds: str | None) -> SeedRange:
        """`--nets N` alone means 0:N; `--seeds A:B` alone means B-A nets; both must agree."""
        if nets is not None:
            _check_int("nets", nets, minimum=1)
        if seeds is None:
            if nets is None:
                raise ConfigError("give --nets N or --seeds A:B")
            return cls(0, nets)
        seed_range = cls.parse(seeds)
        if nets is not None and nets != len(seed_range):
            raise ConfigError(f"--nets {nets} does not match --seeds {seeds} ({len(seed_range)} nets)")
        return seed_range

    def split(self, size: int) -> list[SeedRange]:
        """Consecutive sub-ranges of at most `size` seeds."""
        return [SeedRange(a, min(a + size, self.stop)) for a in range(self.start, self.stop, size)]


def _is_int_text(text: str) -> bool:
    return text.strip().isdigit()


def _parse_float(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{what}: {text!r} is not a number") from None


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")


def _check_real(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be finite, got {value!r}")


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"unknown {name} {value!r}: use one of {', '.join(choices)}")
