from xml.etree import ElementTree

import matplotlib.image
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
