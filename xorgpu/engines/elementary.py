"""The constants of exp and tanh that the fused CPU kernels (fast_exp.py) and the CUDA
kernels (fused_gpu.shared_constants) share, so both compute the same bits. Plain NumPy:
the CUDA engine reads them without importing numba.
"""

from __future__ import annotations

import numpy as np

LOG2E = 1.4426950408889634
LN2_HI = 6.93147180369123816490e-01  # fdlibm's split of ln 2: LN2_HI has 21 trailing zero bits
LN2_LO = 1.90821492927058770002e-10
LN2_HI_32, LN2_LO_32 = 0.693359375, -2.12194440e-4  # the split for float32 (Cephes' expf)


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

TANH_P = (-1.61468768441708447952e3, -9.92877231001918586564e1, -9.64399179425052238628e-1)  # Cephes tanh.c
TANH_Q = (4.84406305325125486048e3, 2.23548839060100448583e3, 1.12811678491632931402e2, 1.0)
TANH_SMALL = 0.625  # below: the rational approximation; above: through exp

