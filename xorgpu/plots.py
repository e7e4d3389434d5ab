"""Figures of a job, a results file or a sweep, with matplotlib (PNG and SVG, for papers).

- epochs-to-solve ECDF: the fraction of nets solved by each epoch (unsolved nets keep the
  curve below 1, so its end is the success rate, annotated with its interval);
- final-loss histogram: solved and unsolved nets apart, on log-spaced bins and a log count
  axis (a few unsolved nets stay visible beside thousands of solved ones);
- loss bands over epochs (p10-p90 around the median) of the nets that end solved and of
  those that do not, from statistics with a sampled loss curve (`--sample-every`);
- decision boundaries of the fastest, median and slowest solved nets and of one net of
  each way of failing, given their trained weights (`trained_nets`);
- for a sweep: success rate with its interval and epochs to solve along one axis (a log
  axis where values span decades); heatmaps of the success rate (0 to 100% unless asked
  for the data's range) and of median epochs over two; for a literature preset whose
  source gives a law (Chauvin's P = 280 - 33 log2 H), our numbers beside it.
Each figure is titled with what was trained (xorgpu.words.describe) unless the caller
gives its own title, and its axes say what they show in words, with their scale.

Figures are matplotlib `Figure` objects made without pyplot, so drawing here never
changes the backend of a notebook's own plots; the builders return them (tests read what
they hold) and `save` writes each as PNG and SVG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import outcomes, presets, sweeps, words
from .engines.contract import PATTERNS, TARGETS
from .outcomes import FAILURES, code
from .results import NetOutcomes
from .words import percent

FORMATS = ("png", "svg")
WIDTH = 7.5  # inches: full width in a paper's column pair, or a report's page
SPAN_FOR_LOG_AXIS = 100  # one-axis sweeps: a log axis where the largest value is this many times the smallest
SOLVED_COLOUR, UNSOLVED_COLOUR = "tab:blue", "tab:red"
COLOUR_RANGES = ("full", "data")  # a heatmap's colours span 0-100% (epochs from 0), or the data's range
TITLE_SIZE = "medium"


def new_figure(**options: Any) -> Any:
    """A matplotlib Figure of its own, outside pyplot: no backend is chosen or changed."""
    from matplotlib.figure import Figure  # noqa: PLC0415  (matplotlib loads slowly)

    return Figure(**options)


def literal(text: str) -> str:
    """Text from a user (a file name, a label) as matplotlib should show it: "$" stays a
    dollar sign instead of opening mathtext."""
    return str(text).replace("$", r"\$")


def titled(figure: Any, title: str) -> None:
    """The figure's title: what was trained, wrapped, above its panels' own titles."""
    figure.suptitle(literal(words.title_lines(title)), fontsize=TITLE_SIZE)


def save(figures: dict[str, Any], folder: Path) -> list[Path]:
    """Each figure as FOLDER/NAME.png and FOLDER/NAME.svg."""
    paths = []
    for name, figure in figures.items():
        for fmt in FORMATS:
            path = folder / f"{name}.{fmt}"
            figure.savefig(path, dpi=150, bbox_inches="tight")
            paths.append(path)
    return paths


class Figures(dict):
    """Figures by name, as `Run.plot()` and `MapResult.plot()` give them: a notebook shows
    them all; `save(folder)` writes each as PNG and SVG; `figures[name]` is a matplotlib
    Figure to change before saving."""

    def save(self, folder: str | Path) -> list[Path]:
        """Write every figure to FOLDER/NAME.png and .svg (the folder is made if missing),
        all or none, as `xorgpu plot` does."""
        import tempfile  # noqa: PLC0415

        from .files import check_folder, move_into  # noqa: PLC0415

        check_folder(Path(folder))
        with tempfile.TemporaryDirectory() as scratch:
            return move_into(save(self, Path(scratch)), Path(folder))

    def _repr_html_(self) -> str:
        import base64  # noqa: PLC0415
        import html  # noqa: PLC0415
        import io  # noqa: PLC0415

        parts = []
        for name, figure in self.items():
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
            data = base64.b64encode(buffer.getvalue()).decode()
            parts.append(f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{data}" '
                         f'style="max-width: 100%"><figcaption>{html.escape(name)}</figcaption></figure>')
        return "".join(parts)

    def __repr__(self) -> str:
        return f"Figures({', '.join(self)})"


def epochs_to_solve_ecdf(results: NetOutcomes, epochs: int, report: dict[str, Any], title: str) -> Any:
    solved = np.sort(results.epochs_to_solve[results.epochs_to_solve >= 0])
    figure = new_figure(figsize=(WIDTH, 4.4), layout="constrained")
    axes = figure.subplots()
    fraction = np.arange(1, solved.size + 1) / len(results)
    end = fraction[-1] if solved.size else 0.0
    axes.step(np.concatenate([[0], solved, [epochs]]), np.concatenate([[0], fraction, [end]]), where="post",
              color=SOLVED_COLOUR)
    low, high = report.get("success_ci95", (None, None))
    axes.axhline(end, color="grey", linestyle=":", linewidth=1)
    axes.text(0.98, 0.05, f"solved by epoch {epochs:,}: {percent(end)} ({solved.size:,}/{len(results):,})\n"
              f"95% CI [{percent(low)}, {percent(high)}] (Wilson)", transform=axes.transAxes, va="bottom",
              ha="right", bbox={"facecolor": "white", "edgecolor": "lightgrey"})
    axes.set(xlabel="epoch", ylabel="share of nets solved", ylim=(0, 1.02), xlim=(0, epochs),
             title="Epochs to solve (ECDF)")
    axes.grid(alpha=0.3)
    titled(figure, title)
    return figure


def final_loss_histogram(results: NetOutcomes, title: str) -> Any:
    finite = np.isfinite(results.final_loss)
    losses = np.log10(np.maximum(results.final_loss[finite].astype(np.float64), 1e-30))
    solved = (results.epochs_to_solve >= 0)[finite]
    figure = new_figure(figsize=(WIDTH, 4.4), layout="constrained")
    axes = figure.subplots()
    bins = np.linspace(losses.min(), losses.max() + 1e-9, 81) if losses.size else 10
    for mask, label, colour in ((solved, "solved", SOLVED_COLOUR), (~solved, "unsolved", UNSOLVED_COLOUR)):
        if mask.any():
            axes.hist(losses[mask], bins=bins, color=colour, alpha=0.6, label=f"{label} ({mask.sum():,} nets)")
    axes.set_yscale("log")
    axes.set(xlabel="final loss: log10 of the mean squared error", ylabel="nets (log scale)",
             title="Final loss, solved and unsolved nets apart")
    axes.legend()
    axes.grid(alpha=0.3)
    titled(figure, title)
    return figure


def loss_bands(report: dict[str, Any], title: str) -> Any:
    curve = report["loss_curve"]
    epochs = [row["epoch"] for row in curve]
    figure = new_figure(figsize=(WIDTH, 4.4), layout="constrained")
    axes = figure.subplots()
    split = "solved" in curve[0]
    groups = [("solved", SOLVED_COLOUR), ("unsolved", UNSOLVED_COLOUR)] if split else [(None, SOLVED_COLOUR)]
    for group, colour in groups:
        rows = [row[group] if group else row for row in curve]
        if all(r["median"] is None for r in rows):
            continue
        value = lambda r, q: np.nan if r[q] is None else r[q]  # noqa: E731
        label = f"{group} nets" if group else "all nets"
        axes.fill_between(epochs, [value(r, "p10") for r in rows], [value(r, "p90") for r in rows], alpha=0.25,
                          color=colour, label=f"{label}: p10-p90")
        axes.plot(epochs, [value(r, "median") for r in rows], color=colour, label=f"{label}: median")
    axes.set(yscale="log", xlabel="epoch", ylabel="loss: mean squared error (log scale)",
             title="Loss over training (quantiles within 1%)")
    axes.legend(fontsize="small")
    axes.grid(alpha=0.3)
    titled(figure, title)
    return figure


def job_figures(results: NetOutcomes, config: Any, report: dict[str, Any], title: str,
                trained: list[tuple[int, str, Any]]) -> dict[str, Any]:
    """Every figure of a job or results file, by file name: ECDF, loss histogram,
    boundaries (trained: see decision_boundaries), loss bands."""
    figures = {"epochs_to_solve_ecdf": epochs_to_solve_ecdf(results, config.epochs, report, title),
               "final_loss_histogram": final_loss_histogram(results, title),
               "decision_boundaries": decision_boundaries(trained, config, title)}
    if report.get("loss_curve"):
        figures["loss_bands"] = loss_bands(report, title)
    return figures


def sweep_figures(rows: list[dict[str, Any]], title: str | None = None, colour_range: str = "full") -> dict[str, Any]:
    """Every figure of a sweep file's rows, by file name: success rates and epochs, and for
    a literature preset with a law of its own, ours beside the source's. title: instead of
    what every cell shares."""
    varying = sweeps.varying_axes(rows)
    title = title or fixed_settings(rows, varying)
    figures = success_figure(sweeps.table_rows(rows, varying), varying, title, colour_range)
    preset = presets.of_rows(rows)
    if preset is not None and preset.curve is not None:
        figures["beside_the_source"] = preset_figure(rows, preset.curve, title)
    return figures


def fixed_settings(rows: list[dict[str, Any]], varying: list[str]) -> str:
    """What every cell of a sweep shares, in words: the net, its fixed settings, the seeds."""
    return words.describe(rows[0]["config"], rows[0]["seeds"], omit=tuple(varying))


def success_figure(flat: list[dict[str, Any]], axes_names: list[str], title: str,
                   colour_range: str = "full") -> dict[str, Any]:
    """A line over one axis; heatmaps of success and of median epochs over two (the last two
    axes, a row of panels for each combination of the others)."""
    if not axes_names:
        return {}
    if len(axes_names) == 1:
        return {"success_by_" + axes_names[0]: sweep_lines(flat, axes_names[0], title)}
    *outer, rows_axis, cols_axis = axes_names
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in flat:
        groups.setdefault(tuple(r[a] for a in outer), []).append(r)
    row_values = sweeps.in_order([r[rows_axis] for r in flat])
    col_values = sweeps.in_order([r[cols_axis] for r in flat])
    cell_w, cell_h = 1.1 * len(col_values) + 1.8, 0.7 * len(row_values) + 1.3
    figure = new_figure(figsize=(max(WIDTH, 2 * cell_w), len(groups) * cell_h + 1.0), layout="constrained")
    panels = figure.subplots(len(groups), 2, squeeze=False)
    for line, (key, cells) in enumerate(groups.items()):
        where = ", ".join(words.setting(a, v) for a, v in zip(outer, key))
        for column, field in enumerate(("success_rate", "median_epochs")):
            _heatmap(figure, panels[line][column], flat, cells, field, rows_axis, cols_axis, row_values, col_values,
                     where, colour_range)
    titled(figure, f"Sweep over {', '.join(words.label(a) for a in axes_names)}\n{title}")
    return {"success_heatmap": figure}


HEATMAPS = {  # field -> (panel title, colour bar label, colour map: bright is good on both)
    "success_rate": ("nets solved", "nets solved, %", "viridis"),
    "median_epochs": ("median epochs to solve", "median epochs to solve (solved nets)", "viridis_r"),
}


def heatmap_range(flat: list[dict[str, Any]], field: str, colour_range: str) -> tuple[float, float]:
    """The values a heatmap's colours span: 0 to 100% of nets solved and 0 to the most
    median epochs ("full", so 93% against 84% is not drawn at full contrast), or the
    data's own range ("data")."""
    values = [r[field] for r in flat if r[field] is not None]
    if colour_range == "data" and values:
        low, high = min(values), max(values)
        return (low, high) if high > low else (low, low + 1e-9)
    if field == "success_rate":
        return 0.0, 1.0
    return 0.0, max(values, default=1) or 1


