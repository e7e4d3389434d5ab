"""The results file: what run --out and results --out write, and what plot/report/inspect read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xorgpu.memory import Headroom
from xorgpu.config import Config, ConfigError, RunOptions, SeedRange
from xorgpu.experiment import prepare
from xorgpu.results import NetResults
from xorgpu.result_files import load_npz, save_npz


@pytest.fixture(scope="module")
def trained():
    config = Config(epochs=400, hidden=3, sample_every=100)
    results, summary = prepare(config, RunOptions(backend="numpy")).train(SeedRange(7, 57))
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


def test_a_run_length_encoded_file_is_measured_by_its_decoded_rows(tmp_path, monkeypatch):
    """A million equal rows take a few kilobytes as Parquet and about 100 MB decoded: the
    memory check counts the decoded rows, from the footer, before reading any column."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    from xorgpu import tables  # noqa: PLC0415

    rows = 1_000_000
    config = Config(epochs=10)
    columns = {"seed": pa.array(np.arange(rows)), **{name: pa.repeat(0.5, rows) for name in tables.output_columns(Config())},
               "epochs_to_solve": pa.repeat(-1, rows), "final_loss": pa.repeat(0.25, rows),
               "outcome": pa.repeat("plateau", rows), "diverged": pa.repeat(False, rows)}
    table = pa.table(columns).replace_schema_metadata({b"xorgpu": json.dumps({"config": config.to_dict()})})
    path = tmp_path / "bomb.parquet"
    pq.write_table(table, path, compression="zstd")
    assert path.stat().st_size < 6_000_000  # the seeds are the bulk of it; the rest is run-length encoded
    monkeypatch.setattr("xorgpu.memory.binding_limit", lambda: Headroom(200_000_000, "on this machine"))
    with pytest.raises(ConfigError, match=r"^reading the 1,000,000 rows of .*bomb.parquet would take about .* of memory, "
                                          r"more than half of the 191 MiB free on this machine"):
        tables.load_parquet(path)


def with_nan(seeds):
    out = seeds.astype(float)
    out[1] = np.nan
    return out


@pytest.mark.parametrize("change, why", [
    (with_nan, "its seeds array is float64"),
    (lambda seeds: np.concatenate([seeds[:-1], seeds[:1]]), "a seed appears twice"),
    (lambda seeds: np.concatenate([[-1], seeds[1:]]), "a seed is negative or not below 2\\*\\*32"),
    (lambda seeds: np.concatenate([[2**33], seeds[1:]]), "a seed is negative or not below 2\\*\\*32"),
], ids=["nan", "duplicate", "negative", "too large"])
def test_a_results_file_with_impossible_seeds_is_refused(tmp_path, trained, change, why):
    config, results, report = trained
    path = tmp_path / "nets.npz"
    save_npz(path, results, config, report)
    with np.load(path, allow_pickle=False) as data:
        arrays = dict(data)
    arrays["seeds"] = change(arrays["seeds"])
    np.savez(path, **arrays)
    with pytest.raises(ConfigError, match=why):
        load_npz(path)
