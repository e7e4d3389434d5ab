"""The Python API as the README and the docstrings document it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import xorgpu
from xorgpu.cli.main import cli
from xorgpu.config import ConfigError
from xorgpu.init import initial_params
from xorgpu.notebook import X, y
from xorgpu.params import weight_names

from .service_helpers import job_trained_here


def test_train_to_pandas_equals_the_parquet_file_of_run_out(tmp_path):
    run = xorgpu.train(seeds="5:305", hidden=3, lr=0.5, epochs=1500)
    out = tmp_path / "nets.parquet"
    result = CliRunner().invoke(cli, ["run", "--seeds", "5:305", "--hidden", "3", "--lr", "0.5", "--epochs", "1500",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    frame = run.to_pandas()
    pd.testing.assert_frame_equal(frame, pd.read_parquet(out))
    assert list(frame.columns) == ["seed", "o00", "o01", "o10", "o11", "epochs_to_solve", "final_loss", "outcome",
                                   "diverged"]
    assert frame["seed"].tolist() == list(range(5, 305))


def test_the_table_agrees_with_the_statistics():
    run = xorgpu.train(nets=400, hidden=2, lr=1.0, epochs=800)
    frame, stats = run.to_pandas(), run.stats
    outcome = frame["outcome"].value_counts()
    assert stats["nets"] == len(frame) and stats["solved"] == int((frame["epochs_to_solve"] >= 0).sum())
    assert stats["solved"] == outcome["solved"] + outcome["solved_then_lost"]
    failures = stats["failures"]
    assert (failures["plateau"], failures["still_improving"]) == (outcome["plateau"], outcome["still_improving"])
    solved = frame.loc[frame["epochs_to_solve"] >= 0, "epochs_to_solve"]
    assert stats["epochs_to_solve"]["median"] == pytest.approx(float(np.median(solved)))
    assert stats["final_loss"]["median"] == pytest.approx(float(np.median(frame["final_loss"])))
    wrong = (np.abs(frame[["o00", "o01", "o10", "o11"]].to_numpy() - y[:, 0]) >= 0.5).any(axis=1)
    assert not wrong[frame["outcome"] == "solved"].any()  # a solved net's outputs meet the criterion


def test_kept_weights_are_where_each_net_started_and_ended():
    run = xorgpu.train(seeds=range(10, 15), hidden=3, epochs=300, init="uniform:-1:1", keep_weights=True)
    frame = run.to_pandas()
    names = weight_names(3)
    start = initial_params(run.config.init_scheme, np.arange(10, 15), 3, "float64")
    np.testing.assert_array_equal(frame[[f"initial_{n}" for n in names]].to_numpy()[:, :6],
                                  start.w1.reshape(6, 5).T)
    final = frame[[f"final_{n}" for n in names]].to_numpy()
    for k in range(5):  # the final weights, through an independent forward pass, give the outputs
        w1, b1, w2, b2 = final[k, :6].reshape(2, 3), final[k, 6:9], final[k, 9:12], final[k, 12]
        hidden = 1 / (1 + np.exp(-(X @ w1 + b1)))
        outputs = 1 / (1 + np.exp(-(hidden @ w2 + b2)))
        np.testing.assert_allclose(outputs, frame.loc[k, ["o00", "o01", "o10", "o11"]].to_numpy(float), atol=1e-12)


def test_sweep_returns_one_row_per_cell_in_order():
    cells = xorgpu.sweep(nets=60, hidden=[3, 2], lr=[2.0, 0.5], epochs=400)
    assert list(zip(cells["hidden"], cells["lr"])) == [(2, 0.5), (2, 2.0), (3, 0.5), (3, 2.0)]
    assert {"solved", "success_rate", "ci95_low", "median_epochs", "plateau", "diverged"} <= set(cells.columns)
    one = xorgpu.train(nets=60, hidden=3, lr=2.0, epochs=400).stats
    assert cells.iloc[3]["solved"] == one["solved"] and cells.iloc[3]["median_epochs"] == one["epochs_to_solve"]["median"]


def test_load_reads_what_save_wrote(tmp_path):
    run = xorgpu.train(nets=50, epochs=200)
    for name in ("nets.parquet", "nets.npz"):
        run.save(tmp_path / name)
        again = xorgpu.load(str(tmp_path / name))
        pd.testing.assert_frame_equal(again.to_pandas(), run.to_pandas())
        assert again.stats == json.loads(json.dumps(run.stats)) and again.config == run.config


def test_bad_arguments_are_config_errors():
    with pytest.raises(ConfigError):
        xorgpu.train(nets=10, hidden=0)
    with pytest.raises(ConfigError, match=r"^unknown config field\(s\): layers; the fields: hidden, task, activation, "):
        xorgpu.train(nets=10, layers=3)
    with pytest.raises(ConfigError, match="step 1"):
        xorgpu.train(seeds=range(0, 10, 2))


def test_a_mistyped_setting_is_refused_with_the_field_it_was_probably_meant_to_be():
    with pytest.raises(ConfigError, match=r"hiden \(did you mean hidden\?\)"):
        xorgpu.train(nets=3, hiden=2)
    with pytest.raises(ConfigError, match=r"lrr \(did you mean lr\?\)"):
        xorgpu.sweep(nets=3, lrr=[1, 2])
    with pytest.raises(ConfigError, match=r"epoch \(did you mean epochs\?\)"):
        xorgpu.map("lr:0.1:1", "momentum:0:0.9", resolution=2, epoch=10)


def test_importing_xorgpu_loads_no_engine_pandas_or_numba():
    code = "import sys, xorgpu; print(sorted(m for m in ('numba', 'pandas', 'pyarrow', 'xorgpu.engines') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


def test_a_job_loads_lazily_and_scans_like_its_local_run(redis_server, results_location):
    import pyarrow.compute as pc  # noqa: PLC0415

    from xorgpu.config import Config, SeedRange  # noqa: PLC0415
    from xorgpu.store import JobStore  # noqa: PLC0415

    store = JobStore.from_url(redis_server.url)
    job = job_trained_here(store.url, Config(epochs=400, lr=1.0, hidden=2), SeedRange(100, 700), 250)
    folder = results_location.root + "/" + job.id
    hidden = folder + ".away"
    os.rename(folder, hidden)  # load() reads no results file: the statistics come from Redis
    run = xorgpu.load(job.id, redis_url=redis_server.url)
    local = xorgpu.train(seeds="100:700", epochs=400, lr=1.0, hidden=2)
    assert len(run) == 600 and run.stats["solved"] == local.stats["solved"]
    os.rename(hidden, folder)
    unsolved = run.dataset().to_table(columns=["seed"], filter=pc.field("epochs_to_solve") < 0)
    assert unsolved.column("seed").to_pylist() == local.results.seeds[local.results.epochs_to_solve < 0].tolist()
    pd.testing.assert_frame_equal(run.to_pandas(), local.to_pandas())


def test_a_map_from_python_as_xarray_its_dimension_and_its_file(tmp_path):
    """xorgpu.map returns the map of `xorgpu map`: its arrays over coordinates named after
    the knobs (a pixel picked by its knob values is the pixel at that row and column), the
    dimension `xorgpu map` prints, and a file that xorgpu.load reads back as the same map."""
    import json  # noqa: PLC0415

    from click.testing import CliRunner  # noqa: PLC0415

    from xorgpu.cli.main import cli  # noqa: PLC0415

    result = xorgpu.map("lr_hidden:0.1:30:log", "W2[1]:-3:3", resolution=64, epochs=300, hidden=2, seed=3,
                        progress=False)
    printed = CliRunner().invoke(cli, ["map", "--x", "lr_hidden:0.1:30:log", "--y", "W2[1]:-3:3", "--resolution", "64",
                                       "--epochs", "300", "--hidden", "2", "--seed", "3", "--json", "--out",
                                       str(tmp_path / "cli.npz")])
    assert printed.exit_code == 0, printed.output
    np.testing.assert_array_equal(xorgpu.load(str(tmp_path / "cli.npz")).epochs_to_solve, result.epochs_to_solve)
    data = result.to_xarray()
    assert data["epochs_to_solve"].dims == ("W2[1]", "lr_hidden")
    np.testing.assert_array_equal(data["lr_hidden"].values, result.x)
    np.testing.assert_array_equal(data["W2[1]"].values, result.y)
    i, j = 27, 14
    picked = data.sel({"lr_hidden": result.x[j], "W2[1]": result.y[i]})
    assert int(picked["epochs_to_solve"]) == result.epochs_to_solve[i, j]
    assert float(picked["final_loss"]) == result.final_loss[i, j]
    assert data["outcome"].attrs["names"][int(picked["outcome"])] in ("solved", "solved_then_lost", "plateau",
                                                                        "still_improving", "diverged")
    assert 0 < result.solved.mean() < 1
    boundary = json.loads(printed.stdout)["boundary"]
    assert result.dimension().to_dict() == {k: v for k, v in boundary.items() if k != "between"}
    assert result.dimension().dimension is not None
    result.save(str(tmp_path / "m.npz"))
    again = xorgpu.load(str(tmp_path / "m.npz"))
    assert again.spec == result.spec
    np.testing.assert_array_equal(again.epochs_to_solve, result.epochs_to_solve)
