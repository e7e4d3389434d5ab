"""Which engine trains a config on a backend, and how many nets a block holds."""

import dataclasses

import pytest

from xorgpu.backend import numpy_backend
from xorgpu.config import Config, ConfigError
from xorgpu.engines import fused_gpu
from xorgpu.engines.selection import ARRAY_CPU_BLOCK_BYTES, bytes_per_net, select_engine

from ..strict_xp import strict_backend


def a_gpu_backend():
    """The strict stand-in, named as CuPy's backend is: what select_engine sees on a GPU."""
    return dataclasses.replace(strict_backend(), name="cupy")


def test_auto_picks_fused_where_there_is_a_fused_kernel():
    assert select_engine(Config(), numpy_backend()).name == "fused"
    assert select_engine(Config(), a_gpu_backend()).name == "fused"
    assert select_engine(Config(), strict_backend()).name == "array"  # the stand-in has no kernel
    assert select_engine(Config(), numpy_backend(), "array").name == "array"


def test_online_updates_train_on_the_array_engine():
    for backend in (numpy_backend(), a_gpu_backend()):
        assert select_engine(Config(update="online"), backend).name == "array"
        with pytest.raises(ConfigError, match="full-batch only"):
            select_engine(Config(update="online"), backend, "fused")


def test_the_cuda_kernel_is_asked_only_for_the_hidden_sizes_ci_compiles():
    largest = fused_gpu.MAX_HIDDEN
    assert select_engine(Config(hidden=largest), a_gpu_backend()).name == "fused"
    assert select_engine(Config(hidden=largest + 1), a_gpu_backend()).name == "array"
    with pytest.raises(ConfigError, match=f"H <= {largest}"):
        select_engine(Config(hidden=largest + 1), a_gpu_backend(), "fused")
    assert select_engine(Config(hidden=largest + 1), numpy_backend()).name == "fused"  # numba takes any H


def test_no_fused_engine_is_an_error_only_when_asked_for():
    with pytest.raises(ConfigError, match="engine fused is not available"):
        select_engine(Config(), strict_backend(), "fused")


@pytest.mark.parametrize("hidden", [1, 4, 64, 1024])
def test_blocks_stay_within_their_memory_budget(hidden):
    config = Config(hidden=hidden, sample_every=100)
    engine = select_engine(config, numpy_backend(), "array")
    assert engine.block_nets >= 1
    assert engine.block_nets * bytes_per_net(config) <= max(ARRAY_CPU_BLOCK_BYTES, bytes_per_net(config))
    if hidden <= 8:
        assert engine.block_nets == 8192  # small nets: the cache-sized block of before
