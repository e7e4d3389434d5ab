import numpy as np
import pytest
from click.testing import CliRunner

from xorgpu.cli.main import cli
from xorgpu.config import Config, RunOptions, SeedRange
from xorgpu.experiment import train_seeds
from xorgpu.trajectory import trajectory


@pytest.mark.parametrize("config", [
    Config(epochs=1500), Config(epochs=800, momentum=0.9, lr=0.3, init="uniform:-1:1"),
    Config(epochs=800, momentum=0.5, lr=0.5, init="uniform:-1:1", update="online"),
])
def test_trajectory_ends_where_the_engine_ends(config):
    snapshots = trajectory(config, seed=11, every=400)
    assert [s.epoch for s in snapshots] == sorted({*range(0, config.epochs + 1, 400), config.epochs})
    results, _ = train_seeds(config, SeedRange(11, 12), RunOptions(backend="numpy", engine="array"))
    np.testing.assert_array_equal(np.array(snapshots[-1].outputs), results.outputs[0])
    assert snapshots[-1].loss == pytest.approx(float(results.final_loss[0]), abs=1e-15)
    assert all(s.gradient_norm >= 0 for s in snapshots)


def test_inspect_a_results_file(tmp_path):
    out = tmp_path / "nets.npz"
    assert CliRunner().invoke(cli, ["run", "--seeds", "0:30", "--epochs", "600", "--out", str(out)]).exit_code == 0
    shown = CliRunner().invoke(cli, ["inspect", str(out), "--seed", "5", "--every", "200"])
    assert shown.exit_code == 0, shown.output
    rows = [line.split() for line in shown.stdout.splitlines()[2:6]]
    assert [int(r[0]) for r in rows] == [0, 200, 400, 600]
    assert "recorded in" in shown.stdout
    missing = CliRunner().invoke(cli, ["inspect", str(out), "--seed", "99"])
    assert missing.exit_code != 0 and "not in" in missing.stderr
