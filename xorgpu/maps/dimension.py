"""The box-counting dimension of a map's trainability boundary.

The boundary is the set of pixels whose net solved XOR (within the epochs) while a
4-neighbour's did not, or the reverse: the edge between trainable and untrainable
settings, as in Sohl-Dickstein (2024), whose images split converging from diverging runs.
Box counting (that paper's method) covers the R x R image with boxes of s x s pixels,
s = 1, 2, 4, ..., and counts N(s), the boxes that hold a boundary pixel; the dimension
is the slope of log N(s) against log(1/s), fitted by least squares over box sizes from
FIT_SMALLEST pixels up to R / FIT_LARGEST_FRACTION (smaller boxes see single pixels,
larger ones too few boxes), with its standard error from the fit's residuals. A smooth
curve gives about 1, a boundary that fills the plane about 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FIT_SMALLEST = 2  # pixels
FIT_LARGEST_FRACTION = 8  # the largest fitted box is R / 8 pixels
MIN_FIT_POINTS = 3


@dataclass(frozen=True)
class BoxCounts:
    sizes: np.ndarray  # box sides s in pixels, 1, 2, 4, ...
    counts: np.ndarray  # N(s): boxes holding a boundary pixel
    boundary_pixels: int
    fit_sizes: tuple[int, int]  # the smallest and largest s in the fit
    dimension: float | None  # the fitted slope; None where no boundary or too few sizes
    stderr: float | None

    def to_dict(self) -> dict[str, object]:
        return {"dimension": self.dimension, "stderr": self.stderr, "fit_box_sizes": list(self.fit_sizes),
                "boundary_pixels": self.boundary_pixels, "box_sizes": self.sizes.tolist(),
                "box_counts": self.counts.tolist()}


def boundary(classes: np.ndarray) -> np.ndarray:
    """(R, R) bool: pixels with a 4-neighbour of another class."""
    edge = np.zeros(classes.shape, dtype=bool)
    across = classes[:, 1:] != classes[:, :-1]
    down = classes[1:, :] != classes[:-1, :]
    edge[:, 1:] |= across
    edge[:, :-1] |= across
    edge[1:, :] |= down
    edge[:-1, :] |= down
    return edge


def box_counts(edge: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """N(s) for s = 1, 2, 4, ... up to the image's side (boxes at the far edges may be cut)."""
    side = max(edge.shape)
    sizes, counts = [], []
    s = 1
    while s <= side:
        rows, cols = -(-edge.shape[0] // s), -(-edge.shape[1] // s)
        padded = np.zeros((rows * s, cols * s), dtype=bool)
        padded[: edge.shape[0], : edge.shape[1]] = edge
        occupied = padded.reshape(rows, s, cols, s).any(axis=(1, 3))
        sizes.append(s)
        counts.append(int(occupied.sum()))
        s *= 2
    return np.array(sizes), np.array(counts)


def boundary_dimension(solved: np.ndarray) -> BoxCounts:
    """Box-counting dimension of the boundary of `solved` (R, R bool)."""
    return box_dimension(boundary(solved))


def box_dimension(pixels: np.ndarray) -> BoxCounts:
    """Box-counting dimension of the set of True pixels."""
    sizes, counts = box_counts(pixels)
    largest = max(FIT_SMALLEST, max(pixels.shape) // FIT_LARGEST_FRACTION)
    fit = (sizes >= FIT_SMALLEST) & (sizes <= largest) & (counts > 0)
    fit_sizes = (int(sizes[fit].min()), int(sizes[fit].max())) if fit.any() else (FIT_SMALLEST, largest)
    if fit.sum() < MIN_FIT_POINTS:
        return BoxCounts(sizes, counts, int(pixels.sum()), fit_sizes, None, None)
    x, y = np.log(1.0 / sizes[fit]), np.log(counts[fit])
    slope, intercept = np.polyfit(x, y, 1)
    residuals = y - (slope * x + intercept)
    stderr = math.sqrt(float(residuals @ residuals) / (x.size - 2) / float(((x - x.mean()) ** 2).sum()))
    return BoxCounts(sizes, counts, int(pixels.sum()), fit_sizes, float(slope), stderr)
