"""The fused CPU kernels give the same bits on any x86-64 CPU, with FMA instructions or
without: a map in the chaotic region, compiled for a generic x86-64 CPU (NUMBA_CPU_NAME=
generic: SSE2, no FMA) and for this machine's, pixel for pixel, for the notebook's net
and a net of the family kernel. (With the compiler left to contract multiply-adds, the
notebook's map below differed in 51 pixels' epochs to solve and 3,398 pixels' final loss
at 64^2; the CUDA kernel's equality with these kernels is test_conformance.py's.)"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.slow

SCRIPT = """
import sys
import numpy as np
from xorgpu.config import Config, RunOptions
from xorgpu.maps import Axis, MapSpec, train_map

arrays = {}
for name, config, x, y in (
    ("notebook", Config(epochs=1500), "lr_hidden:100:400:log", "lr_output:4:12:log"),
    ("family", Config(epochs=600, activation="tanh", output="linear", encoding="pm1", skip=True, init="uniform:-1:1",
                      dtype="float32"), "lr_hidden:0.05:3:log", "lr_output:0.05:3:log"),
):
    spec = MapSpec(config, Axis.parse(x, config), Axis.parse(y, config), 24, seed=5)
    result = train_map(spec, RunOptions(backend="numpy", engine="fused"))
    arrays[name + "_epochs"], arrays[name + "_loss"] = result.epochs_to_solve, result.final_loss
np.savez(sys.argv[1], **arrays)
"""


def trained_for(cpu: str | None, folder) -> dict[str, np.ndarray]:  # noqa: ANN001
    env = {**os.environ, "NUMBA_CACHE_DIR": str(folder / f"cache-{cpu or 'host'}")}
    if cpu:
        env["NUMBA_CPU_NAME"] = cpu
    out = folder / f"{cpu or 'host'}.npz"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(out)], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(out) as data:
        return dict(data)


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="an x86-64 check")
def test_a_chaotic_map_is_bit_identical_compiled_for_a_generic_cpu_and_for_this_one(tmp_path):
    generic, here = trained_for("generic", tmp_path), trained_for(None, tmp_path)
    for name in here:
        np.testing.assert_array_equal(generic[name], here[name], err_msg=name)
    solved = here["notebook_epochs"] >= 0
    assert 0.05 < solved.mean() < 0.95  # the region mixes solved and unsolved pixels: the chaotic one
    assert len(np.unique(here["family_epochs"])) > 10
