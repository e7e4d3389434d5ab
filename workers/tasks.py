"""Celery tasks: thin wrappers over xorgpu.service. A task gets ids and a seed range, never data."""

from __future__ import annotations

import functools
import os

import redis

from xorgpu.service import run_chunk_message
from xorgpu.settings import DEFAULT_REDIS_URL, REDIS_URL_ENV, TASK_NAME
from xorgpu.store import JobStore, ServiceError

from .app import app

REDIS_RETRY_SECONDS = 30  # when Redis is gone for longer than the store's own retries
REDIS_RETRIES = 20


@functools.cache
def _store() -> JobStore:
    return JobStore.from_url(os.environ.get(REDIS_URL_ENV, DEFAULT_REDIS_URL), patient=True)


@app.task(name=TASK_NAME, bind=True, max_retries=REDIS_RETRIES)
def train_chunk(self, *args, **kwargs) -> dict:  # noqa: ANN001, ANN002, ANN003
    try:
        return run_chunk_message(_store(), args, kwargs, worker=self.request.hostname)
    except (redis.ConnectionError, redis.TimeoutError, ServiceError) as error:  # Redis gone for over a minute
        _store.cache_clear()
        raise self.retry(exc=error, countdown=REDIS_RETRY_SECONDS) from None
