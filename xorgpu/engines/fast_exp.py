"""exp(x) that the compiler can vectorise, for the fused CPU engine.

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

numba's on-disk cache of the fused kernel is keyed on xorgpu/engines/fused_cpu.py alone:
after editing this file, touch that one, or the cached kernel keeps the old exp.
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

