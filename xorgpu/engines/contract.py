"""What every engine shares: the task, the per-net record, and the arguments of the kernels.

Every engine (the array reference in `array.py`, the numba kernel in `fused_cpu.py`, the
CUDA kernel in `fused_gpu.cu`) trains the same thing and leaves the same record; this
module is the one place that says what that is:

- the XOR task of the notebook: PATTERNS in the order every engine visits them, and their
  TARGETS (every task's patterns and targets: xorgpu.tasks);
- the loss every run reports, 1/P * sum_p (a2_p - y_p)^2, the mean over the P patterns
  (LOSS_SCALE for XOR's four, the notebook's printed loss);
- the clip that keeps exp from overflowing (EXP_ARG_MAX);
- when the loss is sampled (`sample_epochs`) and when an unsolved net's loss is compared
  with its final loss to tell a plateau (`epoch_before_end`);
- `BlockRecord`, what training leaves of each net (built by keyword only);
- the compiled kernels' parameters, in one declared order (KERNEL_PARAMETERS), the values
  derived from a config and each net's own steps (`kernel_arguments`, knobs.py), and the
  choices compiled into a kernel rather than passed to it (`Specialisation`);
- how a training runs as a series of kernel calls, each resuming where the last stopped
  (`epoch_slices`, `KernelState`), so Ctrl-C is heard between calls, never later than
  about SLICE_SECONDS, and a net's bits do not depend on where the calls begin and end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from typing import Any, Iterator

import numpy as np

from ..config import Config
from .knobs import UNIFORM, NetKnobs, Steps

PATTERNS = ((0, 0), (0, 1), (1, 0), (1, 1))  # the XOR inputs, in this order everywhere
TARGETS = (0, 1, 1, 0)
LOSS_SCALE = 0.25  # the notebook's printed loss is the mean over the 4 patterns of (y - o)^2
# exp(-z) is clipped here so it never overflows: s(z) is then off by < 1e-300 (float64)
# or < 1e-38 (float32) from the exact value, which the notebook's own code rounds to 0 anyway.
EXP_ARG_MAX = {"float64": 708.0, "float32": 88.0}
PLATEAU_WINDOW_DIVISOR = 10  # an unsolved net's loss is compared over the last tenth of training


@dataclass(kw_only=True)
class BlockRecord:
    """What training leaves of each of n nets, as host arrays."""

    outputs: np.ndarray  # (n, P) outputs after the last update, in the task's pattern order
    final_loss: np.ndarray  # (n,) the mean over patterns of (y - o)^2 (the notebook's loss for XOR)
    epochs_to_solve: np.ndarray  # (n,) int64: first e whose outputs meet the criterion; -1: never
    solved_at_end: np.ndarray  # (n,) bool: the final outputs meet the criterion
    diverged: np.ndarray  # (n,) bool: some weight or output is no longer finite
    loss_before_end: np.ndarray  # (n,) loss at epoch_before_end(config), to tell plateaus
    loss_samples: np.ndarray  # (S, n) loss at the epochs of sample_epochs(config)


def plateau_window(epochs: int) -> int:
    """How far back from the end an unsolved net's loss is compared, to see if it still moves."""
    return max(1, epochs // PLATEAU_WINDOW_DIVISOR)


def epoch_before_end(config: Config) -> int:
    """The epoch whose loss becomes BlockRecord.loss_before_end."""
    return config.epochs - plateau_window(config.epochs)


def sample_epochs(config: Config) -> list[int]:
    """The epochs at which the loss is sampled for loss curves (0, k, 2k, ... <= E)."""
    if config.sample_every == 0:
        return []
    return list(range(0, config.epochs + 1, config.sample_every))


# --- the compiled kernels ------------------------------------------------------------------
# Both compiled kernels (numba's _train_nets and CUDA's xor_train) take exactly these
# parameters, in this order; tests/engines/test_contract.py reads both signatures back.
# Types as the CUDA kernel declares them: `real` is the dtype's float type.

KERNEL_PARAMETERS: tuple[tuple[str, str], ...] = (
    # the weights, updated in place: nets on the last axis
    ("w1", "real*"),  # (2, H, n)
    ("b1", "real*"),  # (H, n)
    ("w2", "real*"),  # (H, n)
    ("b2", "real*"),  # (n,)
    ("targets", "const real*"),  # (4,) the task's targets (TARGETS for XOR)
    # each net's own values (knobs.steps): the step of W1 and b1, of W2 and b2, momentum
    ("step_hidden", "const real*"),  # (n,)
    ("step_output", "const real*"),  # (n,)
    ("momentum", "const real*"),  # (n,)
    # scalars
    ("n", "long long"),  # nets
    ("epochs", "int"),
    ("threshold", "real"),  # the criterion's threshold
    ("clip", "real"),  # EXP_ARG_MAX[dtype]
    ("loss_scale", "real"),  # 1 / P (LOSS_SCALE for four patterns)
    ("sample_every", "int"),
    ("epoch_before_end", "int"),
    # this call's epochs: it trains epochs first_epoch .. stop_epoch - 1; the call whose
    # stop_epoch is epochs + 1 also judges the last epoch and writes the record
    ("first_epoch", "int"),
    ("stop_epoch", "int"),
    # the state one call leaves for the next (KernelState): momentum velocities (one element
    # each where no net has momentum), whether each net has solved, and its epochs unsolved
    ("v1", "real*"),  # (2, H, n)
    ("vb1", "real*"),  # (H, n)
    ("v2", "real*"),  # (H, n)
    ("vb2", "real*"),  # (n,)
    ("ever_solved", "bool*"),  # (n,)
    ("unsolved_epochs", "long long*"),  # (n,)
    # the record, written by the last call (loss_samples as the sampled epochs pass)
    ("outputs", "real*"),  # (P, n)
    ("final_loss", "real*"),  # (n,)
    ("epochs_to_solve", "long long*"),  # (n,)
    ("solved_at_end", "bool*"),  # (n,)
    ("diverged", "bool*"),  # (n,)
    ("loss_before_end", "real*"),  # (n,)
    ("loss_samples", "real*"),  # (S, n)
)
KERNEL_PARAMETER_NAMES = tuple(name for name, _ in KERNEL_PARAMETERS)


def _inserted(parameters: tuple[tuple[str, str], ...], after: dict[str, tuple[tuple[str, str], ...]]
              ) -> tuple[tuple[str, str], ...]:
    return tuple(item for parameter in parameters for item in (parameter, *after.get(parameter[0], ())))


# The kernels of every other net of the family (numba's _train_family, CUDA's
# family_train) take KERNEL_PARAMETERS with these added: targets is then (P,) in the
# encoding's values, outputs (P, n).
FAMILY_KERNEL_PARAMETERS = _inserted(KERNEL_PARAMETERS, {
    "b2": (("ws", "real*"),),  # (N, n) skip weights; (1, n) zeros where the nets have none
    "targets": (("inputs", "const real*"),  # (P, N) the task's inputs in the encoding
                ("side", "const real*")),  # (P,) +1 where the target is the higher value, else -1
    "vb2": (("vws", "real*"),),  # (N, n) velocities of ws; (1, 1) where none move
})
FAMILY_KERNEL_PARAMETER_NAMES = tuple(name for name, _ in FAMILY_KERNEL_PARAMETERS)
UNIT_CODES = {"sigmoid": 0, "tanh": 1, "relu": 2, "linear": 3}  # compiled as integers
CRITERION_CODES = {"within": 0, "sse": 1, "side": 2}


def why_not_compiled(config: Config) -> str:
    """Why neither compiled kernel trains `config` ("" if they do): they train full
    batches; the array engine trains online updates."""
    if config.update != "batch":
        return "the fused kernels train full-batch only: use --engine array or auto for online updates"
    return ""


@dataclass(frozen=True)
class Specialisation:
    """What a compiled kernel fixes at compile time (CUDA template arguments); numba takes
    the switches as trailing arguments instead. The notebook's net (Config.classic_net)
    has kernels of its own (`classic`); every other net the family kernels."""

    dtype: str  # float64 | float32
    hidden: int
    sse_criterion: bool  # the criterion is sse:T (else within:TOL, or side for the family)
    momentum: bool  # momentum > 0
    # the family's choices; the defaults are the notebook's net
    classic: bool = True
    inputs: int = 2
    activation: str = "sigmoid"
    output: str = "sigmoid"
    cross_entropy: bool = False
    criterion: str = "within"  # within | sse | side
    bias: bool = True
    skip: bool = False

    @classmethod
    def of(cls, config: Config, knobs: NetKnobs = UNIFORM) -> Specialisation:
        kind = config.success.kind
        return cls(config.dtype, config.hidden, kind == "sse", knobs.any_momentum(config), config.classic_net,
                   config.inputs, config.activation, config.output, config.loss == "cross-entropy", kind,
                   config.bias, config.skip)

    @property
    def switches(self) -> tuple[Any, ...]:
        """The arguments numba's kernel takes after its parameters."""
        if self.classic:
            return (self.sse_criterion, self.momentum)
        return (UNIT_CODES[self.activation], UNIT_CODES[self.output], self.cross_entropy,
                CRITERION_CODES[self.criterion], self.bias, self.skip, self.momentum)


@dataclass
class RecordArrays:
    """The record as the kernels write it, on the kernel's array module (nets last)."""

    outputs: Any  # (P, n)
    final_loss: Any
    epochs_to_solve: Any
    solved_at_end: Any
    diverged: Any
    loss_before_end: Any
    loss_samples: Any  # (S, n)

    @classmethod
    def allocate(cls, xp: Any, n: int, config: Config) -> RecordArrays:
        dtype = config.dtype
        return cls(
            outputs=xp.empty((config.patterns, n), dtype=dtype),
            final_loss=xp.empty(n, dtype=dtype),
            epochs_to_solve=xp.empty(n, dtype=np.int64),
            solved_at_end=xp.empty(n, dtype=np.bool_),
            diverged=xp.empty(n, dtype=np.bool_),
            loss_before_end=xp.zeros(n, dtype=dtype),
            loss_samples=xp.zeros((len(sample_epochs(config)), n), dtype=dtype),
        )

    def arrays(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))

    def to_block_record(self, to_host: Any) -> BlockRecord:
        return BlockRecord(
            outputs=to_host(self.outputs).T.copy(), final_loss=to_host(self.final_loss),
            epochs_to_solve=to_host(self.epochs_to_solve), solved_at_end=to_host(self.solved_at_end),
            diverged=to_host(self.diverged), loss_before_end=to_host(self.loss_before_end),
            loss_samples=to_host(self.loss_samples),
        )


