"""Figures of a job, a results file or a sweep, with matplotlib (PNG and SVG, for papers).

- the charts and heatmaps that xorgpu.figures defines (the ECDF of epochs to solve, the
  final-loss histogram, loss bands, a sweep along one axis, a sweep's heatmaps), drawn
  here as the HTML report draws them with plotly;
- decision boundaries of the fastest, median and slowest solved nets and of one net of
  each way of failing, given their trained weights (`trained_nets`);
- for a literature preset whose source gives a law (Chauvin's P = 280 - 33 log2 H), our
  numbers beside it.
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

from . import figures, outcomes, presets, sweeps, words
from .outcomes import FAILURES, code
from .results import NetOutcomes

FORMATS = ("png", "svg")
LINE_FORMATS = {"solid": "o-", "dashed": "o--", "dotted": "s:"}  # figures.Trace.line in matplotlib's words
WIDTH = 7.5  # inches: full width in a paper's column pair, or a report's page
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


def draw_chart(chart: figures.Chart, title: str, size: tuple[float, float] = (WIDTH, 4.4)) -> Any:
    """A figures.Chart drawn with matplotlib, under the figure's title (what was trained)."""
    figure = new_figure(figsize=size, layout="constrained")
    axes = figure.subplots()
    right = axes.twinx() if chart.right is not None else None
    for trace in chart.traces:
        on = right if trace.right else axes
        style = {"color": trace.colour, "label": trace.name}
        if trace.kind == "step":
            on.step(trace.x, trace.y, where="post", **style)
        elif trace.kind == "bars":
            on.bar(trace.x, trace.y, width=trace.width, alpha=0.6, **style)
        elif trace.kind == "band":
            on.fill_between(trace.x, trace.low, trace.high, alpha=0.25, color=trace.colour,
                            label=f"{trace.name}: 10th-90th percentile")
            on.plot(trace.x, trace.y, color=trace.colour, label=f"{trace.name}: median")
        elif trace.low is not None:
            on.errorbar(trace.x, trace.y, yerr=np.vstack([np.maximum(trace.y - trace.low, 0),
                                                          np.maximum(trace.high - trace.y, 0)]),
                        fmt=LINE_FORMATS[trace.line], capsize=3, **style)
        else:
            on.plot(trace.x, trace.y, LINE_FORMATS[trace.line], **style)
    _scale(axes, "x", chart.x)
    _scale(axes, "y", chart.y)
    if right is not None:
        _scale(right, "y", chart.right)
    axes.set_title(chart.title)
    if chart.note:
        axes.text(0.98, 0.05, chart.note, transform=axes.transAxes, va="bottom", ha="right", fontsize="small",
                  bbox={"facecolor": "white", "edgecolor": "lightgrey"})
    handles = [h for ax in (axes, right) if ax is not None for h in ax.get_legend_handles_labels()[0]]
    if len(handles) > 1:
        axes.legend(handles=handles, fontsize="small", loc="best")
    axes.grid(alpha=0.3)
    titled(figure, title)
    return figure


def _scale(axes: Any, which: str, scale: figures.Scale) -> None:
    """One axis of a matplotlib Axes as a figures.Scale says."""
    from matplotlib.ticker import NullLocator, PercentFormatter  # noqa: PLC0415

    axis = axes.xaxis if which == "x" else axes.yaxis
    getattr(axes, f"set_{which}label")(scale.label)
    if scale.kind == "log":
        getattr(axes, f"set_{which}scale")("log")
    if scale.limits is not None:
        getattr(axes, f"set_{which}lim")(scale.limits)
    if scale.ticks is not None:
        if scale.kind == "log":
            axis.set_minor_locator(NullLocator())
        getattr(axes, f"set_{which}ticks")(list(scale.ticks), list(scale.tick_labels or []) or None)
    if scale.percent:
        axis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def job_figures(results: NetOutcomes, config: Any, report: dict[str, Any], title: str,
                trained: list[tuple[int, str, Any]]) -> dict[str, Any]:
    """Every figure of a job or results file, by file name: ECDF, loss histogram,
    boundaries (trained: see decision_boundaries), loss bands."""
    drawn = {"epochs_to_solve_ecdf": draw_chart(figures.ecdf([(results, "nets", figures.SOLVED_COLOUR)], config.epochs,
                                                             report), title),
             "final_loss_histogram": draw_chart(figures.loss_histogram(results), title),
             "decision_boundaries": decision_boundaries(trained, config, title)}
    if report.get("loss_curve"):
        drawn["loss_bands"] = draw_chart(figures.loss_bands(report["loss_curve"]), title)
    return drawn


