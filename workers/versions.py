"""The Celery and kombu versions the workers are tested with, and the check that refuses
any other.

The workers rely on kombu internals no public API offers: the Redis transport's queue
keys, priority steps and unacknowledged hash (recovery.py), its client class and
`_put` (transport.py, app.py's message cloning), and the restore interval and throttle
of unacknowledged messages (app.py). A minor release may change any of them without
notice, so pyproject.toml pins both packages to the minor versions below, and a worker
on another refuses to start, in one line, rather than misbehave.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from xorgpu.errors import ServiceError

# package -> the versions tested, as pyproject.toml pins them
TESTED = {"celery": ">=5.7,<5.8", "kombu": ">=5.7,<5.8"}


def check_versions(installed: dict[str, str] | None = None) -> None:
    """Refuse to run a worker on a Celery or kombu outside TESTED (installed: package ->
    version, by default what is installed)."""
    for package, tested in TESTED.items():
        found = (installed or {}).get(package) or _installed(package)
        try:
            fits = SpecifierSet(tested).contains(Version(found), prereleases=True)
        except InvalidVersion:
            fits = False
        if not fits:
            raise ServiceError(f"this worker has {package} {found}, but xorgpu's workers rely on its internals and "
                               f"are tested with {package}{tested} only: pip install '{package}{tested}'")


def _installed(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "(not installed)"
