"""What was trained, in words: the one place every view takes them from (figure titles,
axis labels, report pages, map titles, sweep figures).

A config field or map knob gets its words here; one that has none yet is still shown, as
`name value`, so a new Config field can never make a view fail.
"""

from __future__ import annotations

import math
import re
import textwrap
from typing import Any, Callable, Mapping

from .config import Config, Criterion, InitScheme
from .tasks import ENCODED, Task

TITLE_WIDTH = 100  # characters a title line holds before it wraps


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else f"{value:g}" \
        if isinstance(value, float) else str(value)


def init_words(text: str, bias: bool = True) -> str:
    """An init scheme as a reader knows it: 'U[0,1), zero biases' rather than 'counter'
    (a net without biases: its weights only)."""
    scheme = InitScheme.parse(text)
    if scheme.kind == "uniform":
        return f"initial weights{' and biases' if bias else ''} U[{scheme.low:g},{scheme.high:g})"
    if scheme.kind == "notebook":
        return f"initial weights U[0,1) by np.random (the notebook's){' and zero biases' if bias else ''}"
    return f"initial weights U[0,1){' and zero biases' if bias else ''}"


def midpoint(config: Config | Mapping[str, Any]) -> str:
    """The midpoint of a config's two target values, which `round` judges outputs by: '0.5' or '0'."""
    low, high = ENCODED[_field(config, "encoding") if _has(config, "encoding") else "01"]
    return f"{(low + high) / 2:g}"


def _task(config: Config | Mapping[str, Any]) -> Task:
    return Task.parse(_field(config, "task") if _has(config, "task") else "xor")


def task_name(config: Config | Mapping[str, Any]) -> str:
    """What the nets learnt: 'XOR', 'parity of 3 bits', 'AND (table 0001)'."""
    return _task(config).words


def patterns_count(config: Config | Mapping[str, Any]) -> str:
    """The number of the task's patterns in words for small ones: 'four', 'eight', '64'."""
    count = _task(config).patterns
    return {4: "four", 8: "eight", 16: "sixteen"}.get(count, f"{count:,}")


def inputs_count(config: Config | Mapping[str, Any]) -> int:
    return _task(config).inputs


def _has(config: Config | Mapping[str, Any], name: str) -> bool:
    return isinstance(config, Config) or name in config


def criterion_words(text: str, encoding: str = "01") -> str:
    rule = Criterion.parse(text)
    if text == "round":
        low, high = ENCODED[encoding]
        return f"solved: every output on the right side of {(low + high) / 2:g}"
    if rule.kind == "within":
        return f"solved: every |output - target| < {rule.threshold:g}"
    return f"solved: sum of squared errors < {rule.threshold:g}"


# field -> (its name on an axis or in a table, its value as a phrase in a sentence)
FIELDS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "hidden": ("hidden units H", lambda v: f"H = {v}"),
    "task": ("task", lambda v: Task.parse(v).words),
    "activation": ("activation of the hidden units", lambda v: f"{v} hidden units"),
    "output": ("output unit", lambda v: f"{v} output"),
    "encoding": ("encoding", lambda v: "inputs and targets 0/1" if v == "01" else "inputs and targets ±1"),
    "loss": ("loss", lambda v: "squared error" if v == "sse" else "cross-entropy loss"),
    "bias": ("biases", lambda v: "biases" if v else "no biases"),
    "skip": ("skip weights", lambda v: "skip weights input→output" if v else "no skip weights"),
    "lr": ("learning rate", lambda v: f"learning rate {_number(v)}"),
    "momentum": ("momentum", lambda v: f"momentum {_number(v)}"),
    "epochs": ("epochs", lambda v: f"{_number(v)} epochs"),
    "update": ("updates", lambda v: "batch updates" if v == "batch" else "online updates (a step per pattern)"),
    "loss_reduction": ("loss over patterns", lambda v: "loss summed over patterns" if v == "sum"
                       else "loss averaged over patterns"),
    "init": ("initial weights", init_words),
    "criterion": ("criterion", criterion_words),
    "dtype": ("precision", str),
    "sample_every": ("loss sampled every (epochs)", lambda v: f"loss sampled every {_number(v)} epochs" if v else ""),
}