def sweep_figures(rows: list[dict[str, Any]], title: str | None = None, colour_range: str = "full") -> dict[str, Any]:
    """Every figure of a sweep file's rows, by file name: success rates and epochs, and for
    a literature preset with a law of its own, ours beside the source's. title: instead of
    what every cell shares."""
    varying = sweeps.varying_axes(rows)
    title = title or fixed_settings(rows, varying)
    drawn = success_figure(sweeps.table_rows(rows, varying), varying, title, colour_range)
    preset = presets.of_rows(rows)
    if preset is not None and preset.curve is not None:
        drawn["beside_the_source"] = preset_figure(rows, preset.curve, title)
    return drawn


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
        chart = figures.sweep_line(flat, axes_names[0])
        return {"success_by_" + axes_names[0]: draw_chart(chart, f"Sweep over {words.label(axes_names[0])}\n{title}",
                                                           size=(max(WIDTH, 8.5), 4.6))}
    *outer, rows_axis, cols_axis = axes_names
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in flat:
        groups.setdefault(tuple(r[a] for a in outer), []).append(r)
    rows_count = len(sweeps.in_order([r[rows_axis] for r in flat]))
    columns_count = len(sweeps.in_order([r[cols_axis] for r in flat]))
    cell_w, cell_h = 1.1 * columns_count + 1.8, 0.7 * rows_count + 1.3
    figure = new_figure(figsize=(max(WIDTH, 2 * cell_w), len(groups) * cell_h + 1.0), layout="constrained")
    panels = figure.subplots(len(groups), 2, squeeze=False)
    for line, (key, cells) in enumerate(groups.items()):
        where = ", ".join(words.setting(a, v) for a, v in zip(outer, key))
        for column, name in enumerate(("success_rate", "median_epochs")):
            draw_heatmap(figure, panels[line][column],
                         figures.heatmap(flat, cells, rows_axis, cols_axis, name, colour_range, where))
    titled(figure, f"Sweep over {', '.join(words.label(a) for a in axes_names)}\n{title}")
    return {"success_heatmap": figure}


