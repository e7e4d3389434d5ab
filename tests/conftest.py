"""Shared fixtures: the array namespaces an engine runs on; a throw-away redis-server and
real Celery workers for the service tests (tests/service_helpers.py)."""

from __future__ import annotations

import pytest

from xorgpu.backend import numpy_backend, resolve_backend
from xorgpu.results_store import ResultsStore

from .browser import Rendered, start_browser
from .service_helpers import RedisServer, Worker
from .strict_xp import strict_backend


def _cupy_or_skip():
    try:
        return resolve_backend("cupy")
    except Exception as error:  # noqa: BLE001
        pytest.skip(f"no CUDA device for CuPy here: {error}")


@pytest.fixture(params=["numpy", "strict", "cupy"])
def backend(request):
    """Every array namespace the engine must run on; CuPy only where a CUDA device exists."""
    if request.param == "numpy":
        return numpy_backend()
    if request.param == "strict":
        return strict_backend()
    return _cupy_or_skip()


@pytest.fixture(autouse=True)
def results_location(tmp_path_factory, monkeypatch):
    """Every test's jobs write their results files to a folder of its own (inherited by the
    workers and commands it starts): never to the user's ~/.local/share/xorgpu/results."""
    folder = tmp_path_factory.mktemp("results")
    monkeypatch.setenv("XORGPU_RESULTS_URL", str(folder))
    return ResultsStore(str(folder))


@pytest.fixture
def redis_server(tmp_path):
    """A redis-server on a free port, with its AOF in tmp_path; stopped after the test."""
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def start_worker(redis_server, tmp_path):
    """start(name, ...) -> a ready `xorgpu worker` on redis_server; all stopped after the test."""
    started = []

    def start(name: str, concurrency: int = 1, visibility_timeout: int = 10, url: str | None = None,
              env: dict[str, str] | None = None, memory_limit: int | None = None, cgroup=None,
              named: bool = True) -> Worker:
        worker = Worker(url or redis_server.url, name, tmp_path, concurrency, visibility_timeout, env=env,
                        memory_limit=memory_limit, cgroup=cgroup, named=named)
        started.append(worker)
        return worker.wait_ready()

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """open(page) -> the page as headless chromium drew it (tests/browser.py); one browser for the session."""
    driver = start_browser(tmp_path_factory.mktemp("chromium-profile"))
    yield lambda page: Rendered(driver, page)
    driver.quit()
