"""The nets people study (issue 22): every option against an independent single-net trainer
(tests/family_net.py, written from the issue's definitions), the laws of their initial
weights, the combinations refused, and the notebook's net unchanged by them."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

import xorgpu
from xorgpu.backend import numpy_backend
from xorgpu.config import Config, ConfigError
from xorgpu.engines import array
from xorgpu.engines.selection import select_engine
from xorgpu.init import counter_uniform, initial_params, nets_of
from xorgpu.params import weight_names
from xorgpu.tasks import Task

from .family_net import Net, patterns_of, train_family_net

SEEDS = np.arange(30, 34)


def independent(config: Config, params, k: int):  # noqa: ANN001
    """Net k of `params` trained by the independent trainer under `config`."""
    net = Net(w1=params.w1[:, :, k].tolist(), b1=params.b1[:, k].tolist(), w2=params.w2[:, k].tolist(),
              b2=float(params.b2[k]), ws=None if params.ws is None else params.ws[:, k].tolist())
    return train_family_net(net, task=config.task, activation=config.activation, output=config.output,
                            encoding=config.encoding, loss=config.loss, bias=config.bias, update=config.update,
                            lr=config.lr, momentum=config.momentum, epochs=config.epochs, criterion=config.criterion,
                            mean=config.loss_reduction == "mean")


def assert_engine_equals_independent(config: Config, engine: str = "array") -> None:
    if engine == "fused" and config.update == "online":
        engine = "array"  # the compiled kernels train full batches (they refuse online updates)
    params = nets_of(config, SEEDS)
    start = params.map(np.copy)
    record = select_engine(config, numpy_backend(), engine).train_block(params, config, numpy_backend())
    for k in range(len(SEEDS)):
        alone = independent(config, start, k)
        assert record.epochs_to_solve[k] == alone.epochs_to_solve, (config, k)
        assert bool(record.diverged[k]) == alone.diverged
        if not alone.diverged:
            np.testing.assert_allclose(record.final_loss[k], alone.final_loss, rtol=1e-9, atol=1e-20)  # 1e-20: a loss of ~1e-15 is outputs within an ulp or so of their targets
            np.testing.assert_allclose(record.outputs[k], alone.outputs, rtol=1e-9, atol=1e-12)


OPTION_CASES = {
    "tanh hidden": dict(activation="tanh", lr=0.3),
    "relu hidden, linear output": dict(activation="relu", output="linear", lr=0.05, init="uniform:-1:1"),
    "tanh output, pm1": dict(output="tanh", encoding="pm1", lr=0.1),
    "linear output, pm1, within": dict(activation="tanh", output="linear", encoding="pm1", lr=0.05,
                                       criterion="within:0.2"),
    "cross-entropy": dict(loss="cross-entropy", lr=0.5),
    "cross-entropy, mean": dict(loss="cross-entropy", loss_reduction="mean", lr=2.0, momentum=0.5),
    "no bias": dict(bias=False, init="uniform:-1:1", lr=0.5),
    "skip, 2-1-1": dict(hidden=1, skip=True, lr=0.5, momentum=0.9),
    "parity:3": dict(task="parity:3", hidden=3, lr=0.5, init="uniform:-1:1"),
    "parity:4, sse criterion": dict(task="parity:4", hidden=4, lr=0.3, init="uniform:-2:2", criterion="sse:0.5"),
    "AND": dict(task="table:0001", lr=0.5),
    "online, tanh, skip": dict(update="online", activation="tanh", skip=True, lr=0.1, init="uniform:-1:1"),
    "notebook init, skip, parity:3": dict(task="parity:3", skip=True, init="notebook", lr=0.5),
}


@pytest.mark.parametrize("engine", ["array", "fused"])
@pytest.mark.parametrize("case", OPTION_CASES)
def test_each_option_trains_as_an_independent_trainer_does(case, engine):
    assert_engine_equals_independent(Config(epochs=400, **OPTION_CASES[case]), engine)


def valid_configs(seed: int, count: int) -> list[Config]:
    """Configs combining the options at random (the refused combinations left out)."""
    rng = random.Random(seed)
    found: list[Config] = []
    while len(found) < count:
        settings = dict(
            task=rng.choice(["xor", "parity:3", "table:0111", "table:1001", "parity:2"]),
            activation=rng.choice(["sigmoid", "tanh", "relu"]), output=rng.choice(["sigmoid", "tanh", "linear"]),
            encoding=rng.choice(["01", "pm1"]), loss=rng.choice(["sse", "cross-entropy"]),
            bias=rng.random() < 0.7, skip=rng.random() < 0.4, hidden=rng.choice([1, 2, 3, 5]),
            lr=rng.choice([0.02, 0.05, 0.1]), momentum=rng.choice([0.0, 0.0, 0.5]),
            init=rng.choice(["notebook", "uniform:-1:1", "counter"]), epochs=300,
        )
        try:
            found.append(Config(**settings))
        except ConfigError:
            continue
    return found


def config_id(c: Config) -> str:
    return (f"{c.task},{c.activation},{c.output},{c.encoding},{c.loss},{'bias' if c.bias else 'nobias'},"
            f"{'skip,' if c.skip else ''}H{c.hidden},lr{c.lr:g},mu{c.momentum:g},{c.init}")


@pytest.mark.parametrize("engine", ["array", "fused"])
@pytest.mark.parametrize("config", valid_configs(22, 16), ids=config_id)
def test_random_combinations_train_as_an_independent_trainer_does(config, engine):
    """At learning rates where training is calm: where it is chaotic, a last-bit difference
    in tanh or exp (NumPy's and Python's math differ in a third of their tanh values) grows
    until two correct trainers part ways, as any two float64 computations would."""
    assert_engine_equals_independent(config, engine)


@pytest.mark.parametrize("engine", ["array", "fused"])
@pytest.mark.parametrize("config", valid_configs(23, 24), ids=config_id)
def test_random_combinations_agree_over_the_first_epochs_at_any_rate(config, engine):
    """Three epochs at large rates: too short for rounding to grow, long enough for every
    term of the forward pass, the gradients and the update to count."""
    assert_engine_equals_independent(config.replace(epochs=3, lr=config.lr * 20, momentum=0.9), engine)


def test_the_notebook_net_on_any_two_input_task_is_the_tuned_path_bit_for_bit():
    """parity:2 and table:0110 are XOR in the notebook's order: the same nets, to the bit."""
    base = Config(epochs=500)
    reference = xorgpu.train(nets=50, epochs=500).results
    for task in ("parity:2", "table:0110"):
        other = xorgpu.train(nets=50, epochs=500, task=task).results
        np.testing.assert_array_equal(other.outputs, reference.outputs)
        np.testing.assert_array_equal(other.final_loss, reference.final_loss)
    assert base.classic_net and Config(task="table:0001").classic_net and not Config(task="parity:3").classic_net


