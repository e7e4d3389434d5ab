"""Pictures of maps: the map itself, the box counts of its boundary, a zoom as a GIF.

Solved pixels take a perceptual colour map (viridis) of epochs to solve, on a log scale
where they span more than a decade; pixels that never solved take colours viridis never
uses: plateau light grey, still improving dark grey, diverged red, and nets that solved
and then lost it orange. Axes are in the knobs' own units (log axes labelled with their
values). matplotlib is imported only here, with the Agg backend; Pillow (which matplotlib
needs anyway) assembles GIFs.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..plots import _pyplot, literal
from ..stats import OUTCOMES
from ..text import percent
from .dimension import BoxCounts
from .result import MapResult

SOLVED_CMAP = "viridis"
UNSOLVED_COLOURS = {"solved_then_lost": "#ff7f0e", "plateau": "#d0d0d0", "still_improving": "#6e6e6e",
                    "diverged": "#d62728"}
LABELS = {"solved_then_lost": "solved, then lost", "plateau": "plateau", "still_improving": "still improving",
          "diverged": "diverged"}
LOG_COLOUR_SPAN = 10  # a log colour scale where the slowest solved pixel is this many times the fastest
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


def rgba(result: MapResult, norm: Any) -> np.ndarray:
    """(R, R, 4) uint8 colours of the pixels (4 bytes a pixel: a 4096^2 map takes 64 MiB)."""
    from matplotlib import colormaps  # noqa: PLC0415
    from matplotlib.colors import LogNorm, to_rgba  # noqa: PLC0415

    epochs = result.epochs_to_solve
    image = colormaps[SOLVED_CMAP](norm(np.maximum(epochs, 1) if isinstance(norm, LogNorm) else epochs), bytes=True)
    for name, colour in UNSOLVED_COLOURS.items():
        image[result.outcome == OUTCOMES.index(name)] = np.round(np.array(to_rgba(colour)) * 255).astype(np.uint8)
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


def draw_map(ax: Any, result: MapResult, norm: Any) -> Any:
    """The map on matplotlib axes `ax`; returns the image."""
    spec = result.spec
    (x0, x1), (y0, y1) = _extent(result.x, spec.x.log), _extent(result.y, spec.y.log)
    image = ax.imshow(rgba(result, norm), origin="lower", extent=(x0, x1, y0, y1), aspect="auto",
                      interpolation="nearest")
    for axis, spec_axis in ((ax.xaxis, spec.x), (ax.yaxis, spec.y)):
        if spec_axis.log:
            _log_ticks(axis, spec_axis.span)
    ax.set_xlabel(literal(spec.x.knob.name) + (" (log scale)" if spec.x.log else ""))
    ax.set_ylabel(literal(spec.y.knob.name) + (" (log scale)" if spec.y.log else ""))
    return image


def plain_numbers(bar: Any) -> None:
    """A colour bar's labels as 200, 1000, not 2 x 10^2."""
    from matplotlib.ticker import FuncFormatter  # noqa: PLC0415

    plain = FuncFormatter(lambda v, _: f"{v:g}")
    bar.ax.yaxis.set_major_formatter(plain)
    bar.ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}"[0] in "1235" else ""))


def range_text(result: MapResult) -> str:
    """Each axis's range, with as many digits as tell its ends apart (up to float64's 17)."""
    parts = []
    for axis in (result.spec.x, result.spec.y):
        relative = (axis.high - axis.low) / max(abs(axis.low), abs(axis.high))
        digits = min(17, max(6, math.ceil(-math.log10(relative)) + 3))
        parts.append(f"{axis.knob.name} {axis.low:.{digits}g} .. {axis.high:.{digits}g}")
    return "  ".join(parts)


