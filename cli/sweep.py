"""`xorgpu sweep`: a grid of configs over the same seeds, locally or through the workers."""

from __future__ import annotations

import json
import time
from dataclasses import fields
from pathlib import Path
from typing import Any, Iterator

import click

from xorgpu.config import MAX_SEED, Config, ConfigError, RunOptions, SeedRange
from xorgpu.settings import MAX_CHUNK_NETS, default_backend_name

from .options import backend_option, complete_preset, engine_option, notice, progress_bar, redis_option

FIELD_TYPES = {f.name: f.type for f in fields(Config)}
SWEEPABLE = [f.name for f in fields(Config)]
MAX_CELLS = 10_000
POLL_SECONDS = 0.5  # sweep --submit: how often it looks at its jobs


BOOLEANS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}


def _boolean(text: str) -> bool:
    if text.lower() not in BOOLEANS:
        raise ValueError(text)
    return BOOLEANS[text.lower()]


def _axis(name: str, text: str) -> list[Any]:
    convert = {"int": int, "float": float, "bool": _boolean}.get(FIELD_TYPES[name], str)
    values = text.split(",")
    if not all(value.strip() for value in values):
        raise ConfigError(f"--{name.replace('_', '-')}: {text[:60]!r} has an empty value")
    try:
        return [convert(value.strip()) for value in values]
    except ValueError:
        kind = "true/false value" if FIELD_TYPES[name] == "bool" else FIELD_TYPES[name]
        raise ConfigError(f"--{name.replace('_', '-')}: {text[:60]!r} is not a list of {kind}s") from None


def _default_text(name: str) -> str:
    default = Config.__dataclass_fields__[name].default
    return str(default).lower() if isinstance(default, bool) else str(default)


def _axis_options(command: Any) -> Any:
    for name in reversed(SWEEPABLE):
        command = click.option(f"--{name.replace('_', '-')}", name, default=None, metavar="V1,V2,...",
                               help=f"Values of {name} (default {_default_text(name)}).")(command)
    return command


@click.command()
@click.option("--preset", metavar="NAME", shell_complete=complete_preset, help="A published experiment (see `xorgpu presets`): its axes, "
                                               "and the source's numbers beside ours.")
@click.option("--nets", type=click.IntRange(1, MAX_SEED), help="Nets per cell (seeds 0:N unless --seeds is given).")
@click.option("--seeds", metavar="A:B", help="Seed range of every cell.")
@_axis_options
@backend_option
@engine_option
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Sweep file: one JSON line per finished cell; rerun to resume  "
                   "[default: one file per experiment, xorgpu-sweep-AXES-DIGEST.jsonl, or xorgpu-NAME.jsonl for a "
                   "preset as published; said on stderr].")
@click.option("--format", "output_format", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="How to print the cells: a table, JSON or CSV.")
@click.option("--submit", is_flag=True, help="Train the cells as jobs on the Celery workers.")
@click.option("--chunk-size", type=click.IntRange(1, MAX_CHUNK_NETS), default=None,
              help="With --submit: nets per task.")
