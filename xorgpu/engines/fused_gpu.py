"""The fused GPU engine: the whole epoch loop in one CUDA kernel, one thread per net.

Each thread keeps its net's weights and activations in registers for all epochs and
writes only the per-net record at the end, so a block costs one launch instead of ~60
per epoch. The kernels' source is `fused_gpu.cu`: xor_train, a template over
contract.Specialisation (the float type, H, the criterion's kind, momentum) for the
notebook's net, and family_train (the inputs, units, loss, criterion, biases, skip weights
too) for every other net of the family; each specialisation is compiled
once, by NVRTC through CuPy's RawModule (which also caches the binary on disk), with FMA
contraction off, so results agree with the array engine to the rounding of exp. Hidden
sizes above MAX_HIDDEN (whose activations would no longer fit in registers) train on the
array engine instead. CuPy is reached through `backend.xp`, never imported here.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any, Callable


from ..backend import Backend
from ..config import Config
from ..params import Params
from .contract import (CRITERION_CODES, UNIT_CODES, BlockRecord, KernelState, RecordArrays, Specialisation, epoch_slices,
                       kernel_arguments, task_arrays, why_not_compiled)
from .knobs import UNIFORM, NetKnobs, steps

MAX_HIDDEN = 16  # CI compiles every specialisation up to here for sm_80 and sm_90 (tests/engines)
THREADS_PER_BLOCK = 128
FIRST_SLICE_NET_EPOCHS = 200_000_000  # a block's first call: milliseconds on a GPU
COMPILE_OPTIONS = ("--fmad=false", "-std=c++14")
REAL_TYPES = {"float64": "double", "float32": "float"}

Launch = Callable[[tuple[int], tuple[int], tuple[Any, ...]], None]  # grid, block, kernel arguments


def source() -> str:
    return resources.files(__package__).joinpath("fused_gpu.cu").read_text()


def template_name(spec: Specialisation) -> str:
    """The kernel's name with its template arguments, e.g. xor_train<double, 4, false, true>
    for the notebook's net, family_train<double, 4, 3, 1, 3, false, 2, true, false, true>
    (H, N, the units, cross-entropy, the criterion, biases, skip weights, momentum) for the others."""
    real = REAL_TYPES[spec.dtype]
    if spec.classic:
        flags = ", ".join("true" if on else "false" for on in spec.switches)
        return f"xor_train<{real}, {spec.hidden}, {flags}>"
    words = {True: "true", False: "false"}
    return (f"family_train<{real}, {spec.hidden}, {spec.inputs}, {UNIT_CODES[spec.activation]}, "
            f"{UNIT_CODES[spec.output]}, {words[spec.cross_entropy]}, {CRITERION_CODES[spec.criterion]}, "
            f"{words[spec.bias]}, {words[spec.skip]}, {words[spec.momentum]}>")


def why_not(config: Config) -> str:
    """Why the CUDA kernel cannot train `config` ("" if it can)."""
    if why_not_compiled(config):
        return why_not_compiled(config)
    if config.hidden > MAX_HIDDEN:
        return f"the CUDA kernel is built for H <= {MAX_HIDDEN} (here H = {config.hidden})"
    return ""


def train_block(params: Params, config: Config, backend: Backend, knobs: NetKnobs = UNIFORM,
                compiled: Callable[[Specialisation], Launch] | None = None) -> BlockRecord:
    """The array engine's train_block, on the backend's device arrays, in a series of kernel
    launches (contract.epoch_slices), each waited for: Ctrl-C is heard between two.

    compiled: how to get a launchable kernel for a specialisation; by default CuPy's NVRTC
    build (tests pass a host build of the same source).
    """
    xp = backend.xp
    spec = Specialisation.of(config, knobs)
    launch = (compiled or functools.partial(_cupy_kernel, xp))(spec)
    n = params.nets
    record = RecordArrays.allocate(xp, n, config)
    state = KernelState.allocate(xp, n, config, spec.momentum)
    task = task_arrays(config, xp)
    net_steps = steps(knobs, config, n, xp)
    blocks = (n + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
    for first, stop in epoch_slices(config.epochs, FIRST_SLICE_NET_EPOCHS // n):
        launch((blocks,), (THREADS_PER_BLOCK,), kernel_arguments(params, task, config, record, net_steps, state,
                                                                  first, stop))
        backend.synchronize()
    return record.to_block_record(backend.to_host)


@functools.cache
def _cupy_kernel(cupy: Any, spec: Specialisation) -> Launch:
    name = template_name(spec)
    module = cupy.RawModule(code=source(), options=COMPILE_OPTIONS, name_expressions=(name,))
    return module.get_function(name)
