"""The array engine (the reference) against its oracles: the notebook's code, single-net
learners written from the equations, central finite differences."""

import warnings

import numpy as np
import pytest

from xorgpu.backend import numpy_backend
from xorgpu.config import Config, RunOptions, SeedRange
from xorgpu.engines.array import EpochView, backprop, forward, forward_pass, predict, train_block, Buffers
from xorgpu.engines.contract import EXP_ARG_MAX, PATTERNS, TARGETS
from xorgpu.experiment import prepare
from xorgpu.init import initial_params
from xorgpu.notebook import X, NeuralNetwork, y
from xorgpu.stats import Summary

summary_of = Summary.of_block
ARRAY = RunOptions(engine="array")


def train_array(config, seeds, backend=None):
    """The array engine's nets and statistics, on `backend` (default NumPy)."""
    return prepare(config, ARRAY, backend or numpy_backend()).train(seeds)

NOTEBOOK_SEEDS = [0, 1, 2, 3, 17, 42]


def notebook_net(seed: int, hidden: int = 4, epochs: int = 10000, lr: float = 0.1) -> np.ndarray:
    """Outputs of the notebook's own code after training net `seed`."""
    nn = NeuralNetwork(2, hidden, 1, rng=np.random.RandomState(seed))
    nn.train(X, y, epochs=epochs, learning_rate=lr, print_fn=lambda line: None)
    return nn.feedforward(X)[:, 0]


def test_patterns_are_the_notebooks():
    assert np.array_equal(np.array(PATTERNS), X) and np.array_equal(np.array(TARGETS), y[:, 0])


def test_each_net_equals_the_notebooks_code(backend):
    config = Config(init="notebook")
    results, _ = train_array(config, SeedRange(0, 43), backend)
    for seed in NOTEBOOK_SEEDS:
        expected = notebook_net(seed)
        np.testing.assert_allclose(results.outputs[seed], expected, rtol=0, atol=1e-12)
        loss = np.mean(np.square(y[:, 0] - expected))
        assert abs(results.final_loss[seed] - loss) <= 1e-12


@pytest.mark.parametrize("hidden, lr", [(2, 0.5), (8, 1.0)])
def test_other_shapes_equal_the_notebooks_code(hidden, lr):
    config = Config(init="notebook", hidden=hidden, lr=lr, epochs=3000)
    results, _ = train_array(config, SeedRange(0, 4))
    for seed in range(4):
        np.testing.assert_allclose(results.outputs[seed], notebook_net(seed, hidden, 3000, lr), atol=1e-12)


def reference_momentum_net(w1, b1, w2, b2, lr, mu, epochs):
    """An independent single-net implementation of momentum SGD on L = 1/2 sum (o - y)^2."""
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    params = [w1.copy(), b1.copy(), w2.copy(), b2.copy()]
    velocity = [np.zeros_like(p) for p in params]
    for _ in range(epochs):
        w1, b1, w2, b2 = params
        h = sig(X @ w1 + b1)
        o = sig(h @ w2 + b2)
        d_o = (o - y[:, 0]) * o * (1 - o)
        d_h = np.outer(d_o, w2) * h * (1 - h)
        grads = [X.T @ d_h, d_h.sum(0), h.T @ d_o, d_o.sum()]
        for i, g in enumerate(grads):
            velocity[i] = mu * velocity[i] - lr * g
            params[i] = params[i] + velocity[i]
    w1, b1, w2, b2 = params
    return sig(sig(X @ w1 + b1) @ w2 + b2)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_momentum_and_mean_loss_match_a_reference(reduction):
    config = Config(momentum=0.9, lr=0.3, epochs=2000, init="uniform:-1:1", loss_reduction=reduction)
    results, _ = train_array(config, SeedRange(10, 14))
    p = initial_params(config.init_scheme, np.arange(10, 14), 4, "float64")
    for k in range(4):
        expected = reference_momentum_net(p.w1[..., k], p.b1[:, k], p.w2[:, k], p.b2[k],
                                          config.step, 0.9, 2000)
        np.testing.assert_allclose(results.outputs[k], expected, atol=1e-10)


