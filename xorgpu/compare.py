"""Paired comparisons: two sets of results on the same seeds, net by net.

Each seed trained under A and under B is one pair, so the comparison is paired: which
nets both solve, only A, only B, or neither; McNemar's exact test of whether A and B
solve as often (a two-sided binomial test on the nets only one of them solves); and, over
the nets both solve, the difference of their median epochs to solve (B minus A), with a
95% bootstrap interval (percentile method, resampling nets, a seeded generator).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .config import ConfigError
from .results import NetOutcomes, NetResults

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
SHOWN_SEEDS = 20  # seeds listed in the text table (--json lists all)


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """McNemar's exact two-sided p-value: 2 P(X <= min(b, c)) for X ~ Binomial(b + c, 1/2), at most 1."""
    n, k = only_a + only_b, min(only_a, only_b)
    if n == 0:
        return 1.0
    return min(1.0, 2 * _binomial_half_cdf(k, n))


def _binomial_half_cdf(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2): the terms C(n, i) / 2^n from i = k down, in log
    space by the recurrence C(n, i - 1) = C(n, i) i / (n - i + 1), a block at a time,
    stopping once they no longer add to the sum."""
    log_term = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) - n * math.log(2)  # i = k
    total, top, block = 0.0, k, 65_536
    while top >= 0:
        low = max(0, top - block + 1)
        i = np.arange(top, low, -1, dtype=np.float64)  # top .. low + 1: each gives the step to i - 1
        logs = log_term + np.concatenate([[0.0], np.cumsum(np.log(i) - np.log(n - i + 1))])  # i = top .. low
        terms = np.exp(logs)
        total += float(terms.sum())
        if low == 0 or terms[-1] < total * 1e-17:
            break
        log_term = logs[-1] + math.log(low) - math.log(n - low + 1)  # i = low - 1
        top = low - 1
    return total


def compare(a: NetOutcomes | NetResults, b: NetOutcomes | NetResults) -> dict[str, Any]:
    """The paired comparison of A and B (the `compare --json` object)."""
    if len(a) != len(b) or not np.array_equal(a.seeds, b.seeds):
        raise ConfigError(f"A and B must hold the same seeds to be paired (A: {_seeds(a)}, B: {_seeds(b)})")
    solved_a, solved_b = a.epochs_to_solve >= 0, b.epochs_to_solve >= 0
    both = solved_a & solved_b
    only_a, only_b = solved_a & ~solved_b, solved_b & ~solved_a
    difference, interval = _median_difference(a.epochs_to_solve[both], b.epochs_to_solve[both])
    return {
        "nets": len(a), "both_solved": int(both.sum()), "only_a": int(only_a.sum()), "only_b": int(only_b.sum()),
        "neither": int((~solved_a & ~solved_b).sum()),
        "mcnemar_p": mcnemar_exact(int(only_a.sum()), int(only_b.sum())),
        "median_epochs_difference": difference, "median_epochs_difference_ci95": interval,
        "only_a_seeds": a.seeds[only_a].tolist(), "only_b_seeds": b.seeds[only_b].tolist(),
    }


def _median_difference(epochs_a: np.ndarray, epochs_b: np.ndarray) -> tuple[float | None, list[float] | None]:
    if epochs_a.size == 0:
        return None, None
    difference = float(np.median(epochs_b) - np.median(epochs_a))
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    picks = rng.integers(0, epochs_a.size, size=(BOOTSTRAP_RESAMPLES, epochs_a.size))
    resampled = np.median(epochs_b[picks], axis=1) - np.median(epochs_a[picks], axis=1)
    return difference, [float(np.quantile(resampled, 0.025)), float(np.quantile(resampled, 0.975))]


def to_text(result: dict[str, Any], name_a: str, name_b: str) -> str:
    from .words import percent  # noqa: PLC0415

    n = result["nets"]
    rows = [("both solve", result["both_solved"]), ("only A solves", result["only_a"]),
            ("only B solves", result["only_b"]), ("neither solves", result["neither"])]
    lines = [f"A: {name_a}", f"B: {name_b}", f"{n:,} nets, paired by seed", ""]
    lines += [f"  {label:<16}{count:>10,}  {percent(count / n if n else None, 1):>8}" for label, count in rows]
    lines += ["", f"  McNemar's exact test (A and B solve as often): p = {result['mcnemar_p']:.3g}"]
    if result["median_epochs_difference"] is None:
        lines.append("  median epochs to solve: no net solved by both")
    else:
        low, high = result["median_epochs_difference_ci95"]
        lines.append(f"  median epochs to solve, B minus A, over nets both solve: "
                     f"{result['median_epochs_difference']:+,.1f} (95% bootstrap CI [{low:+,.1f}, {high:+,.1f}])")
    for side in ("a", "b"):
        seeds = result[f"only_{side}_seeds"]
        if seeds:
            more = f" ... and {len(seeds) - SHOWN_SEEDS:,} more" if len(seeds) > SHOWN_SEEDS else ""
            lines.append(f"  seeds only {side.upper()} solves: {', '.join(map(str, seeds[:SHOWN_SEEDS]))}{more}")
    return "\n".join(lines)


def _seeds(results: NetOutcomes | NetResults) -> str:
    if len(results) == 0:
        return "none"
    return f"{int(results.seeds.min())}..{int(results.seeds.max())} ({len(results):,} nets)"
