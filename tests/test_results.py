"""The results file: what run --out and results --out write, and what plot/report/inspect read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xorgpu.config import Config, ConfigError, RunOptions, SeedRange
from xorgpu.experiment import train_seeds
from xorgpu.results import NetResults, load_npz, save_npz


@pytest.fixture(scope="module")
def trained():
    config = Config(epochs=400, hidden=3, sample_every=100)
    results, summary = train_seeds(config, SeedRange(7, 57), RunOptions(backend="numpy"))
    return config, results, summary.report(config)


def test_a_results_file_round_trips(tmp_path, trained):
    config, results, report = trained
    path = tmp_path / "nets.npz"
    save_npz(path, results, config, report)
    loaded, loaded_config, statistics = load_npz(path)
    assert loaded_config == config and statistics == json.loads(json.dumps(report))
    for name, expected in results.arrays().items():
        np.testing.assert_array_equal(getattr(loaded, name), expected, err_msg=name)
    with np.load(path, allow_pickle=False) as data:  # the documented, pickle-free format
        assert sorted(data.files) == sorted([*results.arrays(), "config", "statistics"])


def test_statistics_that_count_other_nets_are_refused(tmp_path, trained):
    config, results, report = trained
    path = tmp_path / "nets.npz"
    save_npz(path, results, config, {**report, "nets": 49})
    with pytest.raises(ConfigError, match="they count 49 nets, the file holds 50"):
        load_npz(path)


def test_a_file_without_statistics_still_loads(tmp_path, trained):
    config, results, _ = trained
    path = tmp_path / "old.npz"
    with open(path, "wb") as handle:
        np.savez(handle, **results.arrays(), config=np.array(config.to_json()))
    loaded, _, statistics = load_npz(path)
    assert statistics is None and len(loaded) == 50


def test_concatenating_parts_keeps_seed_order(trained):
    _, results, _ = trained
    parts = [NetResults(**{k: v[a:b] for k, v in results.arrays().items()}) for a, b in ((0, 20), (20, 50))]
    joined = NetResults.concatenate(parts)
    for name, expected in results.arrays().items():
        np.testing.assert_array_equal(getattr(joined, name), expected)
