"""Maps of trainability (xorgpu/maps): pixels against an independent single-net trainer,
tiling invariance, the file, the dimension against shapes of known dimension, zooms, and
the command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import xorgpu
from xorgpu.memory import Headroom
from xorgpu.cli.main import cli
from xorgpu.config import Config, ConfigError, RunOptions
from xorgpu.experiment import prepare
from xorgpu.init import initial_params
from xorgpu.maps import Axis, MapResult, MapSpec, train_map
from xorgpu.maps.dimension import boundary, boundary_dimension, box_dimension
from xorgpu.maps.train import train_pixels
from xorgpu.maps.zoom import zoom_frames
from xorgpu.outcomes import OUTCOMES

from .single_net import train_single_net

CONFIG = Config(epochs=1500)


def spec_of(x: str, y: str, resolution: int = 24, config: Config = CONFIG, seed: int = 3) -> MapSpec:
    return MapSpec(config, Axis.parse(x, config), Axis.parse(y, config), resolution, seed)


def seed_weights(config: Config, seed: int) -> tuple[list, list, list, float]:
    """The seed's initial weights as the single-net trainer takes them."""
    p = initial_params(config.init_scheme, np.array([seed]), config.hidden, config.dtype)
    return p.w1[:, :, 0].tolist(), p.b1[:, 0].tolist(), p.w2[:, 0].tolist(), float(p.b2[0])


def random_pixels(resolution: int, count: int, seed: int) -> list[tuple[int, int]]:
    rng = np.random.default_rng(seed)
    return [tuple(int(v) for v in rng.integers(0, resolution, 2)) for _ in range(count)]


@pytest.mark.parametrize("engine", ["fused", "array"])
def test_random_pixels_of_a_learning_rate_map_equal_a_single_net_trained_alone(engine):
    """Rates up to 2: above about 2.5 for the output layer, training is chaotic (next test)
    and two float64 computations that round differently part ways, as engines do."""
    spec = spec_of("lr_hidden:0.01:2:log", "lr_output:0.01:2:log")
    result = train_map(spec, RunOptions(backend="numpy", engine=engine))
    x, y = np.geomspace(0.01, 2, 24), np.geomspace(0.01, 2, 24)  # pixel [i, j] is (x[j], y[i])
    w1, b1, w2, b2 = seed_weights(CONFIG, 3)
    for i, j in random_pixels(24, 8, seed=1):
        alone = train_single_net(w1, b1, w2, b2, lr_hidden=x[j], lr_output=y[i], epochs=CONFIG.epochs)
        assert result.epochs_to_solve[i, j] == alone.epochs_to_solve, (i, j)
        np.testing.assert_allclose(result.final_loss[i, j], alone.final_loss, rtol=1e-9)
    assert len(np.unique(result.outcome)) >= 2 and len(np.unique(result.epochs_to_solve)) > 20  # a real map


def test_at_large_output_rates_one_rounding_changes_the_outcome():
    """Why maps of large rates are exact only within one engine: there, training the same
    net twice with the independent trainer, one initial weight moved by one float64 ulp,
    ends far apart."""
    w1, b1, w2, b2 = seed_weights(CONFIG, 3)
    nudged = [row[:] for row in w1]
    nudged[0][0] = float(np.nextafter(w1[0][0], 2.0))
    runs = [train_single_net(start, b1, w2, b2, lr_hidden=0.05, lr_output=13.5, epochs=CONFIG.epochs)
            for start in (w1, nudged)]
    assert abs(runs[0].final_loss - runs[1].final_loss) > 1e-3 * runs[0].final_loss


def test_random_pixels_of_an_initial_weight_slice_equal_a_single_net_trained_alone():
    """Kolen and Pollack's kind of map (2-2-1 nets): two initial weights varied, everything
    else the seed's."""
    config = Config(hidden=2, epochs=1200, lr=1.0, momentum=0.5, init="uniform:-1:1")
    spec = spec_of("W1[0,1]:-6:6", "W2[1]:-6:6", config=config)
    result = train_map(spec, RunOptions(backend="numpy"))
    values = np.linspace(-6, 6, 24)
    w1, b1, w2, b2 = seed_weights(config, 3)
    for i, j in random_pixels(24, 8, seed=2):
        start_w1 = [row[:] for row in w1]
        start_w2 = w2[:]
        start_w1[0][1], start_w2[1] = values[j], values[i]
        alone = train_single_net(start_w1, b1, start_w2, b2, lr_hidden=1.0, lr_output=1.0, momentum=0.5,
                                 epochs=config.epochs)
        assert result.epochs_to_solve[i, j] == alone.epochs_to_solve, (i, j)
        np.testing.assert_allclose(result.final_loss[i, j], alone.final_loss, rtol=1e-9)
    assert result.solved.any() and not result.solved.all()