# --- tasks -----------------------------------------------------------------------------


@pytest.mark.parametrize("task", ["xor", "parity:2", "parity:3", "parity:5", "table:0001", "table:1110"])
def test_tasks_have_the_documented_patterns_and_targets(task):
    spec = Task.parse(task)
    expected = patterns_of(task)  # the independent trainer's own construction
    assert spec.input_bits.tolist() == [bits for bits, _ in expected]
    assert list(spec.target_bits) == [t for _, t in expected]
    assert len(spec.output_names) == 2**spec.inputs and spec.output_names[1] == "o" + "0" * (spec.inputs - 1) + "1"


def test_pm1_encoding_maps_bits_to_minus_and_plus_one():
    spec = Task.parse("xor")
    assert spec.inputs_as("pm1").tolist() == [[-1, -1], [-1, 1], [1, -1], [1, 1]]
    assert spec.targets_as("pm1").tolist() == [-1, 1, 1, -1]


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize("settings, words", [
    (dict(loss="cross-entropy", output="tanh", encoding="pm1"), "needs --output sigmoid and --encoding 01"),
    (dict(loss="cross-entropy", output="linear"), "needs --output sigmoid"),
    (dict(encoding="pm1"), "cannot reach the targets -1 and 1"),
    (dict(task="parity:11"), "parity takes 2 to 10 inputs"),
    (dict(task="parity:1"), "parity takes 2 to 10 inputs"),
    (dict(task="table:012"), "unknown task"),
    (dict(task="and"), "unknown task"),
    (dict(activation="softplus"), "unknown activation"),
    (dict(bias="no"), "bias must be true or false"),
])
def test_combinations_that_make_no_sense_are_refused_in_one_line(settings, words):
    with pytest.raises(ConfigError) as caught:
        Config(**settings)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_auto_picks_the_fused_engine_for_every_net_trained_on_full_batches():
    for config in (Config(activation="tanh"), Config(task="parity:5", skip=True), Config(task="table:0001")):
        assert select_engine(config, numpy_backend(), "auto").name == "fused"
    assert select_engine(Config(activation="tanh", update="online"), numpy_backend(), "auto").name == "array"