def _heatmap(figure: Any, panel: Any, flat: list[dict[str, Any]], cells: list[dict[str, Any]], field: str,
             rows_axis: str, cols_axis: str, row_values: list[Any], col_values: list[Any], where: str,
             colour_range: str) -> None:
    name, bar_label, cmap = HEATMAPS[field]
    grid = np.full((len(row_values), len(col_values)), np.nan)
    for r in cells:
        if r[field] is not None:
            grid[row_values.index(r[rows_axis]), col_values.index(r[cols_axis])] = r[field]
    low, high = heatmap_range(flat, field, colour_range)
    image = panel.imshow(grid, vmin=low, vmax=high, cmap=cmap, aspect="auto")
    panel.set_xticks(range(len(col_values)), [str(v) for v in col_values])
    panel.set_yticks(range(len(row_values)), [str(v) for v in row_values])
    panel.set(xlabel=words.label(cols_axis), ylabel=words.label(rows_axis),
              title=f"{name}{' (' + where + ')' if where else ''}")
    middle = (low + high) / 2
    for (i, j), value in np.ndenumerate(grid):
        if np.isfinite(value):
            text = percent(value, 1) if field == "success_rate" else f"{value:.0f}"
            light = value < middle if cmap == "viridis" else value > middle
            panel.text(j, i, text, ha="center", va="center", fontsize="small", color="white" if light else "black")
    bar = figure.colorbar(image, ax=panel, shrink=0.9)
    bar.set_label(bar_label)
    if field == "success_rate":
        bar.ax.yaxis.set_major_formatter(lambda v, _: percent(v, 0 if colour_range == "full" else 1))


def sweep_lines(flat: list[dict[str, Any]], axis: str, title: str) -> Any:
    """Success rate (with its 95% CI) and median / p90 epochs to solve along one axis, on a
    numeric axis where the values are numbers (log where they span decades)."""
    values = [r[axis] for r in flat]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    x = np.array(values, dtype=float) if numeric else np.arange(len(flat))
    log_axis = numeric and min(x) > 0 and max(x) / min(x) >= SPAN_FOR_LOG_AXIS
    rate = np.array([r["success_rate"] for r in flat])
    low = np.maximum(rate - np.array([r["ci95_low"] for r in flat]), 0)
    high = np.maximum(np.array([r["ci95_high"] for r in flat]) - rate, 0)
    figure = new_figure(figsize=(max(WIDTH, 10), 4.6), layout="constrained")
    left, right = figure.subplots(1, 2, sharex=True)
    left.errorbar(x, 100 * rate, yerr=100 * np.vstack([low, high]), fmt="o-", capsize=3)
    xlabel = words.label(axis) + (" (log scale)" if log_axis else "")
    left.set(xlabel=xlabel, ylabel="nets solved, % (95% CI)", title="Success rate", ylim=(-2, 102))
    for name, style in (("median_epochs", "o-"), ("p90_epochs", "s--")):
        right.plot(x, [np.nan if r[name] is None else r[name] for r in flat], style,
                   label={"median_epochs": "median", "p90_epochs": "90th percentile"}[name])
    right.set(xlabel=xlabel, ylabel="epochs to solve (solved nets)", title="Epochs to solve")
    right.legend()
    from matplotlib.ticker import NullLocator  # noqa: PLC0415

    for panel in (left, right):
        panel.grid(alpha=0.3)
        if log_axis:
            panel.set_xscale("log")
            panel.xaxis.set_minor_locator(NullLocator())
        panel.set_xticks(x, [f"{v:g}" if numeric else str(v) for v in values])  # the swept values, as typed
    titled(figure, f"Sweep over {words.label(axis)}\n{title}")
    return figure


def preset_figure(rows: list[dict[str, Any]], curve: presets.SourceCurve, title: str) -> Any:
    """Our median epochs to solve (p10-p90 bars) along curve.axis, one line per value of the
    other varying axes, beside the source's law, in the source's unit (presentations; ours
    counted as epochs, sweeps through the 4 patterns)."""
    others = [a for a in sweeps.varying_axes(rows) if a != curve.axis]
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row["config"][a] for a in others), []).append(row)
    figure = new_figure(figsize=(WIDTH, 4.9), layout="constrained")
    axes = figure.subplots()
    for key, cells in groups.items():
        cells = [c for c in cells if c["report"]["epochs_to_solve"]["median"] is not None]
        x = np.array([c["config"][curve.axis] for c in cells], dtype=float)
        ets = [c["report"]["epochs_to_solve"] for c in cells]
        median = np.array([e["median"] for e in ets])
        bars = np.array([[m - e["p10"] for m, e in zip(median, ets)], [e["p90"] - m for m, e in zip(median, ets)]])
        label = ", ".join(words.setting(a, v) for a, v in zip(others, key)) or "ours"
        axes.errorbar(x, median, yerr=bars, fmt="o-", capsize=3, label=f"ours ({label}): median, p10-p90")
    values = sorted({float(row["config"][curve.axis]) for row in rows})
    positive = values[0] > 0  # then a log axis: doublings evenly spaced, as Chauvin's log2 H
    dense = np.geomspace(values[0], values[-1], 100) if positive else np.linspace(values[0], values[-1], 100)
    axes.plot(dense, [curve.law(v) for v in dense], "k--", label=curve.label)
    if positive:
        axes.set_xscale("log", base=2)
    axes.set_xticks(values, [f"{v:g}" for v in values])
    axes.set(xlabel=words.label(curve.axis) + (" (log scale)" if positive else ""),
             ylabel="presentations to solve\n(ours: epochs, each a sweep of the 4 patterns)",
             title="Ours beside the source, in its unit")
    axes.legend(fontsize="small")
    axes.grid(alpha=0.3)
    titled(figure, title)
    return figure


def chosen_nets(results: NetOutcomes) -> list[tuple[int, str]]:
    """(seed, why) of the nets whose boundaries are drawn: the fastest, median and slowest
    solved nets, then the first net of each way of failing that occurs."""
    chosen = []
    solved = np.flatnonzero(results.epochs_to_solve >= 0)
    if solved.size:
        order = solved[np.argsort(results.epochs_to_solve[solved], kind="stable")]
        for name, k in (("fastest", order[0]), ("median", order[len(order) // 2]), ("slowest", order[-1])):
            entry = (int(results.seeds[k]), f"{name} solved, epoch {int(results.epochs_to_solve[k]):,}")
            if entry[0] not in [seed for seed, _ in chosen]:
                chosen.append(entry)
    for failure in FAILURES:
        found = np.flatnonzero(results.outcome == code(failure))
        if found.size:
            chosen.append((int(results.seeds[found[0]]), outcomes.label(failure)))
    return chosen


def decision_boundaries(trained: list[tuple[int, str, Any]], config: Any, title: str) -> Any:
    """The output over the input plane of trained nets: (seed, why it is shown, its trained
    xorgpu.params.Params of one net), as xorgpu.trajectory.trained_nets gives them."""
    from matplotlib.lines import Line2D  # noqa: PLC0415

    from .engines.array import predict  # noqa: PLC0415

    grid = np.linspace(-0.5, 1.5, 101)
    x0, x1 = np.meshgrid(grid, grid)
    plane = np.column_stack([x0.ravel(), x1.ravel()])  # (101 * 101, 2)
    columns = min(4, max(1, len(trained)))
    lines = -(-max(1, len(trained)) // columns)
    figure = new_figure(figsize=(WIDTH * columns / 3.2, 2.6 * lines + 1.2), layout="constrained")
    axes = figure.subplots(lines, columns, squeeze=False)
    image = None
    for ax, (seed, why, params) in zip(axes.flat, trained):
        with np.errstate(all="ignore"):  # a diverged net's weights are not finite
            output = predict(np, params, plane)[:, 0].reshape(x0.shape)  # (101, 101)
        image = ax.contourf(x0, x1, output, levels=np.linspace(0, 1, 11), cmap="coolwarm", vmin=0, vmax=1)
        ax.contour(x0, x1, output, levels=[0.5], colors="black", linewidths=1)
        for (p0, p1), target in zip(PATTERNS, TARGETS):
            ax.scatter([p0], [p1], c="white", edgecolors="black", s=70, marker="o" if target == 0 else "s", zorder=3)
        ax.set(title=f"seed {seed}\n{why}", xticks=[0, 1], yticks=[0, 1], xlabel="input x0", ylabel="input x1")
        ax.title.set_fontsize("small")
    for ax in list(axes.flat)[len(trained):]:
        ax.set_axis_off()
    if image is not None:
        figure.colorbar(image, ax=axes.ravel().tolist(), label="output of the net", shrink=0.8)
    figure.legend(handles=[
        Line2D([], [], marker="o", linestyle="", markerfacecolor="white", markeredgecolor="black",
               label="patterns with target 0: (0,0), (1,1)"),
        Line2D([], [], marker="s", linestyle="", markerfacecolor="white", markeredgecolor="black",
               label="patterns with target 1: (0,1), (1,0)"),
        Line2D([], [], color="black", label="output 0.5: the decision boundary")],
        loc="outside lower center", ncols=3, fontsize="small")
    titled(figure, f"Decision boundaries after {config.epochs:,} epochs\n{title}")
    return figure
