"""The CUDA kernel compiled by nvcc for real GPUs, every specialisation the engine can ask
for (dtype x H <= fused_gpu.MAX_HIDDEN x criterion x momentum), for sm_80 and sm_90.

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
from xorgpu.engines.contract import KERNEL_PARAMETERS, Specialisation

from .conftest import skip_or_fail

ARCHITECTURES = ("sm_80", "sm_90")
NVCC_SECONDS = 900


def every_specialisation() -> list[Specialisation]:
    return [Specialisation(dtype, hidden, sse, momentum)
            for dtype, hidden, sse, momentum in itertools.product(
                fused_gpu.REAL_TYPES, range(1, fused_gpu.MAX_HIDDEN + 1), (False, True), (False, True))]


def instantiations(specs: list[Specialisation]) -> str:
    lines = [fused_gpu.source()]
    for spec in specs:
        real = fused_gpu.REAL_TYPES[spec.dtype]
        types = ", ".join(ctype.replace("real", real) for _, ctype in KERNEL_PARAMETERS)
        lines.append(f"template __global__ void {fused_gpu.template_name(spec)}({types});")
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_every_specialisation_compiles_for_sm80_and_sm90(tmp_path):
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        skip_or_fail("no nvcc (the CUDA toolkit) here")
    specs = every_specialisation()
    source = tmp_path / "every_specialisation.cu"
    source.write_text(instantiations(specs))
    builds = {arch: subprocess.Popen(
        [nvcc, *fused_gpu.COMPILE_OPTIONS, "-cubin", f"-arch={arch}", "-o", str(tmp_path / f"{arch}.cubin"), str(source)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for arch in ARCHITECTURES}
    for arch, build in builds.items():
        output, _ = build.communicate(timeout=NVCC_SECONDS)
        assert build.returncode == 0, f"nvcc for {arch} failed:\n{output[-3000:]}"
        cubin = (tmp_path / f"{arch}.cubin").read_bytes()
        kernels = set(re.findall(rb"\.text\.(_Z9xor_trainI\w+)", cubin))  # each kernel's code section
        assert len(kernels) == len(specs), f"{arch}: {len(kernels)} kernels in the cubin, not {len(specs)}"
