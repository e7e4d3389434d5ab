"""Pictures of maps: the map itself, the box counts of its boundary, a zoom as a GIF.

Solved pixels take a perceptual colour map (viridis) of epochs to solve, on a log scale
where they span more than a decade; pixels that never solved take colours viridis never
uses: plateau light grey, still improving dark grey, diverged red, and nets that solved
and then lost it orange; or, with `shade_failures`, the nets that never solved and stayed
finite (plateau, still improving) take a grey scale of their final loss, light near a
solution and dark far from it, with a colour bar of its own. Axes are in the knobs' own units (log axes labelled with their
values, in words). Titles say what was trained (xorgpu.words.map_view) unless the caller
gives one. matplotlib is imported only here, its figures made without pyplot (no backend
is chosen or changed); Pillow (which matplotlib needs anyway) assembles GIFs, every frame
on one palette so a colour means the same outcome in each.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .. import words
from ..plots import literal, new_figure
from ..outcomes import BY_NAME, FAILURES, code, label
from ..words import percent
from .dimension import BoxCounts
from .result import MapResult

SOLVED_CMAP = "viridis"
UNSOLVED_COLOURS = {name: BY_NAME[name].colour for name in FAILURES}  # the outcomes that are not solved
LOG_COLOUR_SPAN = 10  # a log colour scale where the slowest solved pixel is this many times the fastest
SHADED = ("plateau", "still_improving")  # the outcomes shade_failures shades by final loss
FAILURE_CMAP = "Greys"
FAILURE_SHADES = (0.2, 0.85)  # the part of FAILURE_CMAP used: no white or black, so edges stay visible
WIDTH = 7.0  # inches


def log_colour_range(epochs: np.ndarray) -> tuple[int, int] | None:
    """(fastest, slowest) epochs of the solved pixels where their colours take a log scale
    (the slowest took LOG_COLOUR_SPAN times the fastest or more); None for a linear scale."""
    solved = epochs[epochs >= 0]
    if solved.size == 0:
        return None
    low, high = max(int(solved.min()), 1), max(int(solved.max()), 1)
    return (low, high) if high >= LOG_COLOUR_SPAN * low else None


def _norm(epochs: np.ndarray) -> Any:
    from matplotlib.colors import LogNorm, Normalize  # noqa: PLC0415

    solved = epochs[epochs >= 0]
    if solved.size == 0:
        return Normalize(0, 1)
    log_range = log_colour_range(epochs)
    if log_range is not None:
        return LogNorm(*log_range)
    return Normalize(int(solved.min()), max(int(solved.max()), int(solved.min()) + 1))


def failure_norm(result: MapResult) -> Any:
    """The log scale of the shaded pixels' final losses (None where there are none)."""
    from matplotlib.colors import LogNorm, Normalize  # noqa: PLC0415

    losses = result.final_loss[np.isin(result.outcome, [code(name) for name in SHADED])]
    losses = losses[np.isfinite(losses) & (losses > 0)]
    if losses.size == 0:
        return None
    low, high = float(losses.min()), float(losses.max())
    return LogNorm(low, high) if high > low else Normalize(low * 0.5, low * 1.5)


def failure_cmap() -> Any:
    """FAILURE_CMAP, cut to FAILURE_SHADES."""
    from matplotlib import colormaps  # noqa: PLC0415
    from matplotlib.colors import ListedColormap  # noqa: PLC0415

    return ListedColormap(colormaps[FAILURE_CMAP](np.linspace(*FAILURE_SHADES, 256)), name="failures")


