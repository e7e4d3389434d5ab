"""Sweeps: the same seeds trained under every combination of some config values.

A sweep is a list of cells (configs); each finished cell is appended as one JSON line to
the sweep's file, so an interrupted sweep resumes where it stopped: cells already in the
file are not run again. The file is also what `xorgpu sweep` reads to print its table.
A file holds one sweep: every row has the same seeds, and a config field that neither the
file nor a new sweep varies has the same value in both, and one the file varies the new
sweep varies too (else `run` refuses, so plots and reports never mix two experiments). Tables and figures order numeric axes by value.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
from dataclasses import fields
from pathlib import Path
from typing import Any, Callable, Iterable

from .memory import check_fits
from .config import Config, ConfigError, SeedRange, check_field_names
from .files import MAX_INPUT_FRACTION, check_readable, check_writable
from .outcomes import FAILURES
from .stats import check_report
from .words import percent

SWEEPABLE = [f.name for f in fields(Config)]


def cells(base: Config, axes: dict[str, list[Any]]) -> list[Config]:
    """Every combination of the axes' values, applied to `base`, in axis order, each
    numeric axis from its smallest value to its largest."""
    check_field_names(axes)
    unknown = sorted(set(axes) - set(SWEEPABLE))
    if unknown:
        raise ConfigError(f"cannot sweep over {', '.join(unknown)}")
    names = list(axes)
    ordered = [in_order(values) for values in axes.values()]
    return [base.replace(**dict(zip(names, values))) for values in itertools.product(*ordered)]


def in_order(values: list[Any]) -> list[Any]:
    """Distinct values, numbers by value, anything else as given."""
    distinct = list(dict.fromkeys(values))
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in distinct)
    return sorted(distinct) if numeric else distinct


def sorted_axes(axes: dict[str, list[Any]]) -> list[str]:
    """The axes that vary (more than one value)."""
    return [name for name, values in axes.items() if len(set(map(str, values))) > 1]


def sort_rows(rows: list[dict[str, Any]], axes: list[str]) -> list[dict[str, Any]]:
    """Rows ordered by their axes' values: numbers by value, anything else as first seen."""
    order = {axis: {str(v): i for i, v in enumerate(in_order([r["config"][axis] for r in rows]))} for axis in axes}
    return sorted(rows, key=lambda r: tuple(order[a][str(r["config"][a])] for a in axes))


def cell_key(config: Config, seeds: SeedRange) -> str:
    """What identifies a finished cell: its config and seeds."""
    return json.dumps({"config": config.to_dict(), "seeds": str(seeds)}, sort_keys=True)


def load(path: Path) -> dict[str, dict[str, Any]]:
    """Finished cells of a sweep file, by cell_key."""
    if not path.exists():
        return {}
    check_readable(path)
    check_fits(path.stat().st_size, f"reading the sweep file {path}", "read it on a machine with more memory",
               share=MAX_INPUT_FRACTION)
    done = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a sweep file (not UTF-8 text)") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("not a JSON object")
            config = Config.from_dict(row["config"])
            row["config"] = config.to_dict()  # a file of an older version: its settings of fields since added
            check_report(row["report"])
            done[cell_key(config, SeedRange.parse(row["seeds"]))] = row
        except (ValueError, KeyError, TypeError) as error:
            raise ConfigError(f"{path}:{number} is not a sweep row ({_reason(error)})") from None
    return done


def _reason(error: BaseException) -> str:
    if isinstance(error, KeyError):
        return f"no {error.args[0]!s}"
    return str(error).splitlines()[0][:200] if str(error) else type(error).__name__


def finished_rows(path: Path) -> list[dict[str, Any]]:
    """The finished cells of a sweep file, in file order; an error if there are none."""
    rows = list(load(path).values())
    if not rows:
        raise ConfigError(f"{path} has no finished sweep cells")
    return rows


def varying_axes(rows: list[dict[str, Any]]) -> list[str]:
    """The config fields whose values differ between the rows."""
    return [name for name in SWEEPABLE if len({str(r["config"][name]) for r in rows}) > 1]


