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


def test_report_refuses_what_it_cannot_report(tmp_path):
    result = CliRunner().invoke(cli, ["report", str(tmp_path / "x.npz"), "-o", str(tmp_path / "r.html")])
    assert result.exit_code != 0 and "use xorgpu plot" in result.stderr