@dataclass
class KernelState:
    """What one kernel call leaves for the next, on the kernel's array module (nets last)."""

    v1: Any  # (N, H, n) momentum velocities of W1; (N, H, 1) where no net has momentum
    vb1: Any  # (H, n) of b1
    v2: Any  # (H, n) of W2
    vb2: Any  # (n,) of b2
    ever_solved: Any  # (n,) bool
    unsolved_epochs: Any  # (n,) int64: epochs judged before the net first solved
    vws: Any = None  # (N, n) of the skip weights (family kernels only); (1, 1) where none move

    @classmethod
    def allocate(cls, xp: Any, n: int, config: Config, momentum: bool) -> KernelState:
        """The state before the first epoch: no velocity, nothing solved."""
        m, hidden, dtype = (n if momentum else 1), config.hidden, config.dtype
        skip_shape = (config.inputs, m) if momentum and config.skip else (1, 1)
        return cls(v1=xp.zeros((config.inputs, hidden, m), dtype=dtype), vb1=xp.zeros((hidden, m), dtype=dtype),
                   v2=xp.zeros((hidden, m), dtype=dtype), vb2=xp.zeros(m, dtype=dtype),
                   ever_solved=xp.zeros(n, dtype=np.bool_), unsolved_epochs=xp.zeros(n, dtype=np.int64),
                   vws=xp.zeros(skip_shape, dtype=dtype))


