"""The fused CPU engine's own promises; its results against the reference are in
test_conformance.py."""

import os
import subprocess
import sys

import numpy as np
import pytest

from xorgpu.config import Config, RunOptions, SeedRange
from xorgpu.experiment import prepare


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_nets_bits_do_not_depend_on_the_block_it_trains_in(dtype):
    # A net's lane within a SIMD tile must not change its bits (FMA contraction may differ
    # between vector and scalar code, so the engine pads tiles to run every net as a lane).
    config = Config(epochs=300, hidden=3, dtype=dtype, sample_every=100)
    fused = RunOptions(backend="numpy", engine="fused")
    reference, whole = prepare(config, fused.replace(block_nets=1100)).train(SeedRange(5, 1105))
    for block_nets in (1, 7, 600, 513):
        results, summary = prepare(config, fused.replace(block_nets=block_nets)).train(SeedRange(5, 1105))
        for name, expected in reference.arrays().items():
            np.testing.assert_array_equal(getattr(results, name), expected, err_msg=name)
        assert summary.to_fields() == whole.to_fields()


@pytest.mark.slow
def test_a_run_says_when_it_compiles_the_fused_kernel_and_only_then(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}  # a machine's first run
    command = [sys.executable, "-m", "xorgpu.cli.main", "run", "--nets", "20", "--epochs", "30", "--dtype", "float32"]
    first = subprocess.run(command, env=env, capture_output=True, text=True)
    again = subprocess.run(command, env=env, capture_output=True, text=True)
    assert first.returncode == again.returncode == 0, first.stderr
    notice = ("xorgpu: compiling the fused CPU kernel of the notebook's net for float32: once on this machine, "
              "numba caches it")
    assert notice in first.stderr.splitlines() and "compiling" not in again.stderr
    assert first.stdout.splitlines()[:-1] == again.stdout.splitlines()[:-1]  # the last: when, and how long