def rgba(result: MapResult, norm: Any, shade_failures: bool = False) -> np.ndarray:
    """(R, R, 4) uint8 colours of the pixels (4 bytes a pixel: a 4096^2 map takes 64 MiB)."""
    from matplotlib import colormaps  # noqa: PLC0415
    from matplotlib.colors import LogNorm, to_rgba  # noqa: PLC0415

    epochs = result.epochs_to_solve
    image = colormaps[SOLVED_CMAP](norm(np.maximum(epochs, 1) if isinstance(norm, LogNorm) else epochs), bytes=True)
    for name, colour in UNSOLVED_COLOURS.items():
        image[result.outcome == code(name)] = np.round(np.array(to_rgba(colour)) * 255).astype(np.uint8)
    shades = failure_norm(result) if shade_failures else None
    if shades is not None:
        shaded = np.isin(result.outcome, [code(name) for name in SHADED]) & np.isfinite(result.final_loss)
        image[shaded] = failure_cmap()(shades(np.maximum(result.final_loss[shaded], shades.vmin)), bytes=True)
    return image


def _extent(values: np.ndarray, log: bool) -> tuple[float, float]:
    """The image's edges along an axis, in plotted units (log10 of the value on a log axis)."""
    v = np.log10(values) if log else values
    half = (v[-1] - v[0]) / (2 * (v.size - 1)) if v.size > 1 else 0.5
    return float(v[0] - half), float(v[-1] + half)


def _log_ticks(axis: Any, decades: float) -> None:
    """Ticks of a log axis drawn in log10 units, labelled with the values themselves: one
    per decade over wide views, and enough digits to tell ticks apart in deep zooms."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator  # noqa: PLC0415

    if decades >= 2:
        axis.set_major_locator(MultipleLocator(max(1, round(decades / 8))))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{float(f'{10 ** v:.6g}'):g}"))  # 1000, 0.01, 1e-05
        return
    digits = max(3, math.ceil(-math.log10(decades * math.log(10))) + 3)
    axis.set_major_locator(MaxNLocator(5))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{10 ** v:.{digits}g}"))


def draw_map(ax: Any, result: MapResult, norm: Any, shade_failures: bool = False) -> Any:
    """The map on matplotlib axes `ax`; returns the image."""
    spec = result.spec
    (x0, x1), (y0, y1) = _extent(result.x, spec.x.log), _extent(result.y, spec.y.log)
    image = ax.imshow(rgba(result, norm, shade_failures), origin="lower", extent=(x0, x1, y0, y1), aspect="auto",
                      interpolation="nearest")
    for axis, spec_axis in ((ax.xaxis, spec.x), (ax.yaxis, spec.y)):
        if spec_axis.log:
            _log_ticks(axis, spec_axis.span)
    ax.set_xlabel(literal(words.knob_label(spec.x.knob.name, spec.x.log)))
    ax.set_ylabel(literal(words.knob_label(spec.y.knob.name, spec.y.log)))
    return image


def plain_numbers(bar: Any) -> None:
    """A colour bar's labels as 200, 1000, not 2 x 10^2."""
    from matplotlib.ticker import FuncFormatter  # noqa: PLC0415

    plain = FuncFormatter(lambda v, _: f"{v:g}")
    bar.ax.yaxis.set_major_formatter(plain)
    bar.ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}"[0] in "1235" else ""))


def loss_numbers(bar: Any) -> None:
    """A loss colour bar's labels with two figures (0.2, 0.45), not 2 x 10^-1."""
    from matplotlib.ticker import FuncFormatter  # noqa: PLC0415

    two_figures = FuncFormatter(lambda v, _: f"{v:.2g}")
    bar.ax.yaxis.set_major_formatter(two_figures)
    bar.ax.yaxis.set_minor_formatter(two_figures)


def range_text(result: MapResult) -> str:
    """Each axis's range, with as many digits as tell its ends apart (up to float64's 17)."""
    return "  ".join(words.axis_range(axis) for axis in (result.spec.x, result.spec.y))