SLICE_SECONDS = 0.5  # a kernel call's length, about: Ctrl-C waits at most this long (and the first call)
SLICE_GROWTH = 8  # a call covers at most this many times the epochs of the one before


def epoch_slices(epochs: int, first_size: int, seconds: float = SLICE_SECONDS) -> Iterator[tuple[int, int]]:
    """(first_epoch, stop_epoch) of the kernel calls that train epochs 0..epochs: the first
    covers first_size epochs, each next one as many as take about `seconds` at the pace of
    the one before (timed around each step of the iteration, so the caller's call is what
    is timed). The last stops at epochs + 1."""
    start, size = 0, max(1, int(first_size))
    while start <= epochs:
        stop = min(start + size, epochs + 1)
        began = time.perf_counter()
        yield start, stop
        took = time.perf_counter() - began
        size = max(1, min(SLICE_GROWTH * size, int(size * seconds / took) if took > 0 else SLICE_GROWTH * size))
        start = stop


def task_arrays(config: Config, xp: Any) -> dict[str, Any]:
    """targets, inputs and side of the kernels' parameters, for config's task and encoding,
    as arrays of its dtype on xp: the classic kernels take the targets alone (0 and 1)."""
    task = config.task_spec
    as_array = lambda values: xp.asarray(np.ascontiguousarray(values, dtype=config.dtype))  # noqa: E731
    return {"targets": as_array(task.targets_as(config.encoding)), "inputs": as_array(task.inputs_as(config.encoding)),
            "side": as_array(np.where(np.array(task.target_bits) == 1, 1.0, -1.0))}