def test_gradients_match_central_finite_differences(backend):
    params = initial_params(Config(init="uniform:-2:2").init_scheme, np.arange(5), 3, "float64")

    def loss(p):
        h = 1 / (1 + np.exp(-(np.einsum("pi,ihn->phn", X, p.w1) + p.b1)))
        o = 1 / (1 + np.exp(-(np.einsum("phn,hn->pn", h, p.w2) + p.b2)))
        return 0.5 * ((o - y) ** 2).sum(axis=0)  # (n,)

    analytic = backprop(params.map(backend.to_device), backend).gradients
    eps = 1e-6
    for name in ("w1", "b1", "w2", "b2"):
        array = getattr(params, name)
        for index in np.ndindex(array.shape[:-1]):
            plus, minus = params.map(np.copy), params.map(np.copy)
            getattr(plus, name)[index] += eps
            getattr(minus, name)[index] -= eps
            numeric = (loss(plus) - loss(minus)) / (2 * eps)  # (n,)
            np.testing.assert_allclose(getattr(analytic, name)[index], numeric, rtol=1e-6, atol=1e-9)


def test_epochs_to_solve_is_the_first_epoch_meeting_the_criterion():
    config = Config(epochs=6000)
    results, _ = train_array(config, SeedRange(0, 40))
    solved = np.flatnonzero(results.epochs_to_solve > 0)
    assert solved.size > 10
    for k in solved[:5]:
        seeds = SeedRange(int(k), int(k) + 1)
        e = int(results.epochs_to_solve[k])
        at, _ = train_array(config.replace(epochs=e), seeds)
        before, _ = train_array(config.replace(epochs=e - 1), seeds)
        assert np.all(np.abs(at.outputs[0] - y[:, 0]) < 0.5)
        assert not np.all(np.abs(before.outputs[0] - y[:, 0]) < 0.5)
    never = results.epochs_to_solve == -1
    assert np.all(np.any(np.abs(results.outputs[never] - y[:, 0]) >= 0.5, axis=1))


@pytest.mark.parametrize("criterion", ["within:0.1", "sse:0.05"])
def test_final_outputs_agree_with_the_criterion(criterion):
    config = Config(epochs=8000, criterion=criterion)
    results, summary = train_array(config, SeedRange(0, 300))
    error = results.outputs - y[:, 0]
    meets = (np.abs(error) < 0.1).all(1) if criterion.startswith("within") else (error**2).sum(1) < 0.05
    solved = results.epochs_to_solve >= 0
    assert np.all(solved[meets])  # meeting it at the end means it was met at some epoch
    assert summary.solved == solved.sum() and summary.solved_then_lost == (solved & ~meets).sum()


