"""`xorgpu map`: one net per pixel over two knobs; a zoom; the boundary's dimension."""

from __future__ import annotations

import json
from typing import Any

import click

from xorgpu.config import Config, ConfigError, RunOptions, SeedRange
from xorgpu.settings import DEFAULT_QUEUE, MAX_CHUNK_NETS

from .options import config_options, notice, progress_bar, redis_option, results_option

AXIS_HELP = ("NAME:LOW:HIGH[:log], NAME one of lr, lr_hidden, lr_output, momentum, init_scale, W1[i,j], b1[j], "
             "W2[j], b2 (with --center/--span: NAME or NAME:log)")


@click.command(name="map")
@click.option("--x", "x", required=True, metavar="AXIS", help=f"The horizontal axis: {AXIS_HELP}.")
@click.option("--y", "y", required=True, metavar="AXIS", help="The vertical axis, as --x.")
@click.option("--resolution", type=click.IntRange(1, 16384), default=256, show_default=True,
              help="R: the map is R x R nets, one per pixel.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
              help="The net whose initial weights every pixel starts from.")
@click.option("--center", metavar="X,Y", help="Centre of the view, instead of the axes' ranges.")
@click.option("--span", metavar="DX[,DY]", help="Width of the view around --center (decades on a log axis).")
@config_options
@click.option("--out", type=click.Path(dir_okay=False), help="Write the map to FILE.npz.")
@click.option("--png", type=click.Path(dir_okay=False), help="Draw the map to FILE.png.")
@click.option("--shade-failures", is_flag=True,
              help="In the PNG, shade the nets that never solved (plateau, still improving) by their final loss.")
@click.option("--counts-png", type=click.Path(dir_okay=False),
              help="Draw the box counts of the boundary's dimension to FILE.png.")
@click.option("--title", default=None, help="The pictures' title  [default: what was trained: the net, its settings, "
                                            "the seed].")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome fractions and the dimension as JSON.")
@click.option("--zoom-to", metavar="X,Y", help="Render a zoom closing in on this point as --gif.")
@click.option("--frames", type=int, default=8, show_default=True, help="Frames of the zoom.")
@click.option("--zoom-factor", type=float, default=1000.0, show_default=True,
              help="How many times narrower the last frame is than the first (on each axis).")
@click.option("--gif", type=click.Path(dir_okay=False), help="The zoom's animated GIF (with --zoom-to).")
@click.option("--submit", is_flag=True,
              help="Train on the Celery workers, the map cut into tiles of --chunk-size pixels; wait for it.")
@click.option("--chunk-size", type=click.IntRange(1, MAX_CHUNK_NETS), default=None,
              help="Pixels per tile with --submit  [default: about 3e7 net-epochs a tile].")
