"""Convergence statistics that merge exactly, and how each net's training ended.

A `Summary` holds only counts: it is built per block (or per chunk of a service job) and
summed, so the statistics of a job are the same whichever way it was cut up. Epochs to
solve are integers and kept as an exact histogram, so their quantiles are exact. Losses
are real numbers and kept in a logarithmic sketch (the mapping of DDSketch, Masson et al.
2019): bin i holds the losses in (g^(i-1), g^i] with g = (1 + a) / (1 - a), and a
quantile read from it is within a relative error a = LOSS_RELATIVE_ERROR (1%) of the exact
one. Bins are integers with counts, so sketches merge exactly, like every other count.
Where every net's final loss is at hand (a local run, a results file), the report gives
the exact quantiles instead, and says which (`relative_error` 0).

Each net ends in one outcome (xorgpu.outcomes: the table of them).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from .config import Config, ConfigError
from .engines.contract import BlockRecord, sample_epochs
from .tasks import ENCODED
from .outcomes import FAILURES, OUTCOMES, PLATEAU_RELATIVE_DROP, code

Z95 = 1.959963984540054  # standard normal quantile for a two-sided 95% interval
QUANTILES = {"p10": 0.10, "median": 0.50, "p90": 0.90}
LOSS_RELATIVE_ERROR = 0.01
LOSS_GAMMA = (1 + LOSS_RELATIVE_ERROR) / (1 - LOSS_RELATIVE_ERROR)
ZERO_LOSS_BIN = -(2**31)  # the bin of a loss of exactly 0
OLDER_COUNTER_NAMES = {"unsolved_improving": "still_improving", "unsolved_stuck": "plateau"}  # in older jobs


def outcomes(record: BlockRecord) -> np.ndarray:
    """(n,) uint8: the code (xorgpu.outcomes) of how each net's training ended."""
    solved = record.epochs_to_solve >= 0
    still_falling = record.final_loss < record.loss_before_end * (1 - PLATEAU_RELATIVE_DROP)
    result = np.full(solved.shape, code("plateau"), dtype=np.uint8)
    result[~solved & still_falling] = code("still_improving")
    result[~solved & record.diverged] = code("diverged")
    result[solved & record.solved_at_end] = code("solved")
    result[solved & ~record.solved_at_end] = code("solved_then_lost")
    return result


def cross_entropy(outputs: np.ndarray, config: Config) -> np.ndarray:
    """(n,) the cross-entropy each net trained on, of its final outputs (n, P): -sum_p
    [y log o + (1 - y) log(1 - o)], divided by P for loss_reduction mean."""
    targets = np.array(config.task_spec.target_bits)
    with np.errstate(all="ignore"):  # an output of exactly 0 or 1 on the wrong side: an infinite loss
        loss = -np.where(targets == 1, np.log(outputs), np.log1p(-outputs)).sum(axis=1)  # no 0 * log(0)
    return loss / config.patterns if config.loss_reduction == "mean" else loss


def wrong_patterns(outputs: np.ndarray, config: Config) -> np.ndarray:
    """(n,) how many of each net's outputs (n, P) lie on the wrong side of the midpoint of
    the two target values (a tie counts as wrong), as the `round` criterion judges them."""
    task = config.task_spec
    low, high = ENCODED[config.encoding]
    side = np.where(np.array(task.target_bits) == 1, 1.0, -1.0)
    targets = task.targets_as(config.encoding)
    return ((targets - outputs) * side >= (high - low) / 2).sum(axis=1)