def test_init_scale_and_momentum_pixels_equal_a_single_net_trained_alone():
    spec = spec_of("init_scale:0.1:8:log", "momentum:0:0.95", resolution=12)
    result = train_map(spec, RunOptions(backend="numpy"))
    scales, momenta = np.geomspace(0.1, 8, 12), np.linspace(0, 0.95, 12)
    w1, b1, w2, b2 = seed_weights(CONFIG, 3)
    for i, j in random_pixels(12, 6, seed=3):
        s = scales[j]
        alone = train_single_net([[v * s for v in row] for row in w1], [v * s for v in b1], [v * s for v in w2],
                                 b2 * s, lr_hidden=0.1, lr_output=0.1, momentum=momenta[i], epochs=CONFIG.epochs)
        assert result.epochs_to_solve[i, j] == alone.epochs_to_solve, (i, j)
        np.testing.assert_allclose(result.final_loss[i, j], alone.final_loss, rtol=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["fused", "array"])
def test_a_map_trained_in_tiles_and_blocks_of_any_size_is_the_same_map(engine):
    spec = spec_of("lr:0.05:50:log", "b2:-3:3", resolution=20)
    whole = train_map(spec, RunOptions(backend="numpy", engine=engine))
    plan = prepare(spec.config, RunOptions(backend="numpy", engine=engine, block_nets=7))
    tiles = [(0, 1), (1, 150), (150, 151), (151, 400)]
    parts = [train_pixels(spec, plan, start, stop) for start, stop in tiles]
    for k, name in enumerate(("epochs_to_solve", "final_loss", "outcome")):
        joined = np.concatenate([part[k] for part in parts]).reshape(20, 20)
        np.testing.assert_array_equal(joined, getattr(whole, name), err_msg=name)


def test_the_map_file_holds_what_it_says(tmp_path):
    spec = spec_of("lr:0.1:10:log", "momentum:0:0.9", resolution=6, config=Config(epochs=300))
    result = train_map(spec, RunOptions(backend="numpy"))
    result.save(str(tmp_path / "m.npz"))
    with np.load(tmp_path / "m.npz") as data:
        np.testing.assert_array_equal(data["x"], np.geomspace(0.1, 10, 6))
        np.testing.assert_array_equal(data["y"], np.linspace(0, 0.9, 6))
        assert data["epochs_to_solve"].shape == data["final_loss"].shape == data["outcome"].shape == (6, 6)
        assert tuple(data["outcome_names"]) == OUTCOMES
    loaded = MapResult.load(str(tmp_path / "m.npz"))
    assert loaded.spec == spec
    np.testing.assert_array_equal(loaded.final_loss, result.final_loss)
    assert sum(loaded.fractions().values()) == pytest.approx(1)


def sierpinski(order: int) -> np.ndarray:
    i, j = np.indices((2**order, 2**order))
    return (i & j) == 0  # the Sierpinski triangle on a 2^k grid: dimension log 3 / log 2


def test_box_counting_finds_known_dimensions():
    triangle = box_dimension(sierpinski(9))  # exactly 3^(9-k) occupied boxes of side 2^k
    np.testing.assert_array_equal(triangle.counts, 3 ** (9 - np.arange(10)))
    assert triangle.dimension == pytest.approx(np.log(3) / np.log(2), abs=1e-9) and triangle.stderr < 1e-9
    assert triangle.fit_sizes == (2, 64)
    side = 512
    i, j = np.indices((side, side))
    circle = boundary_dimension((i - side / 2) ** 2 + (j - side / 2) ** 2 < (side / 3) ** 2)  # a smooth curve
    assert circle.dimension == pytest.approx(1.0, abs=0.08)
    noise = boundary_dimension(np.random.default_rng(0).random((side, side)) < 0.5)  # boundary everywhere
    assert noise.dimension == pytest.approx(2.0, abs=0.02)
    assert boundary_dimension(np.ones((side, side), bool)).dimension is None


def test_the_boundary_is_the_pixels_beside_the_other_class():
    solved = np.zeros((6, 6), bool)
    solved[:, 3:] = True
    expected = np.zeros((6, 6), bool)
    expected[:, 2:4] = True
    np.testing.assert_array_equal(boundary(solved), expected)


def test_a_zoom_closes_in_on_its_target_by_the_factor_asked():
    first = spec_of("lr_hidden:0.01:100:log", "b2:-4:4", resolution=8)
    frames = zoom_frames(first, (2.0, 1.0), frames=5, factor=1e4)
    assert frames[0] == first
    assert frames[-1].x.span == pytest.approx(first.x.span / 1e4) and \
        frames[-1].y.span == pytest.approx(first.y.span / 1e4)
    for frame in frames:  # the target keeps its place in the frame
        assert (np.log10(2.0) - np.log10(frame.x.low)) / frame.x.span == pytest.approx(
            (np.log10(2.0) - np.log10(0.01)) / 4)
        assert (1.0 - frame.y.low) / frame.y.span == pytest.approx(5 / 8)
    centred = Axis.around(first.x.knob, 1e-3, 2, log=True)
    assert (centred.low, centred.high) == pytest.approx((1e-4, 1e-2))


def test_a_view_can_be_as_narrow_as_float64_tells_apart_and_no_narrower():
    knob = Axis.parse("b2:0:1", Config()).knob
    tiny = Axis.around(knob, 0.5, 64 * np.spacing(0.5), log=False)
    assert np.all(np.diff(tiny.values(16)) > 0)
    with pytest.raises(ConfigError, match="finer than float64"):
        Axis.around(knob, 0.5, 4 * np.spacing(0.5), log=False).values(16)


