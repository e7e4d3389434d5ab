"""The errors a user can cause, each meant to be shown as one line, and how any error is
quoted inside such a line: its first line, with the secrets of every URL in it hidden."""

from __future__ import annotations

import re

MASK = "***"
# a URL in a text: its userinfo runs to the last '@' of the line, for a password may hold
# spaces (anything after it that is not a space belongs to the URL)
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^\n]*@)?\S*")
_SECRET_PARAMETER = re.compile(r"(?i)([?&;](?:password|pass|pwd|auth|token)=)[^&\s]*")


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
    """An exception's message cut to one line of at most `most` characters, its URLs'
    secrets hidden, to quote inside a one-line error (its type's name if it has no message)."""
    lines = redact(str(error)).strip().splitlines()
    return (lines[0] if lines else type(error).__name__)[:most]


def redact(text: str) -> str:
    """`text` with the password of every URL in it (userinfo or query) replaced by ***."""
    return _URL_IN_TEXT.sub(lambda found: _redact_url(found.group(0)), str(text))


def _redact_url(url: str) -> str:
    url = _SECRET_PARAMETER.sub(lambda m: m.group(1) + MASK, url)
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        userinfo, _, host = rest.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        # user:password@ keeps the user; a lone name may be a password written without its colon
        rest = f"{user}:{MASK}@{host}" if colon else f"{MASK}@{host}"
    head, hash_sign, _ = rest.partition("#")  # a Redis URL has no fragment: whatever follows may be secret
    return f"{scheme}{sep}{head}{hash_sign}{MASK if hash_sign else ''}"

