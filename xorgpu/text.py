"""Plain-text rendering of a statistics report (the dict of `Summary.report`)."""

from __future__ import annotations

from typing import Any


def format_report(report: dict[str, Any]) -> str:
    config = report["config"]
    low, high = report["success_ci95"]
    ets = report["epochs_to_solve"]
    loss = report["final_loss"]
    failures = report["failures"]
    rate = report["success_rate"]
    lines = [
        "xorgpu: 2-{hidden}-1 sigmoid nets on XOR, lr {lr}, momentum {momentum}, {epochs} epochs, "
        "{update} updates, {loss_reduction} loss, init {init}, criterion {criterion}, {dtype}".format(
            **{"update": "batch", **config}),  # reports stored before `update` existed were batch
        "",
        f"  nets                {report['nets']}",
        f"  solved              {report['solved']}",
        f"  success rate        {_pct(rate)}   95% CI [{_pct(low)}, {_pct(high)}] (Wilson)",
        "  epochs to solve     "
        + ("none solved" if ets["median"] is None else
           f"min {ets['min']}  p10 {_num(ets['p10'])}  median {_num(ets['median'])}  "
           f"p90 {_num(ets['p90'])}  max {ets['max']}  mean {_num(ets['mean'])}"),
        "  final loss (MSE)    "
        + ("n/a" if loss["median"] is None else
           f"p10 {_sci(loss['p10'])}  median {_sci(loss['median'])}  p90 {_sci(loss['p90'])}"),
        f"  unsolved            {failures['unsolved']}: plateau {failures['plateau']}, "
        f"still improving {failures['still_improving']}, diverged {failures['diverged']}",
    ]
    if failures["patterns_wrong"]:
        wrong = ", ".join(f"{k} wrong: {v}" for k, v in failures["patterns_wrong"].items())
        lines.append(f"  unsolved by patterns on the wrong side of 0.5: {wrong}")
    if failures["solved_then_lost"]:
        lines.append(f"  solved, then lost by the end: {failures['solved_then_lost']}")
    if report["loss_curve"]:
        lines += ["", "  loss percentiles    epoch       p10         median      p90"]
        lines += [
            f"                      {row['epoch']:<11} {_sci(row['p10']):<11} "
            f"{_sci(row['median']):<11} {_sci(row['p90'])}"
            for row in report["loss_curve"]
        ]
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def _num(value: float) -> str:
    return f"{value:.1f}" if value != int(value) else str(int(value))


def _sci(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"
