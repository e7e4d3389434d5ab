from xml.etree import ElementTree

import matplotlib.image
import numpy as np
from click.testing import CliRunner

from xorgpu.cli.main import cli


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_figures(paths, names):
    """Each figure exists as a PNG that decodes to a drawn picture and an SVG with drawn paths."""
    for name in names:
        png, svg = paths / f"{name}.png", paths / f"{name}.svg"
        pixels = matplotlib.image.imread(png)  # (rows, columns, RGBA)
        assert pixels.shape[0] > 300 and pixels.shape[1] > 400
        ink = (pixels[..., :3] < 0.9).any(axis=2).mean()  # the share of pixels that are not white
        assert 0.01 < ink < 0.9, f"{name}.png looks blank or solid ({ink:.3f} drawn)"
        tree = ElementTree.parse(svg)
        paths_drawn = [e for e in tree.iter() if e.tag.endswith("}path") or e.tag.endswith("}use")]
        assert tree.getroot().tag.endswith("}svg") and len(paths_drawn) > 20


def test_plots_of_a_results_file(tmp_path):
    out = tmp_path / "nets.npz"
    assert invoke("run", "--seeds", "0:300", "--epochs", 3000, "--out", out).exit_code == 0
    result = invoke("plot", out, "--out", tmp_path / "figures")
    assert result.exit_code == 0, result.output
    assert_figures(tmp_path / "figures", ["epochs_to_solve_ecdf", "final_loss_histogram", "decision_boundaries"])
    assert len(result.stdout.splitlines()) == 6


def test_sweep_figures_for_one_two_and_three_axes(tmp_path):
    def plotted(name, *axes):
        sweep_file = tmp_path / f"{name}.jsonl"
        trained = invoke("sweep", "--nets", 40, "--epochs", 300, *axes, "--out", sweep_file)
        assert trained.exit_code == 0, trained.output
        result = invoke("plot", sweep_file, "--out", tmp_path / name)
        assert result.exit_code == 0, result.output
        return result

    plotted("two", "--hidden", "2,3", "--lr", "0.5,2,4")
    assert_figures(tmp_path / "two", ["success_heatmap"])
    plotted("one", "--hidden", "2,3,8", "--lr", "4")  # H = 8 solves every net: a CI ending at 100%
    assert_figures(tmp_path / "one", ["success_by_hidden"])
    three = plotted("three", "--momentum", "0,0.9", "--hidden", "2,3", "--lr", "0.5,2")
    assert_figures(tmp_path / "three", ["success_heatmap"])  # a panel per momentum
    assert len(three.stdout.splitlines()) == 2
    one_cell = tmp_path / "cell.jsonl"
    assert invoke("sweep", "--nets", 20, "--epochs", 50, "--out", one_cell).exit_code == 0
    refused = invoke("plot", one_cell, "--out", tmp_path / "figures")
    assert refused.exit_code == 2 and "holds one cell" in refused.stderr


def test_a_preset_with_a_law_is_drawn_beside_it(tmp_path):
    sweep_file = tmp_path / "chauvin.jsonl"
    trained = invoke("sweep", "--preset", "chauvin-hidden-units", "--nets", 8, "--out", sweep_file)
    assert trained.exit_code == 0, trained.output
    result = invoke("plot", sweep_file, "--out", tmp_path / "figures")
    assert result.exit_code == 0, result.output
    assert_figures(tmp_path / "figures", ["success_heatmap", "beside_the_source"])


def test_a_dollar_in_a_file_name_is_text_not_mathtext(tmp_path):
    out = tmp_path / "cost $10$ and $x^{2$.npz"  # an unbalanced mathtext expression, were it parsed
    assert invoke("run", "--seeds", "0:40", "--epochs", 200, "--out", out).exit_code == 0
    result = invoke("plot", out, "--out", tmp_path / "figures")
    assert result.exit_code == 0, result.output
    assert b"$x^{2$" in (tmp_path / "figures" / "epochs_to_solve_ecdf.svg").read_bytes()


def synthetic_results(epochs_to_solve, outcome_names, final_loss):
    from xorgpu.results import NetResults  # noqa: PLC0415
    from xorgpu.stats import OUTCOMES  # noqa: PLC0415

    n = len(epochs_to_solve)
    return NetResults(seeds=np.arange(100, 100 + n), outputs=np.zeros((n, 4)),
                      epochs_to_solve=np.array(epochs_to_solve), final_loss=np.array(final_loss, dtype=float),
                      diverged=np.array([name == "diverged" for name in outcome_names]),
                      outcome=np.array([OUTCOMES.index(name) for name in outcome_names], dtype=np.uint8))


def test_the_boundaries_show_fastest_median_slowest_and_one_net_of_each_failure():
    from xorgpu.plots import chosen_nets  # noqa: PLC0415

    results = synthetic_results(
        [50, -1, 700, 20, -1, 300, 90, -1, 400],
        ["solved", "plateau", "solved", "solved", "plateau", "solved", "solved_then_lost", "diverged", "solved"],
        [1e-3] * 9)
    # solved (epochs >= 0) by epoch: 20 (seed 103), 50 (100), 90 (106), 300 (105), 400 (108), 700 (102)
    assert chosen_nets(results) == [
        (103, "fastest solved, epoch 20"), (105, "median solved, epoch 300"), (102, "slowest solved, epoch 700"),
        (106, "solved then lost"), (101, "plateau"), (107, "diverged")]


def test_the_final_loss_histogram_counts_solved_and_unsolved_nets_apart():
    from xorgpu.report_html import loss_histogram_spec  # noqa: PLC0415

    rng = np.random.default_rng(5)
    solved_losses, unsolved_losses = 10 ** rng.uniform(-4, -2, 900), 10 ** rng.uniform(-1.5, -0.5, 37)
    results = synthetic_results([10] * 900 + [-1] * 37, ["solved"] * 900 + ["plateau"] * 37,
                                [*solved_losses, *unsolved_losses[:-1], np.nan])  # a NaN loss is left out
    spec = loss_histogram_spec(results)
    solved, unsolved = spec["data"]
    assert sum(solved["y"]) == 900 and sum(unsolved["y"]) == 36
    assert spec["layout"]["yaxis"]["type"] == "log"
    # each bar sits where its nets' losses are: the log10 of every unsolved loss lies within
    # half a bar's width of some unsolved bar's centre
    centres = np.array(unsolved["x"])
    assert all(np.min(np.abs(centres - np.log10(v))) <= unsolved["width"] / 2 + 1e-12 for v in unsolved_losses[:-1])


def test_sweep_heatmaps_scale_their_colours_over_the_datas_range():
    from xorgpu.report_html import heatmap_spec  # noqa: PLC0415

    flat = [{"hidden": h, "lr": lr, "success_rate": rate, "solved": round(rate * 100), "nets": 100, "ci95_low": 0,
             "ci95_high": 1, "median_epochs": epochs}
            for h, lr, rate, epochs in [(2, 0.5, 0.94, 700), (2, 4, 0.97, 200), (10, 0.5, 0.99, 500), (10, 4, 1.0, 90)]]
    spec = heatmap_spec(flat, ["hidden", "lr"], "success_rate")
    trace = spec["data"][0]
    assert "zmin" not in trace and "zmax" not in trace  # plotly then spans the data: 94% to 100%
    assert trace["y"] == ["2", "10"] and trace["x"] == ["0.5", "4"]  # numeric order, not text order
    assert trace["z"] == [[0.94, 0.97], [0.99, 1.0]]
    assert trace["text"] == [["94.0%", "97.0%"], ["99.0%", "100%"]]
