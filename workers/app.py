"""The Celery app: all of the service's wiring and configuration, and nothing else.

It imports Celery and xorgpu's settings only (no engine, no numba), so the commands and
tools that merely send or inspect tasks start fast. Environment: see xorgpu.settings.

Reliability: tasks are acknowledged late (after the chunk is recorded), a task whose pool
process dies is re-queued at once (`task_reject_on_worker_lost`), and a worker takes one
task at a time (`worker_prefetch_multiplier=1`). If a whole worker dies (SIGKILL, lost
machine), its chunk returns to the queue once the visibility timeout has passed, at the
next sweep for unacknowledged messages (every min(10, timeout/2) s) of a running worker.
A chunk lost in the instant between leaving the queue and reaching a worker is enqueued
again by the workers' check for lost chunks (xorgpu.workers.recovery).
The trade-off: a short timeout brings a dead worker's chunk back sooner, but a chunk that
runs longer than the timeout is handed out a second time while it still runs. That is
harmless here (a chunk is recorded at most once, atomically) but wastes work: keep the
timeout well above a chunk's run time. Pool processes die with their worker, so a killed
worker leaves no process behind.

Only JSON is accepted: a pickled message is refused. A message that is not even JSON is
dropped with a log line by the transport (xorgpu.workers.transport), never the worker.

GPU workers: the pool is prefork, and CuPy is imported (and CUDA initialised) only inside
the pool's child processes, when a task first resolves its backend, never in the parent
before it forks. Run one GPU worker process per GPU (`--concurrency 1`).
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from typing import Callable

from celery import Celery
from celery.signals import worker_process_init

from xorgpu.config import SeedRange
from xorgpu.lifetime import die_with_parent
from xorgpu.redis_url import canonical
from xorgpu.settings import DEFAULT_QUEUE, DEFAULT_REDIS_URL, REDIS_URL_ENV, visibility_timeout
from xorgpu.store import TASK_NAME, task_id

TRANSPORT = "xorgpu.workers.transport:Transport"


def make_app(redis_url: str | None = None) -> Celery:
    url = canonical(redis_url or os.environ.get(REDIS_URL_ENV, DEFAULT_REDIS_URL))
    visibility = visibility_timeout()
    transport = {
        "visibility_timeout": visibility,
        # kombu looks for timed-out unacknowledged messages every interval * throttle seconds
        # (100 s by default); sweep every few seconds instead so a dead worker's chunk
        # returns about one visibility timeout after its death. A sweep is one small query.
        "unacked_restore_interval": max(1, min(10, visibility // 2)),
        "unacked_restore_throttle": 1,
    }
    app = Celery("xorgpu", broker=url, backend=url, include=["xorgpu.workers.tasks"])
    app.conf.update(
        broker_transport=TRANSPORT,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,  # results live in the job store (xorgpu.store)
        task_default_queue=DEFAULT_QUEUE,
        broker_transport_options=transport,
        result_backend_transport_options={"visibility_timeout": visibility},
        broker_connection_retry_on_startup=True,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_hijack_root_logger=False,
    )
    # a worker's check for chunks the broker lost (by name: senders never import it)
    app.steps["consumer"].add("xorgpu.workers.recovery:LostChunkStep")
    return app


@worker_process_init.connect
def _pool_process_dies_with_its_worker(**_: object) -> None:
    die_with_parent()


app = make_app()


def chunk_sender(redis_url: str) -> Callable[[str, list[tuple[int, SeedRange]], str], None]:
    """The `enqueue` of xorgpu.service.submit: sends chunks' tasks by name, so senders need
    not import the task code.

    Celery builds a message in about half a millisecond, and one LPUSH each costs a round
    trip: 20,000 chunks took ~19 s. Instead Celery builds the first chunk's message (caught
    before it is pushed, xorgpu.workers.transport.captured_messages), each chunk's message
    is that one with the chunk's own arguments and ids put in (chunk_message), and all go to
    Redis in one pipelined LPUSH. tests/test_service.py checks the result equals what Celery
    itself sends, field for field.
    """
    from .transport import captured_messages  # noqa: PLC0415

    sender = make_app(redis_url)

    def enqueue(job_id: str, chunks: list[tuple[int, SeedRange]], queue: str) -> None:
        if not chunks:
            return
        (index, seeds), *_ = chunks
        with captured_messages() as found:
            sender.send_task(TASK_NAME, args=[job_id, index, seeds.start, seeds.stop], queue=queue,
                             task_id=task_id(job_id, index))
        (key, template), = found
        payloads = [json.dumps(chunk_message(template, job_id, i, s)) for i, s in chunks]
        with sender.connection_for_write() as connection:
            client = connection.default_channel.client
            client.lpush(key, *payloads)

    return enqueue


def chunk_message(template: dict, job_id: str, index: int, seeds: SeedRange) -> dict:
    """Celery's message for chunk `index` of a job, made from its message of another chunk
    of the same job: what differs are the arguments and the ids derived from them."""
    args = [job_id, index, seeds.start, seeds.stop]
    chunk_task = task_id(job_id, index)
    _, kwargs, embed = json.loads(base64.b64decode(template["body"]))
    headers = {**template["headers"], "id": chunk_task, "root_id": chunk_task, "argsrepr": repr(args)}
    properties = {**template["properties"], "correlation_id": chunk_task, "delivery_tag": str(uuid.uuid4())}
    body = base64.b64encode(json.dumps([args, kwargs, embed]).encode()).decode()
    return {**template, "headers": headers, "properties": properties, "body": body}
