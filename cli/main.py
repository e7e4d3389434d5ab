"""The `xorgpu` command: a thin layer that parses flags and calls the library.

Each command's module is imported only when that command runs (or `--help` lists them),
and imports what it trains with only inside the command: `xorgpu status --help` costs
about as much as importing click.
"""

from __future__ import annotations

import difflib
import errno
import importlib
import os
import signal
import sys
import threading
from typing import Any

import click

from xorgpu.errors import Terminated, UserError, redact

# name -> module:attribute, in the order `xorgpu --help` lists them
COMMANDS = {
    "run": "local:run", "demo": "local:demo", "sweep": "sweep:sweep", "presets": "sweep:presets",
    "map": "map:map_command", "inspect": "inspect_net:inspect", "compare": "compare:compare", "plot": "plot:plot", "report": "report:report",
    "submit": "service:submit", "status": "service:status", "stats": "service:stats", "results": "service:results",
    "jobs": "service:jobs", "cancel": "service:cancel", "worker": "service:worker",
}
DEBUG_ENV = "XORGPU_DEBUG"  # set to 1 to see the traceback of an unexpected error


class OneLineErrors(click.Group):
    """Every error is one line on stderr and a non-zero exit, never a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        return self._load(name)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        name = click.utils.make_str(args[0])
        if name not in COMMANDS and not name.startswith("-"):
            close = difflib.get_close_matches(name, list(COMMANDS), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else f" The commands: {', '.join(COMMANDS)}."
            raise click.UsageError(f"No such command '{name}'.{hint}", ctx)
        return super().resolve_command(ctx, args)

    @staticmethod
    def _load(name: str) -> click.Command:
        module, attribute = COMMANDS[name].split(":")
        return getattr(importlib.import_module(f"{__package__}.{module}"), attribute)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as error:  # here, before click turns it into Abort and prints a blank line
            raise _Stopped(error) from None

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        _terminate_as_interrupt()
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.Exit as exit_:
            sys.exit(exit_.exit_code)
        except click.exceptions.NoArgsIsHelpError as error:  # bare `xorgpu`: its help, not an error
            click.echo(error.ctx.get_help())
            sys.exit(0)
        except click.ClickException as error:
            _fail(error.format_message(), error.exit_code)
        except click.exceptions.Abort as error:  # click turns Ctrl-C and EOFError into Abort
            if isinstance(error.__context__, EOFError):
                _unexpected(error.__context__)
            _interrupted(error.__context__)
        except _Stopped as stopped:
            _interrupted(stopped.interrupt)
        except KeyboardInterrupt as error:
            _interrupted(error)
        except UserError as error:  # ConfigError (exit 2), ServiceError (1), Interrupted (130)
            _fail(str(error), error.exit_code)
        except MemoryError:
            _fail("out of memory: ask for fewer nets at once (a smaller --seeds range)", 1)
        except OSError as error:  # what the system refuses (a name too long, a full disk): one line, its reason
            _os_refused(error)
        except Exception as error:  # noqa: BLE001  (a bug: still one line, and where to look)
            _redis_trouble(error)
            _unexpected(error)


class _Stopped(Exception):
    """A command stopped by Ctrl-C or SIGTERM (the KeyboardInterrupt it raised)."""

    def __init__(self, interrupt: KeyboardInterrupt) -> None:
        super().__init__("interrupted")
        self.interrupt = interrupt


def _terminate_as_interrupt() -> None:
    """SIGTERM is taken as Ctrl-C is (a worker installs Celery's own handlers over this)."""
    def terminated(signum: int, frame: Any) -> None:
        raise Terminated()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, terminated)


def _interrupted(error: BaseException | None) -> None:
    if isinstance(error, Terminated):
        _fail("terminated", 143)
    _fail("interrupted", 130)


def _os_refused(error: OSError) -> None:
    name = str(error.filename or "")
    shown = name if len(name) <= 80 else name[:60] + "..." + name[-12:]
    reason = (error.strerror or str(error)).lower()
    _fail(f"cannot use {shown}: {reason}" if shown else reason, 2 if error.errno == errno.ENAMETOOLONG else 1)


def _redis_trouble(error: Exception) -> None:
    """A Redis that filled up or went away in the middle of a command: one line, saying so."""
    redis = sys.modules.get("redis")
    if redis is None:
        return
    if isinstance(error, redis.OutOfMemoryError):
        _fail("Redis is full (used memory at its maxmemory): nothing can be written to it until memory is freed "
              "or maxmemory raised", 1)
    if isinstance(error, (redis.ConnectionError, redis.TimeoutError)):
        _fail(f"lost the connection to Redis ({str(error).strip()[:200]}): is it running?", 1)


def _unexpected(error: BaseException) -> None:
    if os.environ.get(DEBUG_ENV) == "1":
        raise error
    _fail(f"unexpected {type(error).__name__}: {error} (a bug in xorgpu; {DEBUG_ENV}=1 shows where)", 70)


def _fail(message: str, code: int) -> None:
    text = " ".join(redact(message).split())
    click.echo(f"xorgpu: error: {text[:2000]}", err=True)
    sys.exit(code)


@click.group(cls=OneLineErrors, no_args_is_help=True)
@click.version_option(package_name="xorgpu")
def cli() -> None:
    """How, and how often, does backpropagation solve XOR?"""


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
