"""`xorgpu plot SOURCE --out DIR`: figures of a job, a results file or a sweep file."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from .options import redis_option, results_option


@click.command()
@click.argument("source")
@click.option("-o", "--out", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("xorgpu-plots"),
              show_default=True, help="Folder for the PNG and SVG files (made if missing).")
@redis_option
@results_option
def plot(source: str, folder: Path, redis_url: str, results_url: str | None) -> None:
    """Plot a job (JOB id), a results file (FILE.npz) or a sweep (FILE.jsonl)."""
    from xorgpu import plots  # noqa: PLC0415  (matplotlib loads slowly)
    from xorgpu import sweeps  # noqa: PLC0415
    from xorgpu.config import ConfigError  # noqa: PLC0415
    from xorgpu.files import check_folder, move_into  # noqa: PLC0415
    from xorgpu.sources import open_source  # noqa: PLC0415

    check_folder(folder)
    opened = open_source(source, redis_url, results_url)
    with tempfile.TemporaryDirectory() as scratch:  # figures move into `folder` only once all are drawn
        if opened.kind == "sweep":
            if not sweeps.varying_axes(opened.rows):
                raise ConfigError(f"{source} holds one cell: nothing varies to plot (plot a job or FILE.npz instead)")
            written = plots.sweep_figures(opened.rows, Path(scratch))
        else:
            written = plots.job_figures(opened.outcomes(), opened.config, opened.statistics or {}, Path(scratch),
                                        opened.name)
        for path in move_into(written, folder):
            click.echo(str(path))
