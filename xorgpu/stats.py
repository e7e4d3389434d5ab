"""Convergence statistics that merge exactly.

A `Summary` holds only counts: it is built per block (or per chunk of a service job) and
summed, so the statistics of a job are the same whichever way it was cut up. Epochs to
solve are integers and kept as an exact histogram, so their quantiles are exact. Losses
are real numbers and kept as a histogram on log-spaced bins (LOSS_BINS_PER_DECADE per
decade): their quantiles are reported as the geometric centre of a bin, exact to within
one bin (a factor 10**(1/20), 12%).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from .config import Config, ConfigError
from .engines.contract import TARGETS, BlockRecord, sample_epochs

Z95 = 1.959963984540054  # standard normal quantile for a two-sided 95% interval
QUANTILES = {"p10": 0.10, "median": 0.50, "p90": 0.90}
LOSS_MIN_DECADE = -20  # bin 0 holds every loss below 1e-20, zero included
LOSS_BINS_PER_DECADE = 20
LOSS_BINS = -LOSS_MIN_DECADE * LOSS_BINS_PER_DECADE + 2  # + under- and overflow (loss >= 1)
# An unsolved net whose loss fell by less than this fraction over the last tenth of training
# (xorgpu.engines.contract.plateau_window) is counted as stuck on a plateau, else as still improving.
PLATEAU_RELATIVE_DROP = 0.01


@dataclass
class Summary:
    """Mergeable counts describing how a set of nets trained (the COUNTERS, then histograms)."""

    nets: int = 0
    solved: int = 0  # reached the criterion at some epoch (epochs_to_solve >= 0)
    solved_then_lost: int = 0  # reached it, but the final outputs no longer meet it
    diverged: int = 0  # some weight or output became non-finite
    unsolved_improving: int = 0  # never solved, finite, loss still falling at the end
    unsolved_stuck: int = 0  # never solved, finite, loss flat at the end (a plateau)
    epochs_to_solve: Counter = field(default_factory=Counter)  # epoch -> solved nets
    wrong_patterns: Counter = field(default_factory=Counter)  # unsolved nets by patterns wrong
    final_loss: np.ndarray = field(default_factory=lambda: np.zeros(LOSS_BINS, np.int64))
    loss_curve: np.ndarray = field(default_factory=lambda: np.zeros((0, LOSS_BINS), np.int64))

    @classmethod
    def of_block(cls, record: BlockRecord) -> Summary:
        solved = record.epochs_to_solve >= 0
        unsolved_finite = ~solved & ~record.diverged
        still_falling = record.final_loss < record.loss_before_end * (1 - PLATEAU_RELATIVE_DROP)
        wrong = (np.abs(record.outputs - np.array(TARGETS)) >= 0.5).sum(axis=1)
        return cls(
            nets=int(solved.size),
            solved=int(solved.sum()),
            solved_then_lost=int((solved & ~record.solved_at_end).sum()),
            diverged=int(record.diverged.sum()),
            unsolved_improving=int((unsolved_finite & still_falling).sum()),
            unsolved_stuck=int((unsolved_finite & ~still_falling).sum()),
            epochs_to_solve=Counter(dict(zip(*_unique_counts(record.epochs_to_solve[solved])))),
            wrong_patterns=Counter(dict(zip(*_unique_counts(wrong[unsolved_finite])))),
            final_loss=loss_histogram(record.final_loss),
            loss_curve=np.stack([loss_histogram(row) for row in record.loss_samples])
            if record.loss_samples.size else np.zeros((0, LOSS_BINS), np.int64),
        )

    def merge(self, other: Summary) -> Summary:
        curve = other.loss_curve if self.loss_curve.size == 0 else self.loss_curve + other.loss_curve
        return Summary(
            **{name: getattr(self, name) + getattr(other, name) for name in COUNTERS},
            epochs_to_solve=self.epochs_to_solve + other.epochs_to_solve,
            wrong_patterns=self.wrong_patterns + other.wrong_patterns,
            final_loss=self.final_loss + other.final_loss,
            loss_curve=curve,
        )

    # --- storage form: small JSON, for Redis and for files --------------------------------

    def to_state(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in COUNTERS},
            "epochs_to_solve": sorted(self.epochs_to_solve.items()),
            "wrong_patterns": sorted(self.wrong_patterns.items()),
            "final_loss": _sparse(self.final_loss),
            "loss_curve": [_sparse(row) for row in self.loss_curve],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Summary:
        curve = [_dense(row) for row in state["loss_curve"]]
        return cls(
            **{name: int(state[name]) for name in COUNTERS},
            epochs_to_solve=Counter({int(k): int(v) for k, v in state["epochs_to_solve"]}),
            wrong_patterns=Counter({int(k): int(v) for k, v in state["wrong_patterns"]}),
            final_loss=_dense(state["final_loss"]),
            loss_curve=np.stack(curve) if curve else np.zeros((0, LOSS_BINS), np.int64),
        )

    # --- what users read ------------------------------------------------------------------

    def report(self, config: Config) -> dict[str, Any]:
        """The statistics as one JSON-ready dict (the `--json` output of run and stats)."""
        unsolved = self.nets - self.solved
        return {
            "nets": self.nets,
            "solved": self.solved,
            "success_rate": self.solved / self.nets if self.nets else None,
            "success_ci95": list(wilson_interval(self.solved, self.nets)),
            "epochs_to_solve": _epoch_stats(self.epochs_to_solve),
            "final_loss": {name: _loss_quantile(self.final_loss, q) for name, q in QUANTILES.items()},
            "failures": {
                "unsolved": unsolved,
                "diverged": self.diverged,
                "plateau": self.unsolved_stuck,
                "still_improving": self.unsolved_improving,
                "patterns_wrong": {str(k): v for k, v in sorted(self.wrong_patterns.items())},
                "solved_then_lost": self.solved_then_lost,
            },
            "loss_curve": [
                {"epoch": epoch, **{name: _loss_quantile(row, q) for name, q in QUANTILES.items()}}
                for epoch, row in zip(sample_epochs(config), self.loss_curve)
            ],
            "config": config.to_dict(),
        }


COUNTERS = tuple(f.name for f in fields(Summary) if f.type == "int")  # nets, solved, ...: summed when merged


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion (Wilson 1927)."""
    if trials == 0:
        return (0.0, 1.0)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def quantile_of_counts(values: np.ndarray, counts: np.ndarray, q: float) -> float:
    """np.quantile(np.repeat(values, counts), q) (linear interpolation), without the repeat."""
    cumulative = np.cumsum(counts)
    position = q * (cumulative[-1] - 1)
    lower = int(math.floor(position))
    below = values[np.searchsorted(cumulative, lower, side="right")]
    above = values[np.searchsorted(cumulative, min(lower + 1, cumulative[-1] - 1), side="right")]
    return float(below + (above - below) * (position - lower))


