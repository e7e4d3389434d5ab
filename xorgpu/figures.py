"""What each figure shows, defined once: its data, labels and scales.

plots.py draws these with matplotlib (PNG and SVG, for papers) and report_html.py with
plotly (the interactive HTML report), so the two cannot show different numbers, words or
scales; tests check what both draw against these and these against the nets.

- ecdf: the share of nets solved by each epoch, a step per solved net; it ends at the
  success rate (unsolved nets keep it below 1);
- loss_histogram: final losses on log-spaced bins, solved and unsolved nets apart, on a
  log count axis (a few unsolved nets stay visible beside thousands of solved ones);
- loss_bands: the p10-p90 band and median of the loss over epochs, for the nets that end
  solved and those that do not (statistics with a sampled loss curve);
- sweep_line: along one swept axis, the success rate with its 95% interval (left axis)
  and median and p90 epochs to solve (right axis);
- heatmap: one field of a sweep's cells (success rate, median epochs) over two axes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from . import words
from .sweeps import in_order
from .words import percent

SOLVED_COLOUR, UNSOLVED_COLOUR, OTHER_COLOUR = "#1f77b4", "#d62728", "#ff7f0e"
LOSS_BINS = 80
SPAN_FOR_LOG_AXIS = 100  # one-axis sweeps: a log axis where the largest value is this many times the smallest


@dataclass(frozen=True)
class Scale:
    """One axis: what it shows, how values map to it, where it ends and its ticks."""

    label: str
    kind: str = "linear"  # linear, log or category
    limits: tuple[float, float] | None = None
    ticks: Sequence[Any] | None = None
    tick_labels: Sequence[str] | None = None
    percent: bool = False  # values are fractions, read as percentages


@dataclass(frozen=True)
class Trace:
    """One thing drawn: a step curve, a line (with markers), bars, or a band from low to high."""

    name: str  # its legend entry
    kind: str  # step, line, bars or band
    x: np.ndarray
    y: np.ndarray  # a band's median line (or nothing to draw: an empty array)
    colour: str
    low: np.ndarray | None = None  # a band's lower edge, or an error bar's lower end
    high: np.ndarray | None = None
    width: float | None = None  # bars
    line: str = "solid"  # a line's look: solid (round markers), dashed (round) or dotted (square markers)
    right: bool = False  # on the right-hand value axis (Chart.right)
    hover: Sequence[str] | None = None  # what each point says when pointed at


@dataclass(frozen=True)
class Chart:
    title: str
    x: Scale
    y: Scale
    traces: list[Trace]
    right: Scale | None = None
    note: str | None = None  # a line of text on the chart


@dataclass(frozen=True)
class Heatmap:
    title: str
    rows: Scale  # the values of the first axis, top to bottom (ticks hold them)
    columns: Scale
    values: np.ndarray  # (rows, columns), NaN where a cell has no value
    text: list[list[str]]  # what each cell says on it
    hover: list[list[str]]
    colour_label: str
    limits: tuple[float, float]
    bright_is_high: bool  # True: the colour map's bright end at the high values
    percent: bool = False


def ecdf(sides: Sequence[tuple[Any, str, str]], epochs: int, report: dict[str, Any] | None = None) -> Chart:
    """sides: (results, name, colour) of one set of nets (or of A and B of a comparison);
    report: the statistics of a single side, whose success rate and interval the chart states."""
    traces = []
    for results, name, colour in sides:
        solved = np.sort(results.epochs_to_solve[results.epochs_to_solve >= 0])
        share = np.arange(1, solved.size + 1) / len(results)
        end = share[-1] if solved.size else 0.0
        traces.append(Trace(name, "step", np.concatenate([[0], solved, [epochs]]).astype(np.int64),
                            np.concatenate([[0.0], share, [end]]), colour))
    note = None
    if report is not None and len(sides) == 1:
        low, high = report.get("success_ci95", (None, None))
        results = sides[0][0]
        solved_count = int((results.epochs_to_solve >= 0).sum())
        note = (f"solved by epoch {epochs:,}: {percent(solved_count / len(results))} "
                f"({solved_count:,}/{len(results):,}), 95% CI [{percent(low)}, {percent(high)}] (Wilson)")
    return Chart("Epochs to solve (ECDF)", Scale("epoch", limits=(0, epochs)),
                 Scale("share of nets solved", limits=(0, 1.02), percent=True), traces, note=note)


def loss_histogram(results: Any) -> Chart:
    finite = np.isfinite(results.final_loss)
    losses = np.log10(np.maximum(results.final_loss[finite].astype(np.float64), 1e-30))
    solved = (results.epochs_to_solve >= 0)[finite]
    low, high = (losses.min(), losses.max() + 1e-9) if losses.size else (-3.0, 0.0)
    edges = np.linspace(low, high, LOSS_BINS + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    traces = []
    for mask, name, colour in ((solved, "solved", SOLVED_COLOUR), (~solved, "unsolved", UNSOLVED_COLOUR)):
        if not mask.any():
            continue
        counts, _ = np.histogram(losses[mask], bins=edges)
        shown = counts > 0
        hover = [f"loss {10 ** a:.3g} to {10 ** b:.3g}: {n:,} nets"
                 for a, b, n in zip(edges[:-1][shown], edges[1:][shown], counts[shown])]
        traces.append(Trace(f"{name} ({int(mask.sum()):,} nets)", "bars", centres[shown], counts[shown].astype(float),
                            colour, width=float(edges[1] - edges[0]), hover=hover))
    decades = np.arange(np.floor(low), np.ceil(high) + 1)
    return Chart("Final loss, solved and unsolved nets apart",
                 Scale("final loss (mean squared error), log scale", ticks=list(decades),
                       tick_labels=[f"1e{int(d)}" for d in decades]),
                 Scale("nets, log scale", kind="log"), traces)


def loss_bands(curve: list[dict[str, Any]]) -> Chart:
    epochs = np.array([row["epoch"] for row in curve])
    split = "solved" in curve[0]
    traces = []
    for group, colour in ([("solved", SOLVED_COLOUR), ("unsolved", UNSOLVED_COLOUR)] if split else
                          [(None, SOLVED_COLOUR)]):
        rows = [row[group] if group else row for row in curve]
        if all(r["median"] is None for r in rows):
            continue

        def column(q: str, rows: list[dict[str, Any]] = rows) -> np.ndarray:
            return np.array([np.nan if r[q] is None else r[q] for r in rows], dtype=float)

        traces.append(Trace(f"{group} nets" if group else "all nets", "band", epochs, column("median"), colour,
                            low=column("p10"), high=column("p90")))
    return Chart("Loss over training (quantiles within 1%)", Scale("epoch"),
                 Scale("loss: mean squared error (log scale)", kind="log"), traces,
                 note="band: 10th to 90th percentile across nets; line: median")


def sweep_line(flat: list[dict[str, Any]], axis: str) -> Chart:
    """Along one swept axis: the success rate with its interval, and epochs to solve."""
    values = [r[axis] for r in flat]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    x = np.array(values, dtype=float) if numeric else np.arange(len(flat), dtype=float)
    log_axis = bool(numeric and min(x) > 0 and max(x) / min(x) >= SPAN_FOR_LOG_AXIS)
    rate = np.array([r["success_rate"] for r in flat])
    hover = [f"{axis} {v}: {percent(r['success_rate'])} ({r['solved']:,}/{r['nets']:,}), CI "
             f"{percent(r['ci95_low'])} to {percent(r['ci95_high'])}" for v, r in zip(values, flat)]

    def epochs(name: str) -> np.ndarray:
        return np.array([np.nan if r[name] is None else r[name] for r in flat], dtype=float)

    most = np.nanmax(np.concatenate([epochs("median_epochs"), epochs("p90_epochs"), [1.0]]))
    traces = [
        Trace("success rate (95% CI)", "line", x, rate, SOLVED_COLOUR, low=np.array([r["ci95_low"] for r in flat]),
              high=np.array([r["ci95_high"] for r in flat]), hover=hover),
        Trace("median epochs to solve", "line", x, epochs("median_epochs"), OTHER_COLOUR, line="dashed", right=True),
        Trace("p90 epochs to solve", "line", x, epochs("p90_epochs"), OTHER_COLOUR, line="dotted", right=True),
    ]
    label = words.label(axis) + (" (log scale)" if log_axis else "")
    return Chart(f"Success rate and epochs to solve along the {words.label(axis)}",
                 Scale(label, kind="log" if log_axis else "linear", ticks=list(x),
                       tick_labels=[f"{v:g}" if numeric else str(v) for v in values]),
                 Scale("success rate (95% CI)", limits=(-0.02, 1.05), percent=True), traces,
                 right=Scale("epochs to solve (solved nets)", limits=(0, 1.25 * float(most))))


HEATMAP_FIELDS = {  # field -> (what its cells show, its colour bar's label)
    "success_rate": ("nets solved", "nets solved"),
    "median_epochs": ("median epochs to solve", "median epochs to solve (solved nets)"),
}


def heatmap_range(flat: list[dict[str, Any]], name: str, colour_range: str) -> tuple[float, float]:
    """The values a heatmap's colours span: 0 to 100% of nets solved and 0 to the most
    median epochs ("full", so 93% against 84% is not drawn at full contrast), or the
    data's own range ("data")."""
    values = [r[name] for r in flat if r[name] is not None]
    if colour_range == "data" and values:
        low, high = min(values), max(values)
        return (low, high) if high > low else (low, low + 1e-9)
    if name == "success_rate":
        return 0.0, 1.0
    return 0.0, max(values, default=1) or 1


