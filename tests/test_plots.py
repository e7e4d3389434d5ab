from xml.etree import ElementTree

import matplotlib.image
import numpy as np
from click.testing import CliRunner
import pytest

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


def test_the_figures_of_a_results_file_draw_its_nets():
    """What is on the axes, against the nets' own numbers: the ECDF steps up by 1/N at each
    solved net's epoch and ends at the success rate; the histogram's bars count every net
    with a finite loss, solved and unsolved apart; the boundaries show the chosen nets."""
    import xorgpu  # noqa: PLC0415
    from xorgpu.plots import chosen_nets  # noqa: PLC0415

    run = xorgpu.train(seeds=range(0, 300), epochs=3000, progress=False)
    figures = run.plot()
    epochs = run.results.epochs_to_solve
    solved = np.sort(epochs[epochs >= 0])

    ecdf = figures["epochs_to_solve_ecdf"].axes[0]
    x, y = (np.asarray(v) for v in ecdf.lines[0].get_data())
    assert np.array_equal(x, np.concatenate([[0], solved, [3000]]))
    assert np.allclose(y, np.concatenate([[0], np.arange(1, solved.size + 1) / 300, [solved.size / 300]]))
    assert (ecdf.get_xlabel(), ecdf.get_ylabel()) == ("epoch", "share of nets solved")

    histogram = figures["final_loss_histogram"].axes[0]
    finite = np.isfinite(run.results.final_loss)
    labels = [text.get_text() for text in histogram.get_legend().get_texts()]  # one per group, in drawing order
    drawn = {label: sum(bar.get_height() for bar in bars) for label, bars in zip(labels, histogram.containers)}
    assert drawn == {f"solved ({int((finite & (epochs >= 0)).sum()):,} nets)": (finite & (epochs >= 0)).sum(),
                     f"unsolved ({int((finite & (epochs < 0)).sum()):,} nets)": (finite & (epochs < 0)).sum()}
    assert histogram.get_yscale() == "log"

    panels = [ax for ax in figures["decision_boundaries"].axes if ax.get_title()]
    fastest = int(run.results.seeds[np.flatnonzero(epochs == solved[0])[0]])
    assert panels[0].get_title() == f"seed {fastest}\nfastest solved, epoch {solved[0]:,}"
    assert len(panels) == len(chosen_nets(run.results.outcomes()))


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


@pytest.mark.slow
def test_a_preset_with_a_law_is_drawn_beside_it(tmp_path):
    sweep_file = tmp_path / "chauvin.jsonl"
    trained = invoke("sweep", "--preset", "chauvin-hidden-units", "--nets", 8, "--out", sweep_file)
    assert trained.exit_code == 0, trained.output
    result = invoke("plot", sweep_file, "--out", tmp_path / "figures")
    assert result.exit_code == 0, result.output
    assert_figures(tmp_path / "figures", ["success_heatmap", "beside_the_source"])


def test_a_dollar_in_a_title_is_text_not_mathtext(tmp_path):
    out = tmp_path / "nets.npz"
    assert invoke("run", "--seeds", "0:40", "--epochs", 200, "--out", out).exit_code == 0
    title = "cost $10$ and $x^{2$"  # an unbalanced mathtext expression, were it parsed
    result = invoke("plot", out, "--out", tmp_path / "figures", "--title", title)
    assert result.exit_code == 0, result.output
    assert b"$x^{2$" in (tmp_path / "figures" / "epochs_to_solve_ecdf.svg").read_bytes()


def synthetic_results(epochs_to_solve, outcome_names, final_loss):
    from xorgpu.results import NetResults  # noqa: PLC0415
    from xorgpu.outcomes import OUTCOMES  # noqa: PLC0415

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
        (106, "solved, then lost"), (101, "plateau"), (107, "diverged")]