@click.option("--queue", default=DEFAULT_QUEUE, show_default=True, help="Celery queue for the tiles (--submit).")
@redis_option
@results_option
def map_command(x: str, y: str, resolution: int, seed: int, center: str | None, span: str | None, config: Config,
                run_options: RunOptions, out: str | None, png: str | None, shade_failures: bool,
                counts_png: str | None, title: str | None, as_json: bool,
                zoom_to: str | None, frames: int, zoom_factor: float, gif: str | None, submit: bool,
                chunk_size: int | None, queue: str, redis_url: str, results_url: str | None) -> None:
    """Map where training solves XOR: one net per pixel, two knobs varied across the picture.

    Every pixel starts from the initial weights of one seed's net; its colour is how many
    epochs it took to solve XOR, or how it failed; the text says each outcome's share and
    the box-counting dimension of the boundary between solved and unsolved pixels.

    \b
    Examples:
      xorgpu map --x lr_hidden:0.01:1000:log --y lr_output:0.01:1000:log --png map.png --out map.npz
      xorgpu map --x lr_hidden:log --y lr_output:log --center 10,10 --span 2 --epochs 2000 --png zoom.png
      xorgpu map --x "W1[0,1]:-10:10" --y "W1[1,0]:-10:10" --hidden 2 --lr 0.5 --momentum 0.9 \\
          --init uniform:-1:1 --seed 1 --epochs 1000 --zoom-to 0.724,0.724 --frames 6 --gif zoom.gif
    """
    from xorgpu.files import FIGURE_SUFFIXES, check_output  # noqa: PLC0415
    from xorgpu.maps.dimension import boundary_dimension  # noqa: PLC0415
    from xorgpu.maps.summary import format_summary, summary  # noqa: PLC0415
    from xorgpu.maps.train import check_map_fits, train_map  # noqa: PLC0415

    from xorgpu.maps.zoom import parse_point, view  # noqa: PLC0415

    spec = view(config, x, y, resolution, seed, center, span)
    if (zoom_to is None) != (gif is None):
        raise ConfigError("--zoom-to and --gif go together")
    for path, suffixes in ((out, (".npz",)), (png, FIGURE_SUFFIXES), (counts_png, FIGURE_SUFFIXES), (gif, (".gif",))):
        if path:
            check_output(path, suffixes)
    specs = [spec]
    if zoom_to is not None:
        from xorgpu.maps.zoom import zoom_frames  # noqa: PLC0415

        specs = zoom_frames(spec, parse_point(zoom_to, "--zoom-to"), frames, zoom_factor)
    if submit:
        results = [_on_workers(frame, run_options, chunk_size, queue, redis_url, results_url) for frame in specs]
    else:
        for frame in specs:
            check_map_fits(frame)
        results = []
        with progress_bar(spec.pixels * len(specs), "training") as bar:
            for frame in specs:
                results.append(train_map(frame, run_options, bar.update, notice))
    counts = [boundary_dimension(result.solved) for result in results]
    summaries = [summary(result, frame_counts) for result, frame_counts in zip(results, counts)]
    last = results[-1]
    if out:
        last.save(out)
    if png or counts_png or gif:
        _draw(results, counts[-1], png, counts_png, gif, title, shade_failures)
    if as_json:
        click.echo(json.dumps(summaries[-1] if len(summaries) == 1 else {"frames": summaries}))
    else:
        for data in summaries:
            click.echo(format_summary(data))


def _on_workers(spec: Any, run_options: RunOptions, chunk_size: int | None, queue: str, redis_url: str,
                results_url: str | None) -> Any:
    """Submit the map as a job of tiles, wait for it, and read it back."""
    from xorgpu.results_store import ResultsStore  # noqa: PLC0415
    from xorgpu.service import map_of_job  # noqa: PLC0415
    from xorgpu.settings import DEFAULT_TTL, results_url as default_results_url  # noqa: PLC0415

    from .service import submit_chunks, wait_until_done  # noqa: PLC0415

    label = f"map {spec.resolution}x{spec.resolution}: {spec.x.knob.name} x {spec.y.knob.name}"
    store, job = submit_chunks(spec.config, SeedRange(0, spec.pixels), run_options, chunk_size, queue, DEFAULT_TTL,
                               label, redis_url, spec.to_json())
    notice(f"map job {job.id}: {job.chunks_total:,} tiles of up to {job.chunk_size:,} pixels")
    job = wait_until_done(store, job, redis_url, what="map job")
    return map_of_job(store, ResultsStore(results_url or default_results_url()), job)


def _draw(results: list[Any], counts: Any, png: str | None, counts_png: str | None, gif: str | None,
          title: str | None, shade_failures: bool = False) -> None:
    """The last map's picture and box counts (counts: its boundary_dimension), the zoom's GIF."""
    from xorgpu.maps.render import save_counts_png, save_map_png, save_zoom_gif  # noqa: PLC0415
    from xorgpu.words import map_view  # noqa: PLC0415

    last = results[-1]
    if png:
        save_map_png(last, png, title, dimension=counts, shade_failures=shade_failures)
    if counts_png:
        save_counts_png(counts, counts_png, title or map_view(last.spec))
    if gif:
        save_zoom_gif(results, gif, title=title)
