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


def test_heatmap_of_a_two_axis_sweep(tmp_path):
    sweep_file = tmp_path / "s.jsonl"
    assert invoke("sweep", "--nets", 60, "--hidden", "2,3", "--lr", "0.5,2,4", "--epochs", 300,
                  "--out", sweep_file).exit_code == 0
    result = invoke("plot", sweep_file, "--out", tmp_path / "figures")
    assert result.exit_code == 0, result.output
    assert_figures(tmp_path / "figures", ["success_heatmap"])
    one_axis = tmp_path / "one.jsonl"
    assert invoke("sweep", "--nets", 20, "--hidden", "2,3", "--epochs", 50, "--out", one_axis).exit_code == 0
    refused = invoke("plot", one_axis, "--out", tmp_path / "figures")
    assert refused.exit_code != 0 and "exactly two axes" in refused.stderr