def run(
    configs: Iterable[Config], seeds: SeedRange, path: Path,
    train: Callable[[list[Config]], Iterable[tuple[Config, dict[str, Any]]]], preset: str | None = None,
    notice: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Run the cells not yet in `path`, appending each as it finishes; all rows in cell order.

    train: given the pending configs, yields (config, statistics report) as each finishes,
    in any order (locally one after another; through the service as the jobs complete).
    preset: the name of the literature preset the cells come from, kept in each new row.
    notice: hears how many cells the file held already (they are not trained again).
    """
    configs = list(configs)
    done = load(path)
    check_one_sweep(path, list(done.values()), configs, seeds)
    pending = [c for c in configs if cell_key(c, seeds) not in done]
    reused = len(configs) - len(pending)
    if reused and notice is not None:
        notice(f"{'all ' if not pending else ''}{reused} of {len(configs)} cells were finished in {path} "
               f"already: {'nothing to train' if not pending else 'not trained again'}")
    if pending:
        check_writable(path)
        for config, report in train(pending):
            row = {"config": config.to_dict(), "seeds": str(seeds), "report": report}
            if preset:
                row["preset"] = preset
            with open(path, "a") as handle:  # opened per row: an interrupted sweep keeps what finished
                handle.write(json.dumps(row) + "\n")
            done[cell_key(config, seeds)] = row
    return [done[cell_key(c, seeds)] for c in configs]


def default_file(base: Config, axes: dict[str, list[Any]], seeds: SeedRange, preset: str | None = None,
                 as_published: bool = False) -> Path:
    """The file a sweep writes when given none: one per experiment (its axes, the settings
    it holds fixed and its seeds), so two sweeps never share a file, and rerunning or
    extending one along its axes finds it again. A preset run as published keeps its name."""
    if preset is not None and as_published:
        return Path(f"xorgpu-{preset}.jsonl")
    varied = [name for name, values in axes.items() if len(in_order(values)) > 1]
    held = {**base.to_dict(), **{name: values[0] for name, values in axes.items() if name not in varied}}
    fixed = {name: value for name, value in held.items() if name not in varied}
    digest = hashlib.sha256(json.dumps({"fixed": fixed, "seeds": str(seeds)}, sort_keys=True).encode()).hexdigest()
    return Path("-".join(["xorgpu", preset or "sweep", *varied, digest[:6]]) + ".jsonl")


def check_one_sweep(path: Path, rows: list[dict[str, Any]], configs: list[Config], seeds: SeedRange) -> None:
    """Refuse to add cells of other seeds, or of other fixed settings, to a sweep file."""
    if not rows:
        return
    held = {r["seeds"] for r in rows}
    if held != {str(seeds)}:
        raise ConfigError(f"{path} holds cells of seeds {', '.join(sorted(held))}, not {seeds}: "
                          "give another --out for another seed range")
    for name in SWEEPABLE:
        before = {json.dumps(r["config"].get(name, Config.__dataclass_fields__[name].default)) for r in rows}
        now = {json.dumps(getattr(c, name)) for c in configs}
        if len(before) == 1 and len(now) == 1 and before != now:
            raise ConfigError(f"{path} holds cells with {name} {json.loads(next(iter(before)))}, not "
                              f"{json.loads(next(iter(now)))}: give another --out for other fixed settings")
        if len(before) > 1 and len(now) == 1:  # the file sweeps it, this sweep holds it: another experiment
            held = ", ".join(str(v) for v in in_order([json.loads(v) for v in before]))
            raise ConfigError(f"{path} sweeps {name} over {held}, this sweep holds it at "
                              f"{json.loads(next(iter(now)))}: list every value to extend that sweep "
                              f"(--{name.replace('_', '-')} ...), or give another --out")


def table_rows(rows: list[dict[str, Any]], axes: list[str], with_outcomes: bool = False) -> list[dict[str, Any]]:
    """One flat dict per cell, ordered by the axes' values: the swept values, then success
    rate with CI and epochs (and how many nets ended in each unsolved outcome)."""
    flat = []
    for row in sort_rows(rows, axes):
        report = row["report"]
        low, high = report["success_ci95"]
        ets = report["epochs_to_solve"]
        failures = report["failures"]
        flat.append({
            **{axis: row["config"][axis] for axis in axes},
            "nets": report["nets"], "solved": report["solved"],
            "success_rate": report["success_rate"], "ci95_low": low, "ci95_high": high,
            "median_epochs": ets["median"], "p90_epochs": ets["p90"],
            **({name: failures[name] for name in FAILURES}
               if with_outcomes else {}),
        })
    return flat


def to_csv(flat: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(flat[0]) if flat else [])
    writer.writeheader()
    writer.writerows(flat)
    return buffer.getvalue()


def _value_text(value: Any) -> str:
    """A cell's setting as typed on the command line (true/false, not Python's True/False)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def to_text(flat: list[dict[str, Any]], axes: list[str]) -> str:
    header = [*axes, "solved", "success", "95% CI", "median ep", "p90 ep"]
    body = [
        [*(_value_text(r[a]) for a in axes), f"{r['solved']:,}/{r['nets']:,}", percent(r["success_rate"], 1),
         f"[{percent(r['ci95_low'], 1)}, {percent(r['ci95_high'], 1)}]",
         "-" if r["median_epochs"] is None else f"{r['median_epochs']:.0f}",
         "-" if r["p90_epochs"] is None else f"{r['p90_epochs']:.0f}"]
        for r in flat
    ]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in [header, *body])