def draw_heatmap(figure: Any, panel: Any, heatmap: figures.Heatmap) -> None:
    """A figures.Heatmap drawn on one matplotlib panel, with its colour bar."""
    from matplotlib.ticker import PercentFormatter  # noqa: PLC0415

    cmap = "viridis" if heatmap.bright_is_high else "viridis_r"  # bright is good on both
    low, high = heatmap.limits
    image = panel.imshow(heatmap.values, vmin=low, vmax=high, cmap=cmap, aspect="auto")
    panel.set_xticks(range(len(heatmap.columns.ticks)), heatmap.columns.tick_labels)
    panel.set_yticks(range(len(heatmap.rows.ticks)), heatmap.rows.tick_labels)
    panel.set(xlabel=heatmap.columns.label, ylabel=heatmap.rows.label, title=heatmap.title)
    middle = (low + high) / 2
    for (i, j), value in np.ndenumerate(heatmap.values):
        if heatmap.text[i][j]:
            light = np.isfinite(value) and (value < middle if heatmap.bright_is_high else value > middle)
            panel.text(j, i, heatmap.text[i][j], ha="center", va="center", fontsize="small",
                       color="white" if light else "black")
    bar = figure.colorbar(image, ax=panel, shrink=0.9)
    bar.set_label(heatmap.colour_label)
    if heatmap.percent:
        bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0 if high - low >= 0.1 else 1))


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
    xorgpu.params.Params of one net), as xorgpu.trajectory.trained_nets gives them. A task of
    more than two inputs has no plane: each net's output for each pattern instead."""
    from matplotlib.lines import Line2D  # noqa: PLC0415

    from .engines import general  # noqa: PLC0415
    from .engines.contract import EXP_ARG_MAX  # noqa: PLC0415
    from .tasks import ENCODED  # noqa: PLC0415

    task = config.task_spec
    if task.inputs != 2:
        return _pattern_outputs(trained, config, title)
    low, high = ENCODED[config.encoding]
    middle, margin = (low + high) / 2, (high - low) / 2
    grid = np.linspace(low - margin, high + margin, 101)
    x0, x1 = np.meshgrid(grid, grid)
    plane = np.column_stack([x0.ravel(), x1.ravel()])  # (101 * 101, 2)
    columns = min(4, max(1, len(trained)))
    lines = -(-max(1, len(trained)) // columns)
    figure = new_figure(figsize=(WIDTH * columns / 3.2, 2.6 * lines + 1.2), layout="constrained")
    axes = figure.subplots(lines, columns, squeeze=False)
    image = None
    points = task.inputs_as(config.encoding)
    for ax, (seed, why, params) in zip(axes.flat, trained):
        with np.errstate(all="ignore"):  # a diverged net's weights are not finite
            output = general.forward(np, params, plane, config, EXP_ARG_MAX["float64"])[1][:, 0].reshape(x0.shape)
        shown = np.clip(output, low, high)  # a linear output beyond the targets: the colour of the nearer one
        if np.all(np.isfinite(output)):
            image = ax.contourf(x0, x1, shown, levels=np.linspace(low, high, 11), cmap="coolwarm", vmin=low,
                                vmax=high)
            ax.contour(x0, x1, output, levels=[middle], colors="black", linewidths=1)
        else:
            ax.set(xlim=(grid[0], grid[-1]), ylim=(grid[0], grid[-1]))
            ax.text(0.5, 0.5, "outputs not finite:\nthe net diverged", transform=ax.transAxes, ha="center",
                    va="center", fontsize="small")
        for (p0, p1), target in zip(points, task.target_bits):
            ax.scatter([p0], [p1], c="white", edgecolors="black", s=70, marker="o" if target == 0 else "s", zorder=3)
        ax.set(title=f"seed {seed}\n{why}", xticks=[low, high], yticks=[low, high], xlabel="input x0",
               ylabel="input x1")
        ax.title.set_fontsize("small")
    for ax in list(axes.flat)[len(trained):]:
        ax.set_axis_off()
    if image is not None:
        figure.colorbar(image, ax=axes.ravel().tolist(), label="output of the net", shrink=0.8)

    def pattern_list(bit: int) -> str:
        return ", ".join(f"({p[0]:g},{p[1]:g})" for p, t in zip(points, task.target_bits) if t == bit) or "none"

    figure.legend(handles=[
        Line2D([], [], marker="o", linestyle="", markerfacecolor="white", markeredgecolor="black",
               label=f"patterns with target {low:g}: {pattern_list(0)}"),
        Line2D([], [], marker="s", linestyle="", markerfacecolor="white", markeredgecolor="black",
               label=f"patterns with target {high:g}: {pattern_list(1)}"),
        Line2D([], [], color="black", label=f"output {middle:g}: the decision boundary")],
        loc="outside lower center", ncols=3, fontsize="small")
    titled(figure, f"Decision boundaries after {config.epochs:,} epochs\n{title}")
    return figure


def _pattern_outputs(trained: list[tuple[int, str, Any]], config: Any, title: str) -> Any:
    """Each trained net's output for each of the task's patterns, its target marked."""
    from .engines import general  # noqa: PLC0415
    from .engines.contract import EXP_ARG_MAX  # noqa: PLC0415
    from .tasks import ENCODED  # noqa: PLC0415

    task = config.task_spec
    low, high = ENCODED[config.encoding]
    x, targets = task.inputs_as(config.encoding), task.targets_as(config.encoding)
    names = [name[1:] for name in task.output_names]
    figure = new_figure(figsize=(WIDTH, 1.4 * max(1, len(trained)) + 1.4), layout="constrained")
    axes = figure.subplots(max(1, len(trained)), 1, squeeze=False, sharex=True)[:, 0]
    for ax, (seed, why, params) in zip(axes, trained):
        with np.errstate(all="ignore"):
            output = general.forward(np, params, x, config, EXP_ARG_MAX["float64"])[1][:, 0]
        position = np.arange(len(names))
        middle = (low + high) / 2  # bars from the midpoint: up towards the higher target, down towards the lower
        shown = np.clip(output, low - 0.1 * (high - low), high + 0.1 * (high - low))
        ax.bar(position, shown - middle, bottom=middle, color=np.where(targets == high, "#b2182b", "#2166ac"),
               width=0.7)
        ax.scatter(position, targets, marker="_", s=120, color="black", zorder=3)
        ax.axhline(middle, color="grey", linewidth=0.8, linestyle=":")
        if not np.all(np.isfinite(output)):
            ax.text(0.5, 0.5, "outputs not finite: the net diverged", transform=ax.transAxes, ha="center",
                    va="center", fontsize="small")
        ax.set(ylim=(low - 0.1 * (high - low), high + 0.1 * (high - low)), ylabel="output")
        ax.set_title(f"seed {seed}: {why}", fontsize="small", loc="left")
    axes[-1].set_xticks(np.arange(len(names)), names, rotation=90 if len(names) > 16 else 0, fontsize="x-small")
    axes[-1].set_xlabel("input pattern (its bits); bars: the output, from the midpoint (dotted), red where the "
                        f"target is {high:g}, blue where {low:g}; black marks: the targets")
    titled(figure, f"Outputs after {config.epochs:,} epochs\n{title}")
    return figure
