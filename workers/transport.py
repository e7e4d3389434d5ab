"""kombu's Redis transport, with messages screened before kombu and Celery read them.

kombu decodes a queue entry (JSON, then a base64 body) inside the worker's event loop,
and Celery unpacks the body there too: an entry they cannot parse stops the whole worker.
Here every entry popped from a queue is checked first (xorgpu.workers.messages: a task
message on a task queue, a remote-control answer on a reply queue); one that is not is
moved to the list `xorgpu:dead-letters` (the newest DEAD_LETTERS_KEPT, for a person to look
at), logged with its reason, and skipped, and the worker serves the next message.
Pickled messages are among those refused.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from typing import Any, Iterator

import redis
from kombu.transport import redis as kombu_redis

from xorgpu.store import DEAD_LETTERS_KEY as DEAD_LETTERS

from .messages import why_unreadable

log = logging.getLogger(__name__)
DEAD_LETTERS_KEPT = 1000
FULL_REDIS_PAUSE = 5  # seconds between a worker's tries to reach a Redis that is full


class RedisFull(redis.ConnectionError):
    """Redis refused a write: it is at its maxmemory. Raised to kombu and Celery as a lost
    connection, which they wait out (reconnecting with backoff), where a refused command
    would stop the worker."""


class ScreeningRedis(redis.Redis):
    """A redis client whose queue pops (BRPOP, RPOP) pass only readable messages on, and for
    which a full Redis is one that cannot be reached for now (RedisFull)."""

    def parse_response(self, connection: Any, command_name: Any, **options: Any) -> Any:
        try:
            response = super().parse_response(connection, command_name, **options)
        except redis.OutOfMemoryError as error:
            time.sleep(FULL_REDIS_PAUSE)  # kombu reconnects at once: one try every few seconds, not hundreds
            raise RedisFull(f"Redis is full (its maxmemory): {error}") from None
        if command_name == "BRPOP" and response:
            queue, item = response
            return None if self._dead_letter(queue, item) else response
        return response

    def rpop(self, name: Any, count: int | None = None) -> Any:
        item = super().rpop(name, count)
        if isinstance(item, bytes) and self._dead_letter(name, item):
            return None
        return item

    def _dead_letter(self, queue: Any, item: bytes) -> bool:
        name = _text(queue).rsplit(kombu_redis.Channel.sep, 1)[0]  # less kombu's priority suffix
        problem = why_unreadable(item, name)
        if problem is None:
            return False
        log.error("dropped an unreadable entry of queue %s (%s); kept in %s", _text(queue), problem, DEAD_LETTERS)
        with self.pipeline() as pipe:
            pipe.lpush(DEAD_LETTERS, item)
            pipe.ltrim(DEAD_LETTERS, 0, DEAD_LETTERS_KEPT - 1)
            pipe.execute()
        return True


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


_captured: contextvars.ContextVar[list[tuple[str, dict[str, Any]]] | None] = contextvars.ContextVar(
    "xorgpu_captured_messages", default=None)


@contextlib.contextmanager
def captured_messages() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Within it, the task messages this thread sends are collected, as (Redis list, message),
    instead of pushed: xorgpu.workers.app uses one as the template of a job's chunks."""
    found: list[tuple[str, dict[str, Any]]] = []
    token = _captured.set(found)
    try:
        yield found
    finally:
        _captured.reset(token)


class Channel(kombu_redis.Channel):
    def _put(self, queue: Any, message: Any, **kwargs: Any) -> Any:
        found = _captured.get()
        if found is None:
            return super()._put(queue, message, **kwargs)
        found.append((self._q_for_pri(queue, self._get_message_priority(message, reverse=False)), message))
        return None

    def _get_client(self) -> Any:
        if self.global_keyprefix:
            return super()._get_client()  # not used by xorgpu
        return ScreeningRedis


class Transport(kombu_redis.Transport):
    Channel = Channel
