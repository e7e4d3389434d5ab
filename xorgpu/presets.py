"""Published XOR experiments as sweeps, each with the numbers its source reports.

A preset is a sweep (a base config and axes) plus what its source says about it, cell by
cell, and how to read the same quantity off our statistics. `xorgpu sweep --preset NAME`
runs the cells and prints both side by side. Sources are cited with pages; what a source
leaves unsaid (initial weight range, stopping rule, whether "presentations" are epochs
or single patterns, batch or online updates) is listed as an assumption, and where two
readings are plausible the preset runs both rather than pick one.

The page numbers and figures of Rumelhart, Hinton & Williams (1986) were taken from a
research record that quotes and paraphrases the chapter with page locators; they were not
checked against a scan of the book here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .config import Config, ConfigError
from .words import percent

Report = dict[str, Any]  # a cell's statistics, as Summary.report gives them


@dataclass(frozen=True)
class Reported:
    """One number a source reports, the cells it speaks of, and ours in the same terms."""

    cell: dict[str, Any]  # config values picking the cells (each matching cell gets a line)
    quantity: str
    source_value: str  # as the source gives it
    ours: Callable[[Report], str]


@dataclass(frozen=True)
class SourceCurve:
    """A source's law for epochs to solve along one axis (drawn by xorgpu.plots.preset_figure)."""

    axis: str  # the config field it runs along
    label: str
    law: Callable[[float], float]


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    source: str  # citation, with pages
    base: Config
    axes: dict[str, list[Any]]
    nets: int  # nets per cell unless --nets says otherwise
    reported: tuple[Reported, ...]
    assumptions: tuple[str, ...] = field(default=())
    trend: Callable[[list[dict[str, Any]]], list[dict[str, str]]] | None = None  # over all cells
    curve: SourceCurve | None = None  # a law the source gives, to draw beside our epochs


# How our statistics answer a source's question -------------------------------------------


def epochs_to_solve(report: Report) -> str:
    ets = report["epochs_to_solve"]
    if ets["median"] is None:
        return "no net solved"
    epochs = f"median {ets['median']:.0f} epochs (mean {ets['mean']:.0f}, p10-p90 {ets['p10']:.0f}-{ets['p90']:.0f})"
    if report["config"].get("update") == "online":  # one presentation = one pattern, one step
        return f"{epochs} = {4 * ets['median']:.0f} pattern presentations"
    return epochs


def unsolved(report: Report) -> str:
    failures = report["failures"]
    low, high = report["success_ci95"]
    return (f"{failures['unsolved']} of {report['nets']} unsolved ({percent(1 - report['success_rate'])}, "
            f"95% CI {percent(1 - high)}-{percent(1 - low)}); {failures['plateau']} on a plateau, "
            f"{failures['still_improving']} still improving, {failures['diverged']} diverged")


def loss_at(epoch: int) -> Callable[[Report], str]:
    """Loss percentiles at a sampled epoch (from log-spaced bins: about 2 significant digits)."""

    def ours(report: Report) -> str:
        rows = [row for row in report["loss_curve"] if row["epoch"] == epoch]
        if not rows:
            return f"(no loss sample at epoch {epoch})"
        row = rows[0]
        return f"p10 {row['p10']:.2g}, median {row['median']:.2g}, p90 {row['p90']:.2g}"
    return ours


def final_loss(report: Report) -> str:
    loss = report["final_loss"]
    return (f"p10 {loss['p10']:.2g}, median {loss['median']:.2g}, p90 {loss['p90']:.2g}; "
            f"{percent(report['success_rate'])} solved")


# The presets ------------------------------------------------------------------------------

PDP_CH8 = ("Rumelhart, Hinton & Williams (1986), Learning internal representations by error "
           "propagation, in Parallel Distributed Processing vol. 1, ch. 8, MIT Press")
PDP_ASSUMPTIONS = (
    "biases are trained like weights and drawn with them, U[-0.5, 0.5) (the chapter's 'small random "
    "weights'; the range is our choice)",
    "momentum 0.9: the chapter's 'in most of our simulations alpha was about 0.9' (p. 330)",
    "loss 1/2 sum of squared errors over the patterns (the chapter's E); batch and online steps both "
    "run, as our notes do not say which these runs used",
    "solved: every output on the right side of 0.5; the chapter's own stopping rule is not in our notes",
)


def _chauvin(hidden: int) -> str:
    return f"P = 280 - 33 log2 H = {280 - 33 * math.log2(hidden):.0f} presentations"


def chauvin_fit(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Least-squares line of median epochs to solve on log2 H, for each update rule."""
    lines = []
    for update in sorted({row["config"]["update"] for row in rows}):
        points = [(math.log2(row["config"]["hidden"]), row["report"]["epochs_to_solve"]["median"])
                  for row in rows if row["config"]["update"] == update]
        points = [(x, y) for x, y in points if y is not None]
        if len(points) < 2:
            continue
        slope, intercept = np.polyfit(*zip(*points), 1)
        lines.append({"cell": f"update={update}", "quantity": "trend over H (least squares on log2 H)",
                      "source": "P = 280 - 33 log2 H",
                      "ours": f"median epochs = {intercept:.0f} - {-slope:.0f} log2 H"})
    return lines


NOTEBOOK_OUTPUTS = (0.05849406, 0.95075117, 0.95134241, 0.05067486)

LECUN_1998 = ("LeCun, Bottou, Orr & Mueller (1998), Efficient BackProp, in Neural Networks: Tricks of the "
              "Trade, LNCS 1524, Springer, sections 4.3 (inputs of zero mean) and 4.4 (symmetric sigmoids)")
SOLLA_1988 = ("Solla, Levin & Fleisher (1988), Accelerated learning in layered neural networks, Complex "
              "Systems 2, 625-640")


def qualitative(claim: str) -> str:
    """A source's claim that gives no number to compare with."""
    return f"{claim} (no number for this net given)"

PRESETS = {
    preset.name: preset
    for preset in (
        Preset(
            name="notebook",
            title="The notebook this project started from: 2-4-1, U[0,1) weights, zero biases, lr 0.1",
            source="the seed notebook (one unseeded run; it prints the loss at epochs 0, 4000 and 8000 and "
                   "the outputs after 10000 epochs)",
            base=Config(init="notebook", sample_every=4000),
            axes={},
            nets=10000,
            reported=(
                Reported({}, "loss at epoch 0", "0.318", loss_at(0)),
                Reported({}, "loss at epoch 4000", "0.0401", loss_at(4000)),
                Reported({}, "loss at epoch 8000", "0.00427", loss_at(8000)),
                Reported({}, "final loss (mean squared error, epoch 10000)",
                         f"{sum((o - t) ** 2 for o, t in zip(NOTEBOOK_OUTPUTS, (0, 1, 1, 0))) / 4:.5f} "
                         "(outputs 0.058, 0.951, 0.951, 0.051)", final_loss),
            ),
            assumptions=("the notebook's run is one draw of np.random's global state; our nets use "
                         "np.random.seed(s) for s = 0, 1, ..., the same distribution",),
        ),
        Preset(
            name="rhw1986-local-minima",
            title="How often a 2-2-1 net sticks, and whether a larger learning rate escapes",
            source=PDP_CH8 + ", pp. 331-332 and footnote 2",
            base=Config(hidden=2, momentum=0.9, init="uniform:-0.5:0.5", epochs=10000),
            axes={"update": ["batch", "online"], "lr": [0.25, 0.5]},
            nets=2000,
            reported=(
                Reported({"lr": 0.25}, "runs stuck in a local minimum",
                         "2 of 'hundreds' of XOR runs, both with two hidden units; one found after 6,587 "
                         "presentations at eta 0.25", unsolved),
                Reported({"lr": 0.5}, "runs stuck in a local minimum",
                         "at eta 0.5 or more the net escapes that minimum", unsolved),
            ),
            assumptions=PDP_ASSUMPTIONS + ("stuck: unsolved after 10,000 epochs",),
        ),
        Preset(
            name="chauvin-hidden-units",
            title="Chauvin: presentations to solve XOR fall as log2 of the hidden units",
            source=PDP_CH8 + ", p. 333 (Chauvin's simulations, eta 0.25)",
            base=Config(lr=0.25, momentum=0.9, init="uniform:-0.5:0.5", epochs=5000),
            axes={"update": ["batch", "online"], "hidden": [2, 4, 8, 16, 32]},
            nets=1000,
            reported=tuple(
                Reported({"hidden": h}, "presentations to solve", _chauvin(h), epochs_to_solve)
                for h in (2, 4, 8, 16, 32)
            ),
            assumptions=PDP_ASSUMPTIONS + (
                "'presentations' is read both ways: batch rows count sweeps through the 4 patterns, "
                "online rows also give pattern presentations (4 per epoch)",
            ),
            trend=chauvin_fit,
            curve=SourceCurve("hidden", "Chauvin: P = 280 - 33 log2 H", lambda h: 280 - 33 * math.log2(h)),
        ),
        Preset(
            name="rhw1986-xor-211",
            title="The 2-1-1 XOR net: one hidden unit and direct connections from the inputs to the output",
            source=PDP_CH8 + ", the XOR net with one hidden unit (its figure 2)",
            base=Config(hidden=1, skip=True, momentum=0.9, init="uniform:-0.5:0.5", epochs=5000),
            axes={"update": ["batch", "online"], "lr": [0.25, 0.5]},
            nets=1000,
            reported=(
                Reported({"lr": 0.5}, "sweeps to solve",
                         "about 558 sweeps through the four patterns, one run (as we recall the chapter; not "
                         "checked against its text here)", epochs_to_solve),
                Reported({}, "runs that never solve", qualitative("a net that can solve XOR with one hidden unit"),
                         unsolved),
            ),
            assumptions=PDP_ASSUMPTIONS + (
                "the architecture is the chapter's (one sigmoid hidden unit, the output fed by it and by both "
                "inputs, biases on both units); its learning rate and sweep count are not in our research "
                "record, so both rates of the chapter (0.25, 0.5) run",),
        ),
        Preset(
            name="tanh-vs-sigmoid",
            title="Symmetric (tanh) against logistic hidden units, with 0/1 and ±1 inputs and targets",
            source=LECUN_1998,
            base=Config(output="tanh", lr=0.1, init="uniform:-1:1", epochs=3000),
            axes={"activation": ["sigmoid", "tanh"], "encoding": ["01", "pm1"]},
            nets=2000,
            reported=(
                Reported({"activation": "tanh", "encoding": "pm1"}, "epochs to solve",
                         qualitative("symmetric sigmoids and inputs of zero mean converge faster"), epochs_to_solve),
                Reported({"activation": "sigmoid", "encoding": "01"}, "epochs to solve",
                         qualitative("logistic units and inputs of mean 0.5 converge slower"), epochs_to_solve),
            ),
            assumptions=(
                "the output unit is tanh in every cell, so both encodings' targets are within its reach",
                "initial weights and biases U[-1, 1), learning rate 0.1, batch updates: our choices; LeCun et al. "
                "give no XOR runs",
            ),
        ),
        Preset(
            name="cross-entropy-vs-sse",
            title="Cross-entropy against squared error for the notebook's net",
            source=SOLLA_1988,
            base=Config(lr=0.5, init="uniform:-1:1", epochs=3000, sample_every=500),
            axes={"loss": ["sse", "cross-entropy"]},
            nets=2000,
            reported=(
                Reported({"loss": "cross-entropy"}, "epochs to solve",
                         qualitative("the log-likelihood (cross-entropy) error learns faster: no flat tails of "
                                     "the output sigmoid in its gradient"), epochs_to_solve),
                Reported({"loss": "sse"}, "epochs to solve", qualitative("squared error learns slower"),
                         epochs_to_solve),
            ),
            assumptions=("both losses summed over the four patterns, the same learning rate 0.5, initial "
                         "weights and biases U[-1, 1): our choices; the runs compare the losses at equal "
                         "step sizes, not each at its best rate",),
        ),
        Preset(
            name="rhw1986-parity",
            title="Parity of 3 and 4 bits, the textbook generalisation of XOR",
            source=PDP_CH8 + ", the parity problem (N hidden units for N inputs)",
            base=Config(lr=0.5, momentum=0.9, init="uniform:-0.5:0.5", epochs=5000),
            axes={"task": ["parity:3", "parity:4"], "hidden": [3, 4]},
            nets=500,
            reported=tuple(
                Reported({"task": f"parity:{n}", "hidden": n}, "runs that do not solve",
                         qualitative(f"a net of {n} hidden units can learn parity of {n} bits"), unsolved)
                for n in (3, 4)
            ),
            assumptions=PDP_ASSUMPTIONS[:2] + (
                "loss 1/2 sum of squared errors over the patterns (the chapter's E), batch updates; a net "
                "unsolved after 5,000 epochs counts as not solving",),
        ),
    )
}


def get(name: str) -> Preset:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}: choose from {', '.join(PRESETS)}")
    return PRESETS[name]