def heatmap(flat: list[dict[str, Any]], cells: list[dict[str, Any]], rows_axis: str, columns_axis: str, name: str,
            colour_range: str = "full", where: str = "") -> Heatmap:
    """One field (success_rate or median_epochs) of `cells` over two axes, whose values
    (rows top to bottom, columns left to right) come from all of the sweep's cells `flat`
    (so panels of one sweep line up); where: the other axes' values these cells share."""
    row_values, column_values = in_order([r[rows_axis] for r in flat]), in_order([r[columns_axis] for r in flat])
    values = np.full((len(row_values), len(column_values)), np.nan)
    text = [[""] * len(column_values) for _ in row_values]
    hover = [[f"{rows_axis} {rv}, {columns_axis} {cv}" for cv in column_values] for rv in row_values]
    for r in cells:
        i, j = row_values.index(r[rows_axis]), column_values.index(r[columns_axis])
        if r[name] is not None:
            values[i, j] = r[name]
        text[i][j] = (percent(r["success_rate"], 1) if name == "success_rate"
                      else "-" if r[name] is None else f"{r[name]:,.0f}")
        hover[i][j] += (f": {percent(r['success_rate'])} ({r['solved']:,}/{r['nets']:,}), CI "
                        f"{percent(r['ci95_low'])} to {percent(r['ci95_high'])}; median epochs "
                        f"{'-' if r['median_epochs'] is None else format(r['median_epochs'], ',.0f')}")
    shows, colour_label = HEATMAP_FIELDS[name]

    def scale(axis: str, axis_values: list[Any]) -> Scale:
        return Scale(words.label(axis), kind="category", ticks=axis_values, tick_labels=[f"{v:g}" if isinstance(v, float)
                                                                                         else str(v) for v in axis_values])

    return Heatmap(f"{shows}{' (' + where + ')' if where else ''}", scale(rows_axis, row_values),
                   scale(columns_axis, column_values), values, text, hover, colour_label,
                   heatmap_range(flat, name, colour_range), bright_is_high=name == "success_rate",
                   percent=name == "success_rate")
