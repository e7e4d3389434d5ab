"""Per-net learning rates and momentum (engines/knobs.py), in every engine.

A block whose nets each carry their own values must train each net exactly as a block
that shares that net's values through its config (bit for bit: same engine, same
dtype), and nets with different rates per layer must match an independent single-net
trainer (tests/single_net.py). One exception, by design: in a block where some nets have
momentum, a net with momentum 0 takes the momentum update v = 0 v - step g; w = w + v.
That is w - step g exactly, except in the compiled kernels, which compute w - step g as one
fused multiply-add (one rounding, not two; the same in the CPU and CUDA kernels): there it
agrees to the conformance table's tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

from xorgpu.backend import numpy_backend
from xorgpu.config import Config, ConfigError
from xorgpu.engines import array, fused_cpu, fused_gpu
from xorgpu.engines.contract import BlockRecord, Specialisation
from xorgpu.engines.knobs import NetKnobs
from xorgpu.init import initial_params
from xorgpu.params import Params

from ..single_net import train_single_net
from .conftest import cupy_backend_or_none, skip_or_fail
from .cuda_on_host import HostKernels, compiler
from .test_conformance import assert_within_float64_tolerance

SEEDS = np.arange(500, 540)
# (lr, momentum) per group of nets: a momentum of 0 beside others' momentum takes the
# kernels' momentum variant and must still train as plain gradient descent
VALUES = [(0.1, 0.0), (0.7, 0.0), (2.5, 0.0), (0.3, 0.9), (1.2, 0.5), (0.05, 0.99)]
CONFIGS = {
    "float64": Config(epochs=1200, init="uniform:-1:1", sample_every=300),
    "float64, mean, sse": Config(epochs=900, init="uniform:-2:2", loss_reduction="mean", criterion="sse:0.05"),
    "float32": Config(epochs=900, dtype="float32", init="uniform:-1:1"),
}
ENGINES = ["array", "fused-cpu", "cuda-on-host", "fused-cuda", "array-cupy"]


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    if compiler() is None:
        skip_or_fail("no C++ compiler to build the CUDA kernel for the host")
    specs = {Specialisation.of(config.replace(momentum=mu)) for config in CONFIGS.values() for _, mu in VALUES}
    return HostKernels(sorted(specs, key=str), tmp_path_factory.mktemp("knobs")).compiled


def train(engine: str, params: Params, config: Config, knobs: NetKnobs, kernels) -> tuple:  # noqa: ANN001
    """(record, final weights) on the host, for one engine."""
    params = params.map(np.copy)
    if engine == "array":
        record = array.train_block(params, config, numpy_backend(), knobs=knobs)
    elif engine == "fused-cpu":
        record = fused_cpu.train_block(params, config, knobs=knobs)
    elif engine == "cuda-on-host":
        record = fused_gpu.train_block(params, config, numpy_backend(), knobs=knobs, compiled=kernels)
    else:
        backend = cupy_backend_or_none()
        if backend is None:
            pytest.skip("no CUDA device here")
        params = params.map(backend.to_device)
        train_block = fused_gpu.train_block if engine == "fused-cuda" else array.train_block
        record = train_block(params, config, backend, knobs=knobs)
        params = params.map(backend.to_host)
    return record, params


@pytest.mark.parametrize("case", CONFIGS)
@pytest.mark.parametrize("engine", ENGINES)
def test_each_nets_own_values_train_it_as_a_config_with_those_values_would(engine, case, kernels):
    config = CONFIGS[case]
    params = initial_params(config.init_scheme, SEEDS, config.hidden, config.dtype)
    tiled = params.map(lambda a: np.concatenate([a] * len(VALUES), axis=-1))
    lr = np.repeat([v[0] for v in VALUES], SEEDS.size)
    mu = np.repeat([v[1] for v in VALUES], SEEDS.size)
    record, weights = train(engine, tiled, config, NetKnobs(lr_hidden=lr, lr_output=lr, momentum=mu), kernels)
    for group, (rate, momentum) in enumerate(VALUES):
        alone, alone_weights = train(engine, params, config.replace(lr=rate, momentum=momentum), NetKnobs(), kernels)
        nets = slice(group * SEEDS.size, (group + 1) * SEEDS.size)
        group_record = BlockRecord(**{name: value[..., nets] if name == "loss_samples" else value[nets]
                                      for name, value in vars(record).items()})
        if engine in ("fused-cpu", "cuda-on-host", "fused-cuda") and momentum == 0:  # the FMA exception above
            if config.dtype == "float64":
                assert_within_float64_tolerance(group_record, weights.map(lambda a: a[..., nets]), alone,
                                                alone_weights)
            else:  # float32's rounding grows faster: 40 nets are too few for the table's 99% quantile
                np.testing.assert_array_equal(group_record.diverged, alone.diverged)
                np.testing.assert_allclose(group_record.outputs, alone.outputs, rtol=0, atol=1e-3)
            continue
        for name in vars(alone):
            np.testing.assert_array_equal(getattr(group_record, name), getattr(alone, name),
                                          err_msg=f"{name}, lr {rate}, momentum {momentum}")
        for got, expected in zip(weights.arrays(), alone_weights.arrays()):
            np.testing.assert_array_equal(got[..., nets], expected)


@pytest.mark.parametrize("engine", ["array", "fused-cpu", "cuda-on-host", "fused-cuda"])
def test_rates_per_layer_match_an_independent_single_net_trainer(engine, kernels):
    config = Config(epochs=1500, init="uniform:-1:1", momentum=0.5)
    seeds = np.arange(7, 13)
    params = initial_params(config.init_scheme, seeds, config.hidden, config.dtype)
    lr_hidden = np.array([0.02, 0.5, 3.0, 0.2, 8.0, 0.9])
    lr_output = np.array([1.5, 0.05, 0.3, 0.2, 0.1, 6.0])
    momentum = np.array([0.0, 0.5, 0.9, 0.3, 0.0, 0.7])
    record, _ = train(engine, params, config, NetKnobs(lr_hidden, lr_output, momentum), kernels)
    assert len(set(record.epochs_to_solve)) > 2  # the rates matter here
    for k in range(seeds.size):
        w1, b1, w2, b2 = (np.asarray(a[..., k]) for a in params.arrays())
        expected = train_single_net(w1.tolist(), b1.tolist(), w2.tolist(), float(b2), lr_hidden=lr_hidden[k],
                                    lr_output=lr_output[k], momentum=momentum[k], epochs=config.epochs)
        assert record.epochs_to_solve[k] == expected.epochs_to_solve
        np.testing.assert_allclose(record.final_loss[k], expected.final_loss, rtol=1e-9)


def test_a_block_without_momentum_anywhere_keeps_the_plain_kernel():
    config = Config()
    assert not Specialisation.of(config, NetKnobs(momentum=np.zeros(3))).momentum
    assert Specialisation.of(config, NetKnobs(momentum=np.array([0, 0.5, 0]))).momentum
    assert Specialisation.of(config.replace(momentum=0.5)).momentum


@pytest.mark.parametrize("knobs", [
    dict(lr_hidden=np.array([0.1, -1.0])), dict(lr_output=np.array([np.nan])), dict(momentum=np.array([1.0])),
    dict(momentum=np.array([-0.1])), dict(lr_hidden=np.array([np.inf])),
])
def test_out_of_range_values_are_refused(knobs):
    with pytest.raises(ConfigError):
        NetKnobs(**knobs)