def test_the_final_loss_histogram_counts_solved_and_unsolved_nets_apart():
    from xorgpu import figures  # noqa: PLC0415

    rng = np.random.default_rng(5)
    solved_losses, unsolved_losses = 10 ** rng.uniform(-4, -2, 900), 10 ** rng.uniform(-1.5, -0.5, 37)
    results = synthetic_results([10] * 900 + [-1] * 37, ["solved"] * 900 + ["plateau"] * 37,
                                [*solved_losses, *unsolved_losses[:-1], np.nan])  # a NaN loss is left out
    chart = figures.loss_histogram(results)
    solved, unsolved = chart.traces
    assert (solved.name, sum(solved.y), unsolved.name, sum(unsolved.y)) == ("solved (900 nets)", 900,
                                                                           "unsolved (36 nets)", 36)
    assert chart.y.kind == "log"
    # each bar sits where its nets' losses are: the log10 of every unsolved loss lies within
    # half a bar's width of some unsolved bar's centre
    assert all(np.min(np.abs(unsolved.x - np.log10(v))) <= unsolved.width / 2 + 1e-12 for v in unsolved_losses[:-1])
    assert_both_renderers_draw(chart)


def assert_both_renderers_draw(chart):
    """matplotlib (plots.draw_chart) and plotly (report_html.plotly_chart) draw the chart's
    own numbers, labels and scales."""
    from xorgpu.plots import draw_chart  # noqa: PLC0415
    from xorgpu.report_html import plotly_chart  # noqa: PLC0415

    spec = plotly_chart(chart)
    drawn = [t for t in spec["data"] if t.get("showlegend", True) and "fill" not in t]  # a band: its median line
    assert [t["name"].removesuffix(": median") for t in drawn] == [trace.name for trace in chart.traces]
    for shown, trace in zip(drawn, chart.traces):
        assert np.array_equal(shown["x"], trace.x) and np.array_equal(shown["y"], trace.y, equal_nan=True)
    assert spec["layout"]["xaxis"]["title"]["text"] == chart.x.label
    assert (spec["layout"]["yaxis"]["title"]["text"], spec["layout"]["yaxis"]["type"]) == (chart.y.label, chart.y.kind)

    figure = draw_chart(chart, "a title")
    axes = figure.axes[0]
    assert (axes.get_xlabel(), axes.get_ylabel(), axes.get_yscale()) == (chart.x.label, chart.y.label,
                                                                         "log" if chart.y.kind == "log" else "linear")
    for trace in chart.traces:
        on = figure.axes[1] if trace.right else axes
        if trace.kind == "bars":
            bars = next(c for c in on.containers if len(c) == len(trace.x) and
                        np.allclose([b.get_height() for b in c], trace.y))
            assert np.allclose([b.get_x() + b.get_width() / 2 for b in bars], trace.x)
        else:
            if trace.kind == "line" and trace.low is not None:  # error bars: the container holds label and line
                line = next(c for c in on.containers if c.get_label() == trace.name).lines[0]
            else:
                line = next(line for line in on.lines if line.get_label() in (trace.name, f"{trace.name}: median"))
            x, y = line.get_data()
            if trace.kind == "step":  # matplotlib keeps the points; "post" draws the steps between them
                assert np.array_equal(x, trace.x) and np.array_equal(y, trace.y)
            else:
                assert np.allclose(np.asarray(x, float), trace.x) and np.allclose(np.asarray(y, float), trace.y,
                                                                                 equal_nan=True)


def test_every_chart_is_drawn_alike_by_matplotlib_and_plotly():
    import xorgpu  # noqa: PLC0415
    from xorgpu import figures, sweeps  # noqa: PLC0415

    run = xorgpu.train(nets=300, epochs=1500, hidden=2, lr=1, sample_every=500, progress=False)
    outcomes = run.results.outcomes()
    assert_both_renderers_draw(figures.ecdf([(outcomes, "nets", figures.SOLVED_COLOUR)], 1500, run.stats))
    assert_both_renderers_draw(figures.loss_histogram(outcomes))
    assert_both_renderers_draw(figures.loss_bands(run.stats["loss_curve"]))
    rows = [{"config": {**run.config.to_dict(), "lr": lr}, "seeds": "0:300", "report": report}
            for lr, report in ((0.5, run.stats), (2.0, run.stats), (8.0, run.stats))]
    line = figures.sweep_line(sweeps.table_rows(rows, ["lr"]), "lr")
    assert [trace.right for trace in line.traces] == [False, True, True] and line.right is not None
    assert_both_renderers_draw(line)


SWEEP_CELLS = [{"hidden": h, "lr": lr, "success_rate": rate, "solved": round(rate * 100), "nets": 100, "ci95_low": 0,
                "ci95_high": 1, "median_epochs": epochs, "p90_epochs": epochs}
               for h, lr, rate, epochs in [(2, 0.5, 0.94, 700), (2, 4, 0.97, 200), (10, 0.5, 0.99, 500), (10, 4, 1.0, 90)]]


def test_sweep_heatmaps_span_0_to_100_percent_unless_asked_for_the_datas_range():
    """94% against 100% is drawn as the small difference it is, in the report and the PNG alike."""
    from xorgpu import figures  # noqa: PLC0415
    from xorgpu.plots import success_figure  # noqa: PLC0415
    from xorgpu.report_html import plotly_heatmap  # noqa: PLC0415

    for colour_range, rates, epochs in (("full", (0, 1), (0, 700)), ("data", (0.94, 1.0), (90, 700))):
        heatmap = figures.heatmap(SWEEP_CELLS, SWEEP_CELLS, "hidden", "lr", "success_rate", colour_range)
        assert heatmap.limits == rates and heatmap.values.tolist() == [[0.94, 0.97], [0.99, 1.0]]
        assert heatmap.text == [["94.0%", "97.0%"], ["99.0%", "100%"]]
        assert (heatmap.rows.tick_labels, heatmap.columns.tick_labels) == (["2", "10"], ["0.5", "4"])  # numeric order
        trace = plotly_heatmap(heatmap)["data"][0]
        assert (trace["zmin"], trace["zmax"]) == rates and trace["z"] == heatmap.values.tolist()
        assert trace["y"] == ["2", "10"] and trace["x"] == ["0.5", "4"] and trace["text"] == heatmap.text
        figure = success_figure(SWEEP_CELLS, ["hidden", "lr"], "a title", colour_range)["success_heatmap"]
        success, median = (panel for panel in figure.axes if panel.images)
        assert success.images[0].get_clim() == rates and median.images[0].get_clim() == epochs
        assert success.images[0].get_array().tolist() == heatmap.values.tolist()
        assert (success.get_xlabel(), success.get_ylabel()) == ("learning rate", "hidden units H")
        assert [t.get_text() for t in success.texts] == [text for row in heatmap.text for text in row]
    bars = [axes for axes in figure.axes if not axes.images]
    assert [bar.get_ylabel() for bar in bars] == ["nets solved", "median epochs to solve (solved nets)"]


