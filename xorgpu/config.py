"""The one frozen, validated description of an experiment, and how to run it.

`Config` says what to train: every hyperparameter lives here with its default. CLI flags,
Celery payloads and stored results all round-trip through `Config.to_json` /
`Config.from_json`, so a stored result always says exactly what produced it.
`RunOptions` says how to run it (backend, engine, processes, block size): per engine,
results do not depend on it. The limits below bound every input, so no value can ask
for more than a machine has or than the kernels count to; `--help` states them.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError
from .tasks import ACTIVATIONS, ENCODED, ENCODINGS, LOSSES, OUTPUT_UNITS, Task, check_family

__all__ = ["Config", "ConfigError", "Criterion", "InitScheme", "RunOptions", "SeedRange"]


LOSS_REDUCTIONS = ("sum", "mean")
UPDATES = ("batch", "online")
DTYPES = ("float64", "float32")
BACKENDS = ("auto", "numpy", "cupy")
ENGINES = ("auto", "array", "fused")
MAX_SEED = 2**32  # np.random.seed accepts [0, 2**32); every init scheme uses the same range
MAX_HIDDEN = 1024  # hidden units
MAX_EPOCHS = 100_000_000  # the kernels count epochs in 32-bit integers
MAX_LOSS_SAMPLES = 10_001  # loss samples per net (epochs // sample_every + 1): every epoch of 10,000
LEGACY_FIELDS = ("backend", "engine")  # stored in configs before RunOptions held them


@dataclass(frozen=True)
class Criterion:
    """When a net counts as having solved its task, judged on its outputs o against targets y."""

    # "within": every |o - y| < threshold; "sse": sum (o - y)^2 < threshold; "side" (what
    # `round` means for an output that can pass its targets, Config.success): every
    # (y - o) * sign(y - midpoint) < threshold, i.e. every output on its target's side
    kind: str
    threshold: float

    @classmethod
    def parse(cls, text: str) -> Criterion:
        """`round` (every output on the right side of 0.5), `within:TOL` or `sse:T`."""
        if not isinstance(text, str):
            raise ConfigError(f"criterion must be a string, got {_short(text)}")
        if text == "round":
            return cls("within", 0.5)
        name, _, arg = text.partition(":")
        if name in ("within", "sse") and arg:
            value = _parse_float(arg, f"criterion {_short(text)}")
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"criterion {_short(text)}: the threshold must be a positive number")
            return cls(name, value)
        raise ConfigError(f"unknown criterion {_short(text)}: use round, within:TOL or sse:T")


@dataclass(frozen=True)
class InitScheme:
    """How net s gets its initial weights; see xorgpu.init for the generators."""

    kind: str  # "counter" | "notebook" | "uniform"
    low: float = 0.0
    high: float = 1.0

    @classmethod
    def parse(cls, text: str) -> InitScheme:
        """`counter` (default), `notebook` or `uniform:LOW:HIGH`."""
        if not isinstance(text, str):
            raise ConfigError(f"init must be a string, got {_short(text)}")
        if text in ("counter", "notebook"):
            return cls(text)
        parts = text.split(":")
        if parts[0] == "uniform" and len(parts) == 3:
            low = _parse_float(parts[1], f"init {_short(text)}")
            high = _parse_float(parts[2], f"init {_short(text)}")
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise ConfigError(f"init {_short(text)}: need finite LOW < HIGH")
            return cls("uniform", low, high)
        raise ConfigError(f"unknown init {_short(text)}: use counter, notebook or uniform:LOW:HIGH")


def _setting(default: Any, help: str, *, low: int | None = None, high: int | None = None,  # noqa: A002
             choices: tuple[str, ...] | None = None) -> Any:
    """A Config field: its default, and what its command-line flag says (help, the range of
    an integer or the choices of a string), so a new field is one line here and every
    command, the Python API, sweeps, files and views take it from there."""
    return dataclasses.field(default=default, metadata={"help": help, "low": low, "high": high, "choices": choices})


@dataclass(frozen=True)
class Config:
    """One experiment: the network, its training, and how success is judged."""

    hidden: int = _setting(4, f"Hidden units H of the N-H-1 net (at most {MAX_HIDDEN:,}).", low=1, high=MAX_HIDDEN)
    task: str = _setting("xor", "xor | parity:N (N inputs, 2..10) | table:BITS (targets of inputs 00 01 10 11).")
    activation: str = _setting("sigmoid", "The hidden units (relu's slope at 0 is 0).", choices=ACTIVATIONS)
    output: str = _setting("sigmoid", "The output unit.", choices=OUTPUT_UNITS)
    encoding: str = _setting("01", "Inputs and targets in {0, 1} or in {-1, +1} (pm1: x = 2b - 1).",
                             choices=ENCODINGS)
    loss: str = _setting("sse", "sse: squared error (see --loss-reduction); cross-entropy: the Bernoulli "
                         "likelihood (sigmoid output, 01 encoding).", choices=LOSSES)
    bias: bool = _setting(True, "Biases in both layers (--no-bias: none).")
    skip: bool = _setting(False, "Direct weights from every input to the output (the 2-1-1 XOR net of "
                          "Rumelhart et al.), at the output layer's learning rate.")
    lr: float = _setting(0.1, "Learning rate.")
    momentum: float = _setting(0.0, "Classical momentum mu in [0, 1): v <- mu v - lr grad; w <- w + v.")
    epochs: int = _setting(10000, f"Epochs: sweeps through the task's patterns (at most {MAX_EPOCHS:,}).",
                           low=1, high=MAX_EPOCHS)
    update: str = _setting("batch", "batch: one step per epoch (the notebook); online: one step per pattern.",
                           choices=UPDATES)
    loss_reduction: str = _setting("sum", "sum: the loss summed over the patterns (the notebook's 1/2 sum of "
                                   "squared errors); mean: its mean, a P times smaller step.", choices=LOSS_REDUCTIONS)
    init: str = _setting("counter", "counter | notebook | uniform:LOW:HIGH.")
    criterion: str = _setting("round", "round | within:TOL | sse:T.")
    dtype: str = _setting("float64", "Floating-point precision of the training arithmetic.", choices=DTYPES)
    sample_every: int = _setting(0, "Record loss percentiles every k epochs (0: off; at most 10,001 samples).",
                                 low=0, high=MAX_EPOCHS)

    def __post_init__(self) -> None:
        _check_int("hidden", self.hidden, minimum=1, maximum=MAX_HIDDEN)
        _check_int("epochs", self.epochs, minimum=1, maximum=MAX_EPOCHS)
        _check_int("sample_every", self.sample_every, minimum=0, maximum=MAX_EPOCHS)
        if self.sample_every and self.epochs // self.sample_every + 1 > MAX_LOSS_SAMPLES:
            raise ConfigError(f"sample_every {self.sample_every} would sample the loss "
                              f"{self.epochs // self.sample_every + 1} times: at most {MAX_LOSS_SAMPLES}, "
                              f"so at least {-(-self.epochs // (MAX_LOSS_SAMPLES - 1))} for {self.epochs} epochs")
        _check_real("lr", self.lr)
        if self.lr <= 0:
            raise ConfigError(f"lr must be positive, got {_short(self.lr)}")
        _check_real("momentum", self.momentum)
        if not 0 <= self.momentum < 1:
            raise ConfigError(f"momentum must be in [0, 1), got {_short(self.momentum)}")
        _check_choice("update", self.update, UPDATES)
        _check_choice("loss_reduction", self.loss_reduction, LOSS_REDUCTIONS)
        if self.update == "online" and self.loss_reduction == "mean":
            raise ConfigError("loss_reduction mean applies to batch updates: an online step sees one pattern")
        _check_choice("dtype", self.dtype, DTYPES)
        for name, choices in (("activation", ACTIVATIONS), ("output", OUTPUT_UNITS), ("encoding", ENCODINGS),
                              ("loss", LOSSES)):
            _check_choice(name, getattr(self, name), choices)
        for name in ("bias", "skip"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {_short(getattr(self, name))}")
        check_family(Task.parse(self.task), self.activation, self.output, self.encoding, self.loss)
        InitScheme.parse(self.init)  # parse now, so a bad value fails at construction
        Criterion.parse(self.criterion)

    @property
    def init_scheme(self) -> InitScheme:
        return InitScheme.parse(self.init)

    @property
    def task_spec(self) -> Task:
        return Task.parse(self.task)

    @property
    def inputs(self) -> int:
        return self.task_spec.inputs

    @property
    def patterns(self) -> int:
        return self.task_spec.patterns

    @property
    def classic_net(self) -> bool:
        """The notebook's net on a task of two inputs: sigmoid units, biases, no skip
        weights, squared error, 0/1 encoding. The compiled kernels train these."""
        return (self.inputs == 2 and self.activation == "sigmoid" and self.output == "sigmoid"
                and self.encoding == "01" and self.loss == "sse" and self.bias and not self.skip)

    @property
    def success(self) -> Criterion:
        """The criterion as the engines judge it. `round` is every output on the right side
        of the midpoint of the two target values: for a sigmoid output, whose outputs lie
        in [0, 1], that is every |o - y| < 0.5; otherwise the `side` rule, which bounds the
        error only towards the other target (a linear output of 3 for a target 1 is right)."""
        rule = Criterion.parse(self.criterion)
        if self.criterion == "round" and self.output != "sigmoid":
            low, high = ENCODED[self.encoding]
            return Criterion("side", (high - low) / 2)
        return rule

    @property
    def step(self) -> float:
        """The multiplier of the gradient: lr, or lr/P for the mean over P patterns (batch only)."""
        return self.lr if self.loss_reduction == "sum" else self.lr / self.patterns

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> Config:
        """A config from its dict form; fields of older xorgpu versions that said how to run
        (backend, engine) are dropped."""
        if not isinstance(data, dict):
            raise ConfigError(f"a config must be a JSON object, got {type(data).__name__}")
        check_field_names([name for name in data if name not in LEGACY_FIELDS])
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def of(cls, **settings: Any) -> Config:
        """A config from keyword settings (`xorgpu.train(hidden=2)`); a name that is no field
        is refused, with the field it was probably meant to be."""
        check_field_names(settings)
        return cls(**settings)

    @classmethod
    def from_json(cls, text: str) -> Config:
        try:
            data = json.loads(text)
        except (ValueError, TypeError) as error:
            raise ConfigError(f"a config is not valid JSON: {error}") from None
        return cls.from_dict(data)

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)


def check_field_names(names: Any) -> None:
    """Refuse names that are no field of Config, saying which field each was probably meant to be."""
    fields = [f.name for f in dataclasses.fields(Config)]
    unknown = [str(name) for name in names if name not in fields]
    if unknown:
        guesses = [difflib.get_close_matches(name, fields, n=1) for name in unknown]
        hints = [f"{name} (did you mean {guess[0]}?)" if guess else name for name, guess in zip(unknown, guesses)]
        raise ConfigError(f"unknown config field(s): {', '.join(hints)}; the fields: {', '.join(fields)}")


@dataclass(frozen=True)
class RunOptions:
    """How to run an experiment: where and with which engine. Per engine, results do not
    depend on it (a net's bits are the same whatever the processes or block size)."""

    backend: str = "auto"  # auto | numpy | cupy (auto: CuPy when a CUDA device exists)
    engine: str = "auto"  # auto | array | fused (auto: fused where the backend has one)
    processes: int | None = None  # blocks trained at once in processes (None: the engine's choice)
    block_nets: int | None = None  # nets per block (None: the engine's choice)

    def __post_init__(self) -> None:
        _check_choice("backend", self.backend, BACKENDS)
        _check_choice("engine", self.engine, ENGINES)
        if self.processes is not None:
            _check_int("processes", self.processes, minimum=1, maximum=1024)
        if self.block_nets is not None:
            _check_int("block_nets", self.block_nets, minimum=1)

    def replace(self, **changes: Any) -> RunOptions:
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
        if not isinstance(text, str):
            raise ConfigError(f"a seed range must be a string A:B, got {_short(text)}")
        start, sep, stop = text.partition(":")
        if not sep or not _is_int_text(start) or not _is_int_text(stop):
            raise ConfigError(f"malformed seed range {_short(text)}: use A:B with integers 0 <= A < B")
        return cls(int(start), int(stop))

    @classmethod
    def resolve(cls, nets: int | None, seeds: str | None) -> SeedRange:
        """`--nets N` alone means 0:N; `--seeds A:B` alone means B-A nets; both must agree."""
        if nets is not None:
            _check_int("nets", nets, minimum=1, maximum=MAX_SEED)
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
    digits = text.strip()
    return digits.isascii() and digits.isdigit() and len(digits) <= 20


def _parse_float(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{what}: {_short(text)} is not a number") from None


def _check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer, got {_short(value)}")
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be <= {maximum:,}, got {_short(value)}")


def _short(value: Any) -> str:
    """repr(value), cut short: a value from a file or a message may be huge."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_real(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be finite, got {value!r}")


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"unknown {name} {_short(value)}: use one of {', '.join(choices)}")
