"""What a queue entry must be before kombu and Celery read it: every field they interpret,
checked here first.

kombu decodes a queue entry (JSON, then its body) and Celery unpacks it inside the
worker's main process; a field either of them cannot parse (a time limit that is not a
pair of numbers, a priority too large for an integer, a body that is not base64...)
can stop the whole worker, and the message then goes back to the queue for the next
worker to die on. So `why_unreadable` checks an entry against what xorgpu and Celery
send, field by field, and names the first problem; xorgpu.workers.transport moves such
an entry to the dead letters instead of passing it on.

Two kinds of queue carry messages:
- task queues carry Celery task messages (protocol 2, JSON): the envelope, every header
  Celery's `as_task_v2` writes (and nothing else), and a body [args, kwargs, options]
  with no callbacks, chains or chords (xorgpu sends none);
- reply queues (`<id>.reply.celery.pidbox`) carry the answers of Celery's remote control
  (ping, inspect, Flower): the same envelope, and a body that is any JSON object.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import math
from typing import Any, Callable

REPLY_QUEUE_SUFFIX = ".reply.celery.pidbox"  # kombu's Mailbox: reply exchange "reply.celery.pidbox"
MAX_ETA_AHEAD = datetime.timedelta(days=1)  # a retry's countdown is seconds; an ETA further ahead is not ours

Check = Callable[[Any], str | None]  # a field's value -> what is wrong with it, or None


def is_reply_queue(queue: str) -> bool:
    return queue.endswith(REPLY_QUEUE_SUFFIX)


def why_unreadable(item: bytes, queue: str = "") -> str | None:
    """Why this entry of `queue` is not a message its consumer can take, or None if it is."""
    try:
        return _problem(item, is_reply_queue(queue))
    except Exception as error:  # noqa: BLE001  (whatever the entry holds: it is not a message)
        return f"unreadable ({type(error).__name__})"


# --- field checks ------------------------------------------------------------------------


def _optional(check: Check) -> Check:
    return lambda value: None if value is None else check(value)


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) else "is not a string"


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "is not true or false"


def _count(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31
    return None if ok else "is not a whole number from 0 to 2**31"


def _priority(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 255
    return None if ok else "is not a whole number from 0 to 255"


def _time_limits(value: Any) -> str | None:
    """Celery's [hard, soft] limits, each None or seconds."""
    if not (isinstance(value, list) and len(value) == 2):
        return "is not a pair [hard, soft]"
    for limit in value:
        if limit is None:
            continue
        if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not math.isfinite(limit) or limit <= 0:
            return "holds a limit that is neither null nor a positive number of seconds"
    return None


def _instant(value: Any) -> str | None:
    """An ISO 8601 time, as Celery's maybe_iso8601 reads it."""
    if not isinstance(value, str):
        return "is not an ISO 8601 time"
    try:
        datetime.datetime.fromisoformat(value)
    except ValueError:
        return "is not an ISO 8601 time"
    return None


def _eta(value: Any) -> str | None:
    problem = _instant(value)
    if problem:
        return problem
    when = datetime.datetime.fromisoformat(value)
    now = datetime.datetime.now(datetime.timezone.utc if when.tzinfo else None)  # naive: local time, as Celery reads it
    return "is more than a day ahead" if when - now > MAX_ETA_AHEAD else None


def _strings(value: Any) -> str | None:
    ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
    return None if ok else "is not a list of strings"


def _object(value: Any) -> str | None:
    return None if isinstance(value, dict) else "is not an object"


