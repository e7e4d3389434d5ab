"""The screening of queue entries (workers/messages.py): what Celery itself sends passes,
and each field Celery or kombu would choke on is refused with its reason."""

from __future__ import annotations

import base64
import copy
import datetime
import json

import pytest

from xorgpu.workers.app import make_app
from xorgpu.workers.messages import why_unreadable
from xorgpu.workers.transport import captured_messages

REPLY_QUEUE = "6bc981f5-9640-3a41-bf8d-9b4ebcf20f31.reply.celery.pidbox"


@pytest.fixture
def celery_message(redis_server) -> dict:
    """The message Celery's own send_task builds for a chunk (captured before it is pushed)."""
    with captured_messages() as found:
        make_app(redis_server.url).send_task("xorgpu.train_chunk", args=["0123456789ab", 0, 0, 10],
                                                    queue="xorgpu", task_id="0123456789ab-0")
    ((_, message),) = found
    return message


def encoded(message: dict) -> bytes:
    return json.dumps(message).encode()


def changed(message: dict, where: str, value: object) -> dict:
    """A copy of the message with the field at `where` ("headers.timelimit") set to value
    (or removed, for value DELETE)."""
    copied = copy.deepcopy(message)
    *path, last = where.split(".")
    node = copied
    for part in path:
        node = node[part]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return copied


DELETE = object()


def with_body(message: dict, content: object) -> dict:
    return {**message, "body": base64.b64encode(json.dumps(content).encode()).decode()}


def test_what_celery_sends_passes_and_so_does_a_redelivered_retry(celery_message):
    assert why_unreadable(encoded(celery_message), "xorgpu") is None
    retry = changed(celery_message, "headers.retries", 3)
    retry["headers"]["eta"] = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=30)).isoformat()
    retry["headers"]["redelivered"] = True
    retry["properties"]["delivery_info"]["redelivered"] = True
    assert why_unreadable(encoded(retry), "xorgpu\x06\x163") is None


TOMORROW_AND_MORE = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)).isoformat()


@pytest.mark.parametrize("where, value, reason", [
    ("headers.timelimit", "x", "'timelimit' is not a pair"),
    ("headers.timelimit", [1, 2, 3], "'timelimit' is not a pair"),
    ("headers.timelimit", ["a", None], "'timelimit' holds a limit"),
    ("headers.timelimit", [-1, None], "'timelimit' holds a limit"),
    ("headers.eta", "tomorrow", "'eta' is not an ISO 8601 time"),
    ("headers.eta", TOMORROW_AND_MORE, "'eta' is more than a day ahead"),
    ("headers.expires", 5, "'expires' is not an ISO 8601 time"),
    ("headers.retries", -1, "'retries' is not a whole number"),
    ("headers.retries", "1", "'retries' is not a whole number"),
    ("headers.group_index", "a", "'group_index' is not a whole number"),
    ("headers.stamped_headers", 5, "'stamped_headers' is not a list of strings"),
    ("headers.ignore_result", "no", "'ignore_result' is not true or false"),
    ("headers.compression", "zlib", "'compression' is not a field of these messages"),
    ("headers.x-evil", 1, "'x-evil' is not a field of these messages"),
    ("headers.lang", DELETE, "no 'lang'"),
    ("properties.priority", 1e300, "'priority' is not a whole number from 0 to 255"),
    ("properties.priority", "high", "'priority' is not a whole number from 0 to 255"),
    ("properties.delivery_info", "x", "'delivery_info' is not an object"),
    ("properties.delivery_info.exchange", 5, "'exchange' is not a string"),
    ("properties.delivery_tag", {"a": 1}, "'delivery_tag' is not a string"),
    ("properties.body_encoding", "rot13", "'body_encoding' is not base64 or utf-8"),
    ("content-encoding", "binary", "'content-encoding' is not utf-8"),
    ("content-type", "application/x-python-serialize", "is not application/json"),
    ("body", "%%%", "its body is not base64"),
])
def test_each_field_celery_or_kombu_reads_is_checked(celery_message, where, value, reason):
    problem = why_unreadable(encoded(changed(celery_message, where, value)), "xorgpu")
    assert problem is not None and reason in problem


@pytest.mark.parametrize("content, reason", [
    ([["0123456789ab", 0, 0, 10], {}], "its body is not [args, kwargs, options]"),
    ({"args": []}, "its body is not [args, kwargs, options]"),
    ([[], {}, {"callbacks": None, "errbacks": None, "chain": [{"task": "os.system"}], "chord": None}],
     "its options hold chain"),
    ([[], {}, {"link": 1}], "its options hold link"),
])
def test_a_body_is_args_kwargs_and_no_follow_up_tasks(celery_message, content, reason):
    problem = why_unreadable(encoded(with_body(celery_message, content)), "xorgpu")
    assert problem is not None and reason in problem


def test_a_remote_control_answer_passes_on_its_reply_queue_only():
    answer = {"body": base64.b64encode(b'{"a@vm": {"ok": "pong"}}').decode(), "content-encoding": "utf-8",
              "content-type": "application/json", "headers": {"ticket": "95a90984", "clock": 3},
              "properties": {"delivery_mode": 1, "delivery_info": {"exchange": "reply.celery.pidbox",
                                                                   "routing_key": "6bc981f5"},
                             "priority": 0, "body_encoding": "base64", "delivery_tag": "2dc60ea3"}}
    assert why_unreadable(encoded(answer), REPLY_QUEUE) is None
    assert "not a Celery task message" in why_unreadable(encoded(answer), "xorgpu")
    assert "a reply's body is not a JSON object" in why_unreadable(encoded(with_body(answer, [1])), REPLY_QUEUE)
    assert "'priority'" in why_unreadable(encoded(changed(answer, "properties.priority", 1e300)), REPLY_QUEUE)


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2, 3]", b'{"properties": 5}', b"\xff\xfe", b""])
def test_what_is_not_a_message_object_is_refused(raw):
    assert why_unreadable(raw, "xorgpu") is not None


def test_a_worker_refuses_a_celery_or_kombu_it_was_not_tested_with():
    """pyproject.toml pins what workers/versions.py checks; another version is one line."""
    import tomllib  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from xorgpu.errors import ServiceError  # noqa: PLC0415
    from xorgpu.workers.versions import TESTED, check_versions  # noqa: PLC0415

    pinned = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["dependencies"]
    assert {f"celery[redis]{TESTED['celery']}", f"kombu{TESTED['kombu']}"} <= set(pinned)
    check_versions()  # what is installed here is what was tested
    check_versions({"kombu": "5.7.3", "celery": "5.7.2"})
    for installed in ({"kombu": "5.8.0"}, {"kombu": "5.6.9"}, {"celery": "6.0"}, {"celery": "not-a-version"}):
        with pytest.raises(ServiceError, match=r"^this worker has (kombu|celery) \S+, but xorgpu's workers rely on "
                                               r"its internals and are tested with (kombu|celery)>=5.7,<5.8 only"):
            check_versions(installed)