def map_figure(result: MapResult, title: str | None = None, dimension: BoxCounts | None = None,
               shade_failures: bool = False) -> Any:
    """A figure: the map, a colour bar of epochs to solve, and a legend of the other outcomes
    with their shares of the pixels; titled with what was trained (or `title`). With
    shade_failures, a second colour bar: the final loss of the nets that never solved."""
    from matplotlib.cm import ScalarMappable  # noqa: PLC0415

    shades = failure_norm(result) if shade_failures else None
    figure = new_figure(figsize=(WIDTH * (1.12 if shades else 1), WIDTH * 0.9), layout="constrained")
    ax = figure.subplots()
    norm = _norm(result.epochs_to_solve)
    draw_map(ax, result, norm, shade_failures)
    bar = figure.colorbar(ScalarMappable(norm=norm, cmap=SOLVED_CMAP), ax=ax, shrink=0.85, pad=0.02)
    bar.set_label("epochs to solve (solved pixels)")
    plain_numbers(bar)
    if shades is not None:
        loss_bar = figure.colorbar(ScalarMappable(norm=shades, cmap=failure_cmap()), ax=ax, shrink=0.85, pad=0.02)
        loss_bar.set_label("final loss (MSE) of the nets that never solved")
        loss_numbers(loss_bar)
    fractions = result.fractions()
    handles = _legend_handles(fractions, shaded=shades is not None)
    figure.legend(handles=handles, loc="outside lower center", ncol=4, frameon=False, fontsize="small")
    detail = f"solved {percent(fractions['solved'] + fractions['solved_then_lost'])}"
    if dimension is not None and dimension.dimension is not None:
        detail += f"; boundary dimension {dimension.dimension:.3f} ± {dimension.stderr:.3f}"
    ax.set_title(detail, fontsize="medium")
    figure.suptitle(literal(words.title_lines(title or words.map_view(result.spec), 90)), fontsize="medium")
    return figure


def _legend_handles(fractions: dict[str, float] | None = None, shaded: bool = False) -> list[Any]:
    """A swatch for each way of failing, with its share of the pixels when given (the shaded
    outcomes, where shaded, without a swatch: their colour bar says their shade)."""
    from matplotlib.patches import Patch  # noqa: PLC0415

    def swatch(name: str, colour: str) -> Any:
        share = f" {percent(fractions[name])}" if fractions else ""
        if shaded and name in SHADED:
            return Patch(facecolor="none", edgecolor="none", label=f"{label(name)}{share} (greys)")
        return Patch(facecolor=colour, edgecolor="black", linewidth=0.5, label=label(name) + share)

    return [swatch(name, colour) for name, colour in UNSOLVED_COLOURS.items()]


def save_map_png(result: MapResult, path: str | Path, title: str | None = None,
                 dimension: BoxCounts | None = None, shade_failures: bool = False) -> None:
    """The map as a picture; PNG or SVG by the path's suffix."""
    map_figure(result, title, dimension, shade_failures).savefig(path, dpi=150)


def counts_figure(counts: BoxCounts, title: str) -> Any:
    """log N(s) against log(1/s), the fitted points marked, and the fitted line; title: the
    map's (what was trained)."""
    figure = new_figure(figsize=(WIDTH * 0.8, WIDTH * 0.62), layout="constrained")
    ax = figure.subplots()
    shown = counts.counts > 0
    inverse = 1.0 / counts.sizes
    lo, hi = counts.fit_sizes
    fitted = shown & (counts.sizes >= lo) & (counts.sizes <= hi)
    ax.loglog(inverse[shown], counts.counts[shown], "o", mfc="none", color="tab:gray", label="N(s), not fitted")
    ax.loglog(inverse[fitted], counts.counts[fitted], "o", color="tab:blue", label=f"fitted: s = {lo}..{hi} px")
    if counts.dimension is not None:
        x = inverse[fitted]
        anchor = np.exp(np.mean(np.log(counts.counts[fitted])) - counts.dimension * np.mean(np.log(x)))
        ax.loglog(x, anchor * x ** counts.dimension, "-", color="tab:blue",
                  label=f"slope {counts.dimension:.3f} ± {counts.stderr:.3f}")
    ax.set_xlabel("1 / box side s (pixels⁻¹, log scale)")
    ax.set_ylabel("boxes holding boundary, N(s) (log scale)")
    ax.set_title("Box counts of the boundary between solved and unsolved pixels", fontsize="medium")
    figure.suptitle(literal(words.title_lines(title, 70)), fontsize="small")
    ax.legend(frameon=False, fontsize="small")
    return figure


