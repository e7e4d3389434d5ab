"""The flags shared by `run`, `submit` and `sweep`: one per field of xorgpu.config.Config."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

import click

from xorgpu.backend import default_backend_name
from xorgpu.config import BACKENDS, DTYPES, ENGINES, LOSS_REDUCTIONS, UPDATES, Config, SeedRange
from xorgpu.store import DEFAULT_REDIS_URL

DEFAULTS = Config.__dataclass_fields__


@dataclass(frozen=True)
class JobSpec:
    """What to train: a config and the seeds of its nets."""

    config: Config
    seeds: SeedRange


def notice(message: str) -> None:
    """A one-line note on stderr (stdout keeps the results)."""
    click.echo(f"xorgpu: {message}", err=True)


def _default(name: str) -> Any:
    return DEFAULTS[name].default


def redis_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """--redis-url, for every command that talks to the service's Redis."""
    return click.option(
        "--redis-url", envvar="XORGPU_REDIS_URL", default=DEFAULT_REDIS_URL, show_default=True,
        help="Broker and store; a password goes in the URL (env XORGPU_REDIS_URL).",
    )(command)


def job_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the config flags to a command, which then receives one `spec: JobSpec`."""
    options = [
        click.option("--nets", type=int, help="Number of nets (seeds 0:N unless --seeds is given)."),
        click.option("--seeds", metavar="A:B", help="Half-open seed range; net i has seed A+i."),
        click.option("--hidden", type=int, default=_default("hidden"), show_default=True,
                     help="Hidden units H of the 2-H-1 net."),
        click.option("--lr", type=float, default=_default("lr"), show_default=True, help="Learning rate."),
        click.option("--momentum", type=float, default=_default("momentum"), show_default=True,
                     help="Classical momentum mu in [0, 1)."),
        click.option("--epochs", type=int, default=_default("epochs"), show_default=True,
                     help="Epochs: sweeps through the 4 patterns."),
        click.option("--update", type=click.Choice(UPDATES), default=_default("update"), show_default=True,
                     help="batch: one step per epoch (the notebook); online: one step per pattern."),
        click.option("--loss-reduction", type=click.Choice(LOSS_REDUCTIONS),
                     default=_default("loss_reduction"), show_default=True,
                     help="sum: the notebook's 1/2 sum of squared errors; mean: a 4x smaller step."),
        click.option("--init", default=_default("init"), show_default=True,
                     help="counter | notebook | uniform:LOW:HIGH."),
        click.option("--criterion", default=_default("criterion"), show_default=True,
                     help="round | within:TOL | sse:T."),
        click.option("--dtype", type=click.Choice(DTYPES), default=_default("dtype"), show_default=True),
        click.option("--backend", type=click.Choice(BACKENDS), default=None,
                     help="auto | numpy | cupy  [default: $XORGPU_BACKEND or auto]"),
        click.option("--engine", type=click.Choice(ENGINES), default=_default("engine"), show_default=True,
                     help="array: the readable reference; fused: one compiled kernel (numba / CUDA)."),
        click.option("--sample-every", type=int, default=_default("sample_every"), show_default=True,
                     help="Record loss percentiles every k epochs (0: off)."),
    ]

    @functools.wraps(command)
    def wrapper(nets, seeds, backend, **kwargs):  # type: ignore[no-untyped-def]
        config_fields = {name: kwargs.pop(name) for name in list(kwargs) if name in DEFAULTS}
        config = Config(backend=backend or default_backend_name(), **config_fields)
        return command(spec=JobSpec(config, SeedRange.resolve(nets, seeds)), **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper
