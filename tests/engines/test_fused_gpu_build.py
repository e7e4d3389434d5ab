"""The CUDA kernels compiled by nvcc for real GPUs, for sm_80 and sm_90: every specialisation
of the notebook's net the engine can ask for (dtype x H <= fused_gpu.MAX_HIDDEN x criterion
x momentum), and of the family kernel every value of each of its template arguments at
least once (the extremes of H and N among them): its combinations run to millions, each
compiled on demand by NVRTC.

A GPU is not needed to compile. Each specialisation is an explicit instantiation whose
parameter types come from contract.KERNEL_PARAMETERS, so the build also fails if the
kernel and the contract disagree. About a minute on two cores (the two architectures
compile in parallel); skipped where nvcc is missing, unless XORGPU_REQUIRE_CUDA_TOOLKIT=1.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import pytest

from xorgpu.engines import fused_gpu
from xorgpu.config import Config
from xorgpu.engines.contract import FAMILY_KERNEL_PARAMETERS, KERNEL_PARAMETERS, Specialisation

from .conftest import skip_or_fail

ARCHITECTURES = ("sm_80", "sm_90")
NVCC_SECONDS = 900


def every_specialisation() -> list[Specialisation]:
    return [Specialisation(dtype, hidden, sse, momentum)
            for dtype, hidden, sse, momentum in itertools.product(
                fused_gpu.REAL_TYPES, range(1, fused_gpu.MAX_HIDDEN + 1), (False, True), (False, True))]


FAMILY_CONFIGS = [
    Config(task="parity:10", hidden=fused_gpu.MAX_HIDDEN, activation="tanh", output="linear", encoding="pm1",
           criterion="within:0.1", bias=False, skip=True, momentum=0.9),
    Config(task="parity:3", hidden=1, activation="relu", output="tanh", criterion="sse:0.1", dtype="float32"),
    Config(activation="tanh", loss="cross-entropy", momentum=0.5, skip=True),
    Config(hidden=2, skip=True, dtype="float32", momentum=0.9, criterion="within:0.2"),
    Config(task="table:0001", activation="relu", output="linear", encoding="pm1"),
]


def family_specialisations() -> list[Specialisation]:
    return [Specialisation.of(config) for config in FAMILY_CONFIGS]


def test_the_family_sample_takes_every_value_of_every_template_argument():
    specs = family_specialisations()
    for name, values in {"dtype": {"float64", "float32"}, "activation": {"sigmoid", "tanh", "relu"},
                         "output": {"sigmoid", "tanh", "linear"}, "cross_entropy": {True, False},
                         "criterion": {"within", "sse", "side"}, "bias": {True, False}, "skip": {True, False},
                         "momentum": {True, False}}.items():
        assert {getattr(spec, name) for spec in specs} == values, name
    assert {1, fused_gpu.MAX_HIDDEN} <= {s.hidden for s in specs} and {2, 10} <= {s.inputs for s in specs}


def instantiations(specs: list[Specialisation]) -> str:
    lines = [fused_gpu.source()]
    for spec in specs:
        real = fused_gpu.REAL_TYPES[spec.dtype]
        parameters = KERNEL_PARAMETERS if spec.classic else FAMILY_KERNEL_PARAMETERS
        types = ", ".join(ctype.replace("real", real) for _, ctype in parameters)
        lines.append(f"template __global__ void {fused_gpu.template_name(spec)}({types});")
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_every_specialisation_compiles_for_sm80_and_sm90(tmp_path):
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        skip_or_fail("no nvcc (the CUDA toolkit) here")
    specs = every_specialisation() + family_specialisations()
    source = tmp_path / "every_specialisation.cu"
    source.write_text(instantiations(specs))
    builds = {arch: subprocess.Popen(
        [nvcc, *fused_gpu.COMPILE_OPTIONS, "-cubin", f"-arch={arch}", "-o", str(tmp_path / f"{arch}.cubin"), str(source)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for arch in ARCHITECTURES}
    for arch, build in builds.items():
        output, _ = build.communicate(timeout=NVCC_SECONDS)
        assert build.returncode == 0, f"nvcc for {arch} failed:\n{output[-3000:]}"
        cubin = (tmp_path / f"{arch}.cubin").read_bytes()
        kernels = set(re.findall(rb"\.text\.(_Z9xor_trainI\w+|_Z12family_trainI\w+)", cubin))  # each kernel's code
        assert len(kernels) == len(specs), f"{arch}: {len(kernels)} kernels in the cubin, not {len(specs)}"
