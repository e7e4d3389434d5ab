"""What inspect, plot and report read is decided by what exists and what it holds."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from xorgpu.cli.main import cli
from xorgpu.config import ConfigError
from xorgpu.sources import open_source
from xorgpu.store import JobStore
from xorgpu.service import run_chunk, submit
from xorgpu.config import Config, SeedRange


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sources")
    runner = CliRunner()
    assert runner.invoke(cli, ["run", "--seeds", "5:25", "--epochs", "30", "--out", str(folder / "nets.npz")]).exit_code == 0
    assert runner.invoke(cli, ["sweep", "--nets", "10", "--epochs", "20", "--hidden", "2,3",
                               "--out", str(folder / "cells.jsonl"), "--format", "json"]).exit_code == 0
    return folder


def test_a_results_file_is_read_as_one_whatever_its_name(made, tmp_path):
    renamed = tmp_path / "nets.jsonl"
    shutil.copy(made / "nets.npz", renamed)
    for path in (made / "nets.npz", renamed):
        opened = open_source(str(path))
        assert opened.kind == "results" and opened.config.epochs == 30
        assert opened.results().seeds.tolist() == list(range(5, 25)) and opened.seed_span == "seeds 5..24"
        assert opened.has_seed(5) and opened.has_seed(24) and not opened.has_seed(25)
        assert opened.statistics["nets"] == 20 and opened.recorded(7) is not None and opened.recorded(99) is None


def test_a_sweep_file_is_read_as_one_whatever_its_name(made, tmp_path):
    renamed = tmp_path / "cells.npz"
    shutil.copy(made / "cells.jsonl", renamed)
    for path in (made / "cells.jsonl", renamed):
        opened = open_source(str(path))
        assert opened.kind == "sweep" and [r["config"]["hidden"] for r in opened.rows] == [2, 3]
        with pytest.raises(ConfigError, match="holds no per-net results"):
            opened.results()


@pytest.mark.parametrize("name, message", [
    ("missing.npz", "no such file: "), ("sub/missing", "no such file: "), ("missing", "not a job id"),
])
def test_a_missing_source_says_so(tmp_path, name, message):
    with pytest.raises(ConfigError, match=message):
        open_source(str(tmp_path / name) if "/" in name or "." in name else name)


def test_a_job_id_is_read_from_the_store(redis_server):
    store = JobStore.from_url(redis_server.url)
    job = submit(store, Config(epochs=30), SeedRange(0, 40), enqueue=lambda *a: None, chunk_size=20)
    for index, chunk in enumerate(job.chunks()):
        run_chunk(store, job.id, index, chunk.start, chunk.stop)
    opened = open_source(job.id, redis_server.url)
    assert opened.kind == "job" and opened.name == f"job {job.id}" and opened.statistics["state"] == "done"
    assert opened.results().seeds.tolist() == list(range(40)) and opened.has_seed(39) and not opened.has_seed(40)
