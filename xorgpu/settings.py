"""The service's settings: environment variable names, defaults and limits, in one place.

Nothing here imports more than the standard library, so the Celery app module and the
commands that train nothing can read it at no cost.

Environment:
    XORGPU_REDIS_URL            broker and job store (default redis://localhost:6379/0)
    XORGPU_REDIS_PASSWORD       Redis's password, when the URL has none: no URL-encoding needed
    XORGPU_REDIS_PASSWORD_FILE  a file holding Redis's password (its first line), when neither
                                the URL nor XORGPU_REDIS_PASSWORD has one: the Docker stack's
                                ./xorgpu-secrets/redis-password
    XORGPU_REDIS_CA             for rediss:// (TLS): the CA certificate file that signed Redis's
                                certificate (default: the system's CAs)
    XORGPU_REDIS_CERT, XORGPU_REDIS_KEY
                                for rediss://: this client's certificate and key files, where
                                Redis asks clients for one (tls-auth-clients)
    XORGPU_BACKEND              a worker's backend for jobs that leave it to the worker (auto)
    XORGPU_VISIBILITY_TIMEOUT   seconds before Redis hands an unacknowledged chunk to another
                                worker (default 3600)
    XORGPU_LOST_CHUNK_CHECK     seconds between a worker's checks for chunks the broker lost
                                (workers/recovery.py; default 30)
    XORGPU_RECORD_PATIENCE      seconds a worker keeps trying to record a trained chunk while
                                Redis is unreachable or full, before it fails the job (600)
    XORGPU_CHUNK_DEATHS         how many times a worker process may die while training a chunk
                                (killed by the kernel for memory, say) before its job fails (3)
    XORGPU_RESULTS_URL          where workers write, and readers find, each chunk's per-net
                                results: a folder (shared by every machine, mounted at the
                                same path or not) or an fsspec URL such as s3://bucket/prefix
                                (default: $XDG_DATA_HOME/xorgpu/results, that is
                                ~/.local/share/xorgpu/results)
"""

from __future__ import annotations

import os

from .config import BACKENDS, ConfigError

REDIS_URL_ENV = "XORGPU_REDIS_URL"
REDIS_PASSWORD_ENV = "XORGPU_REDIS_PASSWORD"
REDIS_PASSWORD_FILE_ENV = "XORGPU_REDIS_PASSWORD_FILE"
REDIS_TLS_FILES_ENV = {"ssl_ca_certs": "XORGPU_REDIS_CA", "ssl_certfile": "XORGPU_REDIS_CERT",
                       "ssl_keyfile": "XORGPU_REDIS_KEY"}  # URL parameter -> the variable that sets it
BACKEND_ENV = "XORGPU_BACKEND"
VISIBILITY_TIMEOUT_ENV = "XORGPU_VISIBILITY_TIMEOUT"
RECORD_PATIENCE_ENV = "XORGPU_RECORD_PATIENCE"
LOST_CHUNK_CHECK_ENV = "XORGPU_LOST_CHUNK_CHECK"
CHUNK_DEATHS_ENV = "XORGPU_CHUNK_DEATHS"
RESULTS_URL_ENV = "XORGPU_RESULTS_URL"

DEFAULT_REDIS_URL = "redis://localhost:6379/0"
DEFAULT_QUEUE = "xorgpu"

DEFAULT_VISIBILITY_TIMEOUT = 3600
DEFAULT_RECORD_PATIENCE = 600
DEFAULT_LOST_CHUNK_CHECK = 30
DEFAULT_CHUNK_DEATHS = 3
DEFAULT_TTL = 7 * 24 * 3600  # seconds a job's keys live after its last write
MAX_TTL = 365 * 24 * 3600
CHUNK_NET_EPOCHS = 3e7  # a chunk of about this many net-epochs takes seconds on one CPU core
MAX_CHUNKS = 100_000  # chunks per job
MAX_CHUNK_NETS = 1 << 21  # nets per chunk: a worker holds a chunk's results (~60 bytes a net) in memory


def default_backend_name() -> str:
    """$XORGPU_BACKEND, or auto."""
    name = os.environ.get(BACKEND_ENV, "auto")
    if name not in BACKENDS:
        raise ConfigError(f"{BACKEND_ENV}={name[:40]!r} is not one of {', '.join(BACKENDS)}")
    return name


def redis_password() -> str:
    """$XORGPU_REDIS_PASSWORD, else the first line of $XORGPU_REDIS_PASSWORD_FILE, else ""."""
    password = os.environ.get(REDIS_PASSWORD_ENV, "")
    path = os.environ.get(REDIS_PASSWORD_FILE_ENV, "").strip()
    if password or not path:
        return password
    if not os.path.isfile(path):  # a FIFO or device would block or never end
        raise ConfigError(f"{REDIS_PASSWORD_FILE_ENV}={path[:200]}: no such regular file")
    try:
        with open(path, encoding="utf-8") as file:
            return file.readline().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror.lower() if isinstance(error, OSError) and error.strerror else "not a text file"
        raise ConfigError(f"{REDIS_PASSWORD_FILE_ENV}={path[:200]}: cannot read it ({reason})") from None


def results_url() -> str:
    """$XORGPU_RESULTS_URL, or the default folder for one machine."""
    return os.environ.get(RESULTS_URL_ENV, "").strip() or default_results_folder()


def default_results_folder() -> str:
    """$XDG_DATA_HOME/xorgpu/results, that is ~/.local/share/xorgpu/results."""
    data = os.environ.get("XDG_DATA_HOME", "").strip() or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(data, "xorgpu", "results")


def visibility_timeout() -> int:
    return _seconds(VISIBILITY_TIMEOUT_ENV, DEFAULT_VISIBILITY_TIMEOUT)


def lost_chunk_check() -> int:
    return _seconds(LOST_CHUNK_CHECK_ENV, DEFAULT_LOST_CHUNK_CHECK)


def record_patience() -> int:
    return _seconds(RECORD_PATIENCE_ENV, DEFAULT_RECORD_PATIENCE)


def chunk_deaths() -> int:
    """How many deaths of the worker process training a chunk fail its job."""
    return _seconds(CHUNK_DEATHS_ENV, DEFAULT_CHUNK_DEATHS, what="a whole number")


def _seconds(name: str, default: int, what: str = "a whole number of seconds") -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit() and 0 < int(text) <= MAX_TTL):
        raise ConfigError(f"{name}={text[:40]!r} is not {what} from 1 to {MAX_TTL}")
    return int(text)
