from click.testing import CliRunner

from xorgpu.cli.main import cli


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_figures(paths, names):
    for name in names:
        png, svg = paths / f"{name}.png", paths / f"{name}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
        assert b"<svg" in svg.read_bytes()[:1000]


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
