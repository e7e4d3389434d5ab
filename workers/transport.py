"""kombu's Redis transport, with messages screened before kombu and Celery read them.

kombu decodes a queue entry (JSON, then a base64 body) inside the worker's event loop,
and Celery unpacks the body there too: an entry that is not a well-formed task message
stops the whole worker. Here every entry popped from a queue is checked first; one that
is not a JSON task message is moved to the list `xorgpu:dead-letters` (the newest
DEAD_LETTERS_KEPT, for a person to look at), logged, and skipped, and the worker serves
the next message. Pickled messages are among those refused.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import contextvars
import json
import logging
from typing import Any, Iterator

import redis
from kombu.transport import redis as kombu_redis

from xorgpu.settings import KEY_PREFIX

log = logging.getLogger(__name__)
DEAD_LETTERS = f"{KEY_PREFIX}:dead-letters"
DEAD_LETTERS_KEPT = 1000


def why_unreadable(item: bytes) -> str | None:
    """Why this queue entry is not a task message the worker can take, or None if it is.

    A task message is what Celery's send_task writes with the JSON serializer (protocol 2):
    a JSON object with properties (a delivery tag), headers naming a task and an id, and
    a body, base64-encoded, that is the JSON list [args, kwargs, options].
    """
    try:
        return _problem(item)
    except Exception as error:  # noqa: BLE001  (whatever the entry holds: it is not a message)
        return f"unreadable ({type(error).__name__})"


def _problem(item: bytes) -> str | None:
    try:
        payload = json.loads(item)
    except (ValueError, UnicodeDecodeError) as error:
        return f"not JSON ({error})"
    if not isinstance(payload, dict):
        return "not a message object"
    properties, headers = payload.get("properties"), payload.get("headers")
    if not isinstance(properties, dict) or "delivery_tag" not in properties:
        return "no properties with a delivery tag"
    if not isinstance(properties.get("delivery_info", {}), dict):
        return "delivery_info is not an object"
    if not (isinstance(headers, dict) and isinstance(headers.get("task"), str) and isinstance(headers.get("id"), str)):
        return "no headers naming a task and an id (not a Celery task message)"
    if payload.get("content-type") != "application/json":
        return f"content type {str(payload.get('content-type'))[:40]!r} is not application/json"
    body, encoding = payload.get("body"), properties.get("body_encoding")
    if not isinstance(body, str):
        return "no body"
    if encoding == "base64":
        try:
            body = base64.b64decode(body.encode(), validate=True).decode()
        except (binascii.Error, ValueError) as error:
            return f"its body is not base64 ({error})"
    elif encoding not in (None, "utf-8"):
        return f"unknown body encoding {str(encoding)[:20]!r}"
    try:
        content = json.loads(body)
    except ValueError:
        return "its body is not JSON"
    shapes = (list, dict, dict)
    if not (isinstance(content, list) and len(content) == 3 and all(map(isinstance, content, shapes))):
        return "its body is not [args, kwargs, options]"
    return None


class ScreeningRedis(redis.Redis):
    """A redis client whose queue pops (BRPOP, RPOP) pass only readable messages on."""

    def parse_response(self, connection: Any, command_name: Any, **options: Any) -> Any:
        response = super().parse_response(connection, command_name, **options)
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
        problem = why_unreadable(item)
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
