"""Redis URLs in every form a user writes them, and never a password in what anyone sees."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import redis

from xorgpu.config import ConfigError
from xorgpu.errors import redact
from xorgpu.redis_url import canonical
from xorgpu.store import JobStore

from .service_helpers import RedisServer, free_port, one_line_error, wait_until, xorgpu

SECRET = "pa/ss#w?rd@x"  # every character that breaks a naive URL parser


@pytest.mark.parametrize("url, expected", [
    ("redis://localhost:6379/0", "redis://localhost:6379/0"),
    ("redis://localhost", "redis://localhost:6379/0"),
    (f"redis://:{SECRET}@h:7000/2", "redis://:pa%2Fss%23w%3Frd%40x@h:7000/2"),
    ("redis://:pa%2Fss@h", "redis://:pa%2Fss@h:6379/0"),
    ("redis://user:pw@h/1", "redis://user:pw@h:6379/1"),
    ("redis://h:6379/0?password=a@b&socket_timeout=3", "redis://:a%40b@h:6379/0?socket_timeout=3"),
    ("rediss://u:p@[::1]:7000/0", "rediss://u:p@[::1]:7000/0?ssl_cert_reqs=required"),  # TLS verifies by default
    (f"redis://h?password={SECRET}", "redis://:pa%2Fss%23w%3Frd%40x@h:6379/0"),
    ("redis://h?password=a+b", "redis://:a%2Bb@h:6379/0"),
])
def test_every_form_becomes_one_canonical_url(url, expected):
    assert canonical(url, password="") == expected


def test_the_password_setting_fills_a_url_without_one():
    assert canonical("redis://h/0", password=SECRET) == "redis://:pa%2Fss%23w%3Frd%40x@h:6379/0"
    assert canonical("redis://:own@h/0", password=SECRET) == "redis://:own@h:6379/0"


@pytest.mark.parametrize("url", [
    "http://h", "redis://", "redis:///0", f"redis://:{SECRET}@[::1/0", "redis://h:99999", "redis://h/abc",
    "redis://h/0/1", "", "redis://:pw@", "unix:///tmp/redis.sock", "redis://h/0#pw",
    f"redis://:{SECRET} with spaces@[::1/0", f"redis://:{SECRET}@h/0?bogus=1", f"redis://:{SECRET}@h/0?socket_timeout=x",
])
def test_bad_urls_are_one_error_without_the_password(url):
    with pytest.raises(ConfigError) as caught:
        canonical(url, password="")
    assert SECRET not in str(caught.value) and "pw" not in str(caught.value).replace("password", "")


@pytest.mark.parametrize("text", [
    f"redis://:{SECRET}@h:1/0", f"redis://user:{SECRET}@h", f"rediss://h/0?password={SECRET}",
    "redis://h/0?pwd=pa%2Fss", f"cannot reach redis://:{SECRET}@h:1/0: refused", "redis://secretonly@h",
    f"bad Redis URL 'redis://:pass {SECRET} word@[h/0': Invalid IPv6 URL",
])
def test_redact_hides_every_password(text):
    shown = redact(text)
    assert SECRET not in shown and "pa%2Fss" not in shown and "secretonly" not in shown and "***" in shown


PASSWORD_FORMS = [
    lambda port: f"redis://:{SECRET}@127.0.0.1:{port}/0",
    lambda port: f"redis://default:{SECRET}@127.0.0.1:{port}/0",
    lambda port: f"redis://127.0.0.1:{port}/0?password={SECRET}",
]


@pytest.mark.parametrize("form", PASSWORD_FORMS)
@pytest.mark.parametrize("command", [["jobs"], ["status", "0123456789ab"], ["submit", "--nets", 5],
                                     ["stats", "0123456789ab"], ["cancel", "0123456789ab"], ["worker"]])
def test_no_message_shows_the_password_when_redis_is_unreachable(form, command):
    result = xorgpu(*command, url=form(free_port()))
    assert "cannot reach Redis" in one_line_error(result)
    assert SECRET not in result.output and "pa%2F" not in result.output


def test_no_message_shows_the_password_when_it_is_wrong(tmp_path):
    server = RedisServer(tmp_path, password="the-right-one").start()
    try:
        for form in PASSWORD_FORMS:
            line = one_line_error(xorgpu("jobs", url=form(server.port)))
            assert "refused the password" in line and SECRET not in line
    finally:
        server.stop()


@pytest.mark.slow
def test_a_worker_with_a_password_full_of_specials_works_and_never_logs_it(tmp_path, start_worker):
    server = RedisServer(tmp_path, password=SECRET).start()
    try:
        for url in (server.url, f"redis://127.0.0.1:{server.port}/0?password={SECRET}"):
            worker = start_worker(f"w{len(url)}", url=url)
            job = json.loads(xorgpu("submit", "--nets", 40, "--epochs", 20, "--json", url=url).stdout)["job_id"]
            store = JobStore.from_url(url)
            wait_until(lambda: store.get_job(job).state == "done", timeout=120, what="the job")  # noqa: B023
            worker.stop()
            log = worker.log.read_text()
            assert "ready." in log and SECRET not in log and "pa%2Fss" not in log
    finally:
        server.stop()


def test_the_password_can_come_from_the_environment(tmp_path):
    server = RedisServer(tmp_path, password=SECRET).start()
    try:
        url = f"redis://127.0.0.1:{server.port}/0"
        env = {"XORGPU_REDIS_PASSWORD": SECRET, "XORGPU_REDIS_URL": url, "PATH": "/usr/bin:/bin"}
        done = subprocess.run([sys.executable, "-m", "xorgpu.cli.main", "jobs"], env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        with pytest.raises(redis.AuthenticationError):
            redis.Redis.from_url(url).ping()  # the URL alone has no password
    finally:
        server.stop()
