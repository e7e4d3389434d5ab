"""The flags shared by `run`, `submit` and `sweep`: one per field of Config and RunOptions.

Command modules import only click and xorgpu's light modules (config, settings) at their
top; what a command needs to train or to reach Redis is imported when it runs, so
`xorgpu --help` and the commands that train nothing start at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import click
from click.shell_completion import CompletionItem

from xorgpu.config import BACKENDS, ENGINES, MAX_SEED, Config, RunOptions, SeedRange
from xorgpu.settings import DEFAULT_REDIS_URL, REDIS_URL_ENV, RESULTS_URL_ENV, default_backend_name

DEFAULTS = Config.__dataclass_fields__


@dataclass(frozen=True)
class JobSpec:
    """What to train (a config and the seeds of its nets) and how (run options)."""

    config: Config
    seeds: SeedRange
    options: RunOptions


def notice(message: str) -> None:
    """A one-line note on stderr (stdout keeps the results)."""
    click.echo(f"xorgpu: {message}", err=True)


class _NoBar:
    def update(self, steps: int) -> None:
        pass


@contextlib.contextmanager
def progress_bar(length: int, label: str) -> Iterator[Any]:
    """click's progress bar on stderr where stderr is a terminal; elsewhere (a pipe, a log,
    a notebook's captured output) nothing at all, not even its label."""
    if not sys.stderr.isatty():
        yield _NoBar()
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar


COMPLETION_TIMEOUT_SECONDS = 0.5  # a Redis that does not answer at once completes nothing


def complete_job_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The ids of recent jobs in the Redis the command would use, that start with what is
    typed; nothing at all when that Redis does not answer at once."""
    try:
        import redis  # noqa: PLC0415

        from xorgpu.redis_url import canonical  # noqa: PLC0415
        from xorgpu.store import JobStore  # noqa: PLC0415

        url = ctx.params.get("redis_url") or os.environ.get(REDIS_URL_ENV) or DEFAULT_REDIS_URL
        client = redis.Redis.from_url(canonical(url), socket_connect_timeout=COMPLETION_TIMEOUT_SECONDS,
                                      socket_timeout=COMPLETION_TIMEOUT_SECONDS)
        ids = JobStore(client).job_ids(200)
    except Exception:  # noqa: BLE001  (completion must never print an error into the shell)
        return []
    return [CompletionItem(job_id) for job_id in ids if job_id.startswith(incomplete)]


def complete_source(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Job ids, then the shell's own completion of file names."""
    return [*complete_job_ids(ctx, param, incomplete), CompletionItem(incomplete, type="file")]


def complete_preset(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from xorgpu.presets import PRESETS  # noqa: PLC0415

    return [CompletionItem(name) for name in PRESETS if name.startswith(incomplete)]


def redis_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """--redis-url, for every command that talks to the service's Redis."""
    return click.option(
        "--redis-url", envvar=REDIS_URL_ENV, default=DEFAULT_REDIS_URL, show_default=True,
        help="Broker and store (env XORGPU_REDIS_URL); the password goes in the URL, in XORGPU_REDIS_PASSWORD "
             "or in the file XORGPU_REDIS_PASSWORD_FILE names.",
    )(command)


def results_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """--results-url, for every command that writes or reads a job's per-net results."""
    return click.option(
        "--results-url", envvar=RESULTS_URL_ENV, default=None, metavar="FOLDER|URL",
        help="Where jobs' per-net results are files (env XORGPU_RESULTS_URL): a folder, or an fsspec URL such "
             "as s3://bucket/prefix  [default: ~/.local/share/xorgpu/results].",
    )(command)


def backend_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--backend", type=click.Choice(BACKENDS), default=None,
                        help="auto | numpy | cupy  [default: $XORGPU_BACKEND or auto]")(command)


def engine_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--engine", type=click.Choice(ENGINES), default="auto", show_default=True,
                        help="array: the readable reference; fused: one compiled kernel (numba / CUDA).")(command)


def config_flag(field: dataclasses.Field) -> Callable[..., Any]:
    """The flag of one Config field, as the field declares it (xorgpu.config._setting)."""
    meta = field.metadata
    flag = field.name.replace("_", "-")
    if field.type == "bool":  # --bias/--no-bias
        return click.option(f"--{flag}/--no-{flag}", field.name, default=field.default, show_default=True,
                            help=meta.get("help"))
    if meta.get("choices"):
        kind: Any = click.Choice(meta["choices"])
    elif field.type == "int":
        kind = click.IntRange(meta.get("low"), meta.get("high"))
    else:
        kind = {"float": float, "str": str}.get(field.type, str)
    return click.option(f"--{field.name.replace('_', '-')}", field.name, type=kind, default=field.default,
                        show_default=True, help=meta.get("help"))


def _config_flags() -> list[Callable[..., Any]]:
    """One flag per field of Config, and --backend and --engine."""
    return [*(config_flag(field) for field in dataclasses.fields(Config)), backend_option, engine_option]


def _config_and_options(backend: str | None, engine: str, kwargs: dict[str, Any]) -> tuple[Config, RunOptions]:
    """The Config and RunOptions of the flags, taking the config's flags out of kwargs."""
    config_fields = {name: kwargs.pop(name) for name in list(kwargs) if name in DEFAULTS}
    return Config(**config_fields), RunOptions(backend=backend or default_backend_name(), engine=engine)


def job_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the config and run flags to a command, which then receives one `spec: JobSpec`."""
    options = [
        click.option("--nets", type=click.IntRange(1, MAX_SEED),
                     help="Number of nets (seeds 0:N unless --seeds is given)."),
        click.option("--seeds", metavar="A:B", help="Half-open seed range, 0 <= A < B <= 2**32; net i has seed A+i."),
        *_config_flags(),
    ]

    @functools.wraps(command)
    def wrapper(nets, seeds, backend, engine, **kwargs):  # type: ignore[no-untyped-def]
        config, run_options = _config_and_options(backend, engine, kwargs)
        return command(spec=JobSpec(config, SeedRange.resolve(nets, seeds), run_options), **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def config_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the config and run flags, without seeds, to a command, which then receives
    `config: Config` and `run_options: RunOptions`."""

    @functools.wraps(command)
    def wrapper(backend, engine, **kwargs):  # type: ignore[no-untyped-def]
        config, run_options = _config_and_options(backend, engine, kwargs)
        return command(config=config, run_options=run_options, **kwargs)

    for option in reversed(_config_flags()):
        wrapper = option(wrapper)
    return wrapper