# --- initial weights -----------------------------------------------------------------------


def test_notebook_init_draws_w1_then_w2_then_the_skip_weights_from_the_seeds_generator():
    params = nets_of(Config(task="parity:3", hidden=4, skip=True, init="notebook"), np.array([7]))
    rng = np.random.RandomState(7)
    np.testing.assert_array_equal(params.w1[:, :, 0], rng.rand(3, 4))
    np.testing.assert_array_equal(params.w2[:, 0], rng.rand(4, 1)[:, 0])
    np.testing.assert_array_equal(params.ws[:, 0], rng.rand(3, 1)[:, 0])
    assert not params.b1.any() and not params.b2.any()


def test_counter_init_numbers_w1_b1_w2_b2_then_the_skip_weights():
    """Parameter j of a net is counter number j, in the order W1 (N x H, row-major), b1, W2,
    b2, Ws: a net of two inputs without skip weights draws what it always has."""
    hidden = 3
    plain = initial_params(Config().init_scheme, SEEDS, hidden, "float64")
    with_skip = nets_of(Config(hidden=hidden, skip=True, init="uniform:0:1"), SEEDS)
    np.testing.assert_array_equal(with_skip.w1, plain.w1)
    np.testing.assert_array_equal(with_skip.w2, plain.w2)
    np.testing.assert_array_equal(with_skip.ws, counter_uniform(SEEDS, np.arange(13, 15), "float64"))  # after b2 (12)
    three = nets_of(Config(hidden=hidden, task="parity:3", init="uniform:0:1"), SEEDS)
    np.testing.assert_array_equal(three.w1[:2], plain.w1)  # rows 0 and 1: numbers 0..5, as two inputs'
    np.testing.assert_array_equal(three.w1[2], counter_uniform(SEEDS, np.arange(6, 9), "float64"))
    np.testing.assert_array_equal(three.w2, counter_uniform(SEEDS, np.arange(12, 15), "float64"))
    np.testing.assert_array_equal(three.b2, counter_uniform(SEEDS, np.arange(15, 16), "float64")[0])
    no_bias = nets_of(Config(hidden=hidden, bias=False, init="uniform:0:1"), SEEDS)
    assert not no_bias.b1.any() and not no_bias.b2.any()
    np.testing.assert_array_equal(no_bias.w2, with_skip.w2)  # the weights drawn as with biases


def test_no_bias_nets_keep_zero_biases_through_training():
    config = Config(bias=False, init="uniform:-1:1", epochs=50, lr=0.5)
    params = nets_of(config, SEEDS)
    assert not params.b1.any() and not params.b2.any()
    array.train_block(params, config, numpy_backend())
    assert not params.b1.any() and not params.b2.any() and params.w1.any()


def test_weight_names_follow_the_shapes():
    names = weight_names(2, inputs=3, skip=True)
    assert names[:6] == [f"W1[{i},{j}]" for i in range(3) for j in range(2)]
    assert names[6:] == ["b1[0]", "b1[1]", "W2[0]", "W2[1]", "b2", "Ws[0]", "Ws[1]", "Ws[2]"]
    assert weight_names(2) == [n for n in names if not n.startswith(("Ws", "W1[2"))]


def test_the_classic_options_are_the_defaults():
    defaults = Config()
    assert (defaults.task, defaults.activation, defaults.output, defaults.encoding, defaults.loss, defaults.bias,
            defaults.skip) == ("xor", "sigmoid", "sigmoid", "01", "sse", True, False)
    assert list(itertools.islice(defaults.to_dict(), 2)) == ["hidden", "task"]


