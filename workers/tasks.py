"""Celery tasks: thin wrappers over xorgpu.service. A task gets ids and a seed range, never
data; it writes the chunk's results under XORGPU_RESULTS_URL (xorgpu.results_store)."""

from __future__ import annotations

import functools
import os

import logging

import pyarrow.parquet  # noqa: F401  (loaded before the pool forks: its children share it, and a child
import redis              # that is short of memory is not the one to find pyarrow too large to load)
from celery.worker.request import Request

from xorgpu.results_store import ResultsStore
from xorgpu.service import run_chunk_message, worker_lost
from xorgpu.settings import DEFAULT_REDIS_URL, REDIS_URL_ENV, chunk_deaths, results_url
from xorgpu.store import TASK_NAME, JobStore, ServiceError

from .app import app

REDIS_RETRY_SECONDS = 30  # when Redis is gone for longer than the store's own retries
REDIS_RETRIES = 20
log = logging.getLogger(__name__)


class ChunkRequest(Request):
    """A chunk task's request in the worker's main process: when the pool process training it
    dies (Celery then puts the message back, task_reject_on_worker_lost), the death is
    counted, and at the XORGPU_CHUNK_DEATHS-th the job fails with the reason and the message
    is acknowledged, instead of going round workers that each die of it."""

    def reject(self, requeue: bool = False) -> None:
        if requeue:  # Celery requeues a message only when the process that ran it died
            try:
                if worker_lost(JobStore.from_url(os.environ.get(REDIS_URL_ENV, DEFAULT_REDIS_URL)), self.args,
                               self.hostname, chunk_deaths()):
                    self.acknowledge()
                    return
            except Exception as error:  # noqa: BLE001  (Redis away: requeue, as without the count)
                log.warning("could not count a lost worker process of a chunk: %s", error)
        super().reject(requeue=requeue)


@functools.cache
def _store() -> JobStore:
    return JobStore.from_url(os.environ.get(REDIS_URL_ENV, DEFAULT_REDIS_URL), patient=True)


@functools.cache
def _results_store() -> ResultsStore:
    return ResultsStore(results_url())


@app.task(name=TASK_NAME, bind=True, max_retries=REDIS_RETRIES, Request=ChunkRequest)
def train_chunk(self, *args, **kwargs) -> dict:  # noqa: ANN001, ANN002, ANN003
    try:
        return run_chunk_message(_store(), args, kwargs, worker=self.request.hostname, results_store=_results_store())
    except (redis.ConnectionError, redis.TimeoutError, ServiceError) as error:  # Redis gone for over a minute
        _store.cache_clear()
        raise self.retry(exc=error, countdown=REDIS_RETRY_SECONDS) from None