# knobs of a map's axes -> their words
KNOBS = {
    "lr": "learning rate, both layers",
    "lr_hidden": "learning rate of the hidden layer (W1, b1)",
    "lr_output": "learning rate of the output layer (W2, b2)",
    "momentum": "momentum",
    "init_scale": "scale of every initial weight",
}
_WEIGHT_WORDS = [
    (re.compile(r"^W1\[(\d+),(\d+)\]$"), "initial weight from input {0} to hidden unit {1}"),
    (re.compile(r"^b1\[(\d+)\]$"), "initial bias of hidden unit {0}"),
    (re.compile(r"^W2\[(\d+)\]$"), "initial weight from hidden unit {0} to the output"),
    (re.compile(r"^b2$"), "initial bias of the output"),
    (re.compile(r"^Ws\[(\d+)\]$"), "initial skip weight from input {0} to the output"),
]


def label(name: str) -> str:
    """A config field's name on an axis or in a table header."""
    return FIELDS[name][0] if name in FIELDS else name.replace("_", " ")


def setting(name: str, value: Any, others: Mapping[str, Any] | None = None) -> str:
    """One setting as a phrase ('learning rate 0.5'); a field without words: 'name value'.
    others: the config's other settings, where a phrase depends on them (the criterion
    `round` on the encoding)."""
    if name == "criterion" and others:
        return criterion_words(value, others.get("encoding", "01"))
    if name == "init" and others:
        return init_words(value, others.get("bias", True))
    if name in FIELDS:
        return FIELDS[name][1](value)
    return f"{name.replace('_', ' ')} {_number(value)}"


def knob_label(name: str, log: bool = False) -> str:
    """A map knob on an axis: its words and its name, and the scale: 'learning rate of the
    hidden layer (W1, b1), lr_hidden, log scale'."""
    words = KNOBS.get(name)
    for pattern, template in _WEIGHT_WORDS:
        found = pattern.match(name)
        if found:
            words = template.format(*found.groups())
    return ", ".join(part for part in (words, name, "log scale" if log else "") if part)


def net(config: Config | Mapping[str, Any], varying: tuple[str, ...] = ()) -> str:
    """The net and its task: '2-4-1 sigmoid net on XOR'; '3-4-1 tanh net, linear output, on
    parity of 3 bits'. What varies (a sweep's axes) is left out: '2-H-1' where the hidden
    units do, 'N-4-1 sigmoid net on each task' where the task does."""
    values = {**Config().to_dict(), **(config.to_dict() if isinstance(config, Config) else dict(config))}
    task = Task.parse(values["task"])
    inputs = "N" if "task" in varying else task.inputs
    shape = f"{inputs}-{'H' if 'hidden' in varying else values['hidden']}-1"
    units = "" if "activation" in varying else f" {values['activation']}"
    same = values["output"] == values["activation"] and "activation" not in varying
    output = "" if same or "output" in varying else f", {values['output']} output,"
    where = "each task" if "task" in varying else task.words
    return f"{shape}{units} net{output} on {where}"


def settings(config: Config | Mapping[str, Any], omit: tuple[str, ...] = ("hidden",)) -> list[str]:
    """Every setting of a config as phrases, in the Config's order, less `omit`."""
    values = config.to_dict() if isinstance(config, Config) else dict(config)
    return [words for name, value in values.items() if name not in omit and (words := setting(name, value, values))]


ALWAYS_SAID = ("lr", "momentum", "init", "epochs")  # in every title; other settings where not the default
IN_THE_NAME = ("hidden", "task", "activation", "output")  # said by `net`
# in the net's name, or how it was watched rather than trained
NEVER_SAID = (*IN_THE_NAME, "sample_every")


def describe(config: Config | Mapping[str, Any], seeds: str | None = None, omit: tuple[str, ...] = ()) -> str:
    """What was trained, in one sentence a figure can carry as its title, enough to train it
    again: the net, its learning rate, momentum, initial weights and epochs, every other
    setting that is not the notebook's default (less `omit`, e.g. a sweep's varying axes),
    and the seeds."""
    values = config.to_dict() if isinstance(config, Config) else dict(config)
    defaults = Config().to_dict()
    parts = [setting(name, value, values) for name, value in values.items()
             if name not in (*NEVER_SAID, *omit) and (name in ALWAYS_SAID or value != defaults.get(name, object()))]
    text = f"{net(config, varying=omit)}: {', '.join(p for p in parts if p)}"
    return text + (f"; seeds {seeds}" if seeds else "")