@dataclass
class Summary:
    """Mergeable counts describing how a set of nets trained (the COUNTERS, then histograms)."""

    nets: int = 0
    solved: int = 0  # reached the criterion at some epoch (epochs_to_solve >= 0)
    solved_then_lost: int = 0  # reached it, but the final outputs no longer meet it
    diverged: int = 0  # never solved, and some weight or its loss became non-finite (outcome diverged)
    still_improving: int = 0  # never solved, finite, loss still falling at the end
    plateau: int = 0  # never solved, finite, loss flat at the end
    epochs_to_solve: Counter = field(default_factory=Counter)  # epoch -> solved nets
    wrong_patterns: Counter = field(default_factory=Counter)  # unsolved nets by patterns wrong
    final_loss: Counter = field(default_factory=Counter)  # loss sketch: bin -> nets
    training_loss: Counter = field(default_factory=Counter)  # the same, of the cross-entropy trained on (if so)
    loss_curve: list[Counter] = field(default_factory=list)  # a loss sketch per sampled epoch
    loss_curve_solved: list[Counter] = field(default_factory=list)  # the same, of the nets that end solved
    loss_curve_unsolved: list[Counter] = field(default_factory=list)  # ... and of those that end unsolved

    @classmethod
    def of_block(cls, record: BlockRecord, outcome: np.ndarray | None = None, config: Config | None = None) -> Summary:
        """outcome: `outcomes(record)`, if already computed; config: what trained the nets
        (the default config's task and encoding if not given)."""
        outcome = outcomes(record) if outcome is None else outcome
        count = {name: int((outcome == code(name)).sum()) for name in OUTCOMES}
        solved = record.epochs_to_solve >= 0
        unsolved_finite = ~solved & ~record.diverged
        wrong = wrong_patterns(record.outputs, config or Config())
        return cls(
            nets=int(solved.size),
            solved=count["solved"] + count["solved_then_lost"],
            solved_then_lost=count["solved_then_lost"],
            diverged=count["diverged"],  # a net that solved and then diverged is solved_then_lost
            still_improving=count["still_improving"],
            plateau=count["plateau"],
            epochs_to_solve=Counter(dict(zip(*_unique_counts(record.epochs_to_solve[solved])))),
            wrong_patterns=Counter(dict(zip(*_unique_counts(wrong[unsolved_finite])))),
            final_loss=loss_sketch(record.final_loss),
            training_loss=loss_sketch(cross_entropy(record.outputs, config)) if config and config.loss ==
            "cross-entropy" else Counter(),
            loss_curve=[loss_sketch(row) for row in record.loss_samples],
            loss_curve_solved=[loss_sketch(row[solved]) for row in record.loss_samples],
            loss_curve_unsolved=[loss_sketch(row[~solved]) for row in record.loss_samples],
        )

    def merge(self, other: Summary) -> Summary:
        if self.loss_curve and other.loss_curve and len(self.loss_curve) != len(other.loss_curve):
            raise ValueError("summaries of different sampled epochs do not merge")
        merged = Summary(
            **{name: getattr(self, name) + getattr(other, name) for name in COUNTERS},
            epochs_to_solve=self.epochs_to_solve + other.epochs_to_solve,
            wrong_patterns=self.wrong_patterns + other.wrong_patterns,
            final_loss=self.final_loss + other.final_loss,
            training_loss=self.training_loss + other.training_loss,
            **{name: _merged_curves(getattr(self, name), getattr(other, name)) for name in CURVES},
        )
        if any(s.loss_curve and not s.loss_curve_solved for s in (self, other)):  # a state from before the split
            merged.loss_curve_solved, merged.loss_curve_unsolved = [], []
        return merged

    # --- storage form: flat counts, for Redis ---------------------------------------------

    def to_fields(self) -> dict[str, int]:
        """The counts as flat fields, "nets", "epochs_to_solve:412", "loss_curve:3:-517" ... ->
        count, the zero ones left out: adding two summaries' fields is merging them, which
        Redis does with HINCRBY as a job's chunks land (xorgpu.store)."""
        flat = {name: getattr(self, name) for name in COUNTERS if getattr(self, name)}
        for name in HISTOGRAMS:
            flat.update({f"{name}:{key}": count for key, count in getattr(self, name).items() if count})
        for name in CURVES:
            for i, row in enumerate(getattr(self, name)):
                flat.update({f"{name}:{i}:{key}": count for key, count in row.items() if count})
        return flat

    @classmethod
    def from_fields(cls, flat: dict[str, int], samples: int) -> Summary:
        """The summary of `to_fields`' fields (summed); samples: its curves' length."""
        flat = {OLDER_COUNTER_NAMES.get(name, name): count for name, count in flat.items()}
        summary = cls(**{name: int(flat.get(name, 0)) for name in COUNTERS},
                      **{name: [Counter() for _ in range(samples)] for name in CURVES})
        for key, count in flat.items():
            name, _, rest = key.partition(":")
            if name in HISTOGRAMS:
                getattr(summary, name)[int(rest)] += int(count)
            elif name in CURVES:
                row, _, bin_ = rest.partition(":")
                getattr(summary, name)[int(row)][int(bin_)] += int(count)
            elif name not in COUNTERS:
                raise ValueError(f"unknown summary field {key[:40]!r}")
        return summary

    # --- what users read ------------------------------------------------------------------

    def report(self, config: Config, final_losses: np.ndarray | None = None) -> dict[str, Any]:
        """The statistics as one JSON-ready dict (the `--json` output of run and stats), as
        Report declares it.

        final_losses: every net's final loss, where at hand: its quantiles are then exact.
        """
        if final_losses is not None:
            final_loss = exact_loss_quantiles(final_losses)
        else:
            final_loss = {name: sketch_quantile(self.final_loss, q) for name, q in QUANTILES.items()}
            final_loss["relative_error"] = LOSS_RELATIVE_ERROR
        counts = {name: getattr(self, name) for name in FAILURES}
        return Report(
            nets=self.nets,
            solved=self.solved,
            success_rate=self.solved / self.nets if self.nets else None,
            success_ci95=list(wilson_interval(self.solved, self.nets)),
            epochs_to_solve=_epoch_stats(self.epochs_to_solve),
            final_loss=final_loss,
            failures={"unsolved": self.nets - self.solved, **counts,
                      "patterns_wrong": {str(k): v for k, v in sorted(self.wrong_patterns.items())}},
            loss_curve=[
                {"epoch": epoch, **_quantiles(row),
                 **({"solved": _quantiles(solved), "unsolved": _quantiles(unsolved)} if solved is not None else {})}
                for epoch, row, solved, unsolved in zip(sample_epochs(config), self.loss_curve,
                                                        self.loss_curve_solved or [None] * len(self.loss_curve),
                                                        self.loss_curve_unsolved or [None] * len(self.loss_curve))
            ],
            config=config.to_dict(),
            training_loss=({name: sketch_quantile(self.training_loss, q) for name, q in QUANTILES.items()}
                           | {"relative_error": LOSS_RELATIVE_ERROR}) if config.loss == "cross-entropy" else None,
        ).to_dict()


