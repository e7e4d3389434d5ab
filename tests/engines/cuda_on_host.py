"""The CUDA kernel (xorgpu/engines/fused_gpu.cu), compiled for the host and run in CI.

The kernels' source is compiled unchanged as C++ behind cuda_host_shim.h, with one extern
"C" launcher per specialisation that runs the grid's threads one after another. The
launchers' parameters come from contract.KERNEL_PARAMETERS (FAMILY_KERNEL_PARAMETERS for
the family kernel's specialisations), so fused_gpu.train_block
calls them exactly as it calls CuPy's kernel: same arguments, same order, same layout.
Needs a C++ compiler (g++ or $CXX).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable

import numpy as np

from xorgpu.engines import fused_gpu
from xorgpu.engines.contract import FAMILY_KERNEL_PARAMETERS, KERNEL_PARAMETERS, Specialisation

HERE = Path(__file__).parent
CXX_FLAGS = ["-O2", "-std=c++17", "-shared", "-fPIC", "-ffp-contract=off", "-Wno-unknown-pragmas"]
C_TYPES = {"double": ctypes.c_double, "float": ctypes.c_float, "long long": ctypes.c_longlong, "int": ctypes.c_int}
POINTEE_DTYPES = {"double": np.float64, "float": np.float32, "long long": np.int64, "bool": np.bool_}


def compiler() -> str | None:
    return os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")


def symbol(spec: Specialisation) -> str:
    if spec.classic:
        return f"xor_train_{spec.dtype}_h{spec.hidden}_sse{int(spec.sse_criterion)}_momentum{int(spec.momentum)}"
    return (f"family_train_{spec.dtype}_h{spec.hidden}_n{spec.inputs}_{spec.activation}_{spec.output}"
            f"_ce{int(spec.cross_entropy)}_{spec.criterion}_bias{int(spec.bias)}_skip{int(spec.skip)}"
            f"_momentum{int(spec.momentum)}")


def _declared(real: str, spec: Specialisation) -> list[tuple[str, str]]:
    """The kernel's parameters with `real` spelled out: (C type, name)."""
    parameters = KERNEL_PARAMETERS if spec.classic else FAMILY_KERNEL_PARAMETERS
    return [(ctype.replace("real", real), name) for name, ctype in parameters]


def launcher_source(specs: list[Specialisation], kernel_source: str | None = None) -> str:
    """C++: the shim, the kernel, and an extern "C" launcher per specialisation."""
    lines = ['#include "cuda_host_shim.h"', kernel_source or fused_gpu.source()]
    for spec in specs:
        real = fused_gpu.REAL_TYPES[spec.dtype]
        params = ", ".join(f"{ctype} {name}" for ctype, name in _declared(real, spec))
        names = ", ".join(name for _, name in _declared(real, spec))
        template = fused_gpu.template_name(spec)
        lines.append(
            f'extern "C" void {symbol(spec)}(unsigned int blocks, unsigned int threads, {params}) {{\n'
            f"    blockDim.x = threads;\n"
            f"    for (unsigned int b = 0; b < blocks; ++b)\n"
            f"        for (unsigned int t = 0; t < threads; ++t) {{\n"
            f"            blockIdx.x = b; threadIdx.x = t;\n"
            f"            {template}({names});\n"
            f"        }}\n"
            f"}}"
        )
    return "\n".join(lines) + "\n"


class HostKernels:
    """A shared library of host builds of the kernel, one launcher per specialisation."""

    def __init__(self, specs: list[Specialisation], folder: Path, kernel_source: str | None = None) -> None:
        source = launcher_source(sorted(set(specs), key=symbol), kernel_source)
        digest = hashlib.sha256((source + (HERE / "cuda_host_shim.h").read_text()).encode()).hexdigest()[:16]
        library = folder / f"xor_train_host_{digest}.so"
        if not library.exists():
            cxx = compiler()
            if cxx is None:
                raise RuntimeError("no C++ compiler (g++) to build the CUDA kernel for the host")
            cpp = folder / f"xor_train_host_{digest}.cpp"
            cpp.write_text(source)
            subprocess.run([cxx, *CXX_FLAGS, f"-I{HERE}", str(cpp), "-o", str(library)],
                           check=True, capture_output=True, text=True)
        self.library = ctypes.CDLL(str(library))

    def compiled(self, spec: Specialisation) -> Callable[[tuple[int], tuple[int], tuple[Any, ...]], None]:
        """What fused_gpu.train_block needs: launch(grid, block, kernel arguments)."""
        function = getattr(self.library, symbol(spec))
        real = fused_gpu.REAL_TYPES[spec.dtype]
        argtypes = [ctypes.c_uint, ctypes.c_uint]
        for ctype, _ in _declared(real, spec):
            argtypes.append(ctypes.c_void_p if ctype.endswith("*") else C_TYPES[ctype])
        function.argtypes = argtypes
        function.restype = None

        def launch(grid: tuple[int], block: tuple[int], arguments: tuple[Any, ...]) -> None:
            values = []
            for (ctype, name), value in zip(_declared(real, spec), arguments):
                if ctype.endswith("*"):
                    pointee = POINTEE_DTYPES[ctype.removeprefix("const ").removesuffix("*")]
                    if not (isinstance(value, np.ndarray) and value.flags.c_contiguous and value.dtype == pointee):
                        raise TypeError(f"kernel argument {name} must be a C-contiguous {np.dtype(pointee)} array")
                    values.append(value.ctypes.data)
                else:
                    values.append(value.item() if isinstance(value, np.generic) else value)
            function(grid[0], block[0], *values)

        return launch
