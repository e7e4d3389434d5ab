"""The errors a user can cause, each meant to be shown as one line."""


class UserError(Exception):
    """A problem the user can fix; its message is one line meant for them."""

    exit_code = 1


class ConfigError(UserError, ValueError):
    """An invalid experiment description or input (a flag, a file, a setting)."""

    exit_code = 2


class ServiceError(UserError):
    """A service problem (unreachable Redis, unknown job, a job that failed)."""


class Interrupted(UserError):
    """The user pressed Ctrl-C; the message says what became of the work."""

    exit_code = 130


class Terminated(KeyboardInterrupt):
    """The process was sent SIGTERM: taken as Ctrl-C is (work stopped, nothing half-written
    left, a job being submitted failed with its id printed), then exit status 143."""


def first_line(error: BaseException, most: int = 200) -> str:
    """An exception's message cut to one line of at most `most` characters, to quote inside
    a one-line error (its type's name if it has no message)."""
    lines = str(error).strip().splitlines()
    return (lines[0] if lines else type(error).__name__)[:most]
