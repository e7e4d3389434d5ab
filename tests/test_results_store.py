"""The results store: chunk files in a folder or behind an fsspec URL, written whole, read
back equal to what was trained, checked against their recorded checksum."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from xorgpu.config import Config, RunOptions, SeedRange
from xorgpu.errors import ServiceError
from xorgpu.experiment import prepare
from xorgpu.results_store import ChunkFile, ResultsStore

CONFIG = Config(epochs=300, lr=1.0, hidden=3)
SEEDS = SeedRange(40, 140)


@pytest.fixture(scope="module")
def trained():
    return prepare(CONFIG, RunOptions(backend="numpy")).train(SEEDS)[0]


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
        elsewhere.read_chunk(ChunkFile("0123456789ab/chunk-000000-00000000.parquet", 100, "0" * 64, 10), CONFIG)


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


JOB = "0123456789ab"


def record_of(chunk: ChunkFile, **changes) -> dict:
    return {**chunk.to_record(), **changes}


@pytest.mark.parametrize("path", ["/etc/passwd", "../../etc/passwd", "0123456789ab/../../x.parquet",
                                  "ffffffffffff/chunk-000000-00000000.parquet", "0123456789ab/other.parquet", ""])
def test_a_record_naming_a_file_outside_its_jobs_chunks_is_refused(trained, tmp_path, path):
    store = ResultsStore(str(tmp_path))
    chunk = store.write_chunk(JOB, 0, SEEDS, CONFIG, trained)
    with pytest.raises(ValueError, match="is not a chunk file of job 0123456789ab under the results location"):
        ChunkFile.of_record(record_of(chunk, file=path), JOB, SEEDS)
    with pytest.raises(ValueError, match="recorded with 99 rows for 100 nets"):
        ChunkFile.of_record(record_of(chunk, rows=99), JOB, SEEDS)


@pytest.mark.parametrize("swap", ["a link to /dev/zero", "a FIFO", "a link to another job's file"])
def test_a_recorded_file_that_is_not_a_regular_file_is_never_read(trained, tmp_path, swap):
    import os  # noqa: PLC0415

    store = ResultsStore(str(tmp_path))
    chunk = ChunkFile.of_record(store.write_chunk(JOB, 0, SEEDS, CONFIG, trained).to_record(), JOB, SEEDS)
    path = tmp_path / chunk.path
    other = store.write_chunk("ffffffffffff", 0, SEEDS, CONFIG, trained)
    path.unlink()
    if swap == "a FIFO":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero" if "zero" in swap else tmp_path / other.path)
    with pytest.raises(ServiceError, match="is not a regular file: not reading it"):
        store.read_chunk(chunk, CONFIG)


def test_a_file_swapped_for_another_chunks_with_its_checksum_is_refused(trained, tmp_path):
    """A file of other seeds, its size and checksum written into the record, is still not this
    chunk's: the seeds it holds are checked (nothing else written by a worker can say so)."""
    store = ResultsStore(str(tmp_path))
    others = prepare(CONFIG, RunOptions(backend="numpy")).train(SeedRange(140, 240))[0]
    swapped = store.write_chunk(JOB, 1, SeedRange(140, 240), CONFIG, others)
    forged = ChunkFile.of_record(record_of(swapped), JOB, SEEDS)  # chunk 0's seeds, chunk 1's file
    with pytest.raises(ServiceError, match="holds other nets than its chunk's, seeds 40:140"):
        store.read_chunk(forged, CONFIG)
    with pytest.raises(ServiceError, match="holds other nets"):
        store.dataset([forged])
    changed = store.write_chunk(JOB, 0, SEEDS, CONFIG, trained)
    (tmp_path / changed.path).write_bytes((tmp_path / changed.path).read_bytes()[:-1] + b"x")
    with pytest.raises(ServiceError, match="checksum differs"):  # the lazy dataset checks too, before any scan
        store.dataset([ChunkFile.of_record(changed.to_record(), JOB, SEEDS)])
