"""docs/notebook.ipynb, executed headless in a real Jupyter kernel (nbclient, ipykernel), as a
reader runs it: every cell without error, xorgpu's objects shown as one-line summaries and
HTML, its figures inline, and the notebook's own matplotlib still drawing after xorgpu's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import xorgpu

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "notebook.ipynb"

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    folder = tmp_path_factory.mktemp("notebook")
    shutil.copy(NOTEBOOK, folder / NOTEBOOK.name)
    notebook = nbformat.read(folder / NOTEBOOK.name, as_version=4)
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}}).execute()
    return notebook, folder


def outputs_of(notebook, source_start: str) -> list[dict]:
    (cell,) = [c for c in notebook.cells if c.cell_type == "code" and c.source.startswith(source_start)]
    return cell.outputs


def shown(outputs: list[dict], mime: str) -> str:
    return "".join(o.get("data", {}).get(mime, "") for o in outputs if o.output_type in ("execute_result", "display_data"))


@pytest.mark.slow
def test_every_cell_runs_and_the_notebook_keeps_its_matplotlib(executed):
    notebook, _ = executed
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    assert shown(outputs_of(notebook, "matplotlib.get_backend() == backend"), "text/plain") == "True"
    own_plot = outputs_of(notebook, "for hidden, group in cells.groupby")
    assert shown(own_plot, "image/png"), "plt.show() after xorgpu's figures showed nothing"


def test_runs_tables_maps_and_figures_show_as_a_summary_and_as_html(executed):
    notebook, folder = executed
    run = outputs_of(notebook, "run = xorgpu.train")
    assert shown(run, "text/plain").startswith("Run(2,000 nets, each a 2-2-1 sigmoid net on XOR, 2,000 epochs, seeds 0:2000: ")
    assert "\n" not in shown(run, "text/plain") and "95% CI" in shown(run, "text/html")
    table = outputs_of(notebook, "cells = xorgpu.sweep")
    assert shown(table, "text/plain").startswith("Sweep of 9 cells over hidden units H, learning rate, 500 nets each")
    assert "<table" in shown(table, "text/html")
    trained_map = outputs_of(notebook, "trainability = xorgpu.map")
    assert shown(trained_map, "text/plain").startswith("MapResult(96 x 96 pixels, lr_hidden 0.1..1000 (log) across")
    assert "data:image/png;base64," in shown(trained_map, "text/html")
    assert shown(outputs_of(notebook, "figures = run.plot()"), "text/html").count("<img") == 3
    for made in ("h2.parquet", "h2.html", "map.npz", "figures/epochs_to_solve_ecdf.svg"):
        assert (folder / made).is_file(), made


def test_a_sweep_file_loads_as_the_table_xorgpu_sweep_gives(tmp_path):
    from click.testing import CliRunner  # noqa: PLC0415

    from xorgpu.cli.main import cli  # noqa: PLC0415

    path = tmp_path / "s.jsonl"
    flags = ["--nets", "60", "--hidden", "2,3", "--lr", "1,0.5", "--epochs", "300"]
    assert CliRunner().invoke(cli, ["sweep", *flags, "-o", str(path)]).exit_code == 0
    loaded = xorgpu.load(str(path))
    swept = xorgpu.sweep(nets=60, hidden=[2, 3], lr=[1, 0.5], epochs=300, progress=False)
    pd.testing.assert_frame_equal(pd.DataFrame(loaded), pd.DataFrame(swept))
    assert repr(loaded).splitlines()[0] == repr(swept).splitlines()[0]
    assert loaded["lr"].tolist() == [0.5, 1.0, 0.5, 1.0]  # ordered by value, whatever order they were typed in