COUNTERS = tuple(f.name for f in fields(Summary) if f.type == "int")  # nets, solved, ...: summed when merged
HISTOGRAMS = ("epochs_to_solve", "wrong_patterns", "final_loss", "training_loss")
CURVES = ("loss_curve", "loss_curve_solved", "loss_curve_unsolved")


def _merged_curves(mine: list[Counter], theirs: list[Counter]) -> list[Counter]:
    if mine and theirs:
        return [a + b for a, b in zip(mine, theirs)]
    return [Counter(row) for row in mine or theirs]


def _quantiles(sketch: Counter) -> dict[str, float | None]:
    return {name: sketch_quantile(sketch, q) for name, q in QUANTILES.items()}


def exact_loss_quantiles(losses: np.ndarray) -> dict[str, Any]:
    """The report's final_loss from every net's loss (non-finite ones left out): exact."""
    finite = losses[np.isfinite(losses)].astype(np.float64)
    quantiles: dict[str, Any] = {name: float(np.quantile(finite, q)) if finite.size else None
                                 for name, q in QUANTILES.items()}
    return {**quantiles, "relative_error": 0.0}


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion (Wilson 1927), within [0, 1]:
    exactly 0 at its low end when nothing succeeded, exactly 1 at its high end when all did."""
    if trials == 0:
        return (0.0, 1.0)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    low = 0.0 if successes == 0 else min(p, max(0.0, centre - half))
    high = 1.0 if successes == trials else max(p, min(1.0, centre + half))
    return (low, high)


def quantile_of_counts(values: np.ndarray, counts: np.ndarray, q: float) -> float:
    """np.quantile(np.repeat(values, counts), q) (linear interpolation), without the repeat."""
    cumulative = np.cumsum(counts)
    position = q * (cumulative[-1] - 1)
    lower = int(math.floor(position))
    below = values[np.searchsorted(cumulative, lower, side="right")]
    above = values[np.searchsorted(cumulative, min(lower + 1, cumulative[-1] - 1), side="right")]
    return float(below + (above - below) * (position - lower))


def loss_sketch(losses: np.ndarray) -> Counter:
    """The logarithmic sketch of some losses (non-finite ones are left out): bin -> count."""
    finite = losses[np.isfinite(losses)].astype(np.float64)
    positive = finite[finite > 0]
    bins = np.ceil(np.log(positive) / math.log(LOSS_GAMMA)).astype(np.int64)
    sketch = Counter(dict(zip(*_unique_counts(bins))))
    zeros = int((finite == 0).sum())
    if zeros:
        sketch[ZERO_LOSS_BIN] = zeros
    return sketch


def sketch_quantile(sketch: Counter, q: float) -> float | None:
    """The q-quantile of the losses in a sketch, within LOSS_RELATIVE_ERROR of the exact one."""
    total = sum(sketch.values())
    if total == 0:
        return None
    bins = sorted(sketch)
    cumulative = np.cumsum([sketch[b] for b in bins])
    index = bins[int(np.searchsorted(cumulative, q * (total - 1), side="right"))]
    if index == ZERO_LOSS_BIN:
        return 0.0
    return float(2 * LOSS_GAMMA**index / (LOSS_GAMMA + 1))


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


# --- the report: its keys, declared once -----------------------------------------------------

Number = (int, float)
Maybe = (int, float, type(None))
EPOCH_STATS = ("min", *QUANTILES, "max", "mean")  # of the solved nets' epochs to solve


@dataclass(frozen=True)
class Report:
    """The statistics of a set of nets, as `run --json` prints them and files keep them: the
    one declaration of their keys, which Summary.report builds and check_report reads back.
    Its dict may carry more (provenance, a job's id and state)."""

    nets: int
    solved: int
    success_rate: float | None  # solved / nets
    success_ci95: list[float]  # the Wilson interval [low, high]
    epochs_to_solve: dict[str, float | None]  # EPOCH_STATS, over the solved nets
    final_loss: dict[str, float | None]  # QUANTILES, and relative_error: 0 exact, else the sketch's
    failures: dict[str, Any]  # unsolved, a count per way of failing (xorgpu.outcomes.FAILURES), patterns_wrong
    loss_curve: list[dict[str, Any]]  # per sampled epoch: epoch, QUANTILES (and solved / unsolved)
    config: dict[str, Any]  # Config.to_dict
    # the loss trained on where it is not the squared error (cross-entropy): QUANTILES and
    # relative_error, as final_loss; None otherwise (and absent from older files)
    training_loss: dict[str, float | None] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def check(cls, data: Any, nets: int | None = None) -> dict[str, Any]:
        """`data` if it has this shape (for `nets` nets, if given); else a ConfigError saying
        where it differs."""
        if not isinstance(data, dict):
            raise ConfigError("statistics is not an object")
        missing = [f.name for f in fields(cls) if f.name not in data and f.name not in OPTIONAL_REPORT_KEYS]
        if missing:
            raise ConfigError(f"statistics has no {missing[0]!r}")
        _of(data["nets"], int, "statistics.nets")
        _of(data["solved"], int, "statistics.solved")
        _of(data["success_rate"], Maybe, "statistics.success_rate")
        if not (isinstance(data["success_ci95"], list) and len(data["success_ci95"]) == 2):
            raise ConfigError("statistics.success_ci95 is not a list of 2")
        for i, value in enumerate(data["success_ci95"]):
            _of(value, Number, f"statistics.success_ci95[{i}]")
        _keys(data["epochs_to_solve"], dict.fromkeys(EPOCH_STATS, Maybe), "statistics.epochs_to_solve")
        _keys(data["final_loss"], dict.fromkeys(QUANTILES, Maybe), "statistics.final_loss")
        if data.get("training_loss") is not None:
            _keys(data["training_loss"], dict.fromkeys(QUANTILES, Maybe), "statistics.training_loss")
        counts = {"unsolved": int, **dict.fromkeys(FAILURES, int), "patterns_wrong": dict}
        _keys(data["failures"], counts, "statistics.failures")
        if not isinstance(data["loss_curve"], list):
            raise ConfigError("statistics.loss_curve is not a list")
        for row in data["loss_curve"]:
            _keys(row, {"epoch": int, **dict.fromkeys(QUANTILES, Maybe)}, "statistics.loss_curve[]")
        if not isinstance(data["config"], dict):
            raise ConfigError("statistics.config is not an object")
        every = [data["solved"], *(data["failures"][name] for name in counts if name != "patterns_wrong")]
        if data["nets"] < 0 or min(every) < 0 or data["solved"] > data["nets"]:
            raise ConfigError("statistics: negative or impossible counts")
        if nets is not None and data["nets"] != nets:
            raise ConfigError(f"statistics: they count {data['nets']} nets, the file holds {nets}")
        return data


OPTIONAL_REPORT_KEYS = ("training_loss",)  # added since files were first written


def check_report(report: Any, nets: int | None = None) -> dict[str, Any]:
    """Report.check: reports read from files pass through here."""
    return Report.check(report, nets)


def _keys(value: Any, kinds: dict[str, Any], where: str) -> None:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} is not an object")
    for key, kind in kinds.items():
        if key not in value:
            raise ConfigError(f"{where} has no {key!r}")
        _of(value[key], kind, f"{where}.{key}")


def _of(value: Any, kind: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(f"{where} has the wrong type ({type(value).__name__})")
