"""Celery tasks: thin wrappers over xorgpu.service. A task gets ids and a seed range, never data."""

from __future__ import annotations

import functools
import os

from xorgpu.config import SeedRange
from xorgpu.service import run_chunk
from xorgpu.store import DEFAULT_REDIS_URL, JobStore

from .app import app


@functools.cache
def _store() -> JobStore:
    return JobStore.from_url(os.environ.get("XORGPU_REDIS_URL", DEFAULT_REDIS_URL), patient=True)


@app.task(name="xorgpu.train_chunk", bind=True)
def train_chunk(self, job_id: str, index: int, start: int, stop: int) -> dict:  # noqa: ANN001
    return run_chunk(_store(), job_id, index, SeedRange(start, stop), worker=self.request.hostname)
