"""The results store: chunk files in a folder or behind an fsspec URL, written whole, read
back equal to what was trained, checked against their recorded checksum."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from xorgpu.config import Config, RunOptions, SeedRange
from xorgpu.errors import ServiceError
from xorgpu.experiment import train_seeds
from xorgpu.results_store import ChunkFile, ResultsStore

CONFIG = Config(epochs=300, lr=1.0, hidden=3)
SEEDS = SeedRange(40, 140)


@pytest.fixture(scope="module")
def trained():
    return train_seeds(CONFIG, SEEDS, RunOptions(backend="numpy"))[0]


def assert_same_nets(got, expected) -> None:
    np.testing.assert_array_equal(got.seeds, expected.seeds)
    np.testing.assert_array_equal(got.outputs, expected.outputs)
    np.testing.assert_array_equal(got.epochs_to_solve, expected.epochs_to_solve)
    np.testing.assert_array_equal(got.final_loss, expected.final_loss)
    np.testing.assert_array_equal(got.outcome, expected.outcome)
    np.testing.assert_array_equal(got.diverged, expected.diverged)


@pytest.mark.parametrize("where", ["folder", "memory"])
def test_a_chunk_reads_back_as_it_was_trained(trained, tmp_path, where):
    store = ResultsStore(str(tmp_path) if where == "folder" else f"memory://xorgpu-test-{tmp_path.name}")
    chunk = store.write_chunk("0123456789ab", 3, SEEDS, CONFIG, trained)
    assert chunk.path.startswith("0123456789ab/chunk-000003-") and chunk.rows == 100
    data = store.read_bytes(chunk)
    assert hashlib.sha256(data).hexdigest() == chunk.sha256 and len(data) == chunk.size
    assert_same_nets(store.read_chunk(chunk, CONFIG), trained)
    table = store.dataset([chunk]).to_table(columns=["seed", "epochs_to_solve"])
    assert table.column("seed").to_pylist() == list(range(40, 140))


def test_the_same_chunk_written_twice_is_the_same_bytes_under_two_names(trained, tmp_path):
    store = ResultsStore(str(tmp_path))
    first, second = (store.write_chunk("0123456789ab", 0, SEEDS, CONFIG, trained) for _ in range(2))
    assert first.path != second.path and first.sha256 == second.sha256
    store.delete(second)
    assert sorted(p.name for p in (tmp_path / "0123456789ab").iterdir()) == [first.path.split("/")[1]]


def test_no_temporary_file_is_left_behind(trained, tmp_path):
    store = ResultsStore(str(tmp_path))
    store.write_chunk("0123456789ab", 0, SEEDS, CONFIG, trained)
    assert [p.name.startswith("chunk-") for p in (tmp_path / "0123456789ab").iterdir()] == [True]


def test_a_changed_or_missing_file_is_one_line(trained, tmp_path):
    store = ResultsStore(str(tmp_path))
    chunk = store.write_chunk("0123456789ab", 0, SEEDS, CONFIG, trained)
    path = tmp_path / chunk.path
    path.write_bytes(path.read_bytes()[:-1] + b"x")
    with pytest.raises(ServiceError, match="checksum differs"):
        store.read_chunk(chunk, CONFIG)
    path.unlink()
    with pytest.raises(ServiceError, match="is missing: is .* where the workers write"):
        store.read_chunk(chunk, CONFIG)
    elsewhere = ResultsStore(str(tmp_path / "other"))
    with pytest.raises(ServiceError, match="XORGPU_RESULTS_URL"):
        elsewhere.read_chunk(ChunkFile("0123456789ab/chunk-000000-0000.parquet", 100, "0" * 64, 10), CONFIG)


def test_a_location_that_cannot_be_written_is_one_line(tmp_path):
    (tmp_path / "a-file").write_text("x")
    for location, why in ((tmp_path / "missing" / "deeper", f"missing, and so is its folder {tmp_path / 'missing'}"),
                          (tmp_path / "a-file", "a file"), (tmp_path / "a-file" / "below", "missing, and so")):
        with pytest.raises(ServiceError, match="is not a folder") as caught:
            ResultsStore(str(location)).check_writable()
        assert "\n" not in str(caught.value) and why in str(caught.value)
    assert not (tmp_path / "missing").exists()
    named = tmp_path / "named"
    ResultsStore(str(named)).check_writable()  # a named folder whose parent exists is made
    assert named.is_dir() and list(named.iterdir()) == []  # and the probe removed
    made = tmp_path / "made" / "here"
    ResultsStore(str(made)).check_writable(parents=True)  # the default location is made with its parents
    assert made.is_dir() and list(made.iterdir()) == []


def test_an_unknown_url_scheme_is_one_line():
    with pytest.raises(ServiceError, match="no fsspec filesystem for nosuch://"):
        ResultsStore("nosuch://bucket/prefix")