def map_figure(result: MapResult, title: str | None = None, dimension: BoxCounts | None = None) -> Any:
    """A figure: the map, a colour bar of epochs to solve, and a legend of the other outcomes
    with their shares of the pixels."""
    from matplotlib.cm import ScalarMappable  # noqa: PLC0415

    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(WIDTH, WIDTH * 0.82), layout="constrained")
    norm = _norm(result.epochs_to_solve)
    draw_map(ax, result, norm)
    bar = figure.colorbar(ScalarMappable(norm=norm, cmap=SOLVED_CMAP), ax=ax, shrink=0.85, pad=0.02)
    bar.set_label("epochs to solve (solved pixels)")
    plain_numbers(bar)
    fractions = result.fractions()
    handles = _legend_handles(fractions)
    figure.legend(handles=handles, loc="outside lower center", ncol=4, frameon=False, fontsize="small")
    spec = result.spec
    lines = [title or f"Trainability map: H={spec.config.hidden}, seed {spec.seed}, {spec.config.epochs:,} epochs, "
             f"{spec.resolution}x{spec.resolution} nets"]
    detail = f"solved {percent(fractions['solved'] + fractions['solved_then_lost'])}"
    if dimension is not None and dimension.dimension is not None:
        detail += f"; boundary dimension {dimension.dimension:.3f} ± {dimension.stderr:.3f}"
    lines.append(detail)
    ax.set_title(literal("\n".join(lines)), fontsize="medium")
    return figure


def _legend_handles(fractions: dict[str, float] | None = None) -> list[Any]:
    """A swatch for each way of failing, with its share of the pixels when given."""
    from matplotlib.patches import Patch  # noqa: PLC0415

    return [Patch(facecolor=colour, edgecolor="black", linewidth=0.5,
                  label=LABELS[name] + (f" {percent(fractions[name])}" if fractions else ""))
            for name, colour in UNSOLVED_COLOURS.items()]


def save_map_png(result: MapResult, path: str | Path, title: str | None = None,
                 dimension: BoxCounts | None = None) -> None:
    figure = map_figure(result, title, dimension)
    figure.savefig(path, dpi=150)
    _pyplot().close(figure)


def save_counts_png(counts: BoxCounts, path: str | Path, title: str) -> None:
    """log N(s) against log(1/s), the fitted points marked, and the fitted line."""
    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(WIDTH * 0.75, WIDTH * 0.55), layout="constrained")
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
    ax.set_xlabel("1 / box side s (pixels⁻¹)")
    ax.set_ylabel("boxes holding boundary, N(s)")
    ax.set_title(literal(title), fontsize="medium")
    ax.legend(frameon=False, fontsize="small")
    figure.savefig(path, dpi=150)
    plt.close(figure)


def save_zoom_gif(frames: Sequence[MapResult], path: str | Path, seconds_per_frame: float = 0.8) -> None:
    """An animated GIF, one map per frame, each frame's range printed on it (one colour
    scale for all frames, so colours mean the same epochs throughout)."""
    from PIL import Image  # noqa: PLC0415

    plt = _pyplot()
    everything = np.concatenate([frame.epochs_to_solve.ravel() for frame in frames])
    norm = _norm(everything)
    from matplotlib.cm import ScalarMappable  # noqa: PLC0415

    images = []
    for k, frame in enumerate(frames):
        figure, ax = plt.subplots(figsize=(6.6, 5.6), layout="constrained")
        draw_map(ax, frame, norm)
        ax.set_title(f"frame {k + 1}/{len(frames)}\n{range_text(frame)}", fontsize="small")
        bar = figure.colorbar(ScalarMappable(norm=norm, cmap=SOLVED_CMAP), ax=ax, shrink=0.85, pad=0.02)
        bar.set_label("epochs to solve", fontsize="small")
        plain_numbers(bar)
        figure.legend(handles=_legend_handles(), loc="outside lower center", ncol=4, frameon=False,
                      fontsize="x-small")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100)
        plt.close(figure)
        buffer.seek(0)
        images.append(Image.open(buffer).convert("RGB").quantize(colors=255))
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(seconds_per_frame * 1000), loop=0)
