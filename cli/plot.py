"""`xorgpu plot SOURCE --out DIR`: figures of a job, a results file, a sweep file or a map."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from xorgpu.words import COLOUR_RANGES

from .options import complete_source, redis_option, results_option


@click.command()
@click.argument("source", shell_complete=complete_source)
@click.option("-o", "--out", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("xorgpu-plots"),
              show_default=True, help="Folder for the PNG and SVG files (made if missing).")
@click.option("--title", default=None, help="The figures' title  [default: what was trained: the net, its settings "
                                            "and seeds].")
@click.option("--colour-range", "colour_range", type=click.Choice(COLOUR_RANGES), default="full", show_default=True,
              help="A sweep's heatmaps: colours over 0-100% of nets solved (full), or over the data's range.")
@redis_option
@results_option
def plot(source: str, folder: Path, title: str | None, colour_range: str, redis_url: str,
         results_url: str | None) -> None:
    """PNG and SVG figures of SOURCE, for papers and slides: a results file (FILE.parquet or
    FILE.npz), a job id, a sweep file (FILE.jsonl) or a map (`xorgpu map --out` FILE.npz, or
    a `map --submit` job, drawn again without training).

    \b
    Examples:
      xorgpu plot nets.parquet -o figures
      xorgpu plot h-lr.jsonl --colour-range data
      xorgpu plot map.npz --title "Learning rates per layer, seed 0"
    """
    from xorgpu import plots, sweeps  # noqa: PLC0415  (matplotlib loads slowly)
    from xorgpu.config import ConfigError  # noqa: PLC0415
    from xorgpu.files import check_folder, move_into  # noqa: PLC0415
    from xorgpu.sources import open_source  # noqa: PLC0415

    check_folder(folder)
    opened = open_source(source, redis_url, results_url, maps=True)
    if opened.kind == "map":
        from xorgpu.maps.dimension import boundary_dimension  # noqa: PLC0415
        from xorgpu.maps.render import counts_figure, map_figure  # noqa: PLC0415
        from xorgpu.words import map_view  # noqa: PLC0415

        result = opened.map()
        counts = boundary_dimension(result.solved)
        figures = {"map": map_figure(result, title, counts), "boundary_counts": counts_figure(
            counts, title or map_view(result.spec))}
    elif opened.kind == "sweep":
        if not sweeps.varying_axes(opened.rows):
            raise ConfigError(f"{source} holds one cell: nothing varies to plot (plot a job or FILE.npz instead)")
        figures = plots.sweep_figures(opened.rows, title, colour_range)
    else:
        from xorgpu.trajectory import trained_nets  # noqa: PLC0415
        from xorgpu.words import describe  # noqa: PLC0415

        outcomes = opened.outcomes()
        trained = trained_nets(opened.config, plots.chosen_nets(outcomes))
        figures = plots.job_figures(outcomes, opened.config, opened.statistics or {},
                                    title or describe(opened.config, opened.seeds), trained)
    with tempfile.TemporaryDirectory() as scratch:  # figures move into `folder` only once all are drawn
        for path in move_into(plots.save(figures, Path(scratch)), folder):
            click.echo(str(path))
