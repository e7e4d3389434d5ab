"""What inspect, plot and report read is decided by what exists and what it holds."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from xorgpu.memory import Headroom
from xorgpu.cli.main import cli
from xorgpu.config import Config, ConfigError, SeedRange
from xorgpu.sources import open_source
from xorgpu.store import JobStore

from .service_helpers import job_trained_here


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
        assert opened.results().seeds.tolist() == list(range(5, 25)) and opened.seeds == "5:25"  # as the run recorded them
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
    job = job_trained_here(store.url, Config(epochs=30), SeedRange(0, 40), 20)
    opened = open_source(job.id, redis_server.url)
    assert opened.kind == "job" and opened.name == f"job {job.id}" and opened.statistics["state"] == "done"
    assert opened.results().seeds.tolist() == list(range(40)) and opened.has_seed(39) and not opened.has_seed(40)
    assert opened.recorded(7) == (int(opened.results().epochs_to_solve[7]), float(opened.results().final_loss[7]))


def test_a_jobs_figures_read_four_columns_of_its_files_and_equal_the_full_read(redis_server, monkeypatch):
    from xorgpu.results_store import ResultsStore

    store = JobStore.from_url(redis_server.url)
    config = Config(epochs=400, lr=2.0, hidden=2)  # lr 2, 2 hidden units: some nets solve, some fail
    job = job_trained_here(store.url, config, SeedRange(100, 160), 25)
    opened = open_source(job.id, redis_server.url)
    asked = []
    real_read = ResultsStore.read_table
    monkeypatch.setattr(ResultsStore, "read_table", lambda self, chunk, columns=None: (
        asked.append(columns), real_read(self, chunk, columns))[1])
    outcomes = opened.outcomes()
    assert asked == [["seed", "epochs_to_solve", "final_loss", "outcome"]] * 3  # one read per chunk, no outputs
    full = opened.results()  # oracle: every column, read and decoded by the other path (of_frame)
    assert 0 < int((full.epochs_to_solve >= 0).sum()) < len(full)
    for name in ("seeds", "epochs_to_solve", "final_loss", "outcome"):
        assert getattr(outcomes, name).tolist() == getattr(full, name).tolist(), name


def test_compare_pairs_a_job_with_a_results_file_of_the_same_nets(redis_server, tmp_path, monkeypatch):
    from xorgpu.results_store import ResultsStore

    store = JobStore.from_url(redis_server.url)
    job = job_trained_here(store.url, Config(epochs=400, lr=2.0, hidden=2), SeedRange(100, 160), 25)
    local = tmp_path / "local.parquet"
    assert CliRunner().invoke(cli, ["run", "--seeds", "100:160", "--epochs", "400", "--lr", "2", "--hidden", "2",
                                    "--out", str(local)]).exit_code == 0
    asked = []
    real_read = ResultsStore.read_table
    monkeypatch.setattr(ResultsStore, "read_table", lambda self, chunk, columns=None: (
        asked.append(columns), real_read(self, chunk, columns))[1])
    shown = CliRunner().invoke(cli, ["compare", job.id, str(local), "--json", "--redis-url", redis_server.url])
    assert shown.exit_code == 0, shown.output
    result = json.loads(shown.stdout)
    assert result["nets"] == 60 and result["only_a"] == result["only_b"] == 0 and 0 < result["both_solved"] < 60
    assert result["median_epochs_difference"] == 0
    assert asked == [["seed", "epochs_to_solve", "final_loss", "outcome"]] * 3  # the job's outputs stay unread


def test_a_job_too_large_to_draw_here_is_one_line_not_a_memory_error(redis_server, tmp_path, monkeypatch):

    from .service_helpers import one_line_error

    store = JobStore.from_url(redis_server.url)
    job = job_trained_here(store.url, Config(epochs=20), SeedRange(0, 400), 200)
    # 400 nets need 2 x 10,000 bytes: over half of 30,000
    monkeypatch.setattr("xorgpu.memory.binding_limit", lambda: Headroom(30_000, "on this machine"))
    for command in (["report", job.id, "-o", str(tmp_path / "r.html")], ["plot", job.id, "-o", str(tmp_path / "p")]):
        line = one_line_error(CliRunner().invoke(cli, [*command, "--redis-url", redis_server.url]))
        assert f"drawing job {job.id}'s 400 nets would take about 20 KiB of memory, more than half of the 29 KiB " \
               "free on this machine: use a machine with more" in line, line
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "p").exists()
    monkeypatch.setattr("xorgpu.memory.binding_limit", lambda: Headroom(100_000, "on this machine"))  # enough: drawn
    assert CliRunner().invoke(cli, ["report", job.id, "-o", str(tmp_path / "r.html"),
                                    "--redis-url", redis_server.url]).exit_code == 0
