"""The contract every engine shares: one declared order of kernel arguments, read back from
both compiled kernels, and a conformance harness that catches a kernel that drifts."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

from xorgpu.backend import numpy_backend
from xorgpu.config import Config
from xorgpu.engines import array, fused_cpu, fused_cpu_family, fused_gpu
from xorgpu.engines.contract import (FAMILY_KERNEL_PARAMETER_NAMES, FAMILY_KERNEL_PARAMETERS, KERNEL_PARAMETER_NAMES,
                                     KERNEL_PARAMETERS, BlockRecord, Specialisation)
from xorgpu.init import initial_params

from .cuda_on_host import HostKernels, compiler
from .test_conformance import assert_within_float64_tolerance


def cuda_kernel_parameters(source: str, kernel: str = "xor_train") -> list[tuple[str, str]]:
    """(name, type) of a kernel's parameters, as fused_gpu.cu declares them."""
    declaration = re.search(rf"__global__ void {kernel}\((.*?)\)\s*\{{", source, re.S).group(1)
    parameters = []
    for item in declaration.split(","):
        words = item.replace("__restrict__", "").replace("*", " * ").split()
        name, ctype = words[-1], " ".join(words[:-1]).replace(" *", "*")
        if ctype.startswith("const ") and not ctype.endswith("*"):
            ctype = ctype.removeprefix("const ")  # a const scalar is passed as a scalar
        parameters.append((name, ctype))
    return parameters


def test_the_cuda_kernel_takes_the_declared_parameters_in_order():
    assert cuda_kernel_parameters(fused_gpu.source()) == list(KERNEL_PARAMETERS)


def test_the_numba_kernel_takes_the_declared_parameters_then_the_switches():
    names = list(inspect.signature(fused_cpu._train_nets_py).parameters)
    assert names == [*KERNEL_PARAMETER_NAMES, "sse_criterion", "use_momentum"]


def test_the_family_kernels_take_the_family_parameters_then_the_switches():
    assert cuda_kernel_parameters(fused_gpu.source(), "family_train") == list(FAMILY_KERNEL_PARAMETERS)
    names = list(inspect.signature(fused_cpu_family._train_family_py).parameters)
    switches = ["activation", "output", "cross_entropy", "criterion", "bias", "skip", "use_momentum"]
    assert names == [*FAMILY_KERNEL_PARAMETER_NAMES, *switches]
    spec = Specialisation.of(Config(task="parity:3", activation="tanh", output="linear", encoding="pm1", skip=True,
                                    momentum=0.5, bias=False))
    assert spec.switches == (1, 3, False, 2, False, True, True) and not spec.classic
    assert fused_gpu.template_name(spec) == "family_train<double, 4, 3, 1, 3, false, 2, false, true, true>"


def test_the_record_is_built_by_keyword_only():
    with pytest.raises(TypeError):
        BlockRecord(*([np.zeros(1)] * 7))  # type: ignore[misc]


def test_a_bug_planted_in_the_cuda_kernel_fails_the_conformance_check(tmp_path):
    """The sigmoid's exp scaled by 1.0001, as an issue asked: the check run in CI must catch it."""
    if compiler() is None:
        pytest.skip("no C++ compiler")
    source = fused_gpu.source()
    planted = source.replace("real e = vexp(m);", "real e = (real)1.0001 * vexp(m);")
    assert planted != source
    config = Config(epochs=500)
    params = initial_params(config.init_scheme, np.arange(200), config.hidden, config.dtype)
    reference_weights = params.map(np.copy)
    reference = array.train_block(reference_weights, config, numpy_backend())
    for kernel_source, should_pass in ((source, True), (planted, False)):
        kernels = HostKernels([Specialisation.of(config)], tmp_path, kernel_source)
        trained = params.map(np.copy)
        record = fused_gpu.train_block(trained, config, numpy_backend(), compiled=kernels.compiled)
        if should_pass:
            assert_within_float64_tolerance(record, trained, reference, reference_weights)
        else:
            with pytest.raises(AssertionError):
                assert_within_float64_tolerance(record, trained, reference, reference_weights)