def loss_histogram(losses: np.ndarray) -> np.ndarray:
    """Counts of finite losses per log-spaced bin (non-finite losses are left out)."""
    finite = losses[np.isfinite(losses)].astype(np.float64)
    with np.errstate(divide="ignore"):
        position = (np.log10(finite) - LOSS_MIN_DECADE) * LOSS_BINS_PER_DECADE
    index = np.clip(np.floor(position) + 1, 0, LOSS_BINS - 1).astype(np.int64)
    return np.bincount(index, minlength=LOSS_BINS)


def _loss_quantile(histogram: np.ndarray, q: float) -> float | None:
    if histogram.sum() == 0:
        return None
    index = int(np.searchsorted(np.cumsum(histogram), q * (histogram.sum() - 1), side="right"))
    if index == 0:
        return 0.0  # below 1e-20
    centre_decade = LOSS_MIN_DECADE + (index - 0.5) / LOSS_BINS_PER_DECADE
    return float(10.0**centre_decade)


def _epoch_stats(histogram: Counter) -> dict[str, Any]:
    if not histogram:
        return {"min": None, "p10": None, "median": None, "p90": None, "max": None, "mean": None}
    values = np.array(sorted(histogram))
    counts = np.array([histogram[v] for v in values])
    stats: dict[str, Any] = {"min": int(values[0])}
    stats.update({name: quantile_of_counts(values, counts, q) for name, q in QUANTILES.items()})
    stats["max"] = int(values[-1])
    stats["mean"] = float((values * counts).sum() / counts.sum())
    return stats


def _unique_counts(values: np.ndarray) -> tuple[list[int], list[int]]:
    unique, counts = np.unique(values, return_counts=True)
    return unique.tolist(), counts.tolist()


def _sparse(histogram: np.ndarray) -> list[list[int]]:
    nonzero = np.flatnonzero(histogram)
    return [[int(i), int(histogram[i])] for i in nonzero]


def _dense(pairs: list[list[int]]) -> np.ndarray:
    histogram = np.zeros(LOSS_BINS, np.int64)
    for index, count in pairs:
        histogram[index] = count
    return histogram


# --- checking a report read back from a file ---------------------------------------------------

_NUMBER_OR_NONE = (int, float, type(None))
_QUANTILES = {name: _NUMBER_OR_NONE for name in QUANTILES}
REPORT_SHAPE: dict[str, Any] = {
    "nets": int,
    "solved": int,
    "success_rate": _NUMBER_OR_NONE,
    "success_ci95": [(int, float), (int, float)],
    "epochs_to_solve": {"min": _NUMBER_OR_NONE, **_QUANTILES, "max": _NUMBER_OR_NONE, "mean": _NUMBER_OR_NONE},
    "final_loss": _QUANTILES,
    "failures": {"unsolved": int, "diverged": int, "plateau": int, "still_improving": int,
                 "patterns_wrong": dict, "solved_then_lost": int},
    "loss_curve": list,
    "config": dict,
}


def check_report(report: Any, nets: int | None = None) -> dict[str, Any]:
    """`report` if it has the shape of Summary.report (for `nets` nets, if given); else a
    ConfigError saying where it differs. Reports read from files pass through here."""
    _check_shape(report, REPORT_SHAPE, "statistics")
    for row in report["loss_curve"]:
        _check_shape(row, {"epoch": int, **_QUANTILES}, "statistics.loss_curve[]")
    counts = [report["solved"], *(v for k, v in report["failures"].items() if k != "patterns_wrong")]
    if report["nets"] < 0 or min(counts) < 0 or report["solved"] > report["nets"]:
        raise ConfigError("statistics: negative or impossible counts")
    if nets is not None and report["nets"] != nets:
        raise ConfigError(f"statistics: they count {report['nets']} nets, the file holds {nets}")
    return report


def _check_shape(value: Any, shape: Any, where: str) -> None:
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            raise ConfigError(f"{where} is not an object")
        for key, inner in shape.items():
            if key not in value:
                raise ConfigError(f"{where} has no {key!r}")
            _check_shape(value[key], inner, f"{where}.{key}")
    elif isinstance(shape, list):
        if not isinstance(value, list) or len(value) != len(shape):
            raise ConfigError(f"{where} is not a list of {len(shape)}")
        for index, (item, inner) in enumerate(zip(value, shape)):
            _check_shape(item, inner, f"{where}[{index}]")
    elif isinstance(value, bool) or not isinstance(value, shape):
        if not (value is None and isinstance(shape, tuple) and type(None) in shape):
            raise ConfigError(f"{where} has the wrong type ({type(value).__name__})")