def save_counts_png(counts: BoxCounts, path: str | Path, title: str) -> None:
    """counts_figure as a picture; PNG or SVG by the path's suffix."""
    counts_figure(counts, title).savefig(path, dpi=150)


def zoom_frame(frame: MapResult, norm: Any, k: int, frames: int, title: str) -> Any:
    """Frame k of a zoom: the map on the zoom's colour scale, its range printed on it."""
    from matplotlib.cm import ScalarMappable  # noqa: PLC0415

    figure = new_figure(figsize=(6.6, 6.0), layout="constrained")
    ax = figure.subplots()
    draw_map(ax, frame, norm)
    ax.set_title(f"frame {k + 1}/{frames}\n{range_text(frame)}", fontsize="small")
    figure.suptitle(literal(words.title_lines(title, 80)), fontsize="small")
    bar = figure.colorbar(ScalarMappable(norm=norm, cmap=SOLVED_CMAP), ax=ax, shrink=0.85, pad=0.02)
    bar.set_label("epochs to solve", fontsize="small")
    plain_numbers(bar)
    figure.legend(handles=_legend_handles(), loc="outside lower center", ncol=4, frameon=False, fontsize="x-small")
    return figure


def save_zoom_gif(frames: Sequence[MapResult], path: str | Path, seconds_per_frame: float = 0.8,
                  title: str | None = None) -> None:
    """An animated GIF, one map per frame, each frame's range printed on it: one colour
    scale for all frames, so colours mean the same epochs throughout, and one palette, so
    each outcome's colour is the same in every frame."""
    from PIL import Image  # noqa: PLC0415

    norm = _norm(np.concatenate([frame.epochs_to_solve.ravel() for frame in frames]))
    title = title or words.map_view(frames[0].spec, ranges=False)
    pictures = []
    for k, frame in enumerate(frames):
        buffer = io.BytesIO()
        zoom_frame(frame, norm, k, len(frames), title).savefig(buffer, format="png", dpi=100)
        buffer.seek(0)
        pictures.append(Image.open(buffer).convert("RGB"))
    palette = _shared_palette(pictures)
    images = [picture.quantize(palette=palette, dither=Image.Dither.NONE) for picture in pictures]
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(seconds_per_frame * 1000), loop=0)


CLOSE = 10  # RGB steps: how near a shared palette's other colours may come to an outcome's colour


def _shared_palette(pictures: list[Any]) -> Any:
    """One 256-colour palette for all the pictures: the outcome colours first, exactly, then
    the colours that the pictures, quantized together, need most."""
    from PIL import Image  # noqa: PLC0415
    from matplotlib.colors import to_rgb  # noqa: PLC0415

    fixed = [tuple(round(255 * c) for c in to_rgb(colour)) for colour in UNSOLVED_COLOURS.values()]
    fixed += [(255, 255, 255), (0, 0, 0)]
    width = max(p.width for p in pictures)
    sheet = Image.new("RGB", (width, sum(p.height for p in pictures)), "white")
    top = 0
    for picture in pictures:
        sheet.paste(picture, (0, top))
        top += picture.height
    common = sheet.quantize(colors=256 - len(fixed), dither=Image.Dither.NONE).convert("RGB").getcolors(256) or []
    # Pillow maps a pixel to a palette colour through a coarse colour cache: a colour close to
    # a fixed one could take its place, so none is kept within CLOSE of them
    near = lambda rgb: any(max(abs(a - b) for a, b in zip(rgb, f)) < CLOSE for f in fixed)  # noqa: E731
    colours = fixed + [rgb for _, rgb in sorted(common, reverse=True) if not near(rgb)]
    palette = Image.new("P", (1, 1))
    palette.putpalette([value for rgb in colours[:256] for value in rgb] + [0] * 3 * (256 - len(colours[:256])))
    return palette
