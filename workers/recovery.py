"""Chunks the broker lost are enqueued again, so a job never waits forever for one.

kombu's Redis transport takes a message off the queue (BRPOP) and only then writes it to
its hash of unacknowledged messages, which brings it back if the worker dies. A worker
SIGKILLed between the two, or a Redis killed after the pop but before its reply reached
the worker, loses the message: no queue and no worker holds that chunk any more, and its
job would wait forever (bench/chaos.py met this once in 30 kills).

So every worker, every XORGPU_LOST_CHUNK_CHECK seconds, takes a short Redis lock and
looks at the jobs that are queued or running and whose queue is empty: a chunk that is
neither recorded nor among the messages workers hold (kombu's unacknowledged hash) is
lost, unless a worker is between its pop and that hash's write, which takes
milliseconds. A chunk found lost in two checks at least one interval apart is enqueued
again. Training a chunk twice is harmless (it is recorded once, atomically), so the only
cost of a wrong guess is work.

A lost chunk of a job whose queue still holds other chunks waits until the queue drains.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any, Callable

import redis
from celery import bootsteps

from xorgpu.settings import DEFAULT_REDIS_URL, REDIS_URL_ENV, lost_chunk_check
from xorgpu.errors import first_line
from xorgpu.store import ACTIVE_STATES, LOST_CHUNK_LOCK_KEY, Job, JobStore, ServiceError, task_id

from .transport import Channel

log = logging.getLogger(__name__)



def queue_length(client: redis.Redis, queue: str) -> int:
    """Messages waiting in a queue: kombu keeps one list per priority step (as its
    Channel._q_for_pri names them)."""
    with client.pipeline(transaction=False) as pipe:
        for step in Channel.priority_steps:
            pipe.llen(f"{queue}{Channel.sep}{step}" if step else queue)
        return sum(pipe.execute())


def held_task_ids(client: redis.Redis) -> set[str]:
    """The task ids of the messages workers hold (delivered, not yet acknowledged: kombu's
    hash Channel.unacked_key)."""
    held = set()
    for raw in client.hvals(Channel.unacked_key):
        try:
            held.add(str(json.loads(raw)[0]["headers"]["id"]))
        except (ValueError, TypeError, KeyError, IndexError):  # not a task message: holds no chunk
            continue
    return held


def lost_chunks(store: JobStore, job: Job, held: set[str]) -> list[int]:
    """Chunks of `job` neither recorded nor held by a worker (call only when its queue is empty)."""
    recorded = store.recorded_chunks(job.id)
    return [i for i in range(job.chunks_total) if i not in recorded and task_id(job.id, i) not in held]


class LostChunkSweeper:
    """The check of the module docstring; `enqueue` is xorgpu.workers.app.chunk_sender's."""

    def __init__(self, store: JobStore, enqueue: Callable[[str, list[tuple[int, Any]], str], None],
                 interval: float) -> None:
        self.store, self.enqueue, self.interval = store, enqueue, interval
        self.suspects: dict[tuple[str, int], float] = {}  # (job, chunk) -> when first found lost

    def sweep(self, now: float | None = None) -> dict[str, list[int]]:
        """One check; returns the chunks enqueued again, by job."""
        now = time.monotonic() if now is None else now
        client = self.store.client
        if not client.set(LOST_CHUNK_LOCK_KEY, os.getpid(), nx=True, ex=max(1, int(self.interval))):
            return {}  # another worker checks now
        found: dict[tuple[str, int], float] = {}
        requeued: dict[str, list[int]] = {}
        held: set[str] | None = None
        for job in self.store.jobs_in_states([s for s in ACTIVE_STATES if s != "submitting"]):
            try:
                if queue_length(client, job.queue):
                    continue
                held = held_task_ids(client) if held is None else held
                lost = lost_chunks(self.store, job, held)
            except (redis.ResponseError, ServiceError) as error:  # one unreadable job: say which, check the rest
                log.warning("the check for lost chunks skipped job %s: %s", job.id, first_line(error)[:200])
                continue
            confirmed = []
            for index in lost:
                since = found[(job.id, index)] = self.suspects.get((job.id, index), now)
                if now - since >= self.interval:
                    confirmed.append(index)
                    del found[(job.id, index)]  # sent again: a suspect anew only if lost anew
            if confirmed:
                log.warning("job %s: chunk%s %s left the queue but reached no worker (a worker or Redis was killed "
                            "as it was handed out); enqueued again", job.id, "s" if len(confirmed) > 1 else "",
                            ", ".join(map(str, confirmed[:20])) + (" ..." if len(confirmed) > 20 else ""))
                self.enqueue(job.id, [(index, job.chunk(index)) for index in confirmed], job.queue)
                requeued[job.id] = confirmed
        self.suspects = found
        return requeued


class LostChunkStep(bootsteps.StartStopStep):
    """Runs a LostChunkSweeper on the worker's event loop timer (its main thread)."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.timer_entry: Any = None
        self.interval = 0
        self.sweeper: LostChunkSweeper | None = None

    def start(self, consumer: Any) -> None:
        self.interval = lost_chunk_check()
        self.timer_entry = consumer.timer.call_repeatedly(self.interval, self._sweep, priority=10)

    def stop(self, consumer: Any) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None

    def _sweep(self) -> None:
        try:
            if self.sweeper is None:  # connected here, not in start(): a step that fails to start stops the worker
                from .app import chunk_sender  # noqa: PLC0415

                url = os.environ.get(REDIS_URL_ENV, DEFAULT_REDIS_URL)
                self.sweeper = LostChunkSweeper(JobStore.from_url(url), chunk_sender(url), self.interval)
            self.sweeper.sweep()
        except Exception as error:  # noqa: BLE001  (Redis away, a broken record: check again next time)
            log.warning("the check for lost chunks failed (%s); it runs again in %s s", first_line(error)[:200],
                        self.interval)
