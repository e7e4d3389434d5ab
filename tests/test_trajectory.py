import numpy as np
import pytest
from click.testing import CliRunner

import xorgpu
from xorgpu.backend import numpy_backend
from xorgpu.cli.main import cli
from xorgpu.config import Config, RunOptions, SeedRange
from xorgpu.engines.array import train_block
from xorgpu.experiment import prepare
from xorgpu.init import initial_params
from xorgpu.notebook import X, y
from xorgpu.trajectory import trajectory


@pytest.mark.parametrize("config", [
    Config(epochs=1500), Config(epochs=800, momentum=0.9, lr=0.3, init="uniform:-1:1"),
    Config(epochs=800, momentum=0.5, lr=0.5, init="uniform:-1:1", update="online"),
])
def test_trajectory_ends_where_the_engine_ends(config):
    snapshots = trajectory(config, seed=11, every=400)
    assert [s.epoch for s in snapshots] == sorted({*range(0, config.epochs + 1, 400), config.epochs})
    results, _ = prepare(config, RunOptions(backend="numpy", engine="array")).train(SeedRange(11, 12))
    np.testing.assert_array_equal(np.array(snapshots[-1].outputs), results.outputs[0])
    assert snapshots[-1].loss == pytest.approx(float(results.final_loss[0]), abs=1e-15)


def loss_of(weights: np.ndarray, hidden: int) -> float:
    """L = 1/2 sum_p (o_p - y_p)^2 of one net whose weights are flattened as w1, b1, w2, b2."""
    w1 = weights[:2 * hidden].reshape(2, hidden)
    b1 = weights[2 * hidden:3 * hidden]
    w2 = weights[3 * hidden:4 * hidden]
    b2 = weights[4 * hidden]
    h = 1 / (1 + np.exp(-(X @ w1 + b1)))
    o = 1 / (1 + np.exp(-(h @ w2 + b2)))
    return 0.5 * float(np.sum((o - y[:, 0]) ** 2))


@pytest.mark.parametrize("config", [Config(epochs=600, lr=0.5, init="uniform:-1:1"),
                                    Config(epochs=600, lr=0.5, momentum=0.9, init="uniform:-1:1", hidden=3)])
def test_the_gradient_norm_is_that_of_finite_differences(config):
    seed, every = 4, 200
    snapshots = trajectory(config, seed=seed, every=every)
    for snap in snapshots[:-1]:
        params = initial_params(config.init_scheme, np.array([seed]), config.hidden, config.dtype)
        if snap.epoch:  # the weights after snap.epoch updates
            train_block(params, config.replace(epochs=snap.epoch), numpy_backend())
        weights = np.concatenate([a[..., 0].ravel() for a in params.arrays()])
        eps = 1e-6
        numeric = np.array([(loss_of(weights + eps * e, config.hidden) - loss_of(weights - eps * e, config.hidden))
                            / (2 * eps) for e in np.eye(weights.size)])
        assert snap.gradient_norm == pytest.approx(np.linalg.norm(numeric), rel=1e-6)


def test_inspect_a_results_file(tmp_path):
    out = tmp_path / "nets.npz"
    assert CliRunner().invoke(cli, ["run", "--seeds", "0:30", "--epochs", "600", "--out", str(out)]).exit_code == 0
    shown = CliRunner().invoke(cli, ["inspect", str(out), "--seed", "5", "--every", "200"])
    assert shown.exit_code == 0, shown.output
    rows = [line.split() for line in shown.stdout.splitlines()[2:6]]
    assert [int(r[0]) for r in rows] == [0, 200, 400, 600]
    # retrained by the array engine, it ends where the fused engine's file says net 5 ended
    recorded = xorgpu.load(out).results
    at = int(np.flatnonzero(recorded.seeds == 5)[0])
    final, solved_at = float(recorded.final_loss[at]), int(recorded.epochs_to_solve[at])
    assert rows[3][1] == f"{final:.3e}"
    assert shown.stdout.splitlines()[6] == f"recorded in {out}: epochs_to_solve {solved_at}, final loss {final:.3e}"
    missing = CliRunner().invoke(cli, ["inspect", str(out), "--seed", "99"])
    assert missing.exit_code != 0 and "not in" in missing.stderr
