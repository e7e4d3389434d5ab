"""One self-contained HTML page for a job, a results file, a sweep or a comparison.

Everything is inline and nothing is fetched: the style, the figures (interactive ones drawn
by plotly.js, whose file is copied into the page; static ones as PNG) and a few lines of
script that make every table sortable by clicking a column and downloadable as CSV. A
reader sees first what was trained and where the numbers came from (seeds, every fixed
setting, version, date, engine, backend, device, run time), then the results.

plotly.js (with the `plotly` package, which ships it) because it is one file that draws
every chart type used here with hover, zoom and a PNG download built in, so each figure is
a small JSON spec and no per-figure script; its cost is ~4.8 MB a page. The script marks
on <body> how many figures the browser drew (data-figures-drawn), which the tests read.
"""

from __future__ import annotations

import base64
import datetime
import html
import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from . import figures, outcomes, words
from .config import Config
from .outcomes import FAILURES, OUTCOMES, code
from .plots import fixed_settings
from .results import NetOutcomes
from .words import percent

LONG_CELL = 80  # characters: a longer cell wraps
WIDE_TABLE = 8  # columns: a wider table is set smaller, to fit a 1280-pixel window
LABELS = {  # readable names of the statistics' and the provenance's keys (settings: xorgpu.words; outcomes: xorgpu.outcomes)
    "nets": "nets", "solved": "solved", "success_rate": "success rate", "ci95_low": "95% CI, low",
    "ci95_high": "95% CI, high", "median_epochs": "median epochs to solve", "p90_epochs": "90th percentile epochs",
    "min": "fewest", "p10": "10th percentile", "median": "median", "p90": "90th percentile", "max": "most",
    "mean": "mean", "unsolved": "unsolved", "seeds": "seeds", "version": "xorgpu version",
    "engine": "engine", "backend": "backend", "device": "device", "host": "host", "python": "Python",
    "numpy": "NumPy", "started": "started (UTC)", "wall_seconds": "run time (s)", "workers": "workers",
    "hosts": "hosts",
}

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em 2em; color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
.what { font-size: 1.05em; } .where { color: #555; font-size: 0.92em; }
.headline { font-size: 1.3em; margin: 0.8em 0; } .headline b { font-size: 1.25em; }
table { border-collapse: collapse; margin: 0.5em 0; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; max-width: 100%; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: right; white-space: nowrap; }
td.long { white-space: normal; max-width: 60em; text-align: left; }
th { background: #f3f3f3; cursor: pointer; user-select: none; white-space: nowrap; }
th:after { content: " \\2195"; color: #aaa; font-size: 0.8em; } th:empty:after { content: none; }
table.wide { font-size: 0.9em; } table.wide td, table.wide th { padding: 0.2em 0.45em; }
th.up:after { content: " \\25B2"; color: #333; } th.down:after { content: " \\25BC"; color: #333; }
td.text, th.text { text-align: left; } td.text { white-space: normal; }
a.csv { font-size: 0.85em; margin-left: 0.3em; }
.plot { width: 100%; height: 440px; } .plot.tall { height: 560px; }
figure { margin: 0.8em 0; } figure img { width: 100%; height: auto; }
figcaption, .note { color: #555; font-size: 0.9em; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5em; }
ul.caveats li { margin: 0.2em 0; }
"""

_SCRIPT = r"""
function cellValue(td) { return td.hasAttribute("data-value") ? td.getAttribute("data-value") : td.textContent.trim(); }
function toCsv(table) {
  var quote = function (text) { return /[",\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text; };
  var rows = Array.prototype.slice.call(table.rows);
  return rows.map(function (row) {
    return Array.prototype.slice.call(row.cells).map(function (cell) {
      return quote(cell.tagName === "TH" ? cell.getAttribute("data-key") || cell.textContent.trim() : cellValue(cell));
    }).join(",");
  }).join("\n") + "\n";
}
function sortBy(table, column, header) {
  var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
  var ascending = !header.classList.contains("up");
  var key = function (row) { var v = cellValue(row.cells[column]); var x = parseFloat(v); return isNaN(x) || !/^[-+0-9.eE]+$/.test(v) ? v : x; };
  rows.sort(function (a, b) {
    var x = key(a), y = key(b);
    var order = (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y));
    return ascending ? order : -order;
  });
  rows.forEach(function (row) { body.appendChild(row); });
  Array.prototype.forEach.call(table.querySelectorAll("th"), function (th) { th.classList.remove("up", "down"); });
  header.classList.add(ascending ? "up" : "down");
}
window.addEventListener("load", function () {
  Array.prototype.forEach.call(document.querySelectorAll("table.data"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
      th.addEventListener("click", function () { sortBy(table, column, th); });
    });
    var link = document.getElementById(table.id + "-csv");
    if (link) { link.href = "data:text/csv;charset=utf-8," + encodeURIComponent(toCsv(table)); }
  });
  var specs = Array.prototype.slice.call(document.querySelectorAll("script.figure"));
  var drawing = specs.map(function (spec) {
    var figure = JSON.parse(spec.textContent);
    return Plotly.newPlot(spec.getAttribute("data-div"), figure.data, figure.layout,
                          {responsive: true, displaylogo: false});
  });
  Promise.all(drawing).then(function () {
    var drawn = document.querySelectorAll(".plot .main-svg").length > 0
      ? Array.prototype.filter.call(document.querySelectorAll(".plot"), function (d) { return d.querySelector(".main-svg"); }).length : 0;
    var images = Array.prototype.filter.call(document.querySelectorAll("img"), function (i) { return i.complete && i.naturalWidth > 0; });
    document.body.setAttribute("data-figures-drawn", String(drawn + images.length));
  });
});
"""


class Page:
    """The parts of a report, in order; `html()` puts them on one page."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.parts: list[str] = []
        self.tables = 0
        self.figures = 0

    def add(self, *parts: str) -> Page:
        self.parts.extend(parts)
        return self

    def heading(self, text: str) -> Page:
        return self.add(f"<h2>{html.escape(text)}</h2>")

    def paragraph(self, text: str, css: str = "") -> Page:
        return self.add(f"<p{f' class={css}' if css else ''}>{html.escape(text)}</p>")

    def table(self, header: list[str], rows: list[list[Any]], keys: list[str] | None = None,
              caption: str = "") -> Page:
        """A sortable table with a CSV link; a cell is a value, or (shown text, raw value)."""
        self.tables += 1
        name = f"table{self.tables}"
        keys = keys or header
        head = "".join(f'<th data-key="{html.escape(k)}"{_align(rows, i)}>{html.escape(h)}</th>'
                       for i, (h, k) in enumerate(zip(header, keys)))
        body = "".join("<tr>" + "".join(_cell(c, i, rows) for i, c in enumerate(row)) + "</tr>" for row in rows)
        wide = " wide" if len(header) > WIDE_TABLE else ""
        return self.add(f'<div class=scroll><table class="data{wide}" id={name}><thead><tr>{head}</tr></thead>'
                        f'<tbody>{body}</tbody></table></div><p class=note>{html.escape(caption)}{" " if caption else ""}'
                        f'<a class=csv id={name}-csv download="{name}.csv" href="#">download as CSV</a></p>')

    def figure(self, spec: dict[str, Any], caption: str = "", tall: bool = False) -> Page:
        """An interactive figure: a plotly spec {"data": [...], "layout": {...}}."""
        self.figures += 1
        name = f"figure{self.figures}"
        spec = {"data": spec["data"], "layout": {"margin": {"t": 50, "r": 30}, "hovermode": "closest",
                                                   **spec["layout"]}}
        text = json.dumps(spec, default=_json_default).replace("</", "<\\/")
        return self.add(f'<div class="plot{" tall" if tall else ""}" id={name}></div>'
                        f'<script type="application/json" class=figure data-div={name}>{text}</script>'
                        + (f"<p class=note>{html.escape(caption)}</p>" if caption else ""))

    def image(self, path: Path, caption: str, max_width: str = "") -> Page:
        """A PNG, inline; max_width (CSS, e.g. "560px") keeps a small figure from filling the page."""
        data = base64.b64encode(path.read_bytes()).decode()
        style = f' style="max-width: {max_width}"' if max_width else ""
        return self.add(f'<figure{style}><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
                        f"<figcaption>{html.escape(caption)}</figcaption></figure>")

    def html(self) -> str:
        plotly = _plotly_js() if self.figures else ""
        return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
                f"<meta name=viewport content='width=device-width, initial-scale=1'>"
                f"<title>{html.escape(self.title)}</title><style>{_STYLE}</style>"
                f"<script>{plotly}</script><script>{_SCRIPT}</script></head>"
                f"<body><h1>{html.escape(self.title)}</h1>{''.join(self.parts)}</body></html>")


def _plotly_js() -> str:
    return resources.files("plotly").joinpath("package_data", "plotly.min.js").read_text(encoding="utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(type(value).__name__)


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _align(rows: list[list[Any]], column: int) -> str:
    shown = [_raw(row[column]) for row in rows if column < len(row)]
    return "" if shown and all(_numeric(v) or v is None for v in shown) else " class=text"


def _raw(cell: Any) -> Any:
    return cell[1] if isinstance(cell, tuple) else cell


def _cell(cell: Any, column: int, rows: list[list[Any]]) -> str:
    shown, raw = cell if isinstance(cell, tuple) else (_fmt(cell), cell)
    value = "" if raw is None else (repr(float(raw)) if isinstance(raw, (float, np.floating)) else str(raw))
    css = " class=long" if len(str(shown)) > LONG_CELL else _align(rows, column)
    return f'<td{css} data-value="{html.escape(value)}">{html.escape(str(shown))}</td>'


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (float, np.floating)):
        return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


# --- what every page states first ---------------------------------------------------------------


def what_was_trained(config: dict[str, Any], nets: int, seeds: str | None) -> str:
    every = ", ".join(words.settings(config, omit=words.IN_THE_NAME))
    return f"{nets:,} nets, each a {words.net(config)}, seeds {seeds or 'not recorded'}: {every}."


def where_from(provenance: dict[str, Any] | None) -> str:
    if not provenance:
        return "Where these numbers came from was not recorded (a file of an older xorgpu)."
    p = provenance
    wall = _seconds(p["wall_seconds"]) if p.get("wall_seconds") is not None else "unknown"
    return (f"Trained by {words.trained_by(p) or 'what was not recorded'}; started {p.get('started') or '?'}, "
            f"run time {wall}; "
            f"xorgpu {p.get('version', '?')}, Python {p.get('python', '?')}, NumPy {p.get('numpy', '?')}, "
            f"host {p.get('host', '?')}. Report made {_now()}.")


def _seconds(value: float) -> str:
    return f"{value:,.1f} s" if value >= 1 else f"{value:.2g} s"


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def headline(report: dict[str, Any]) -> str:
    low, high = report["success_ci95"]
    return (f"<p class=headline><b>{percent(report['success_rate'])}</b> of the nets solved "
            f"{html.escape(words.task_name(report['config']))} "
            f"({report['solved']:,} of {report['nets']:,}); 95% interval {percent(low)} to {percent(high)} (Wilson).</p>")


# --- a job or a results file -------------------------------------------------------------------------


def job_report(title: str, report: dict[str, Any], results: NetOutcomes, config: Config, seeds: str,
               trained: list[tuple[int, str, Any]]) -> str:
    """The page of a job or a results file: job_page, with the decision boundaries of the
    trained nets (xorgpu.trajectory.trained_nets) drawn as a picture."""
    import tempfile  # noqa: PLC0415

    from .plots import decision_boundaries, save  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as scratch:
        figure = decision_boundaries(trained, config, words.describe(config, seeds))
        png = save({"decision_boundaries": figure}, Path(scratch))[0]
        return job_page(title, report, results, config, png)


def map_report(title: str, result: Any) -> str:
    """The page of a map (xorgpu.maps.MapResult): map_page, its pictures drawn here."""
    import tempfile  # noqa: PLC0415

    from .maps.dimension import boundary_dimension  # noqa: PLC0415
    from .maps.render import save_counts_png, save_map_png  # noqa: PLC0415

    counts = boundary_dimension(result.solved)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        save_map_png(result, folder / "map.png", dimension=counts)
        save_counts_png(counts, folder / "counts.png", words.map_view(result.spec))
        return map_page(title, result, folder / "map.png", folder / "counts.png", counts)


def job_page(title: str, report: dict[str, Any], results: NetOutcomes, config: Config,
             boundaries: Path | None = None) -> str:
    page = Page(title)
    provenance = report.get("provenance")
    page.paragraph(what_was_trained(report["config"], report["nets"], (provenance or {}).get("seeds")), "what")
    page.paragraph(where_from(provenance), "where")
    page.add(headline(report))
    page.heading("Epochs to solve")
    page.figure(plotly_chart(figures.ecdf([(results, "nets", figures.SOLVED_COLOUR)], config.epochs, report)),
                "The share of nets solved by each epoch; the curve ends at the success rate. Hover for values, "
                "drag to zoom, double-click to reset.")
    page.table(["statistic", "epochs"], [[LABELS[k], v] for k, v in report["epochs_to_solve"].items()],
               ["statistic", "epochs"], "Over the nets that solved.")
    page.heading("Final loss")
    page.figure(plotly_chart(figures.loss_histogram(results)), "The mean squared error after the last epoch, solved and unsolved "
                                              "nets apart, on a log count axis.")
    if report.get("loss_curve"):
        page.heading("Loss over training")
        page.figure(plotly_chart(figures.loss_bands(report["loss_curve"])), "The 10th to 90th percentile of the loss across nets, "
                                                           "and its median; quantiles within 1%.")
    page.heading("How the nets ended")
    failures = report["failures"]
    page.table(["outcome", "nets", "share"], [[outcomes.label(k), failures[k], (percent(failures[k] / report["nets"]),
                                                                         failures[k] / report["nets"])]
                                              for k in FAILURES]
               + [["solved at the end", report["solved"] - failures["solved_then_lost"],
                   (percent((report["solved"] - failures["solved_then_lost"]) / report["nets"]),
                    (report["solved"] - failures["solved_then_lost"]) / report["nets"])]],
               ["outcome", "nets", "share"])
    if failures["patterns_wrong"]:
        page.paragraph(f"Unsolved nets by how many of the {words.patterns_count(report['config'])} patterns are on the "
                       f"wrong side of {words.midpoint(report['config'])}: "
                       + ", ".join(f"{k} wrong: {v:,}" for k, v in failures["patterns_wrong"].items()) + ".", "note")
    if boundaries is not None and words.inputs_count(report["config"]) == 2:
        page.heading("Decision boundaries")
        page.image(boundaries, "The output of chosen nets over the input plane after training: the fastest, median "
                               "and slowest solved nets, and one net of each way of failing.")
    elif boundaries is not None:
        page.heading("Outputs of chosen nets")
        page.image(boundaries, "Each chosen net's output for each pattern after training, its target marked: the "
                               "fastest, median and slowest solved nets, and one net of each way of failing.")
    page.heading("Configuration and provenance")
    page.table(["setting", "value"], [[words.label(k), v] for k, v in report["config"].items()], ["setting", "value"])
    if provenance:
        page.table(["field", "value"], [[LABELS.get(k, k), v] for k, v in provenance.items()], ["field", "value"])
    return page.html()


def _thin(x: np.ndarray, y: np.ndarray, most: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """At most `most` points of a step curve (its first and last kept): a page stays small."""
    if x.size <= most:
        return x, y
    keep = np.unique(np.concatenate([[0, x.size - 1], np.linspace(0, x.size - 1, most).astype(int)]))
    return x[keep], y[keep]


def plotly_chart(chart: figures.Chart) -> dict[str, Any]:
    """A figures.Chart as a plotly figure (data and layout), as plots.draw_chart draws it."""
    data: list[dict[str, Any]] = []
    for trace in chart.traces:
        axis = {"yaxis": "y2"} if trace.right else {}
        hover = ({"customdata": list(trace.hover), "hovertemplate": "%{customdata}<extra>" + trace.name + "</extra>"}
                 if trace.hover is not None else {})
        if trace.kind == "step":
            x, y = _thin(trace.x, trace.y)
            data.append({"type": "scatter", "mode": "lines", "line": {"shape": "hv", "color": trace.colour},
                         "name": trace.name, "x": x, "y": y, **axis,
                         "hovertemplate": "%{x:,}: %{y:.2%}<extra>" + trace.name + "</extra>"})
        elif trace.kind == "bars":
            data.append({"type": "bar", "name": trace.name, "x": trace.x, "y": trace.y, "width": trace.width,
                         "marker": {"color": trace.colour}, "opacity": 0.6, **axis, **hover})
        elif trace.kind == "band":
            data += [
                {"type": "scatter", "mode": "lines", "x": trace.x, "y": trace.high, "line": {"width": 0},
                 "showlegend": False, "hoverinfo": "skip", "legendgroup": trace.name, **axis},
                {"type": "scatter", "mode": "lines", "x": trace.x, "y": trace.low, "line": {"width": 0},
                 "fill": "tonexty", "fillcolor": _translucent(trace.colour),
                 "name": f"{trace.name}: 10th-90th percentile", "legendgroup": trace.name, "hoverinfo": "skip", **axis},
                {"type": "scatter", "mode": "lines", "x": trace.x, "y": trace.y, "name": f"{trace.name}: median",
                 "line": {"color": trace.colour}, "legendgroup": trace.name, **axis,
                 "hovertemplate": "%{x:,}: median %{y:.2g}<extra>" + trace.name + "</extra>"},
            ]
        else:
            errors = ({"error_y": {"type": "data", "symmetric": False,
                                   "array": np.maximum(trace.high - trace.y, 0),
                                   "arrayminus": np.maximum(trace.y - trace.low, 0)}}
                      if trace.low is not None else {})
            data.append({"type": "scatter", "mode": "lines+markers", "name": trace.name, "x": trace.x, "y": trace.y,
                         "line": {"color": trace.colour, "dash": {"solid": "solid", "dashed": "dash", "dotted": "dot"}[trace.line]},
                         "marker": {"symbol": "square" if trace.line == "dotted" else "circle"},
                         **errors, **axis, **hover})
    layout: dict[str, Any] = {"title": {"text": chart.title}, "xaxis": _plotly_axis(chart.x),
                              "yaxis": _plotly_axis(chart.y), "legend": {"orientation": "h", "y": -0.25}}
    if chart.right is not None:
        layout["yaxis2"] = {**_plotly_axis(chart.right), "overlaying": "y", "side": "right", "showgrid": False,
                            "tickmode": "auto"}  # its own round ticks, not the left axis' grid
        layout["margin"] = {"r": 80}
    if any(trace.kind == "bars" for trace in chart.traces):
        layout.update(barmode="overlay", bargap=0)
    if chart.note:
        layout["annotations"] = [{"text": chart.note, "xref": "paper", "yref": "paper", "x": 0.98, "y": 0.05,
                                  "xanchor": "right", "yanchor": "bottom", "showarrow": False,
                                  "bgcolor": "white", "bordercolor": "lightgrey"}]
    return {"data": data, "layout": layout}


def _plotly_axis(scale: figures.Scale) -> dict[str, Any]:
    axis: dict[str, Any] = {"title": {"text": scale.label}, "type": scale.kind}
    if scale.limits is not None:
        axis["range"] = [float(np.log10(v)) for v in scale.limits] if scale.kind == "log" else list(scale.limits)
    if scale.ticks is not None:
        axis.update(tickvals=list(scale.ticks), ticktext=list(scale.tick_labels or scale.ticks))
    if scale.percent:
        axis["tickformat"] = ".0%"
    if scale.kind == "log":
        axis["dtick"] = 1
    return axis


def plotly_heatmap(heatmap: figures.Heatmap) -> dict[str, Any]:
    """A figures.Heatmap as a plotly figure, as plots.draw_heatmap draws it."""
    low, high = heatmap.limits
    values = [[None if not np.isfinite(v) else float(v) for v in row] for row in heatmap.values]
    return {"data": [{"type": "heatmap", "z": values, "x": list(heatmap.columns.tick_labels),
                      "y": list(heatmap.rows.tick_labels), "text": heatmap.text, "texttemplate": "%{text}",
                      "customdata": heatmap.hover, "hovertemplate": "%{customdata}<extra></extra>",
                      "zmin": low, "zmax": high, "colorscale": "Viridis",  # bright is good on both
                      "reversescale": not heatmap.bright_is_high,
                      "colorbar": {"title": {"text": heatmap.colour_label},
                                   **({"tickformat": ".0%"} if heatmap.percent else {})}}],
            "layout": {"title": {"text": heatmap.title[0].upper() + heatmap.title[1:]},
                       "xaxis": {"title": {"text": heatmap.columns.label}, "type": "category"},
                       "yaxis": {"title": {"text": heatmap.rows.label}, "type": "category", "autorange": "reversed"}}}


def _translucent(colour: str) -> str:
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},0.2)"


# --- a sweep ---------------------------------------------------------------------------------------------


def sweep_page(title: str, rows: list[dict[str, Any]], flat: list[dict[str, Any]], varying: list[str],
               pictures: list[Path], preset: Any = None, comparison: list[dict[str, str]] | None = None) -> str:
    page = Page(title)
    first = rows[0]
    shared = fixed_settings(rows, varying).replace(chr(10), " ")
    nets = first["report"]["nets"]
    page.paragraph(f"A sweep of {len(rows)} cells over {', '.join(varying)}, each cell {nets:,} nets. Every cell shares: "
                   f"{shared}." if varying else f"One cell of {nets:,} nets: {shared}.", "what")
    page.paragraph(_sweep_provenance(rows), "where")
    page.heading("Cells")
    header = [*(words.label(a) for a in varying), "solved", "success", "95% CI", "median epochs", "p90 epochs",
              *(outcomes.label(name) for name in FAILURES)]
    keys = [*varying, "solved", "success_rate", "ci95", "median_epochs", "p90_epochs", *FAILURES]
    table = []
    for r in flat:
        table.append([*(r[a] for a in varying), (f"{r['solved']:,}/{r['nets']:,}", r["solved"]),
                      (percent(r["success_rate"]), r["success_rate"]),
                      (f"{percent(r['ci95_low'])} to {percent(r['ci95_high'])}", r["ci95_low"]),
                      r["median_epochs"], r["p90_epochs"],
                      *(r.get(k) for k in FAILURES)])
    page.table(header, table, keys, "Click a column to sort. Epochs over the nets that solved; the last four "
                                    "columns count the nets that solved then lost it, stalled on a plateau, were "
                                    "still improving, or diverged.")
    images = [path for path in pictures
              if path.suffix == ".png" and (len(varying) > 2 or path.stem == "beside_the_source")]
    if varying or images:
        page.heading("Figures")
    if len(varying) == 1:
        page.figure(plotly_chart(figures.sweep_line(flat, varying[0])), "Success rate with its 95% interval, and median and p90 epochs to solve "
                                                        "(right axis). Hover for values.", tall=True)
    elif len(varying) == 2:
        page.figure(plotly_heatmap(figures.heatmap(flat, flat, *varying, "success_rate")), "Success rate of each cell (hover: solved/nets and "
                                                                  "the interval).")
        page.figure(plotly_heatmap(figures.heatmap(flat, flat, *varying, "median_epochs")), "Median epochs to solve of each cell.")
    for path in images:
        page.image(path, path.stem.replace("_", " "))
    if preset is not None:
        page.heading(f"Beside the source: {preset.title}")
        page.paragraph(f"Source: {preset.source}.")
        page.add("<ul class=caveats>" + "".join(f"<li>assumed: {html.escape(a)}</li>" for a in preset.assumptions)
                 + "</ul>")
        page.table(["cell", "quantity", "source", "ours"],
                   [[line["cell"], line["quantity"], line["source"], line["ours"]] for line in comparison or []])
    return page.html()


def _sweep_provenance(rows: list[dict[str, Any]]) -> str:
    made = [r["report"].get("provenance") or {} for r in rows]

    def distinct(key: str) -> str:
        return " and ".join(sorted({str(p[key]) for p in made if p.get(key)}))

    wall = sum(p.get("wall_seconds") or 0 for p in made)
    starts = sorted(p["started"] for p in made if p.get("started"))
    when = f"{starts[0]} to {starts[-1]}" if starts else "not recorded"
    trained_by = words.trained_by({key: distinct(key) for key in ("engine", "backend", "device")})
    return (f"Trained by {trained_by or 'what was not recorded'}, {when}, {_seconds(wall)} in all; "
            f"xorgpu {distinct('version') or 'not recorded'}. Report made {_now()}.")


# --- a comparison -------------------------------------------------------------------------------------------


def compare_page(result: dict[str, Any], sides: list[tuple[str, NetOutcomes, dict[str, Any] | None, Config | None]]) -> str:
    """sides: (name, results, statistics or None, config or None) of A and of B."""
    (name_a, results_a, stats_a, config_a), (name_b, results_b, stats_b, config_b) = sides
    page = Page(f"xorgpu compare: A {name_a}, B {name_b}")
    page.paragraph(f"{result['nets']:,} nets, paired by seed: each seed trained under A and under B.", "what")
    page.add('<div class=pair>')
    for label, name, stats, config in (("A", name_a, stats_a, config_a), ("B", name_b, stats_b, config_b)):
        described = what_was_trained(config.to_dict(), result["nets"], (stats or {}).get("provenance", {}).get("seeds")) \
            if config else "re-trained from a sweep cell"
        page.add(f"<div><h2>{label}: {html.escape(name)}</h2><p>{html.escape(described)}</p>"
                 f"<p class=where>{html.escape(where_from((stats or {}).get('provenance')))}</p></div>")
    page.add("</div>")
    page.heading("Paired outcomes")
    n = result["nets"]
    page.table(["", "B solves", "B does not"],
               [["A solves", result["both_solved"], result["only_a"]], ["A does not", result["only_b"], result["neither"]]],
               ["", "b_solves", "b_does_not"], f"Nets, of {n:,}. A solves {percent((result['both_solved'] + result['only_a']) / n)}, "
                                             f"B {percent((result['both_solved'] + result['only_b']) / n)}.")
    page.paragraph(f"McNemar's exact test that A and B solve as often: p = {result['mcnemar_p']:.3g} "
                   f"(two-sided, on the {result['only_a'] + result['only_b']:,} nets only one of them solves).")
    if result["median_epochs_difference"] is not None:
        low, high = result["median_epochs_difference_ci95"]
        page.paragraph(f"Median epochs to solve over the {result['both_solved']:,} nets both solve, B minus A: "
                       f"{result['median_epochs_difference']:+,g} (95% bootstrap interval {low:+,g} to {high:+,g}).")
    epochs = max(int(results_a.epochs_to_solve.max(initial=0)), int(results_b.epochs_to_solve.max(initial=0)), 1)
    epochs = max(epochs, config_a.epochs if config_a else 0, config_b.epochs if config_b else 0)
    page.figure(plotly_chart(figures.ecdf([(results_a, f"A: {name_a}", figures.SOLVED_COLOUR),
                                           (results_b, f"B: {name_b}", figures.OTHER_COLOUR)], epochs)),
                "The share of nets each side solved by each epoch.")
    page.heading("Seeds only one side solves")
    page.table(["solved by", "nets", "seeds"],
               [[side, len(seeds), (", ".join(map(str, seeds)) or "-", " ".join(map(str, seeds)))]
                for side, seeds in (("A only", result["only_a_seeds"]), ("B only", result["only_b_seeds"]))],
               ["solved_by", "nets", "seeds"], "Re-train one with `xorgpu inspect SOURCE --seed S` to see why.")
    return page.html()


# --- a map of trainability -----------------------------------------------------------------------------

MAP_HOVER_PIXELS = 256  # the interactive map shows at most this many pixels a side (every k-th pixel)


def map_page(title: str, result: Any, map_png: Path, counts_png: Path, counts: Any) -> str:
    """A map (xorgpu.maps.MapResult): its picture, an interactive view, its outcomes and the
    box-counting dimension of its boundary, with what made it."""
    spec = result.spec
    page = Page(title)
    c = spec.config
    axes = "; ".join(f"{side}, {words.knob_label(a.knob.name, a.log)}, from {a.low:.6g} to {a.high:.6g}"
                     for a, side in ((spec.x, "across"), (spec.y, "up")))
    page.paragraph(f"{spec.pixels:,} nets, one per pixel: {words.map_view(spec)}. {axes}.", "what")
    page.paragraph(where_from(result.provenance), "where")
    fractions = result.fractions()
    solved = fractions["solved"] + fractions["solved_then_lost"]
    page.add(f"<p class=headline><b>{percent(solved)}</b> of the pixels' nets solved "
             f"{html.escape(words.task_name(c))} within "
             f"{c.epochs:,} epochs.</p>")
    page.heading("The map")
    page.image(map_png, "Every pixel: epochs to solve (colour bar), or how its net failed. Axes in the knobs' units.",
               "900px")
    page.heading("Explore it")
    step = max(1, -(-spec.resolution // MAP_HOVER_PIXELS))
    shown = f"One pixel in {step} along each side: epochs to solve" if step > 1 else "Epochs to solve"
    page.figure(map_hover_spec(result, step), shown + ", on the colour scale of the map above; grey where the net "
                "never solved. Hover for a pixel's values, drag to zoom; `xorgpu map --center X,Y --span D` trains "
                "any view at full resolution.", tall=True)
    page.heading("How the nets ended")
    counts_by_outcome = np.bincount(result.outcome.ravel(), minlength=len(OUTCOMES))
    page.table(["outcome", "pixels", "share"],
               [[outcomes.label(name), int(counts_by_outcome[code(name)]), (percent(fractions[name]), fractions[name])]
                for name in OUTCOMES], ["outcome", "pixels", "share"])
    page.heading("The boundary's dimension")
    if counts.dimension is None:
        page.paragraph("No dimension: " + ("this view holds no boundary between solved and unsolved pixels."
                                            if counts.boundary_pixels == 0 else
                                            "too few box sizes to fit; map at a higher resolution."))
    else:
        low, high = counts.fit_sizes
        page.paragraph(f"Box counting on the {counts.boundary_pixels:,} pixels where a solved net borders an unsolved "
                       f"one: dimension {counts.dimension:.3f} ± {counts.stderr:.3f} (standard error of the slope of "
                       f"log N(s) on log 1/s, boxes of {low} to {high} pixels). About 1 is a smooth curve, 2 a "
                       "boundary that fills the plane.")
    page.image(counts_png, "Boxes holding boundary pixels, by box size, and the fitted slope.", "600px")
    page.table(["box side (pixels)", "boxes holding boundary"],
               [[int(s), int(n)] for s, n in zip(counts.sizes, counts.counts)], ["box_side", "boxes"])
    page.heading("Configuration and provenance")
    page.table(["setting", "value"], [[words.label(k), v] for k, v in c.to_dict().items()]
               + [["map x", str(spec.x)], ["map y", str(spec.y)], ["resolution", spec.resolution],
                  ["seed", spec.seed]], ["setting", "value"])
    if result.provenance:
        page.table(["field", "value"], [[LABELS.get(k, k), v] for k, v in result.provenance.items()],
                   ["field", "value"])
    return page.html()


def map_hover_spec(result: Any, step: int) -> dict[str, Any]:
    """A plotly heatmap of epochs to solve over every `step`-th pixel, on the picture's colour
    scale (log where it is log), with each pixel's knob values, epochs and outcome on hover."""
    from .maps.render import log_colour_range  # noqa: PLC0415
    spec = result.spec
    epochs = result.epochs_to_solve[::step, ::step]
    outcome = result.outcome[::step, ::step]
    x, y = result.x[::step], result.y[::step]
    log_range = log_colour_range(epochs)
    shown = np.log10(np.maximum(epochs, 1)) if log_range else epochs.astype(float)
    z = np.where(epochs >= 0, np.round(shown, 4), None).tolist()  # JSON null: a gap, grey
    colorbar: dict[str, Any] = {"title": {"text": "epochs to solve"}}
    if log_range:
        low, high = log_range
        ticks = [v * 10**k for k in range(9) for v in (1, 2, 5) if low <= v * 10**k <= high]
        colorbar.update(tickvals=np.log10(ticks).tolist(), ticktext=[f"{t:,}" for t in ticks])
    names = np.array([outcomes.label(name) for name in OUTCOMES])[outcome]
    # Drawn over pixel numbers, one unit a pixel on both axes (scaleanchor), so the view keeps
    # the picture's square shape whatever the knobs' units; ticks and hover give the knobs' values.
    columns, rows = np.arange(x.size), np.arange(y.size)
    knobs = np.stack(np.broadcast_arrays(x[None, :], y[:, None], epochs), axis=-1)  # (rows, columns, 3)
    return {
        "data": [{"type": "heatmap", "x": columns, "y": rows, "z": z, "customdata": knobs, "text": names,
                  "colorscale": "Viridis", "colorbar": colorbar, "hoverongaps": False,
                  "hovertemplate": f"{spec.x.knob.name} %{{customdata[0]:.6g}}<br>{spec.y.knob.name} "
                                   "%{customdata[1]:.6g}<br>epochs to solve %{customdata[2]:.0f}<br>%{text}"
                                   "<extra></extra>"}],
        "layout": {"xaxis": {"title": {"text": words.knob_label(spec.x.knob.name, spec.x.log)}, **_ticks(x, spec.x),
                             "constrain": "domain"},
                   "yaxis": {"title": {"text": words.knob_label(spec.y.knob.name, spec.y.log)}, **_ticks(y, spec.y),
                             "scaleanchor": "x", "scaleratio": 1, "constrain": "domain"},
                   "plot_bgcolor": "#d0d0d0"},
    }


def _ticks(values: np.ndarray, axis: Any) -> dict[str, Any]:
    """Ticks at round values of the knob (matplotlib's choice, per decade on a log axis), placed
    at their pixel positions."""
    from matplotlib.ticker import LogLocator, MaxNLocator  # noqa: PLC0415

    low, high = float(values[0]), float(values[-1])
    span = values.size - 1 or 1
    if axis.log:
        found = LogLocator(numticks=8).tick_values(low, high)
        where = lambda v: (np.log10(v) - np.log10(low)) / (np.log10(high) - np.log10(low)) * span  # noqa: E731
    else:
        found = MaxNLocator(6).tick_values(low, high)
        where = lambda v: (v - low) / (high - low) * span  # noqa: E731
    found = [v for v in found if min(low, high) <= v <= max(low, high)] if values.size > 1 else [low]
    positions = [float(where(v)) for v in found] if values.size > 1 else [0.0]
    return {"tickvals": positions, "ticktext": [f"{v:.6g}" for v in found], "range": [-0.5, values.size - 0.5]}
