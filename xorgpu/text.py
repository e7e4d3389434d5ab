"""Plain-text rendering of a statistics report (the dict of `Summary.report`)."""

from __future__ import annotations

from typing import Any

from . import outcomes, words
from .words import percent, rate_text


def format_report(report: dict[str, Any]) -> str:
    config = report["config"]
    low, high = report["success_ci95"]
    ets = report["epochs_to_solve"]
    loss = report["final_loss"]
    failures = report["failures"]
    lines = [
        f"xorgpu: {words.describe(config)}",
        "",
        f"  nets                {report['nets']:,}",
        f"  solved              {report['solved']:,}",
        f"  success rate        {rate_text(report['solved'], report['nets'])}   "
        f"95% CI [{percent(low)}, {percent(high)}] (Wilson)",
        "  epochs to solve     "
        + ("none solved" if ets["median"] is None else
           f"min {ets['min']}  p10 {_num(ets['p10'])}  median {_num(ets['median'])}  "
           f"p90 {_num(ets['p90'])}  max {ets['max']}  mean {_num(ets['mean'])}"),
        "  final loss (MSE)    "
        + ("n/a" if loss["median"] is None else
           f"p10 {_loss(loss['p10'], loss)}  median {_loss(loss['median'], loss)}  p90 {_loss(loss['p90'], loss)}"
           + ("" if not loss.get("relative_error") else f"  (within {100 * loss['relative_error']:g}%)")),
        *([] if not report.get("training_loss") or report["training_loss"]["median"] is None else [
            "  cross-entropy       " + "  ".join(f"{name} {_loss(report['training_loss'][name], report['training_loss'])}"
                                           for name in ("p10", "median", "p90"))
            + f"  (within {100 * report['training_loss']['relative_error']:g}%; the loss trained on)"]),
        f"  unsolved            {failures['unsolved']:,}: "
        + ", ".join(f"{outcomes.label(name)} {failures[name]:,}" for name in outcomes.UNSOLVED),
    ]
    if failures["patterns_wrong"]:
        wrong = ", ".join(f"{k} wrong: {v:,}" for k, v in failures["patterns_wrong"].items())
        lines.append(f"  unsolved by patterns on the wrong side of {words.midpoint(config)}: {wrong}")
    if failures["solved_then_lost"]:
        lines.append(f"  solved, then lost by the end: {failures['solved_then_lost']:,}")
    if report["loss_curve"]:
        lines += ["", "  loss percentiles    epoch       p10         median      p90     (each within 1%)"]
        lines += [
            f"                      {row['epoch']:<11} {_sci(row['p10'], 2):<11} "
            f"{_sci(row['median'], 2):<11} {_sci(row['p90'], 2)}"
            for row in report["loss_curve"]
        ]
    if report.get("provenance"):
        lines += ["", "  " + provenance_line(report["provenance"])]
    return "\n".join(lines)


def provenance_line(provenance: dict[str, Any]) -> str:
    """Where numbers came from, in one line."""
    where = words.trained_by(provenance)
    parts = [f"seeds {provenance.get('seeds')}", f"trained by {where}" if where else None,
             f"{provenance['wall_seconds']:.1f} s" if provenance.get("wall_seconds") is not None else None,
             f"started {provenance.get('started')}" if provenance.get("started") else None,
             f"xorgpu {provenance.get('version')}" if provenance.get("version") else None]
    return "; ".join(p for p in parts if p)


def _num(value: float) -> str:
    return f"{value:.1f}" if value != int(value) else str(int(value))


def _sci(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def _loss(value: float | None, quantiles: dict[str, Any]) -> str:
    """A loss quantile to the precision it has: 3 figures if exact, 2 from a 1% sketch."""
    return _sci(value, 2 if quantiles.get("relative_error") else 3)
