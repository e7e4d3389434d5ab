import numpy as np
import pytest

from xorgpu.config import InitScheme
from xorgpu.init import counter_uniform, initial_params


def test_notebook_scheme_is_np_random_seed_then_rand():
    params = initial_params(InitScheme("notebook"), np.array([0, 7, 123]), hidden=4, dtype="float64")
    for k, seed in enumerate([0, 7, 123]):
        np.random.seed(seed)  # the notebook's own calls, on NumPy's global generator
        w1 = np.random.rand(2, 4)
        w2 = np.random.rand(4, 1)
        np.testing.assert_array_equal(params.w1[:, :, k], w1)
        np.testing.assert_array_equal(params.w2[:, k], w2[:, 0])
    assert not params.b1.any() and not params.b2.any()


@pytest.mark.parametrize("scheme", ["counter", "uniform:-1:1", "notebook"])
def test_a_nets_weights_depend_on_its_seed_alone(scheme):
    init = InitScheme.parse(scheme)
    together = initial_params(init, np.arange(100, 200), hidden=3, dtype="float64")
    alone = initial_params(init, np.array([150]), hidden=3, dtype="float64")
    for name in ("w1", "b1", "w2", "b2"):
        np.testing.assert_array_equal(getattr(together, name)[..., 50], getattr(alone, name)[..., 0])


def test_counter_values_are_fixed():
    # A regression pin: these values are part of every stored result's meaning.
    values = counter_uniform(np.array([0, 1]), np.array([0, 1]), "float64")
    assert values.tolist() == [[0.5936184674970746, 0.5110472047557614],
                               [0.3551335861097582, 0.8783126875785243]]


def test_counter_scheme_is_the_notebooks_distribution():
    params = initial_params(InitScheme("counter"), np.arange(200_000), hidden=4, dtype="float64")
    weights = np.concatenate([params.w1.ravel(), params.w2.ravel()])
    assert weights.min() >= 0 and weights.max() < 1
    # 2.4M draws: bin counts of a uniform law within 5 sigma, moments close to 1/2 and 1/12.
    counts = np.histogram(weights, bins=100, range=(0, 1))[0]
    expected = weights.size / 100
    assert np.abs(counts - expected).max() < 5 * np.sqrt(expected)
    assert abs(weights.mean() - 0.5) < 1e-3 and abs(weights.var() - 1 / 12) < 1e-3
    # neighbouring seeds and parameters are uncorrelated
    assert abs(np.corrcoef(params.w1[0, 0, :-1], params.w1[0, 0, 1:])[0, 1]) < 0.01
    assert abs(np.corrcoef(params.w1[0, 0], params.w1[0, 1])[0, 1]) < 0.01
    assert not params.b1.any() and not params.b2.any()


def test_uniform_scheme_covers_weights_and_biases_in_range():
    params = initial_params(InitScheme("uniform", -0.5, 0.5), np.arange(50_000), 2, "float32")
    for array in params.arrays():
        assert array.dtype == np.float32
        assert array.min() >= -0.5 and array.max() < 0.5
        assert abs(array.mean()) < 0.01


def test_float32_weights_are_the_float64_ones_truncated():
    w64 = initial_params(InitScheme("counter"), np.arange(1000), 4, "float64").w1
    w32 = initial_params(InitScheme("counter"), np.arange(1000), 4, "float32").w1
    assert w32.max() < 1
    assert np.abs(w64 - w32).max() < 2**-24


@pytest.mark.parametrize("scheme", ["counter", "uniform:-0.5:0.5", "notebook"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_init_on_the_device_gives_the_same_bits(backend, scheme, dtype):
    seeds = np.arange(1000, 3000)
    host = initial_params(InitScheme.parse(scheme), seeds, 3, dtype)
    device = initial_params(InitScheme.parse(scheme), seeds, 3, dtype, backend.xp)
    for name in ("w1", "b1", "w2", "b2"):
        got = backend.to_host(getattr(device, name))
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, getattr(host, name))
