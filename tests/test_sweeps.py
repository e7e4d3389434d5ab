import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from xorgpu import sweeps
from xorgpu.cli.main import cli
from xorgpu.config import Config, ConfigError, RunOptions, SeedRange
from xorgpu.experiment import prepare
from xorgpu.stats import wilson_interval


def test_cells_are_the_cartesian_product_in_axis_order():
    configs = sweeps.cells(Config(), {"hidden": [2, 3], "lr": [0.5, 1.0, 2.0]})
    assert [(c.hidden, c.lr) for c in configs] == [(2, 0.5), (2, 1.0), (2, 2.0), (3, 0.5), (3, 1.0), (3, 2.0)]
    with pytest.raises(ConfigError):
        sweeps.cells(Config(), {"layers": [1]})
    with pytest.raises(ConfigError):
        sweeps.cells(Config(), {"hidden": [0]})


def test_a_sweep_resumes_without_rerunning_finished_cells(tmp_path):
    path = tmp_path / "sweep.jsonl"
    seeds = SeedRange(0, 50)
    configs = sweeps.cells(Config(epochs=300), {"hidden": [2, 3, 4]})
    trained = []

    def train(pending):
        for config in pending:
            trained.append(config.hidden)
            _, summary = prepare(config, RunOptions(backend="numpy")).train(seeds)
            yield config, summary.report(config)
            if config.hidden == 3:
                return  # an interrupted sweep

    first = sweeps.run(configs[:2], seeds, path, train)
    assert trained == [2, 3] and len(first) == 2
    rows = sweeps.run(configs, seeds, path, train)
    assert trained == [2, 3, 4]  # only the missing cell ran
    assert [r["config"]["hidden"] for r in rows] == [2, 3, 4]
    _, expected = prepare(configs[1], RunOptions(backend="numpy")).train(seeds)
    assert rows[1]["report"] == json.loads(json.dumps(expected.report(configs[1])))


def test_sweep_command_writes_table_json_and_csv(tmp_path):
    out = tmp_path / "s.jsonl"
    args = ["sweep", "--nets", "80", "--hidden", "2,4", "--lr", "1", "--epochs", "400", "--out", str(out)]
    table = CliRunner().invoke(cli, args)
    assert table.exit_code == 0, table.output
    assert "hidden" in table.stdout and "95% CI" in table.stdout and "lr" not in table.stdout.split()[:2]
    as_json = json.loads(CliRunner().invoke(cli, [*args, "--format", "json"]).stdout)
    assert [row["hidden"] for row in as_json] == [2, 4] and all(row["nets"] == 80 for row in as_json)
    as_csv = CliRunner().invoke(cli, [*args, "--format", "csv"]).stdout.splitlines()
    assert as_csv[0].startswith("hidden,nets,solved,success_rate") and len(as_csv) == 3
    assert len(out.read_text().splitlines()) == 2  # the reruns trained nothing new


def test_a_sweep_file_holds_one_sweep(tmp_path):
    out = tmp_path / "s.jsonl"
    base = ["sweep", "--epochs", "50", "--hidden", "2,3", "--out", str(out)]
    assert CliRunner().invoke(cli, [*base, "--nets", "20"]).exit_code == 0
    other_seeds = CliRunner().invoke(cli, [*base, "--nets", "30"])
    assert other_seeds.exit_code == 2 and "holds cells of seeds 0:20, not 0:30" in other_seeds.stderr
    other_fixed = CliRunner().invoke(cli, ["sweep", "--epochs", "60", "--hidden", "2,3", "--nets", "20", "--out", str(out)])
    assert other_fixed.exit_code == 2 and "holds cells with epochs 50, not 60" in other_fixed.stderr
    another_axis = CliRunner().invoke(cli, ["sweep", "--epochs", "50", "--lr", "0.5,1", "--nets", "20", "--out", str(out)])
    assert another_axis.exit_code == 2 and "sweeps hidden over 2, 3, this sweep holds it at 4" in another_axis.stderr
    more = CliRunner().invoke(cli, [*base[:-4], "--hidden", "2,3,4", "--out", str(out), "--nets", "20"])
    assert more.exit_code == 0, more.output  # the same sweep, extended along its axis
    assert len(out.read_text().splitlines()) == 3


def test_without_out_each_experiment_has_its_own_file_and_a_rerun_finds_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def sweep(*args: str) -> str:
        result = CliRunner().invoke(cli, ["sweep", "--nets", "10", "--epochs", "20", *args])
        assert result.exit_code == 0, result.output
        return result.stderr.split("the cells are in ")[1].split()[0]  # the file, as stderr names it

    first = sweep("--hidden", "2,3")
    assert sweep("--lr", "0.5,1") != first and sweep("--hidden", "2,3", "--seeds", "10:20") != first
    assert sweep("--hidden", "2,3", "--epochs", "30") != first and sweep("--hidden", "2,3", "--init", "uniform:-1:1") != first
    assert sweep("--hidden", "2,3,4") == first and sweep("--hidden", "4,3,2", "--lr", "0.1") == first
    assert first.startswith("xorgpu-sweep-hidden-") and len(Path(first).read_text().splitlines()) == 3
    assert len(list(tmp_path.glob("xorgpu-sweep-*.jsonl"))) == 5  # one file per experiment, each one sweep
    published = CliRunner().invoke(cli, ["sweep", "--preset", "notebook"], catch_exceptions=False)
    assert "the cells are in xorgpu-notebook.jsonl " in published.stderr


def test_numeric_axes_are_in_order_of_value(tmp_path):
    out = tmp_path / "s.jsonl"
    result = CliRunner().invoke(cli, ["sweep", "--nets", "20", "--epochs", "50", "--lr", "2,0.1,0.5",
                                      "--format", "json", "--out", str(out)])
    assert [row["lr"] for row in json.loads(result.stdout)] == [0.1, 0.5, 2.0]
    text = CliRunner().invoke(cli, ["sweep", "--nets", "20", "--epochs", "50", "--lr", "0.5,2,0.1", "--out", str(out)])
    header, blank, columns, *rows = text.stdout.splitlines()
    assert header.startswith("2-4-1 sigmoid net on XOR: momentum 0, 50 epochs") and header.endswith("seeds 0:20")
    assert blank == "" and columns.split()[0] == "lr" and [line.split()[0] for line in rows] == ["0.1", "0.5", "2.0"]


def test_the_sweep_table_never_rounds_to_100_percent(tmp_path):
    rows = [{"config": Config(hidden=h).to_dict(), "seeds": "0:2000",
             "report": {"nets": 2000, "solved": s, "success_rate": s / 2000, "success_ci95": list(wilson_interval(s, 2000)),
                        "epochs_to_solve": {"median": 10.0, "p90": 20.0}, "failures": {}}}
            for h, s in ((2, 1999), (3, 2000))]
    lines = sweeps.to_text(sweeps.table_rows(rows, ["hidden"]), ["hidden"]).splitlines()
    assert lines[1].split()[:3] == ["2", "1,999/2,000", "99.950%"] and lines[1].split()[4] == "99.9912%]"
    assert lines[2].split()[:3] == ["3", "2,000/2,000", "100%"] and lines[2].split()[4] == "100%]"