def sweep_of(preset: Preset, axes: dict[str, list[Any]]) -> tuple[Config, dict[str, list[Any]]]:
    """The preset's base config and axes; its values are fixed."""
    if axes:
        flags = ", ".join(f"--{name.replace('_', '-')}" for name in axes)
        raise ConfigError(f"--preset {preset.name} sets every config value: drop {flags}")
    return preset.base, preset.axes


def comparison(preset: Preset, rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """For each reported number and each sweep row it speaks of: the source's and ours."""
    lines = []
    for reported in preset.reported:
        for row in rows:
            config = row["config"]
            if all(config[name] == value for name, value in reported.cell.items()):
                varying = {name: config[name] for name in preset.axes}
                lines.append({
                    "cell": ", ".join(f"{name}={value}" for name, value in varying.items()) or "-",
                    "quantity": reported.quantity,
                    "source": reported.source_value,
                    "ours": reported.ours(row["report"]),
                })
    return lines + (preset.trend(rows) if preset.trend else [])


def of_rows(rows: list[dict[str, Any]]) -> Preset | None:
    """The preset a sweep file's rows all came from, if they did (see xorgpu.sweeps.run)."""
    names = {row.get("preset") for row in rows}
    if len(names) == 1 and None not in names and next(iter(names)) in PRESETS:
        return PRESETS[names.pop()]
    return None


def to_json(preset: Preset, cells: list[dict[str, Any]], lines: list[dict[str, str]]) -> dict[str, Any]:
    return {"preset": preset.name, "source": preset.source, "assumptions": list(preset.assumptions),
            "cells": cells, "comparison": lines}


def describe(preset: Preset, lines: list[dict[str, str]]) -> str:
    """The comparison as text: source, assumptions, then source and ours per number."""
    out = [f"{preset.name}: {preset.title}", f"source: {preset.source}"]
    out += [f"assumed: {text}" for text in preset.assumptions]
    for line in lines:
        out += [f"[{line['cell']}] {line['quantity']}", f"    source: {line['source']}", f"    ours:   {line['ours']}"]
    return "\n".join(out)
