"""`xorgpu report SOURCE -o report.html`: one self-contained page for a job, a results file or a sweep."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from .options import complete_source, redis_option, results_option


@click.command()
@click.argument("source", shell_complete=complete_source)
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"),
              show_default=True, help="The page to write, FILE.html.")
@redis_option
@results_option
def report(source: str, out: Path, redis_url: str, results_url: str | None) -> None:
    """Write one self-contained HTML page about SOURCE: what was trained, the statistics and
    interactive figures. SOURCE is a results file (FILE.parquet, FILE.npz), a job id, a sweep
    file (FILE.jsonl) or a map (`xorgpu map --out` FILE.npz, or a `map --submit` job).

    \b
    Examples:
      xorgpu report nets.parquet -o nets.html
      xorgpu report h-lr.jsonl -o sweep.html
      xorgpu report map.npz -o map.html
    """
    from xorgpu import plots, presets, report_html, sweeps  # noqa: PLC0415  (matplotlib loads slowly)
    from xorgpu.config import ConfigError  # noqa: PLC0415
    from xorgpu.files import check_output, written_atomically  # noqa: PLC0415
    from xorgpu.sources import open_source  # noqa: PLC0415
    from xorgpu.trajectory import trained_nets  # noqa: PLC0415

    check_output(out, (".html",))
    opened = open_source(source, redis_url, results_url, maps=True)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if opened.kind == "map":
            page = report_html.map_report(f"xorgpu {opened.name}", opened.map())
        elif opened.kind == "sweep":
            rows = opened.rows
            varying = sweeps.varying_axes(rows)
            flat = sweeps.table_rows(rows, varying, with_outcomes=True)
            preset = presets.of_rows(rows)
            static = len(varying) > 2 or (preset is not None and preset.curve is not None)
            figures = plots.save(plots.sweep_figures(rows), folder) if static else []
            comparison = presets.comparison(preset, rows) if preset else None
            page = report_html.sweep_page(f"xorgpu {opened.name}", rows, flat, varying, figures, preset, comparison)
        else:
            if opened.statistics is None:
                raise ConfigError(f"{source} holds no statistics (written by an older xorgpu): "
                                  "write it again with `xorgpu run --out` or `xorgpu results`")
            outcomes = opened.outcomes()  # a job's: four columns of its files, not every output
            trained = trained_nets(opened.config, plots.chosen_nets(outcomes))
            page = report_html.job_report(f"xorgpu {opened.name}", opened.statistics, outcomes, opened.config,
                                          opened.seeds, trained)
    with written_atomically(out, "w") as handle:
        handle.write(page)
    click.echo(f"wrote {out}")