def test_float32_agrees_with_float64():
    config = Config(epochs=5000)
    r64, _ = train_array(config, SeedRange(0, 2000))
    r32, _ = train_array(config.replace(dtype="float32"), SeedRange(0, 2000))
    assert r32.outputs.dtype == np.float32
    same_fate = (r64.epochs_to_solve >= 0) == (r32.epochs_to_solve >= 0)
    assert same_fate.mean() > 0.99
    both = (r64.epochs_to_solve > 0) & (r32.epochs_to_solve > 0)
    relative = np.abs(r64.epochs_to_solve[both] - r32.epochs_to_solve[both]) / r64.epochs_to_solve[both]
    assert np.median(relative) < 1e-3 and np.quantile(relative, 0.99) < 0.05
    close = same_fate & (r64.epochs_to_solve >= 0)
    assert np.quantile(np.abs(r64.outputs[close] - r32.outputs[close]), 0.99) < 1e-3


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_saturated_nets_never_warn(backend, dtype):
    config = Config(epochs=50, lr=1e30, momentum=0.9, init="uniform:-1000:1000", dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results, _ = train_array(config, SeedRange(0, 64), backend)
    assert np.all(np.isfinite(results.outputs))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_non_finite_weights_are_flagged_as_diverged_without_warnings(backend, dtype):
    params = initial_params(Config().init_scheme, np.arange(4), 4, dtype)
    params.w1[0, 0, 1] = np.inf
    params.w2[0, 2] = np.nan
    params.b2[3] = -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        record = train_block(params.map(backend.to_device), Config(epochs=20, dtype=dtype), backend)
    assert record.diverged.tolist() == [False, True, True, True]
    assert summary_of(record).diverged == 3


def reference_online_net(w1, b1, w2, b2, lr, mu, epochs):
    """An independent single-net online learner: one momentum step per pattern, in order."""
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    params = [w1.copy(), b1.copy(), w2.copy(), b2.copy()]
    velocity = [np.zeros_like(p) for p in params]
    for _ in range(epochs):
        for x, target in zip(X, y[:, 0]):
            w1, b1, w2, b2 = params
            h = sig(x @ w1 + b1)
            o = sig(h @ w2 + b2)
            d_o = (o - target) * o * (1 - o)
            d_h = d_o * w2 * h * (1 - h)
            for i, g in enumerate([np.outer(x, d_h), d_h, h * d_o, d_o]):
                velocity[i] = mu * velocity[i] - lr * g
                params[i] = params[i] + velocity[i]
    w1, b1, w2, b2 = params
    return sig(sig(X @ w1 + b1) @ w2 + b2)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_online_updates_match_a_reference(backend, momentum):
    config = Config(update="online", momentum=momentum, lr=0.5, epochs=1500, init="uniform:-1:1", hidden=3)
    results, _ = train_array(config, SeedRange(20, 26), backend)
    p = initial_params(config.init_scheme, np.arange(20, 26), 3, "float64")
    for k in range(6):
        expected = reference_online_net(p.w1[..., k], p.b1[:, k], p.w2[:, k], p.b2[k], 0.5, momentum, 1500)
        np.testing.assert_allclose(results.outputs[k], expected, rtol=0, atol=1e-10)


def test_online_updates_differ_from_batch_and_are_independent_of_blocks():
    config = Config(update="online", epochs=300, init="uniform:-2:2", momentum=0.5)
    seeds = SeedRange(0, 50)
    reference, summary = prepare(config, ARRAY.replace(block_nets=50)).train(seeds)
    for block_nets, processes in [(1, 1), (7, 2)]:
        results, other = prepare(config, ARRAY.replace(block_nets=block_nets, processes=processes)).train(seeds)
        np.testing.assert_array_equal(results.outputs, reference.outputs)
        assert other.to_fields() == summary.to_fields()
    batch, _ = train_array(config.replace(update="batch"), seeds)
    assert np.abs(batch.outputs - reference.outputs).max() > 1e-3


# --- what the engine offers the modules that show one net -----------------------------------


def test_forward_pass_on_the_patterns_is_the_training_forward_bit_for_bit():
    params = initial_params(Config(init="uniform:-3:3").init_scheme, np.arange(50), 5, "float64")
    buf = Buffers.allocate(np, 5, 50, np.dtype("float64"), momentum=False)
    forward(np, params, buf, EXP_ARG_MAX["float64"])
    seen = forward_pass(np, params, np.array(PATTERNS))
    np.testing.assert_array_equal(seen.a1, buf.a1)
    np.testing.assert_array_equal(seen.a2, buf.a2)
    np.testing.assert_array_equal(predict(np, params, np.array(PATTERNS)), buf.a2)


def test_forward_pass_matches_the_notebooks_feedforward_anywhere():
    nn = NeuralNetwork(2, 4, 1, rng=np.random.RandomState(3))
    params = initial_params(Config(init="notebook").init_scheme, np.array([3]), 4, "float64")
    inputs = np.random.default_rng(0).uniform(-2, 3, size=(500, 2))
    np.testing.assert_allclose(predict(np, params, inputs)[:, 0], nn.feedforward(inputs)[:, 0], rtol=0, atol=1e-15)


def test_the_observer_sees_each_epoch_before_its_learning():
    config = Config(epochs=60, momentum=0.5, init="uniform:-1:1")
    seen = {}

    def observe(view: EpochView) -> None:
        seen[view.epoch] = (view.outputs.copy(), view.params.w1.copy())

    params = initial_params(config.init_scheme, np.arange(8), 4, "float64")
    train_block(params, config, numpy_backend(), observe=observe)
    assert sorted(seen) == list(range(61))
    np.testing.assert_array_equal(seen[0][1], initial_params(config.init_scheme, np.arange(8), 4, "float64").w1)
    for epoch in (1, 17, 60):  # (epochs=0 is not a config)
        again = initial_params(config.init_scheme, np.arange(8), 4, "float64")
        record = train_block(again, config.replace(epochs=epoch), numpy_backend())
        np.testing.assert_array_equal(seen[epoch][0].T, record.outputs)  # the outputs after `epoch` updates
        np.testing.assert_array_equal(seen[epoch][1], again.w1)
