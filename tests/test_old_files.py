"""Files written by xorgpu 0.2.0 (tests/data/v0.2.0, made once by its make.sh) still load,
and say what they said: each is checked against nets trained afresh by this version."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import xorgpu
from xorgpu.cli.main import cli
from xorgpu.stats import check_report

OLD = Path(__file__).parent / "data" / "v0.2.0"


@pytest.mark.parametrize("name", ["nets.npz", "nets.parquet"])
def test_a_results_file_holds_the_nets_this_version_trains(name):
    old = xorgpu.load(OLD / name)
    assert old.config == xorgpu.Config(hidden=3, lr=1.0, epochs=700, sample_every=100)
    fresh = xorgpu.train(seeds=range(100, 124), progress=False, **old.config.to_dict())
    assert np.array_equal(old.seeds, fresh.seeds)
    assert np.array_equal(old.results.epochs_to_solve, fresh.results.epochs_to_solve)
    assert np.array_equal(old.results.outcome, fresh.results.outcome)
    np.testing.assert_allclose(old.results.final_loss, fresh.results.final_loss, rtol=1e-9)  # other CPUs round apart
    assert old.stats["solved"] == fresh.stats["solved"] == 23 and old.stats["failures"]["still_improving"] == 1


def test_the_json_statistics_of_run_are_read_as_the_report_they_are():
    report = check_report(json.loads((OLD / "run.json").read_text()))
    from_file = xorgpu.load(OLD / "nets.npz").stats
    assert {k: v for k, v in report.items() if k != "provenance"} == \
        {k: v for k, v in from_file.items() if k != "provenance"}
    assert report["provenance"]["version"] == "0.2.0" and report["provenance"]["seeds"] == "100:124"


def test_a_sweep_file_holds_the_cells_this_version_trains():
    old = xorgpu.load(OLD / "sweep.jsonl")
    fresh = xorgpu.sweep(nets=12, hidden=[2, 3], lr=[1, 4], epochs=1000, progress=False)
    columns = ["hidden", "lr", "nets", "solved", "median_epochs", "plateau", "still_improving", "diverged"]
    assert old[columns].to_dict("records") == fresh[columns].to_dict("records")
    rerun = CliRunner().invoke(cli, ["sweep", "--nets", "12", "--hidden", "2,3", "--lr", "1,4", "--epochs", "1000",
                                     "-o", str(OLD / "sweep.jsonl")])
    assert rerun.exit_code == 0 and "all 4 of 4 cells were finished" in rerun.stderr  # nothing trained, nor written


def test_a_map_file_holds_the_map_this_version_draws():
    old = xorgpu.load(OLD / "map.npz")
    spec = old.spec
    fresh = xorgpu.map("lr:0.1:2:log", "momentum:0:0.5", resolution=6, epochs=500, init=spec.config.init,
                       progress=False)
    assert fresh.spec == spec
    assert np.array_equal(old.epochs_to_solve, fresh.epochs_to_solve) and np.array_equal(old.outcome, fresh.outcome)
    assert 0 < old.solved.mean() < 1  # a map with both sides of the boundary in it
