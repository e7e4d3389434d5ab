"""One self-contained HTML page for a job or a sweep: config, statistics, tables, figures.

Figures are embedded as base64 PNG, the style is inline, and nothing is fetched: the file
opens anywhere, offline. A few lines of script mark on <body> how many figures the
browser actually decoded (data-figures-loaded), which the tests read in a real browser.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from .text import percent, rate_text

RATE_COLUMNS = ("success_rate", "ci95_low", "ci95_high")  # shown as percentages, never rounded to 100%

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 980px; margin: 2em auto; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; } td.key { text-align: left; font-family: monospace; }
table.prose td { text-align: left; }
figure { display: inline-block; margin: 0.5em; } img { max-width: 460px; }
"""

_SCRIPT = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.querySelectorAll("img"));
  var loaded = images.filter(function (img) { return img.complete && img.naturalWidth > 0; });
  document.body.setAttribute("data-figures-loaded", String(loaded.length));
});
"""


def _table(rows: list[list[Any]], header: list[str] | None = None, prose: bool = False) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header) if header else ""
    body = "".join(
        "<tr>" + "".join(f'<td{" class=key" if i == 0 else ""}>{html.escape(_fmt(c))}</td>'
                         for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table{' class=prose' if prose else ''}>{'<tr>' + head + '</tr>' if head else ''}{body}</table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def _figures(paths: list[Path]) -> str:
    items = []
    for path in paths:
        if path.suffix != ".png":
            continue
        data = base64.b64encode(path.read_bytes()).decode()
        items.append(f'<figure><img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'
                     f"<figcaption>{html.escape(path.stem.replace('_', ' '))}</figcaption></figure>")
    return "".join(items)


def _page(title: str, sections: list[str]) -> str:
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style><script>{_SCRIPT}</script></head>"
            f"<body><h1>{html.escape(title)}</h1>{''.join(sections)}</body></html>")


def job_page(title: str, report: dict[str, Any], figures: list[Path]) -> str:
    low, high = report["success_ci95"]
    stats = [
        ["nets", report["nets"]], ["solved", report["solved"]],
        ["success rate", rate_text(report["solved"], report["nets"])],
        ["95% CI (Wilson)", f"[{percent(low)}, {percent(high)}]"],
        *[[f"epochs to solve: {k}", v] for k, v in report["epochs_to_solve"].items()],
        *[[f"final loss: {k}", v] for k, v in report["final_loss"].items()],
    ]
    failures = [[k, v if not isinstance(v, dict) else ", ".join(f"{a} wrong: {b}" for a, b in v.items()) or "-"]
                for k, v in report["failures"].items()]
    return _page(title, [
        "<h2>Statistics</h2>", _table(stats),
        "<h2>Unsolved nets</h2>", _table(failures),
        "<h2>Figures</h2>", _figures(figures),
        "<h2>Configuration</h2>", _table([[k, v] for k, v in report["config"].items()]),
        *(["<h2>Provenance</h2>", _table([[k, ", ".join(map(str, v)) if isinstance(v, list) else v]
                                          for k, v in report["provenance"].items()])]
          if report.get("provenance") else []),
    ])


def sweep_page(title: str, flat: list[dict[str, Any]], figures: list[Path],
               preset: Any = None, comparison: list[dict[str, str]] | None = None) -> str:
    """preset (xorgpu.presets.Preset) and comparison: the source's numbers beside ours."""
    header = list(flat[0]) if flat else []
    shown = [{k: percent(v) if k in RATE_COLUMNS and v is not None else v for k, v in row.items()} for row in flat]
    sections = ["<h2>Cells</h2>", _table([[row[k] for k in header] for row in shown], header),
                "<h2>Figures</h2>", _figures(figures)]
    if preset is not None:
        sections += [
            f"<h2>Beside the source: {html.escape(preset.title)}</h2>",
            f"<p>Source: {html.escape(preset.source)}.</p>",
            "<ul>" + "".join(f"<li>assumed: {html.escape(a)}</li>" for a in preset.assumptions) + "</ul>",
            _table([[line["cell"], line["quantity"], line["source"], line["ours"]] for line in comparison or []],
                   ["cell", "quantity", "source", "ours"], prose=True),
        ]
    return _page(title, sections)
