"""The fused engines against the array engine, net by net."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from xorgpu.config import Config, ConfigError, SeedRange
from xorgpu.engines import select_engine
from xorgpu.experiment import train_seeds
from xorgpu.init import initial_params

from .strict_xp import strict_backend

CONFIGS = [
    Config(epochs=3000),
    Config(epochs=2000, init="notebook"),
    Config(epochs=1500, momentum=0.9, lr=0.5, init="uniform:-1:1", loss_reduction="mean"),
    Config(epochs=1500, hidden=2, lr=1.0, criterion="within:0.2", sample_every=300),
    Config(epochs=1000, hidden=8, lr=2.0, criterion="sse:0.05", init="uniform:-2:2"),
]


def fused_backend_or_skip(backend):
    if backend.name == "strict-numpy":
        pytest.skip("the stand-in has no fused engine (it is for the array engine's use of xp)")
    return backend


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"H{c.hidden}-{c.criterion}-mu{c.momentum}")
def test_fused_equals_array_net_by_net_float64(backend, config):
    backend = fused_backend_or_skip(backend)
    seeds = SeedRange(0, 700)
    array, array_stats = train_seeds(config.replace(engine="array"), seeds, backend)
    fused, fused_stats = train_seeds(config.replace(engine="fused"), seeds, backend)
    np.testing.assert_allclose(fused.outputs, array.outputs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fused.final_loss, array.final_loss, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(fused.epochs_to_solve, array.epochs_to_solve)
    np.testing.assert_array_equal(fused.diverged, array.diverged)
    assert fused_stats.report(config) == array_stats.report(config)


def test_fused_float32_is_within_tolerance_of_array_float32(backend):
    # float32 engines differ by exp's rounding (~1e-7 per step); a net near the threshold
    # may then solve an epoch earlier or later. Stated tolerance: outputs within 1e-4 for
    # 99% of nets, and 99% of nets with the same epochs_to_solve within 1%.
    backend = fused_backend_or_skip(backend)
    config = Config(epochs=3000, dtype="float32")
    array, _ = train_seeds(config.replace(engine="array"), SeedRange(0, 2000), backend)
    fused, _ = train_seeds(config.replace(engine="fused"), SeedRange(0, 2000), backend)
    assert fused.outputs.dtype == np.float32
    assert np.quantile(np.abs(fused.outputs - array.outputs).max(axis=1), 0.99) < 1e-4
    a, f = array.epochs_to_solve, fused.epochs_to_solve
    close = (a == f) | ((a > 0) & (np.abs(a - f) <= 0.01 * a))
    assert close.mean() > 0.99


def test_fused_flags_divergence_like_the_array_engine(backend):
    backend = fused_backend_or_skip(backend)
    config = Config(epochs=20)
    records = []
    for engine in ("array", "fused"):
        params = initial_params(config.init_scheme, np.arange(4), 4, "float64")
        params.w1[0, 0, 1] = np.inf
        params.w2[0, 2] = np.nan
        params.b2[3] = -np.inf
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            chosen = select_engine(config.replace(engine=engine), backend)
            records.append(chosen.train_block(params.map(backend.to_device), config, backend))
    assert records[0].diverged.tolist() == records[1].diverged.tolist() == [False, True, True, True]


def test_auto_picks_fused_where_available_and_array_elsewhere(backend):
    if backend.name == "strict-numpy":
        assert select_engine(Config(), backend).name == "array"
        with pytest.raises(ConfigError, match="engine fused is not available"):
            select_engine(Config(engine="fused"), strict_backend())
    else:
        assert select_engine(Config(), backend).name == "fused"
    assert select_engine(Config(engine="array"), backend).name == "array"
    assert select_engine(Config(update="online"), backend).name == "array"  # fused is full-batch only
    with pytest.raises(ConfigError, match="full-batch only"):
        select_engine(Config(update="online", engine="fused"), backend)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fused_cpu_is_bitwise_invariant_to_block_size(dtype):
    # A net's lane within a SIMD tile must not change its bits (FMA contraction may differ
    # between vector and scalar code, so the engine pads tiles to run every net as a lane).
    from xorgpu.backend import numpy_backend  # noqa: PLC0415

    config = Config(epochs=300, hidden=3, dtype=dtype, engine="fused", sample_every=100)
    reference, whole = train_seeds(config, SeedRange(5, 1105), numpy_backend(), block_nets=1100)
    for block_nets in (1, 7, 600, 513):
        results, summary = train_seeds(config, SeedRange(5, 1105), numpy_backend(), block_nets=block_nets)
        for name, expected in reference.arrays().items():
            np.testing.assert_array_equal(getattr(results, name), expected, err_msg=name)
        assert summary.to_state() == whole.to_state()


def test_a_run_says_when_it_compiles_the_fused_kernel_and_only_then(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}  # a machine's first run
    command = [sys.executable, "-m", "xorgpu.cli.main", "run", "--nets", "20", "--epochs", "30", "--dtype", "float32"]
    first = subprocess.run(command, env=env, capture_output=True, text=True)
    again = subprocess.run(command, env=env, capture_output=True, text=True)
    assert first.returncode == again.returncode == 0, first.stderr
    notice = "xorgpu: compiling the fused CPU kernel for float32: once on this machine, numba caches it"
    assert notice in first.stderr.splitlines() and "compiling" not in again.stderr
    assert first.stdout == again.stdout