@redis_option
def sweep(preset: str | None, nets: int | None, seeds: str | None, backend: str | None, engine: str,
          out: Path | None, output_format: str, submit: bool, chunk_size: int | None, redis_url: str,
          **axis_text: str | None) -> None:
    """Train the same seeds under every combination of the given values; print a table.

    Each finished cell is appended to --out, so a rerun resumes (or extends) the sweep.

    \b
    Examples:
      xorgpu sweep --nets 1000 --hidden 2,3,4 --lr 0.5,1 --epochs 2000
      xorgpu sweep --nets 500 --momentum 0,0.9 --init uniform:-1:1 -o momentum.jsonl --format csv
      xorgpu sweep --preset rhw1986-local-minima      a published experiment, its numbers beside ours
    """
    from xorgpu import presets as literature  # noqa: PLC0415
    from xorgpu import sweeps  # noqa: PLC0415
    from xorgpu.files import check_output  # noqa: PLC0415
    from xorgpu.words import describe  # noqa: PLC0415

    axes = {name: _axis(name, text) for name, text in axis_text.items() if text is not None}
    base = Config()
    published = literature.get(preset) if preset else None
    as_published = published is not None and nets is None and seeds is None and not axes
    if published:
        base, axes = literature.sweep_of(published, axes)
        if nets is None and seeds is None:
            nets = published.nets
    seed_range = SeedRange.resolve(nets, seeds)
    named = out is not None
    out = out or sweeps.default_file(base, axes, seed_range, preset, as_published)
    check_output(out, (".jsonl",))
    cells = 1
    for values in axes.values():
        cells *= len(values)
    if cells > MAX_CELLS:
        raise ConfigError(f"the axes make {cells:,} cells: at most {MAX_CELLS:,}")
    configs = sweeps.cells(base, axes)
    varying = [name for name, values in axes.items() if len(values) > 1]
    options = RunOptions(backend=backend or default_backend_name(), engine=engine)
    train = _submitted(redis_url, chunk_size, seed_range, options) if submit else _local(seed_range, options)
    rows = sweeps.run(configs, seed_range, out, train, preset=preset, notice=notice)
    flat = sweeps.table_rows(rows, varying)
    lines = literature.comparison(published, rows) if published else []
    if output_format == "json":
        click.echo(json.dumps(literature.to_json(published, flat, lines) if published else flat))
    elif output_format == "csv":
        click.echo(sweeps.to_csv(flat), nl=False)
    else:
        click.echo(f"{describe(rows[0]['config'], rows[0]['seeds'], omit=tuple(varying))}\n\n"
                   + sweeps.to_text(flat, varying))
        if published:
            click.echo("\n" + literature.describe(published, lines))
    if not named:
        notice(f"the cells are in {out} (rerun to resume or extend the sweep; -o names another file)")


@click.command()
def presets() -> None:
    """List the published experiments that `xorgpu sweep --preset NAME` reproduces.

    \b
    Example:
      xorgpu presets && xorgpu sweep --preset notebook
    """
    from xorgpu import presets as literature  # noqa: PLC0415
    from xorgpu import sweeps  # noqa: PLC0415

    for preset in literature.PRESETS.values():
        cells = len(sweeps.cells(preset.base, preset.axes))
        click.echo(f"{preset.name}\n    {preset.title}\n    {cells} cell(s) of {preset.nets:,} nets; "
                   f"source: {preset.source}")


def _local(seeds: SeedRange, options: RunOptions):
    def train(configs: list[Config]) -> Iterator[tuple[Config, dict[str, Any]]]:
        from xorgpu.experiment import check_fits_in_memory, prepare  # noqa: PLC0415

        check_fits_in_memory(len(seeds))
        plans = [prepare(config, options, on_compile=notice) for config in configs]  # every problem first
        with progress_bar(len(plans), "cells") as bar:
            for plan in plans:
                yield plan.config, plan.measure(seeds)[1]
                bar.update(1)

    return train


def _submitted(redis_url: str, chunk_size: int | None, seeds: SeedRange, options: RunOptions):
    def train(configs: list[Config]) -> Iterator[tuple[Config, dict[str, Any]]]:
        from xorgpu.errors import ServiceError  # noqa: PLC0415
        from xorgpu.service import job_report, submit as submit_job, through_outages  # noqa: PLC0415
        from xorgpu.store import FINAL_STATES, JobStore  # noqa: PLC0415
        from xorgpu.workers.app import chunk_sender  # noqa: PLC0415

        store = JobStore.from_url(redis_url)
        enqueue = chunk_sender(redis_url)
        jobs = [(config, submit_job(store, config, seeds, enqueue, chunk_size, options=options).id)
                for config in configs]
        pending = dict(jobs)
        with progress_bar(len(jobs) * len(seeds), f"{len(jobs)} jobs") as bar:
            shown = 0
            while pending:
                states = through_outages(lambda: {config: store.get_job(job_id) for config, job_id in pending.items()},
                                         notice)
                done_nets = sum(job.nets_done for job in states.values()) + (len(jobs) - len(pending)) * len(seeds)
                bar.update(done_nets - shown)
                shown = done_nets
                for config, job in states.items():
                    if job.state not in FINAL_STATES:
                        continue
                    if job.state != "done":
                        raise ServiceError(f"job {job.id} of the sweep ended {job.state}"
                                           + (f": {job.error}" if job.error else ""))
                    del pending[config]
                    report = through_outages(lambda: job_report(store, job), notice)
                    yield config, {k: v for k, v in report.items() if k not in ("job_id", "state")}
                time.sleep(POLL_SECONDS)

    return train
