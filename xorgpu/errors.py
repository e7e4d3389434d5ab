"""The errors a user can cause, each meant to be shown as one line."""


class UserError(Exception):
    """A problem the user can fix; its message is one line meant for them."""


class ConfigError(UserError, ValueError):
    """An invalid experiment description or input (a flag, a file, a setting)."""


class ServiceError(UserError):
    """A service problem (unreachable Redis, unknown job, a job that failed)."""
