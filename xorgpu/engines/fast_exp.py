"""exp(x) and tanh(x) that the compiler can vectorise, for the fused CPU engine.

numba's `np.exp` calls libm one value at a time, which keeps the loops around it scalar
(PyPI's llvmlite has no SVML). This is the textbook method in straight-line arithmetic:
x = k ln2 + r with |r| <= ln2/2 (Cody-Waite, ln2 split in two so k*LN2_HI is exact),
exp(r) ~ 1 + r + r^2 q(r) in Horner form, with q the Chebyshev interpolant of
(exp(r) - 1 - r) / r^2 on that interval (near-minimax: degree 11 in all for float64, 6 for
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
from numba import types
from numba.extending import intrinsic, overload

LOG2E = 1.4426950408889634
LN2_HI = 6.93147180369123816490e-01  # fdlibm's split of ln 2: LN2_HI has 21 trailing zero bits
LN2_LO = 1.90821492927058770002e-10


def exp_polynomial(degree: int) -> list[float]:
    """Coefficients c_0..c_degree (c_0 = c_1 = 1) of the near-minimax polynomial for exp(r)."""
    half = 0.5 * np.log(2.0) * 1.0001  # |r| <= ln2/2, and a hair more for k*LN2's rounding

    def q(r: np.ndarray) -> np.ndarray:  # sum over i >= 2 of r^(i-2) / i!, to float64 accuracy
        total, term = np.zeros_like(r), np.full_like(r, 0.5)
        for i in range(3, 33):
            total, term = total + term, term * r / i
        return total

    fit = np.polynomial.Chebyshev.interpolate(q, degree - 2, domain=[-half, half])
    return [1.0, 1.0, *fit.convert(kind=np.polynomial.Polynomial).coef.tolist()]


POLY64 = exp_polynomial(11)
POLY32 = exp_polynomial(6)


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


@numba.njit  # not inline="always": numba warns about inlined loops; LLVM inlines it anyway
def _horner(coefficients, r):  # pragma: no cover  (compiled)
    """sum_i coefficients[i] r^i in Horner form, from the highest degree down."""
    p = coefficients[-1]
    for i in range(len(coefficients) - 2, -1, -1):
        p = p * r + coefficients[i]
    return p


def vexp(x):  # pragma: no cover  (replaced by the overload below inside numba code)
    return np.exp(x)


@overload(vexp, inline="always")
def _vexp_overload(x):
    if x == types.float64:
        c = tuple(POLY64)

        def exp64(x):
            xc = np.maximum(np.minimum(x, 709.0), -708.0)  # NaN passes through both
            k = np.floor(xc * LOG2E + 0.5)
            r = (xc - k * LN2_HI) - k * LN2_LO
            return _horner(c, r) * _float64_from_bits((np.int64(k) + 1023) << 52)

        return exp64
    if x == types.float32:
        c = tuple(np.float32(v) for v in POLY32)
        log2e, hi, lo = np.float32(LOG2E), np.float32(0.693359375), np.float32(-2.12194440e-4)
        top, bottom, half = np.float32(88.0), np.float32(-87.0), np.float32(0.5)

        def exp32(x):
            xc = np.maximum(np.minimum(x, top), bottom)  # NaN passes through both
            k = np.floor(xc * log2e + half)
            r = (xc - k * hi) - k * lo
            return _horner(c, r) * _float32_from_bits((np.int32(k) + np.int32(127)) << np.int32(23))

        return exp32
    return None



TANH_P = (-1.61468768441708447952e3, -9.92877231001918586564e1, -9.64399179425052238628e-1)  # Cephes tanh.c
TANH_Q = (4.84406305325125486048e3, 2.23548839060100448583e3, 1.12811678491632931402e2, 1.0)
TANH_SMALL = 0.625  # below: the rational approximation; above: through exp


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
        near = x + x * z * (_horner(p, z) / _horner(q, z))
        far = np.copysign(one - two / (vexp(two * np.abs(x)) + one), x)  # 1 - 2 / (inf + 1) = 1 for large |x|
        return near if np.abs(x) <= small else far  # NaN: far's NaN
    return tanh
