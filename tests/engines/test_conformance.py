"""The conformance table: every engine against the array reference, config by config.

Each engine trains the same initial weights under each config and must leave the same
record (BlockRecord) and the same final weights as the array engine on NumPy:
- float64: every value within 1e-12, and epochs_to_solve, solved_at_end and diverged
  identical (the final weights, which the record does not hold, within 1e-10 relative:
  the diverging case grows some to 1e304);
- float32: outputs within 1e-3 for every net and 1e-6 for 99% of nets; epochs_to_solve
  identical for at least 99.5% of nets and never more than one epoch apart (exp rounds
  differently in each engine, and a net near the threshold may cross it an epoch early);
- the array engine on the strict CuPy stand-in: bit for bit (the same NumPy arithmetic).
The CUDA kernel runs here without a GPU, compiled for the host (cuda_on_host.py); on a
machine with a GPU, CuPy's build of it and the array engine on CuPy join the table.
A few cases also meet an independent oracle: the notebook's own code, and single-net
learners written from the equations (test_array.py).

The cases train where rounding differences die out. Where steps are large enough for
training to be chaotic (H = 16 at lr 2, say) they grow instead, and engines part ways as
any two float64 computations of the same map would: there, outputs 1e-4 apart were seen.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from xorgpu.backend import numpy_backend
from xorgpu.config import Config, ConfigError
from xorgpu.engines import array, fused_gpu
from xorgpu.engines.contract import BlockRecord
from xorgpu.engines.selection import select_engine
from xorgpu.init import nets_of
from xorgpu.notebook import X, NeuralNetwork, y
from xorgpu.params import Params

from ..strict_xp import strict_backend
from .conftest import cupy_backend_or_none

NETS = 600  # two fused CPU tiles and five CUDA blocks, both with padding

CASES = {
    "notebook": Config(epochs=3000, init="notebook"),
    "H=1, within:0.2": Config(epochs=1500, hidden=1, lr=2.0, criterion="within:0.2"),
    "H=16, sse": Config(epochs=800, hidden=16, lr=0.5, criterion="sse:0.05", init="uniform:-2:2"),
    "H=48": Config(epochs=300, hidden=48, lr=0.2, init="uniform:-1:1"),
    "momentum, mean": Config(epochs=1500, momentum=0.9, lr=0.5, init="uniform:-1:1", loss_reduction="mean"),
    "within:0.1, sampled": Config(epochs=2400, criterion="within:0.1", sample_every=300),
    "diverging": Config(epochs=50, lr=1e308, momentum=0.99, init="uniform:-5:5"),
    "float32": Config(epochs=3000, dtype="float32", sample_every=1000),
    "float32, momentum, sse": Config(epochs=1000, dtype="float32", lr=0.5, momentum=0.5, criterion="sse:0.1",
                                     init="uniform:-1:1"),
    "float32, diverging": Config(epochs=50, dtype="float32", lr=1e38, momentum=0.99, init="uniform:-5:5"),
    "online": Config(epochs=600, update="online", momentum=0.5, init="uniform:-2:2", hidden=3),
    "AND (table:0001), sampled": Config(epochs=1500, task="table:0001", sample_every=500, init="uniform:-1:1"),
    # nets of the family other than the notebook's (general.py; the family kernels)
    "parity:3, tanh, linear, pm1": Config(epochs=800, task="parity:3", activation="tanh", output="linear",
                                          encoding="pm1", lr=0.02, init="uniform:-1:1", hidden=5),
    "relu, skip, no bias, momentum": Config(epochs=600, activation="relu", skip=True, bias=False, lr=0.05,
                                            momentum=0.5, init="uniform:-1:1", hidden=3),
    "cross-entropy, mean, float32": Config(epochs=1500, loss="cross-entropy", loss_reduction="mean",
                                           dtype="float32", init="notebook"),
    "online, tanh, parity:4": Config(epochs=300, update="online", task="parity:4", activation="tanh",
                                     output="tanh", encoding="pm1", lr=0.05, init="uniform:-1:1", hidden=6),
}
ENGINES = ["fused-cpu", "cuda-on-host", "array-strict", "fused-cuda", "array-cupy"]


def initial(config: Config) -> Params:
    return nets_of(config, np.arange(1000, 1000 + NETS))


@pytest.fixture(scope="module")
def references() -> dict[str, tuple[BlockRecord, Params]]:
    """The array engine on NumPy: the record and the final weights of every case."""
    found = {}
    for name, config in CASES.items():
        params = initial(config)
        found[name] = (array.train_block(params, config, numpy_backend()), params)
    return found


def train(engine: str, config: Config, host_kernels) -> tuple[BlockRecord, Params]:  # noqa: ANN001
    """One engine's record and final weights (host arrays) for a case."""
    params = initial(config)
    if engine == "fused-cpu":
        backend = numpy_backend()
        record = select_engine(config, backend, "fused").train_block(params, config, backend)
    elif engine == "cuda-on-host":
        if fused_gpu.why_not(config):
            raise ConfigError(fused_gpu.why_not(config))
        record = fused_gpu.train_block(params, config, numpy_backend(),
                                       compiled=host_kernels)
    elif engine == "array-strict":
        backend = strict_backend()
        params = params.map(backend.to_device)
        record = array.train_block(params, config, backend)
        params = params.map(backend.to_host)
    else:
        backend = cupy_backend_or_none()
        if backend is None:
            pytest.skip("no CUDA device here: CI runs the CUDA kernel through cuda-on-host instead")
        params = params.map(backend.to_device)
        record = select_engine(config, backend, "fused" if engine == "fused-cuda" else "array").train_block(
            params, config, backend)
        params = params.map(backend.to_host)
    return record, params