def test_the_command_writes_the_map_its_picture_and_a_zoom(tmp_path):
    args = ["map", "--x", "lr_hidden:0.05:50:log", "--y", "lr_output:0.05:50:log", "--resolution", "16",
            "--epochs", "400", "--backend", "numpy"]
    result = CliRunner().invoke(cli, [*args, "--json", "--out", str(tmp_path / "m.npz"), "--png",
                                      str(tmp_path / "m.png"), "--counts-png", str(tmp_path / "c.png")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    saved = MapResult.load(str(tmp_path / "m.npz"))
    loaded = xorgpu.load(str(tmp_path / "m.npz"))  # the Python API reads a map as a MapResult
    assert isinstance(loaded, MapResult) and loaded.spec == saved.spec
    np.testing.assert_array_equal(loaded.epochs_to_solve, saved.epochs_to_solve)
    assert data["fractions"] == saved.fractions() and sum(data["fractions"].values()) == pytest.approx(1)
    assert data["boundary"]["dimension"] == boundary_dimension(saved.solved).dimension
    for png in ("m.png", "c.png"):
        with Image.open(tmp_path / png) as image:
            assert image.format == "PNG" and min(image.size) > 400
    zoom = CliRunner().invoke(cli, [*args, "--zoom-to", "1,1", "--frames", "3", "--gif", str(tmp_path / "z.gif")])
    assert zoom.exit_code == 0, zoom.output
    assert zoom.stdout.count("map of 16 x 16 nets") == 3
    with Image.open(tmp_path / "z.gif") as gif:
        assert gif.n_frames == 3


def test_a_map_too_large_for_this_machines_memory_is_one_line_before_any_work(monkeypatch):
    monkeypatch.setattr("xorgpu.memory.binding_limit", lambda: Headroom(2**30, "on this machine"))  # 1 GiB free
    result = CliRunner().invoke(cli, ["map", "--x", "lr:0.1:1", "--y", "b2:0:1", "--resolution", "8192",
                                      "--backend", "numpy"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "xorgpu: error: a map of 8,192 x 8,192 pixels would take about 2.6 GiB of memory, more than the 1.0 GiB "
        "free on this machine: lower --resolution"]


def test_a_map_on_a_gpu_equals_the_cpu_map_where_training_is_calm():
    """On CuPy, the fused CUDA kernel builds and trains the map's nets on the device; where
    rounding differences die out it agrees with the fused CPU engine pixel for pixel."""
    from xorgpu.backend import resolve_backend  # noqa: PLC0415

    try:
        resolve_backend("cupy")
    except ConfigError as error:
        pytest.skip(f"no CUDA device here: {error}")
    spec = spec_of("lr_hidden:0.01:1:log", "momentum:0:0.5", resolution=32)
    gpu = train_map(spec, RunOptions(backend="cupy", engine="fused"))
    cpu = train_map(spec, RunOptions(backend="numpy", engine="fused"))
    assert gpu.provenance["backend"] == "cupy"
    np.testing.assert_array_equal(gpu.epochs_to_solve, cpu.epochs_to_solve)
    np.testing.assert_allclose(gpu.final_loss, cpu.final_loss, rtol=1e-9)


def test_shading_failures_greys_the_unsolved_nets_by_their_final_loss_and_changes_nothing_else(tmp_path):
    """--shade-failures: each plateau or still-improving pixel a grey, darker for a larger
    final loss; solved pixels and the other outcomes keep their colours; off, the picture
    is the map's usual one."""
    from xorgpu.maps.render import SHADED, rgba, _norm  # noqa: PLC0415

    result = xorgpu.map("lr_hidden:0.1:1000:log", "lr_output:0.1:1000:log", resolution=48, epochs=600,
                        progress=False)
    norm = _norm(result.epochs_to_solve)
    plain, shaded = rgba(result, norm), rgba(result, norm, shade_failures=True)
    greyed = np.isin(result.outcome, [OUTCOMES.index(name) for name in SHADED])
    assert greyed.sum() > 50 and (~greyed).sum() > 50
    np.testing.assert_array_equal(shaded[~greyed], plain[~greyed])
    grey = shaded[greyed][:, :3].astype(int)
    assert (grey.max(axis=1) - grey.min(axis=1)).max() <= 1  # greys: R = G = B
    losses = result.final_loss[greyed]
    order = np.argsort(losses)
    brightness = grey[order, 0]
    assert np.all(np.diff(brightness) <= 0)  # never lighter for a larger loss
    assert brightness[0] - brightness[-1] > 60  # and the scale spans light to dark
    done = CliRunner().invoke(cli, ["map", "--x", "lr_hidden:0.1:1000:log", "--y", "lr_output:0.1:1000:log",
                                    "--resolution", "16", "--epochs", "100", "--png", str(tmp_path / "m.png"),
                                    "--shade-failures"])
    assert done.exit_code == 0, done.output
    assert Image.open(tmp_path / "m.png").size[0] > 1000
