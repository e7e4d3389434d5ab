"""The `xorgpu` command: a thin layer that parses flags and calls the library."""

from __future__ import annotations

import sys
from typing import Any

import click

from xorgpu.config import ConfigError
from xorgpu.store import ServiceError

from .inspect_net import inspect
from .local import demo, run
from .plot import plot
from .report import report
from .service import cancel, jobs, results, stats, status, submit, worker
from .sweep import presets, sweep


class OneLineErrors(click.Group):
    """Every user error is one line on stderr and a non-zero exit, never a traceback."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.Exit as exit_:
            sys.exit(exit_.exit_code)
        except click.ClickException as error:
            _fail(error.format_message(), error.exit_code)
        except ConfigError as error:
            _fail(str(error), 2)
        except ServiceError as error:
            _fail(str(error), 1)
        except (click.exceptions.Abort, KeyboardInterrupt):
            _fail("interrupted", 130)


def _fail(message: str, code: int) -> None:
    click.echo(f"xorgpu: error: {' '.join(message.split())}", err=True)
    sys.exit(code)


@click.group(cls=OneLineErrors)
@click.version_option(package_name="xorgpu")
def cli() -> None:
    """How, and how often, does backpropagation solve XOR?"""


for command in (run, demo, sweep, presets, inspect, plot, report, submit, status, stats, results, jobs, cancel, worker):
    cli.add_command(command)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