def expected_refusal(engine: str, config: Config) -> bool:
    """Engines that, by design, do not train a config (and must say so, not train it)."""
    fused = engine in ("fused-cpu", "cuda-on-host", "fused-cuda")
    return fused and (config.update == "online" or (engine != "fused-cpu" and config.hidden > fused_gpu.MAX_HIDDEN))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("engine", ENGINES)
def test_engine_conforms_to_the_array_reference(engine, case, references, host_kernels):
    config = CASES[case]
    if expected_refusal(engine, config):
        with pytest.raises(ConfigError):
            train(engine, config, host_kernels)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no engine warns about the nets it flags as diverged
        record, weights = train(engine, config, host_kernels)
    reference, reference_weights = references[case]
    if engine == "array-strict":
        assert_identical(record, weights, reference, reference_weights)
    elif config.dtype == "float64":
        assert_within_float64_tolerance(record, weights, reference, reference_weights)
    else:
        assert_within_float32_tolerance(record, reference)


def assert_identical(record, weights, reference, reference_weights):  # noqa: ANN001
    for name in vars(reference):
        np.testing.assert_array_equal(getattr(record, name), getattr(reference, name), err_msg=name)
    for got, expected in zip(weights.arrays(), reference_weights.arrays()):
        np.testing.assert_array_equal(got, expected)


def assert_within_float64_tolerance(record, weights, reference, reference_weights):  # noqa: ANN001
    for name in ("epochs_to_solve", "solved_at_end", "diverged"):
        np.testing.assert_array_equal(getattr(record, name), getattr(reference, name), err_msg=name)
    for name in ("outputs", "final_loss", "loss_before_end", "loss_samples"):
        np.testing.assert_allclose(getattr(record, name), getattr(reference, name), rtol=0, atol=1e-12,
                                   err_msg=name)
    finite = ~reference.diverged
    for got, expected in zip(weights.arrays(), reference_weights.arrays()):
        np.testing.assert_allclose(got[..., finite], expected[..., finite], rtol=1e-10, atol=1e-12)


def assert_within_float32_tolerance(record, reference):  # noqa: ANN001
    assert record.outputs.dtype == np.float32
    np.testing.assert_array_equal(record.diverged, reference.diverged)
    finite = ~reference.diverged
    worst = np.abs(record.outputs - reference.outputs).max(axis=1)[finite]
    if worst.size:
        assert worst.max() <= 1e-3 and np.quantile(worst, 0.99) <= 1e-6
    apart = np.abs(record.epochs_to_solve - reference.epochs_to_solve)
    assert apart.max() <= 1 and (apart == 0).mean() >= 0.995


# --- an independent oracle for a few cases -----------------------------------------------------


def notebook_outputs(seed: int, config: Config) -> np.ndarray:
    nn = NeuralNetwork(2, config.hidden, 1, rng=np.random.RandomState(seed))
    nn.train(X, y, epochs=config.epochs, learning_rate=config.lr, print_fn=lambda line: None)
    return nn.feedforward(X)[:, 0]


@pytest.mark.parametrize("engine", ["fused-cpu", "cuda-on-host", "array-strict", "fused-cuda", "array-cupy"])
def test_engines_reproduce_the_notebooks_own_code(engine, host_kernels):
    config = CASES["notebook"]
    record, _ = train(engine, config, host_kernels)
    for k in (0, 1, 7, 42, 599):
        np.testing.assert_allclose(record.outputs[k], notebook_outputs(1000 + k, config), rtol=0, atol=1e-12)


def test_the_table_checks_what_it_claims():
    """The cases cover what the contract promises every engine handles."""
    configs = list(CASES.values())
    assert {c.hidden for c in configs} >= {1, fused_gpu.MAX_HIDDEN} and max(c.hidden for c in configs) > fused_gpu.MAX_HIDDEN
    assert {c.success.kind for c in configs} == {"within", "sse", "side"} and {c.criterion for c in configs} > {"round"}
    assert {c.dtype for c in configs} == {"float64", "float32"}
    assert {c.loss_reduction for c in configs} == {"sum", "mean"} and {c.update for c in configs} == {"batch", "online"}
    assert any(c.momentum > 0 for c in configs) and any(c.sample_every for c in configs)
    # the family of issue 22: every unit, encoding, loss and kind of task, no biases, skip weights
    assert {c.activation for c in configs} == {"sigmoid", "tanh", "relu"}
    assert {c.output for c in configs} == {"sigmoid", "tanh", "linear"}
    assert {c.encoding for c in configs} == {"01", "pm1"} and {c.loss for c in configs} == {"sse", "cross-entropy"}
    assert {c.bias for c in configs} == {True, False} and {c.skip for c in configs} == {True, False}
    assert {c.task.partition(":")[0] for c in configs} == {"xor", "table", "parity"}


def test_the_diverging_cases_really_diverge(references):
    for case in ("diverging", "float32, diverging"):
        record, _ = references[case]
        assert 0.1 < record.diverged.mean() < 1  # some nets, not all


SLICED_CASES = ["notebook", "momentum, mean", "within:0.1, sampled", "diverging", "float32",
                "float32, momentum, sse"]


def fixed_slices(size: int):
    """epoch_slices that cut training into calls of `size` epochs, whatever their pace."""
    def slices(epochs: int, first_size: int):
        return [(start, min(start + size, epochs + 1)) for start in range(0, epochs + 1, size)]
    return slices


@pytest.mark.parametrize("case", SLICED_CASES)
@pytest.mark.parametrize("engine", ["fused-cpu", "cuda-on-host"])
def test_a_nets_bits_do_not_depend_on_how_its_training_is_cut_into_calls(engine, case, host_kernels, monkeypatch):
    """The fused kernels train in calls of a few epochs each (so Ctrl-C is heard between
    two), resuming from the state the last call left: one call for all the epochs, or
    calls of 1, 7 or 97 epochs, leave the same bits."""
    from xorgpu.engines import fused_cpu  # noqa: PLC0415

    module = fused_cpu if engine == "fused-cpu" else fused_gpu
    config = CASES[case]
    monkeypatch.setattr(module, "epoch_slices", fixed_slices(config.epochs + 1))
    whole, whole_weights = train(engine, config, host_kernels)
    for size in (1, 7, 97):
        monkeypatch.setattr(module, "epoch_slices", fixed_slices(size))
        record, weights = train(engine, config, host_kernels)
        for field in BlockRecord.__dataclass_fields__:
            np.testing.assert_array_equal(getattr(record, field), getattr(whole, field), err_msg=f"{field}, {size}")
        for name, expected in zip(Params.NAMES, whole_weights.arrays()):
            np.testing.assert_array_equal(getattr(weights, name), expected, err_msg=f"{name}, {size}")


def test_calls_are_as_long_as_their_pace_allows():
    """epoch_slices: the first call as given, the next ones about SLICE_SECONDS long (at most
    SLICE_GROWTH times the last), all the epochs once, the last judging epoch E."""
    import time  # noqa: PLC0415

    from xorgpu.engines.contract import SLICE_GROWTH, epoch_slices  # noqa: PLC0415

    seen, epochs = [], 10_000
    for start, stop in epoch_slices(epochs, 10, seconds=0.05):
        seen.append((start, stop))
        time.sleep(0.001 * (stop - start) / 10)  # 10 epochs a millisecond: about 500 in 0.05 s
    assert seen[0] == (0, 10) and seen[-1][1] == epochs + 1
    assert all(a[1] == b[0] for a, b in zip(seen, seen[1:]))  # every epoch once, in order
    sizes = [stop - start for start, stop in seen[:-1]]
    assert all(b <= SLICE_GROWTH * a for a, b in zip(sizes, sizes[1:]))
    assert 250 <= sorted(sizes)[len(sizes) // 2] <= 600  # the median call: about 0.05 s at that pace


# --- the same bits on every CPU and on the GPU -------------------------------------------------


@pytest.mark.parametrize("case", [name for name, config in CASES.items() if not fused_gpu.why_not(config)])
@pytest.mark.parametrize("engine", ["cuda-on-host", "fused-cuda"])
def test_the_cuda_kernel_equals_the_fused_cpu_kernel_bit_for_bit(engine, case, host_kernels):
    """Both place their fused multiply-adds explicitly at the same places and share exp and
    tanh (fast_exp, elementary.py), so the CUDA source computes the CPU kernel's bits, in
    float64 and float32, built for the host here and by NVRTC on a GPU (skipped without
    one): a map stitched from tiles of CPU and GPU workers has no seams."""
    config = CASES[case]
    on_cpu, cpu_weights = train("fused-cpu", config, host_kernels)
    on_cuda, cuda_weights = train(engine, config, host_kernels)
    assert_identical(on_cuda, cuda_weights, on_cpu, cpu_weights)
