import math

import pytest

from xorgpu.config import (
    MAX_EPOCHS, MAX_HIDDEN, MAX_LOSS_SAMPLES, Config, ConfigError, Criterion, InitScheme, RunOptions, SeedRange,
)


def test_defaults_are_the_notebooks():
    config = Config()
    assert (config.hidden, config.lr, config.epochs, config.momentum) == (4, 0.1, 10000, 0.0)
    assert config.loss_reduction == "sum" and config.criterion == "round" and config.update == "batch"


def test_json_round_trip():
    config = Config(hidden=3, lr=0.5, momentum=0.9, init="uniform:-1:1", criterion="sse:0.01",
                    dtype="float32", loss_reduction="mean", sample_every=10)
    assert Config.from_json(config.to_json()) == config


def test_mean_reduction_is_a_quarter_step():
    assert Config(lr=0.4, loss_reduction="mean").step == 0.1
    assert Config(lr=0.4).step == 0.4


@pytest.mark.parametrize("changes", [
    {"hidden": 0}, {"hidden": 2.5}, {"epochs": -1}, {"epochs": True}, {"lr": 0}, {"lr": -0.1},
    {"lr": math.nan}, {"lr": math.inf}, {"momentum": 1.0}, {"momentum": -0.1},
    {"loss_reduction": "max"}, {"init": "gauss"}, {"init": "uniform:1:0"}, {"init": "uniform:a:1"},
    {"criterion": "close"}, {"criterion": "within:0"}, {"criterion": "sse:-1"},
    {"dtype": "float16"}, {"sample_every": -1}, {"update": "minibatch"},
    {"update": "online", "loss_reduction": "mean"}, {"hidden": MAX_HIDDEN + 1}, {"epochs": MAX_EPOCHS + 1},
    {"epochs": 10**12}, {"epochs": 20000, "sample_every": 1}, {"init": 5}, {"criterion": None},
    {"dtype": ["float64"]}, {"lr": "0.1"},
])
def test_invalid_values_are_refused(changes):
    with pytest.raises(ConfigError):
        Config(**changes)


def test_the_limits_are_the_largest_values_accepted():
    Config(hidden=MAX_HIDDEN, epochs=MAX_EPOCHS)
    Config(epochs=MAX_LOSS_SAMPLES - 1, sample_every=1)  # every epoch of the notebook's 10,000


@pytest.mark.parametrize("changes", [{"backend": "tpu"}, {"engine": "jit"}, {"processes": 0}, {"block_nets": 0},
                                     {"processes": 1.5}])
def test_invalid_run_options_are_refused(changes):
    with pytest.raises(ConfigError):
        RunOptions(**changes)


def test_a_stored_config_keeps_no_run_options_and_older_ones_are_read():
    assert "backend" not in Config().to_dict() and "engine" not in Config().to_dict()
    older = {**Config(hidden=3).to_dict(), "backend": "auto", "engine": "fused"}
    assert Config.from_dict(older) == Config(hidden=3)


@pytest.mark.parametrize("text", ["null", "[]", "3", "{", '"x"'])
def test_a_config_that_is_not_a_json_object_is_one_error(text):
    with pytest.raises(ConfigError):
        Config.from_json(text)


def test_a_stored_config_from_before_the_update_field_reads_as_batch():
    stored = Config().to_dict()
    del stored["update"]
    assert Config.from_dict(stored) == Config()


def test_unknown_field_in_json_is_refused():
    with pytest.raises(ConfigError, match="unknown config field"):
        Config.from_dict({"hidden": 4, "layers": 3})


def test_criteria_parse():
    assert Criterion.parse("round") == Criterion("within", 0.5)
    assert Criterion.parse("within:0.1") == Criterion("within", 0.1)
    assert Criterion.parse("sse:0.04") == Criterion("sse", 0.04)
    assert InitScheme.parse("uniform:-0.5:0.5") == InitScheme("uniform", -0.5, 0.5)


def test_seed_ranges():
    assert SeedRange.resolve(10, None) == SeedRange(0, 10)
    assert SeedRange.resolve(None, "5:15") == SeedRange(5, 15)
    assert SeedRange.resolve(10, "5:15") == SeedRange(5, 15)
    assert len(SeedRange(5, 15)) == 10
    assert SeedRange(0, 10).split(4) == [SeedRange(0, 4), SeedRange(4, 8), SeedRange(8, 10)]


@pytest.mark.parametrize("nets, seeds", [
    (None, None), (0, None), (-3, None), (10, "0:5"), (None, "5:5"), (None, "9:3"),
    (None, "a:b"), (None, "1-5"), (None, "-1:4"), (None, "0:4294967297"), (None, "1.5:3"),
    (None, "0:²"), (None, "0:" + "9" * 5000), (2**33, None),
])
def test_bad_seed_specs_are_refused(nets, seeds):
    with pytest.raises(ConfigError):
        SeedRange.resolve(nets, seeds)