UNBROKEN = [(re.compile(r"(\d) x (\d)"), "\\1\0x\0\\2"), (re.compile(r"seeds (\S)"), "seeds\0\\1")]  # kept on one line


def title_lines(text: str, width: int = TITLE_WIDTH) -> str:
    """A title's lines, each wrapped to at most `width` characters ("512 x 512" and "seeds
    0:100" never split)."""
    for pattern, kept in UNBROKEN:
        text = pattern.sub(kept, text)
    lines = [wrapped for line in text.split("\n") for wrapped in (textwrap.wrap(line, width) or [""])]
    return "\n".join(lines).replace("\0", " ")


def _field(config: Config | Mapping[str, Any], name: str) -> Any:
    return getattr(config, name) if isinstance(config, Config) else config[name]


RATE_KNOBS = ("lr", "lr_hidden", "lr_output")


def map_view(spec: Any, ranges: bool = True) -> str:
    """What a map (xorgpu.maps.MapSpec) trained, as a title: the net and the settings that do
    not vary across it (a knob on an axis replaces its setting), the knobs' ranges (or, with
    ranges=False, only their names: a zoom's frames each print their own), the seed every
    pixel starts from, and its size."""
    on_axes = {spec.x.knob.name, spec.y.knob.name}
    omit = (("lr",) if on_axes & set(RATE_KNOBS) else ()) + (("momentum",) if "momentum" in on_axes else ())
    text = describe(spec.config, omit=omit)
    lr = spec.config.lr
    if "lr_hidden" in on_axes and "lr_output" not in on_axes:
        text += f", learning rate of the output layer {_number(lr)}"
    if "lr_output" in on_axes and "lr_hidden" not in on_axes:
        text += f", learning rate of the hidden layer {_number(lr)}"
    size = f"{spec.resolution} x {spec.resolution}"
    x, y = (axis_range(spec.x), axis_range(spec.y)) if ranges else (spec.x.knob.name, spec.y.knob.name)
    return f"{text}; {x} across, {y} up, {size} pixels, each from seed {spec.seed}'s initial weights"


def axis_range(axis: Any) -> str:
    """A map axis's knob and range, with as many digits as tell its ends apart (up to
    float64's 17): 'lr_hidden 0.1..1000 (log)'."""
    relative = (axis.high - axis.low) / max(abs(axis.low), abs(axis.high))
    digits = min(17, max(6, math.ceil(-math.log10(relative)) + 3))
    return f"{axis.knob.name} {axis.low:.{digits}g}..{axis.high:.{digits}g}{' (log)' if axis.log else ''}"


def trained_by(provenance: Mapping[str, Any]) -> str:
    """What trained a result, from its provenance: 'the fused engine, backend numpy, on cpu
    (vm)', and a job's workers ("" if none of it was recorded)."""
    parts = [f"the {provenance['engine']} engine" if provenance.get("engine") else None,
             f"backend {provenance['backend']}" if provenance.get("backend") else None,
             f"on {provenance['device']}" if provenance.get("device") else None,
             f"workers {', '.join(provenance['workers'])}" if provenance.get("workers") else None]
    return ", ".join(p for p in parts if p)


COLOUR_RANGES = ("full", "data")  # a heatmap's colours span 0-100% (epochs from 0), or the data's range


# --- numbers -----------------------------------------------------------------------------


def percent(fraction: float | None, decimals: int = 2) -> str:
    """A fraction as a percentage that is never 100% (or 0%) unless it is exactly that:
    `decimals` places, and within 1% of either end as many more as show two figures of the
    distance to it (0.0070%, 99.9967%), so a small rate and its interval's ends keep their
    size apart."""
    if fraction is None:
        return "n/a"
    if fraction in (0, 1):
        return f"{100 * fraction:.0f}%"
    distance = 100 * min(fraction, 1 - fraction)
    places = decimals if distance >= 1 else min(12, max(decimals, 1 - math.floor(math.log10(distance))))
    return f"{100 * fraction:.{places}f}%"


def rate_text(solved: int, nets: int, decimals: int = 2) -> str:
    """A success rate with its count beside it: '99.91% (9,991/10,000)'."""
    return f"{percent(solved / nets if nets else None, decimals)} ({solved:,}/{nets:,})"
