"""Literature presets: every reported number speaks of real cells, and the CLI shows both."""

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from xorgpu import presets
from xorgpu import sweeps
from xorgpu.cli.main import cli
from xorgpu.config import ConfigError


@pytest.mark.parametrize("name", list(presets.PRESETS))
def test_every_reported_number_matches_some_cell_of_its_preset(name):
    preset = presets.get(name)
    configs = sweeps.cells(preset.base, preset.axes)
    assert preset.source and preset.reported
    for reported in preset.reported:
        matching = [c for c in configs if all(getattr(c, k) == v for k, v in reported.cell.items())]
        assert matching, (name, reported.quantity, reported.cell)


def test_the_chauvin_trend_is_a_least_squares_line_per_update_rule():
    rows = [{"config": {"update": update, "hidden": h},
             "report": {"epochs_to_solve": {"median": 280 - 33 * math.log2(h) + (10 if update == "online" else 0)}}}
            for update in ("batch", "online") for h in (2, 4, 8, 16, 32)]
    lines = presets.chauvin_fit(rows)
    assert [line["ours"] for line in lines] == ["median epochs = 280 - 33 log2 H", "median epochs = 290 - 33 log2 H"]


def test_unknown_preset_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match="choose from notebook"):
        presets.get("minsky1969")


def test_presets_command_lists_every_preset_with_its_source():
    result = CliRunner().invoke(cli, ["presets"])
    assert result.exit_code == 0
    for preset in presets.PRESETS.values():
        assert preset.name in result.stdout and preset.source in result.stdout


def test_a_preset_sweep_prints_the_sources_numbers_beside_ours_and_resumes(tmp_path):
    out = tmp_path / "rhw.jsonl"
    args = ["sweep", "--preset", "rhw1986-local-minima", "--nets", "60", "--out", str(out)]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    text = first.stdout
    assert "source: Rumelhart, Hinton & Williams (1986)" in text
    assert "[update=batch, lr=0.25] runs stuck in a local minimum" in text
    assert "[update=online, lr=0.5] runs stuck" in text
    assert text.count("    ours:   ") == 4 and "of 60 unsolved" in text
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["config"]["update"], r["config"]["hidden"], r["config"]["lr"], r["config"]["momentum"])
            for r in rows] == [("batch", 2, 0.25, 0.9), ("batch", 2, 0.5, 0.9),
                               ("online", 2, 0.25, 0.9), ("online", 2, 0.5, 0.9)]
    again = CliRunner().invoke(cli, [*args, "--format", "json"])  # resumed: nothing retrained
    assert len(out.read_text().splitlines()) == 4
    data = json.loads(again.stdout)
    assert data["preset"] == "rhw1986-local-minima" and len(data["cells"]) == 4
    assert [line["cell"] for line in data["comparison"]] == [
        "update=batch, lr=0.25", "update=online, lr=0.25", "update=batch, lr=0.5", "update=online, lr=0.5"]


def test_the_notebook_preset_compares_the_notebooks_printed_losses(tmp_path):
    """Beside each loss the notebook prints (epochs 0, 4000, 8000), the preset prints the
    median over our nets: the median of what the notebook's own code prints for those
    seeds, to the 2 figures shown (the statistics' sketch is within 1%)."""
    from xorgpu.notebook import run_notebook  # noqa: PLC0415

    args = ["sweep", "--preset", "notebook", "--nets", "9", "--out", str(tmp_path / "nb.jsonl")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    printed = {seed: [] for seed in range(9)}
    for seed, losses in printed.items():
        run_notebook(seed, print_fn=lambda line, losses=losses: losses.append(float(line.split("Loss: ")[1]))
                     if line.startswith("Epoch") else None)
    lines = result.stdout.splitlines()
    for column, (epoch, source) in enumerate([(0, "0.318"), (4000, "0.0401"), (8000, "0.00427")]):
        at = lines.index(f"[-] loss at epoch {epoch}")
        assert lines[at + 1] == f"    source: {source}"
        ours = float(lines[at + 2].split("median ")[1].split(",")[0])
        median = float(np.median([losses[column] for losses in printed.values()]))
        assert ours == pytest.approx(median, rel=0.06), (epoch, ours, median)  # 2 figures, and the sketch's 1%


def test_a_preset_with_its_own_axes_is_refused():
    result = CliRunner().invoke(cli, ["sweep", "--preset", "notebook", "--hidden", "2,3"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "xorgpu: error: --preset notebook sets every config value: drop --hidden"