def _delivery_info(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "is not an object"
    return _fields(value, {"exchange": _string, "routing_key": _string},
                   {"redelivered": _boolean, "priority": _optional(_priority)})


# Properties of kombu's messages (kombu.transport.virtual's prepare_message and the Redis
# transport's restore), in messages of either kind.
PROPERTIES: dict[str, Check] = {"delivery_tag": _string}
OPTIONAL_PROPERTIES: dict[str, Check] = {
    "delivery_info": _delivery_info, "priority": _optional(_priority), "delivery_mode": _optional(_count),
    "body_encoding": lambda v: None if v in (None, "base64", "utf-8") else "is not base64 or utf-8",
    "correlation_id": _optional(_string), "reply_to": _optional(_string),
}
# The headers of a Celery task message: celery.app.amqp.as_task_v2 writes all of them;
# kombu's Redis transport adds `redelivered` when it puts a message back.
TASK_HEADERS: dict[str, Check] = {
    "lang": _string, "task": _string, "id": _string,
}
OPTIONAL_TASK_HEADERS: dict[str, Check] = {
    "shadow": _optional(_string), "eta": _optional(_eta), "expires": _optional(_instant),
    "group": _optional(_string), "group_index": _optional(_count), "retries": _optional(_count),
    "timelimit": _optional(_time_limits), "root_id": _optional(_string), "parent_id": _optional(_string),
    "argsrepr": _optional(_string), "kwargsrepr": _optional(_string), "origin": _optional(_string),
    "ignore_result": _optional(_boolean), "replaced_task_nesting": _optional(_count),
    "stamped_headers": _optional(_strings), "stamps": _optional(_object), "redelivered": _boolean,
}
EMBED = ("callbacks", "errbacks", "chain", "chord")  # the body's options: xorgpu sends none


def _fields(values: dict[str, Any], required: dict[str, Check], optional: dict[str, Check]) -> str | None:
    """The first problem of an object whose keys must be among required + optional."""
    for name in required:
        if name not in values:
            return f"no {name!r}"
    for name, value in values.items():
        check = required.get(name) or optional.get(name)
        if check is None:
            return f"{str(name)[:40]!r} is not a field of these messages"
        problem = check(value)
        if problem:
            return f"{name!r} {problem}"
    return None


# --- the message -------------------------------------------------------------------------


def _problem(item: bytes, reply: bool) -> str | None:
    try:
        payload = json.loads(item)
    except (ValueError, UnicodeDecodeError) as error:
        return f"not JSON ({error})"
    if not isinstance(payload, dict):
        return "not a message object"
    properties, headers = payload.get("properties"), payload.get("headers")
    if not isinstance(properties, dict):
        return "no properties"
    if not isinstance(headers, dict):
        return "no headers"
    if payload.get("content-type") != "application/json":  # the first thing to say of a pickle
        return f"content type {str(payload.get('content-type'))[:40]!r} is not application/json"
    problem = _fields(payload, {"body": _string, "properties": _object, "headers": _object},
                      {"content-type": lambda v: None if v == "application/json" else
                       f"{str(v)[:40]!r} is not application/json",
                       "content-encoding": lambda v: None if v in (None, "utf-8") else "is not utf-8",
                       "redelivered": _boolean})
    problem = problem or _fields(properties, PROPERTIES, OPTIONAL_PROPERTIES)
    if problem:
        return problem
    body = payload["body"]
    if properties.get("body_encoding") == "base64":
        try:
            body = base64.b64decode(body.encode(), validate=True).decode()
        except (binascii.Error, ValueError) as error:
            return f"its body is not base64 ({error})"
    try:
        content = json.loads(body)
    except ValueError:
        return "its body is not JSON"
    if reply:
        return None if isinstance(content, dict) else "a reply's body is not a JSON object"
    if not (isinstance(headers.get("task"), str) and isinstance(headers.get("id"), str)):
        return "no headers naming a task and an id (not a Celery task message)"
    problem = _fields(headers, TASK_HEADERS, OPTIONAL_TASK_HEADERS)
    if problem:
        return f"header {problem}"
    shapes = (list, dict, dict)
    if not (isinstance(content, list) and len(content) == 3 and all(map(isinstance, content, shapes))):
        return "its body is not [args, kwargs, options]"
    extras = [name for name in EMBED if content[2].get(name) is not None]
    if extras or set(content[2]) - set(EMBED):
        return f"its options hold {', '.join(extras or sorted(set(content[2]) - set(EMBED)))[:60]} (xorgpu sends none)"
    return None
