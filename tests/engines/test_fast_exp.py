import numba
import numpy as np
import pytest

from xorgpu.engines.fast_exp import vexp, vtanh


@numba.njit(cache=True)
def vexp_array(values):
    """vexp, the kernel's own, over an array."""
    out = np.empty_like(values)
    for i in range(values.size):
        out[i] = vexp(values[i])
    return out


@pytest.mark.parametrize("dtype, max_ulp", [("float64", 2.0), ("float32", 2.0)])
def test_vectorisable_exp_is_within_2_ulp_of_numpy(dtype, max_ulp):
    rng = np.random.default_rng(0)
    low, high = (-708, 709) if dtype == "float64" else (-87, 88)
    x = np.concatenate([np.linspace(low, high, 100_001), rng.uniform(-30, 30, 200_000)]).astype(dtype)
    got = vexp_array(x)
    expected = np.exp(x.astype(np.float64))
    ulp = np.abs(got.astype(np.float64) - expected) / np.spacing(expected.astype(dtype)).astype(np.float64)
    assert got.dtype == np.dtype(dtype)
    assert ulp.max() <= max_ulp


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_vectorisable_exp_edges(dtype):
    got = vexp_array(np.array([np.nan, -np.inf, -1e6, 0.0, 1e6], dtype=dtype))
    assert np.isnan(got[0])
    assert 0 <= got[1] < 1e-37 and 0 <= got[2] < 1e-37  # 1 / (1 + that) rounds to 1, as 1 / (1 + 0)
    assert got[3] == 1.0
    assert np.isfinite(got[4]) and got[4] > 1e38


@numba.njit(cache=True)
def vtanh_array(values):
    """vtanh, the family kernel's own, over an array."""
    out = np.empty_like(values)
    for i in range(values.size):
        out[i] = vtanh(values[i])
    return out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_vectorisable_tanh_is_within_2_ulp_of_the_exact_value(dtype):
    """Against tanh in extended precision, on both sides of the switch at 0.625 and out to
    where it is 1 to the last bit."""
    rng = np.random.default_rng(1)
    x = np.concatenate([np.linspace(-25, 25, 100_001), rng.uniform(-1, 1, 100_000),
                        np.geomspace(1e-30, 0.625, 1000), [0.625, np.nextafter(0.625, 1)]]).astype(dtype)
    got = vtanh_array(x)
    exact = np.tanh(x.astype(np.longdouble))
    ulp = np.abs(got.astype(np.longdouble) - exact) / np.spacing(np.abs(exact).astype(dtype)).astype(np.longdouble)
    assert got.dtype == np.dtype(dtype) and float(ulp.max()) <= 2.0


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_vectorisable_tanh_edges(dtype):
    got = vtanh_array(np.array([np.nan, np.inf, -np.inf, 1e6, -1e6, 0.0], dtype=dtype))
    assert np.isnan(got[0]) and got[1] == got[3] == 1 and got[2] == got[4] == -1 and got[5] == 0