def kernel_arguments(params: Any, task: dict[str, Any], config: Config, record: RecordArrays, net_steps: Steps,
                     state: KernelState, first_epoch: int, stop_epoch: int) -> tuple[Any, ...]:
    """The values of KERNEL_PARAMETERS (FAMILY_KERNEL_PARAMETERS for a net that is not the
    notebook's), in order, for the call that trains `params` under `config` from
    first_epoch to stop_epoch (epoch_slices).

    params: the weights (xorgpu.params.Params), task: task_arrays(config) and net_steps:
    each net's steps (knobs.steps), all as arrays of the config's dtype on the kernel's
    array module; state: what the call before left (KernelState); record: where the last
    call writes.
    """
    real = np.dtype(config.dtype).type
    values = {
        "w1": params.w1, "b1": params.b1, "w2": params.w2, "b2": params.b2, **task,
        "ws": params.ws if params.ws is not None else state.vws,
        "step_hidden": net_steps.hidden, "step_output": net_steps.output, "momentum": net_steps.momentum,
        "n": np.int64(params.nets), "epochs": np.int32(config.epochs), "threshold": real(config.success.threshold),
        "clip": real(EXP_ARG_MAX[config.dtype]), "loss_scale": real(1 / config.patterns),
        "sample_every": np.int32(config.sample_every), "epoch_before_end": np.int32(epoch_before_end(config)),
        "first_epoch": np.int32(first_epoch), "stop_epoch": np.int32(stop_epoch),
        **{f.name: getattr(state, f.name) for f in fields(state)},
        **{f.name: getattr(record, f.name) for f in fields(record)},
    }
    names = KERNEL_PARAMETER_NAMES if config.classic_net else FAMILY_KERNEL_PARAMETER_NAMES
    return tuple(values[name] for name in names)
