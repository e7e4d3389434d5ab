import numpy as np
from click.testing import CliRunner

from xorgpu.cli.main import cli

from .browser import console_errors, figures_loaded, render


def test_sweep_report_renders_in_a_browser_with_its_figure(tmp_path):
    sweep_file, page = tmp_path / "s.jsonl", tmp_path / "report.html"
    runner = CliRunner()
    assert runner.invoke(cli, ["sweep", "--nets", "60", "--hidden", "2,3", "--lr", "0.5,2", "--epochs", "300",
                               "--out", str(sweep_file)]).exit_code == 0
    result = runner.invoke(cli, ["report", str(sweep_file), "-o", str(page)])
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert "http://" not in text and "https://" not in text  # self-contained
    dom, log = render(page, tmp_path / "profile")
    assert figures_loaded(dom) == 1 == dom.count("<img")
    assert "success_rate" in dom and console_errors(log) == []


def test_results_file_report_renders_in_a_browser_with_its_figures(tmp_path):
    nets_file, page = tmp_path / "nets.npz", tmp_path / "report.html"
    runner = CliRunner()
    trained = runner.invoke(cli, ["run", "--nets", "200", "--epochs", "2000", "--sample-every", "500",
                                  "--out", str(nets_file)])
    assert trained.exit_code == 0, trained.output
    result = runner.invoke(cli, ["report", str(nets_file), "-o", str(page)])
    assert result.exit_code == 0, result.output
    dom, log = render(page, tmp_path / "profile")
    assert figures_loaded(dom) == dom.count("<img") == 4  # ECDF, loss histogram, boundaries, loss bands
    assert "nets.npz" in dom and "success rate" in dom.lower() and console_errors(log) == []


def test_report_refuses_what_it_cannot_report(tmp_path):
    missing = CliRunner().invoke(cli, ["report", str(tmp_path / "x.npz"), "-o", str(tmp_path / "r.html")])
    assert missing.exit_code == 2 and missing.stderr.startswith("xorgpu: error: no such file")
    old = tmp_path / "old.npz"  # the format before statistics were stored with the nets
    np.savez(old, seeds=np.arange(2), outputs=np.zeros((2, 4)), epochs_to_solve=np.array([-1, -1]),
             final_loss=np.zeros(2), diverged=np.zeros(2, bool), config=np.array('{"hidden": 4}'))
    result = CliRunner().invoke(cli, ["report", str(old), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 2 and "holds no statistics" in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_a_preset_sweep_report_shows_the_sources_numbers_beside_ours(tmp_path):
    sweep_file, page = tmp_path / "nb.jsonl", tmp_path / "report.html"
    runner = CliRunner()
    trained = runner.invoke(cli, ["sweep", "--preset", "notebook", "--nets", "30", "--out", str(sweep_file)])
    assert trained.exit_code == 0, trained.output
    result = runner.invoke(cli, ["report", str(sweep_file), "-o", str(page)])
    assert result.exit_code == 0, result.output
    dom, log = render(page, tmp_path / "profile")
    assert "Beside the source" in dom and "the seed notebook" in dom
    assert all(f"loss at epoch {e}<" in dom for e in (0, 4000, 8000)) and "0.0401" in dom
    assert console_errors(log) == []
