"""Celery tasks: thin wrappers over xorgpu.service. A task gets ids and a seed range, never
data; it writes the chunk's results under XORGPU_RESULTS_URL (xorgpu.results_store)."""

from __future__ import annotations

import functools
import os

import pyarrow.parquet  # noqa: F401  (loaded before the pool forks: its children share it, and a child
import redis              # that is short of memory is not the one to find pyarrow too large to load)

from xorgpu.results_store import ResultsStore
from xorgpu.service import run_chunk_message
from xorgpu.settings import DEFAULT_REDIS_URL, REDIS_URL_ENV, TASK_NAME, results_url
from xorgpu.store import JobStore, ServiceError

from .app import app

REDIS_RETRY_SECONDS = 30  # when Redis is gone for longer than the store's own retries
REDIS_RETRIES = 20


@functools.cache
def _store() -> JobStore:
    return JobStore.from_url(os.environ.get(REDIS_URL_ENV, DEFAULT_REDIS_URL), patient=True)


@functools.cache
def _results_store() -> ResultsStore:
    return ResultsStore(results_url())


@app.task(name=TASK_NAME, bind=True, max_retries=REDIS_RETRIES)
def train_chunk(self, *args, **kwargs) -> dict:  # noqa: ANN001, ANN002, ANN003
    try:
        return run_chunk_message(_store(), args, kwargs, worker=self.request.hostname, results_store=_results_store())
    except (redis.ConnectionError, redis.TimeoutError, ServiceError) as error:  # Redis gone for over a minute
        _store.cache_clear()
        raise self.retry(exc=error, countdown=REDIS_RETRY_SECONDS) from None