def test_figures_are_titled_with_what_was_trained_and_label_their_axes_in_words(tmp_path):
    from xorgpu import plots  # noqa: PLC0415
    from xorgpu.config import Config  # noqa: PLC0415
    from xorgpu.trajectory import trained_nets  # noqa: PLC0415

    config = Config(hidden=2, lr=0.5, momentum=0.9, epochs=400, init="uniform:-1:1")
    results = synthetic_results([50, -1, 300], ["solved", "plateau", "solved"], [1e-3, 0.2, 1e-3])
    report = {"success_ci95": (0.2, 0.9)}
    title = "2-2-1 sigmoid net on XOR: learning rate 0.5, momentum 0.9, 400 epochs, initial weights and biases " \
            "U[-1,1); seeds 100:103"
    from xorgpu.words import describe  # noqa: PLC0415

    assert describe(config, "100:103") == title
    figures = plots.job_figures(results, config, report, title, trained_nets(config, plots.chosen_nets(results)))
    for name, figure in figures.items():
        assert figure.get_suptitle().replace("\n", " ").endswith(title), name
    ecdf = figures["epochs_to_solve_ecdf"].axes[0]
    assert (ecdf.get_xlabel(), ecdf.get_ylabel()) == ("epoch", "share of nets solved")
    assert ecdf.get_xlim() == (0, 400)
    boundaries = figures["decision_boundaries"].axes
    assert [axes.get_title() for axes in boundaries[:3]] == [
        "seed 100\nfastest solved, epoch 50", "seed 102\nmedian solved, epoch 300", "seed 101\nplateau"]


def test_no_figure_changes_the_matplotlib_backend_a_notebook_uses(tmp_path):
    """xorgpu draws outside pyplot: a session's backend (inline, a window) stays its own."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    script = (f"import matplotlib; matplotlib.use('svg'); import matplotlib.pyplot as plt\n"
              f"from click.testing import CliRunner\nfrom xorgpu.cli.main import cli\n"
              f"assert CliRunner().invoke(cli, ['run', '--nets', '30', '--epochs', '50', '-o', r'{tmp_path}/n.npz'])"
              f".exit_code == 0\n"
              f"assert CliRunner().invoke(cli, ['plot', r'{tmp_path}/n.npz', '-o', r'{tmp_path}/f']).exit_code == 0\n"
              f"print(matplotlib.get_backend(), len(plt.get_fignums()))")
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert shown == ["svg", "0"]  # the backend chosen, and no figure left open in pyplot


def test_a_saved_map_is_drawn_again_without_training(tmp_path, monkeypatch):
    map_file = tmp_path / "map.npz"
    assert invoke("map", "--x", "lr:0.1:10:log", "--y", "momentum:0:0.9", "--resolution", 16, "--epochs", 200,
                  "--out", map_file).exit_code == 0
    import xorgpu.experiment  # noqa: PLC0415

    monkeypatch.setattr(xorgpu.experiment, "prepare", lambda *a, **k: (_ for _ in ()).throw(AssertionError("trained")))
    result = invoke("plot", map_file, "--out", tmp_path / "figures", "--title", "My map")
    assert result.exit_code == 0, result.output
    assert_figures(tmp_path / "figures", ["map", "boundary_counts"])
    assert b"My map" in (tmp_path / "figures" / "map.svg").read_bytes()


def test_every_frame_of_a_zoom_shows_each_outcome_in_its_own_colour(tmp_path):
    """One palette for the whole GIF: a frame quantized on its own once drew "diverged"
    in the orange of "solved, then lost" (the legend's swatches are in every frame)."""
    from PIL import Image, ImageSequence  # noqa: PLC0415
    from matplotlib.colors import to_rgb  # noqa: PLC0415

    from xorgpu.maps.render import UNSOLVED_COLOURS  # noqa: PLC0415

    gif = tmp_path / "zoom.gif"
    made = invoke("map", "--x", "lr_hidden:log", "--y", "lr_output:log", "--center", "10,10", "--span", 4,
                  "--resolution", 48, "--epochs", 300, "--zoom-to", "193.94,7.911", "--frames", 4, "--gif", gif)
    assert made.exit_code == 0, made.output
    wanted = {name: tuple(round(255 * c) for c in to_rgb(colour)) for name, colour in UNSOLVED_COLOURS.items()}
    frames = list(ImageSequence.Iterator(Image.open(gif)))
    assert len(frames) == 4
    for frame in frames:
        present = {colour for _, colour in frame.convert("RGB").getcolors(1 << 20)}
        assert {name: rgb in present for name, rgb in wanted.items()} == dict.fromkeys(wanted, True)
