"""Workers on other machines: a real redis-server speaking only TLS, with a password and
client certificates, certificates this test makes with openssl. The CLI, a real worker
and the job's results all go through rediss://; wrong or missing certificates are one line.

Skipped where there is no openssl or the redis-server was built without TLS, unless
XORGPU_REQUIRE_TLS=1 (.ci/run sets it)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from xorgpu.store import JobStore

from .service_helpers import RedisServer, Worker, make_certificates, one_line_error, xorgpu

PASSWORD = "tls pass/word#1"


def _skip(reason: str) -> None:
    if os.environ.get("XORGPU_REQUIRE_TLS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate it signed; and a
    second CA that signed nothing here."""
    if shutil.which("openssl") is None:
        _skip("no openssl here to make test certificates")
    return make_certificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture
def tls_redis(tmp_path, certificates):
    """redis-server with TLS only (no plain port), a password, and client certificates required."""
    c = certificates
    server = RedisServer(tmp_path, password=PASSWORD, tls=(c / "server.pem", c / "server.key", c / "ca.pem"))
    try:
        server.start()
    except Exception as error:  # noqa: BLE001  (a redis-server built without TLS refuses these options)
        _skip(f"this redis-server does not speak TLS ({str(error)[:80]})")
    yield server
    server.stop()


def tls_env(certificates: Path, ca: str = "ca.pem", client: bool = True) -> dict[str, str]:
    env = {"XORGPU_REDIS_CA": str(certificates / ca)}
    if client:
        env |= {"XORGPU_REDIS_CERT": str(certificates / "client.pem"), "XORGPU_REDIS_KEY": str(certificates / "client.key")}
    return env


@pytest.mark.slow
def test_a_job_runs_through_a_tls_redis_with_a_password_and_client_certificates(tls_redis, certificates, tmp_path):
    url = f"rediss://127.0.0.1:{tls_redis.port}/0"  # no password in it: XORGPU_REDIS_PASSWORD carries it
    env = {**tls_env(certificates), "XORGPU_REDIS_PASSWORD": PASSWORD}
    worker = Worker(url, "remote", tmp_path, env=env).wait_ready()
    try:
        submitted = xorgpu("submit", "--nets", 400, "--epochs", 300, "--lr", 1, "--chunk-size", 100, "--wait",
                           "--json", url=url, env=env)
        assert submitted.exit_code == 0, submitted.output
        report = json.loads(submitted.stdout)
        local = json.loads(xorgpu("run", "--nets", 400, "--epochs", 300, "--lr", 1, "--json").stdout)
        assert report["solved"] == local["solved"] and report["epochs_to_solve"] == local["epochs_to_solve"]
        out = tmp_path / "job.parquet"
        assert xorgpu("results", report["job_id"], "-o", out, url=url, env=env).exit_code == 0
        assert PASSWORD not in worker.log.read_text() and PASSWORD not in submitted.output
    finally:
        worker.stop()
    plain = xorgpu("status", report["job_id"], url=f"redis://127.0.0.1:{tls_redis.port}/0", env=env)
    assert "cannot reach Redis" in one_line_error(plain)  # the server speaks TLS only


@pytest.mark.parametrize("problem, env_of, expected", [
    ("a CA that did not sign the server's certificate", lambda c: tls_env(c, ca="other-ca.pem"), "certificate verify failed"),
    ("no client certificate", lambda c: tls_env(c, client=False), "cannot reach Redis"),
    ("a CA file that does not exist", lambda c: {**tls_env(c), "XORGPU_REDIS_CA": str(c / "missing.pem")}, "does not exist"),
])
def test_certificate_problems_are_one_line(tls_redis, certificates, problem, env_of, expected):
    env = {**env_of(certificates), "XORGPU_REDIS_PASSWORD": PASSWORD}
    result = xorgpu("jobs", url=f"rediss://127.0.0.1:{tls_redis.port}/0", env=env)
    line = one_line_error(result)
    assert expected in line, problem
    assert PASSWORD not in result.output


def test_the_store_verifies_the_server_by_default(tls_redis, certificates, monkeypatch):
    monkeypatch.setenv("XORGPU_REDIS_PASSWORD", PASSWORD)
    for name, value in tls_env(certificates).items():
        monkeypatch.setenv(name, value)
    store = JobStore.from_url(f"rediss://127.0.0.1:{tls_redis.port}/0")
    assert "ssl_cert_reqs=required" in store.url and store.client.ping()