# --- maps of the new nets ------------------------------------------------------------------


def test_pixels_of_a_map_of_tanh_nets_with_a_linear_output_equal_nets_trained_alone():
    """A map over a hidden rate and a skip weight of tanh nets with a linear output (pm1):
    each pixel is the seed's net, its skip weight set, trained alone at the pixel's rate.
    (With no biases too, an odd net cannot fit XOR's even targets: every pixel would be 0.)"""
    from xorgpu.maps.axes import Axis  # noqa: PLC0415
    from xorgpu.maps.spec import MapSpec  # noqa: PLC0415
    from xorgpu.maps.train import train_map  # noqa: PLC0415

    config = Config(activation="tanh", output="linear", encoding="pm1", skip=True, hidden=3,
                    epochs=200, init="uniform:-1:1", criterion="within:0.3")
    spec = MapSpec(config, Axis.parse("lr_hidden:0.01:0.3:log", config), Axis.parse("Ws[1]:-1:1", config), 4, seed=5)
    result = train_map(spec)
    assert len(set(result.epochs_to_solve.ravel().tolist())) > 4  # pixels that differ
    start = nets_of(config, np.array([5]))
    for i, j in [(0, 0), (1, 3), (2, 1), (3, 3)]:
        net = Net(w1=start.w1[:, :, 0].tolist(), b1=start.b1[:, 0].tolist(), w2=start.w2[:, 0].tolist(),
                  b2=float(start.b2[0]), ws=[float(start.ws[0, 0]), float(result.y[i])])
        alone = train_family_net(net, activation="tanh", output="linear", encoding="pm1",
                                 lr_hidden=float(result.x[j]), lr_output=config.lr, epochs=config.epochs,
                                 criterion=config.criterion)
        assert result.epochs_to_solve[i, j] == alone.epochs_to_solve
        np.testing.assert_allclose(result.final_loss[i, j], alone.final_loss, rtol=1e-9, atol=1e-20)


def test_map_knobs_follow_the_net():
    from xorgpu.maps.axes import Knob  # noqa: PLC0415

    assert Knob.parse("W1[2,0]", Config(task="parity:3")).weight == ("w1", (2, 0))
    assert Knob.parse("Ws[1]", Config(skip=True)).weight == ("ws", (1,))
    for name, config, words in [("W1[2,0]", Config(), "the net has 2 inputs"), ("Ws[0]", Config(), "no skip weights"),
                                ("b2", Config(bias=False), "no biases")]:
        with pytest.raises(ConfigError, match=words):
            Knob.parse(name, config)


# --- the options from the command line ---------------------------------------------------------


def test_a_sweep_over_the_new_options_trains_each_cell_as_run_does(tmp_path):
    """`sweep --task xor,parity:3 --skip false,true`: four cells, each the statistics that
    `run` prints for its settings (true/false written as a sweep axis)."""
    import json  # noqa: PLC0415

    from click.testing import CliRunner  # noqa: PLC0415

    from xorgpu.cli.main import cli  # noqa: PLC0415

    common = ["--nets", "40", "--epochs", "300", "--lr", "0.5", "--init", "uniform:-1:1", "--backend", "numpy"]
    swept = CliRunner().invoke(cli, ["sweep", *common, "--task", "xor,parity:3", "--skip", "false,true", "--format",
                                     "json", "-o", str(tmp_path / "s.jsonl")])
    assert swept.exit_code == 0, swept.output
    rows = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert sorted((r["config"]["task"], r["config"]["skip"]) for r in rows) == [
        ("parity:3", False), ("parity:3", True), ("xor", False), ("xor", True)]
    for row in rows:
        flags = ["--task", row["config"]["task"]] + (["--skip"] if row["config"]["skip"] else [])
        ran = CliRunner().invoke(cli, ["run", *common, *flags, "--json"])
        report = json.loads(ran.stdout)
        for key in ("nets", "solved", "epochs_to_solve", "failures"):
            assert row["report"][key] == report[key], (flags, key)
