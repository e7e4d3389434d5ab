"""exp(x) and tanh(x) that the compiler can vectorise, for the fused CPU engine, and fma.

numba's `np.exp` calls libm one value at a time, which keeps the loops around it scalar
(PyPI's llvmlite has no SVML). This is the textbook method in straight-line arithmetic
(its constants in elementary.py, which the CUDA kernels' source is generated from too):
x = k ln2 + r with |r| <= ln2/2 (Cody-Waite, ln2 split in two so k*LN2_HI is exact),
exp(r) ~ 1 + r + r^2 q(r) in Horner form (every multiply-add one `fma`), with q the
Chebyshev interpolant of (exp(r) - 1 - r) / r^2 on that interval (near-minimax: degree 11 in all for float64, 6 for
float32; error below 3e-16 and 1.1e-8 relative: two and one multiply-adds fewer than the
Taylor polynomials of the same accuracy), and 2^k built directly in the exponent bits.
Accuracy: within 2 ulp of libm's exp (tests/engines/test_fast_exp.py). Inputs are clamped
to the range where 2^k stays a normal number: there exp(x) is below 1e-307 (float64) or
1e-38 (float32), which 1 / (1 + exp(x)) rounds away exactly as it rounds 0.

tanh is Moshier's (the Cephes library's tanh.c): x + x^3 P(x^2) / Q(x^2) for |x| <= 0.625,
a rational approximation good to about an ulp, and 1 - 2 / (exp(2|x|) + 1) with x's sign
beyond, where no digits cancel; both sides computed and one kept, so the loop stays SIMD.

numba's on-disk cache of the fused kernels is keyed on xorgpu/engines/fused_cpu.py and
fused_cpu_family.py alone: after editing this file, touch those, or the cached kernels keep
the old functions.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from .elementary import (LN2_HI, LN2_HI_32, LN2_LO, LN2_LO_32, LOG2E, POLY32, POLY64, TANH_P, TANH_Q,
                         TANH_SMALL)


@intrinsic
def _float64_from_bits(typingctx, bits):  # noqa: ARG001
    def codegen(context, builder, signature, args):  # noqa: ARG001
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.int64), codegen


@intrinsic
def _float32_from_bits(typingctx, bits):  # noqa: ARG001
    def codegen(context, builder, signature, args):  # noqa: ARG001
        return builder.bitcast(args[0], context.get_value_type(types.float32))

    return types.float32(types.int32), codegen


@intrinsic
def fma(typingctx, a, b, c):  # noqa: ARG001
    """a * b + c, rounded once (LLVM's llvm.fma): an FMA instruction where the CPU has one,
    libm's fma where it does not; the same bits either way. The fused kernels place their
    multiply-adds with it (and let the compiler contract none), as the CUDA kernels place
    theirs with fma(): one rounding at the same places on every CPU and GPU."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, signature, args):  # noqa: ARG001
        real = args[0].type
        function = builder.module.declare_intrinsic("llvm.fma", [real], ir.FunctionType(real, [real, real, real]))
        return builder.call(function, args)

    return a(a, b, c), codegen


@numba.njit  # not inline="always": numba warns about inlined loops; LLVM inlines it anyway
def _horner(coefficients, r):  # pragma: no cover  (compiled)
    """sum_i coefficients[i] r^i in Horner form, from the highest degree down, each step one fma."""
    p = coefficients[-1]
    for i in range(len(coefficients) - 2, -1, -1):
        p = fma(p, r, coefficients[i])
    return p


def vexp(x):  # pragma: no cover  (replaced by the overload below inside numba code)
    return np.exp(x)


@overload(vexp, inline="always")
def _vexp_overload(x):
    if x == types.float64:
        c = tuple(POLY64)

        def exp64(x):
            xc = np.maximum(np.minimum(x, 709.0), -708.0)  # NaN passes through both
            k = np.floor(fma(xc, LOG2E, 0.5))
            r = fma(-k, LN2_LO, fma(-k, LN2_HI, xc))
            return _horner(c, r) * _float64_from_bits((np.int64(k) + 1023) << 52)

        return exp64
    if x == types.float32:
        c = tuple(np.float32(v) for v in POLY32)
        log2e, hi, lo = np.float32(LOG2E), np.float32(LN2_HI_32), np.float32(LN2_LO_32)
        top, bottom, half = np.float32(88.0), np.float32(-87.0), np.float32(0.5)

        def exp32(x):
            xc = np.maximum(np.minimum(x, top), bottom)  # NaN passes through both
            k = np.floor(fma(xc, log2e, half))
            r = fma(-k, lo, fma(-k, hi, xc))
            return _horner(c, r) * _float32_from_bits((np.int32(k) + np.int32(127)) << np.int32(23))

        return exp32
    return None





def vtanh(x):  # pragma: no cover  (replaced by the overload below inside numba code)
    return np.tanh(x)


@overload(vtanh)  # not inline="always": numba's IR inliner warns about its select; LLVM inlines it anyway
def _vtanh_overload(x):
    if x not in (types.float64, types.float32):
        return None
    real = np.float64 if x == types.float64 else np.float32
    p = tuple(real(v) for v in TANH_P)
    q = tuple(real(v) for v in TANH_Q)
    one, two, small = real(1), real(2), real(TANH_SMALL)

    def tanh(x):
        z = x * x
        near = fma(x * z, _horner(p, z) / _horner(q, z), x)
        far = np.copysign(one - two / (vexp(two * np.abs(x)) + one), x)  # 1 - 2 / (inf + 1) = 1 for large |x|
        return near if np.abs(x) <= small else far  # NaN: far's NaN
    return tanh
