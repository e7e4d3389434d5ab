"""HTML reports, opened in headless chromium: what they state, that every figure is drawn with no
console error and nothing fetched, that a column sorts and that the CSV link holds the table.
Numbers are checked against the files the reports were made from, read independently."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from xorgpu.cli.main import cli

from .browser import numbers


def invoke(*args) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.stdout


def assert_drawn_and_self_contained(rendered, figures: int) -> None:
    assert rendered.console_errors() == []
    assert rendered.figures_on_page == figures
    assert rendered.figures_drawn == figures
    assert all(marks > 0 for marks in rendered.figures_with_data())
    fetched = rendered.script("return performance.getEntriesByType('resource').map(function (e) { return e.name; })")
    assert [url for url in fetched if not url.startswith(("data:", "file:", "blob:"))] == []
    linked = rendered.script("return Array.prototype.map.call(document.querySelectorAll("
                             "'[src^=\"http\"], [href^=\"http\"], [href^=\"//\"]'), function (e) { return e.outerHTML; })")
    assert linked == []


def assert_sorts(rendered, table: str, key: str) -> None:
    """Clicking a header sorts the rows by it, ascending then descending."""
    values = numbers(rendered.column(table, key))
    rendered.click_header(table, key)
    ascending = numbers(rendered.column(table, key))
    assert ascending == sorted(values) and len(set(values)) > 1  # a column of one value would prove nothing
    rendered.click_header(table, key)
    assert numbers(rendered.column(table, key)) == sorted(values, reverse=True)


@pytest.fixture(scope="module")
def sweep_page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    sweep_file, page = folder / "s.jsonl", folder / "report.html"
    invoke("sweep", "--nets", 60, "--seeds", "1000:1060", "--hidden", "2,3", "--lr", "0.25,0.5,2", "--epochs", 300,
           "--momentum", 0.5, "-o", sweep_file)
    invoke("report", sweep_file, "-o", page)
    return sweep_file, page


def test_a_sweep_report_states_what_was_trained_and_draws_its_figures(sweep_page, browser):
    _, page = sweep_page
    rendered = browser(page)
    assert_drawn_and_self_contained(rendered, figures=2)  # success and median-epochs heatmaps
    text = rendered.text
    assert "seeds 1000:1060" in text and "300 epochs" in text and "momentum 0.5" in text
    assert "xorgpu 0." in text and "Report made 20" in text and "numpy" in text


def test_a_sweep_reports_table_holds_each_cells_numbers_and_sorts(sweep_page, browser):
    sweep_file, page = sweep_page
    rendered = browser(page)
    (table,) = rendered.tables()
    cells = [json.loads(line) for line in sweep_file.read_text().splitlines()]
    rows = {(float(r["hidden"]), float(r["lr"])): r for r in rendered.csv(table)}
    assert len(rows) == len(cells) == 6
    for cell in cells:
        row, report = rows[(cell["config"]["hidden"], cell["config"]["lr"])], cell["report"]
        assert int(row["solved"]) == report["solved"]
        assert float(row["success_rate"]) == pytest.approx(report["solved"] / report["nets"], abs=1e-12)
        assert float(row["ci95"]) == pytest.approx(report["success_ci95"][0], abs=1e-12)
    shown = rendered.text
    assert all(f"{c['report']['solved']}/60" in shown for c in cells)  # success as solved/N beside the %
    assert_sorts(rendered, table, "success_rate")
    assert_sorts(rendered, table, "lr")


@pytest.fixture(scope="module")
def results_page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("results")
    nets_file, page = folder / "nets.parquet", folder / "report.html"
    invoke("run", "--nets", 200, "--epochs", 2000, "--sample-every", 500, "--hidden", 2, "--lr", 1, "-o", nets_file)
    invoke("report", nets_file, "-o", page)
    return nets_file, page


def test_a_results_report_draws_every_figure_and_states_its_provenance(results_page, browser):
    _, page = results_page
    rendered = browser(page)
    assert_drawn_and_self_contained(rendered, figures=4)  # ECDF, loss histogram, loss bands, boundaries (PNG)
    text = rendered.text
    assert "nets.parquet" in text and "seeds 0:200" in text and "2,000 epochs" in text and "2-2-1" in text
    assert "started" in text and "run time" in text and "xorgpu 0." in text
    assert "Trained by the fused engine, backend numpy, on cpu (" in text  # as `xorgpu run` says it


def test_a_results_reports_tables_match_the_nets_file(results_page, browser):
    nets_file, page = results_page
    rendered = browser(page)
    nets = pd.read_parquet(nets_file)
    solved = nets["epochs_to_solve"][nets["epochs_to_solve"] >= 0].to_numpy()
    epochs_table, outcomes_table = rendered.tables()[:2]
    epochs = {row["statistic"]: float(row["epochs"]) for row in rendered.csv(epochs_table)}
    assert epochs["fewest"] == solved.min() and epochs["most"] == solved.max()
    assert epochs["median"] == np.median(solved)
    outcomes = {row["outcome"]: int(row["nets"]) for row in rendered.csv(outcomes_table)}
    counted = nets["outcome"].value_counts().to_dict()
    assert outcomes["plateau"] == counted.get("plateau", 0)
    assert outcomes["still improving"] == counted.get("still_improving", 0)
    assert sum(outcomes.values()) == len(nets)
    headline = f"of the nets solved XOR ({solved.size} of 200)"
    assert headline in rendered.text
    assert_sorts(rendered, outcomes_table, "nets")


def test_a_preset_sweep_report_shows_the_sources_numbers_beside_ours(tmp_path, browser):
    sweep_file, page = tmp_path / "nb.jsonl", tmp_path / "report.html"
    invoke("sweep", "--preset", "notebook", "--nets", 30, "-o", sweep_file)
    invoke("report", sweep_file, "-o", page)
    rendered = browser(page)
    assert rendered.console_errors() == [] and rendered.figures_drawn == rendered.figures_on_page
    text = rendered.text
    assert "Beside the source" in text and "the seed notebook" in text and "assumed:" in text
    assert all(f"loss at epoch {e}" in text for e in (0, 4000, 8000)) and "0.0401" in text


def test_a_compare_report_shows_both_sides_and_the_paired_table(tmp_path, browser):
    a, b, page = tmp_path / "a.npz", tmp_path / "b.npz", tmp_path / "compare.html"
    invoke("run", "--seeds", "0:300", "--epochs", 800, "--hidden", 2, "--lr", 0.5, "-o", a)
    invoke("run", "--seeds", "0:300", "--epochs", 800, "--hidden", 2, "--lr", 2, "-o", b)
    got = json.loads(invoke("compare", a, b, "--json", "--report", page))
    rendered = browser(page)
    assert_drawn_and_self_contained(rendered, figures=1)
    text = rendered.text
    assert "learning rate 0.5" in text and "learning rate 2" in text and "seeds 0:300" in text
    paired, only_one = rendered.tables()
    counts = {row[""]: row for row in rendered.csv(paired)}
    with np.load(a) as first, np.load(b) as second:
        solved_a, solved_b = first["epochs_to_solve"] >= 0, second["epochs_to_solve"] >= 0
    assert int(counts["A solves"]["b_solves"]) == np.sum(solved_a & solved_b) == got["both_solved"]
    assert int(counts["A solves"]["b_does_not"]) == np.sum(solved_a & ~solved_b)
    assert int(counts["A does not"]["b_solves"]) == np.sum(~solved_a & solved_b)
    assert int(counts["A does not"]["b_does_not"]) == np.sum(~solved_a & ~solved_b)
    seeds = {row["solved_by"]: row["seeds"].split() for row in rendered.csv(only_one)}
    with np.load(a) as first:
        assert [int(s) for s in seeds["B only"]] == first["seeds"][~solved_a & solved_b].tolist()


def test_report_refuses_what_it_cannot_report(tmp_path):
    missing = CliRunner().invoke(cli, ["report", str(tmp_path / "x.npz"), "-o", str(tmp_path / "r.html")])
    assert missing.exit_code == 2 and missing.stderr.startswith("xorgpu: error: no such file")
    old = tmp_path / "old.npz"  # the format before statistics were stored with the nets
    np.savez(old, seeds=np.arange(2), outputs=np.zeros((2, 4)), epochs_to_solve=np.array([-1, -1]),
             final_loss=np.zeros(2), diverged=np.zeros(2, bool), config=np.array('{"hidden": 4}'))
    result = CliRunner().invoke(cli, ["report", str(old), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 2 and "holds no statistics" in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_a_map_report_shows_the_map_its_outcomes_and_the_boundarys_dimension(tmp_path, browser):
    from xorgpu.maps import MapResult  # noqa: PLC0415
    from xorgpu.maps.dimension import boundary_dimension  # noqa: PLC0415

    map_file, page = tmp_path / "map.npz", tmp_path / "map.html"
    invoke("map", "--x", "lr_hidden:0.05:500:log", "--y", "lr_output:0.05:500:log", "--resolution", 64,
           "--epochs", 600, "--out", map_file)
    invoke("report", map_file, "-o", page)
    rendered = browser(page)
    assert_drawn_and_self_contained(rendered, figures=3)  # the map (PNG), the interactive map, the box counts (PNG)
    result = MapResult.load(str(map_file))
    text = rendered.text
    assert "4,096 nets, one per pixel: 2-4-1 sigmoid net on XOR" in text and "64 x 64 pixels" in text
    assert "across, learning rate of the hidden layer (W1, b1), lr_hidden, log scale, from 0.05 to 500" in text
    outcomes_table, counts_table = rendered.tables()[:2]
    counted = np.bincount(result.outcome.ravel(), minlength=5)
    shown = {row["outcome"]: int(row["pixels"]) for row in rendered.csv(outcomes_table)}
    assert shown["plateau"] == counted[2] and shown["solved"] == counted[0] and sum(shown.values()) == 4096
    counts = boundary_dimension(result.solved)
    assert [int(row["boxes"]) for row in rendered.csv(counts_table)] == counts.counts.tolist()
    assert f"dimension {counts.dimension:.3f} ± {counts.stderr:.3f}" in text
