"""The service says what it is doing: no worker, an interrupted wait, jobs at a glance,
failed jobs that exit non-zero, who trained each chunk, partial results."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

import pandas as pd
import pyarrow.parquet as pq
import pytest

from xorgpu.config import Config, SeedRange
from xorgpu.service import run_chunk, submit, wait_for
from xorgpu.store import JobStore

from .service_helpers import wait_until, xorgpu

pytestmark = pytest.mark.timeout(300)
XORGPU = [sys.executable, "-m", "xorgpu.cli.main"]


@pytest.mark.slow
def test_waiting_with_no_worker_says_so_and_ctrl_c_leaves_the_job_running(redis_server):
    waiting = subprocess.Popen([*XORGPU, "submit", "--nets", "30", "--wait", "--redis-url", redis_server.url],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    said = ""
    deadline = time.monotonic() + 20
    while "no worker consumes the queue 'xorgpu'" not in said:
        assert time.monotonic() < deadline, said
        ready, _, _ = select.select([waiting.stderr], [], [], 1)
        if ready:
            said += os.read(waiting.stderr.fileno(), 4096).decode()
    assert "xorgpu worker --queues xorgpu" in said
    waiting.send_signal(signal.SIGINT)
    _, rest = waiting.communicate(timeout=30)
    last = rest.strip().splitlines()[-1]
    assert waiting.returncode == 130 and "goes on" in last and "xorgpu cancel" in last
    job_id = last.split("job ")[1].split()[0]
    assert JobStore.from_url(redis_server.url).get_job(job_id).state == "queued"


def test_jobs_show_their_config_and_label(redis_server):
    url = redis_server.url
    job_id = xorgpu("submit", "--nets", 10, "--hidden", 3, "--lr", 0.5, "--label", "warm-up run", url=url).stdout.strip()
    listed = xorgpu("jobs", url=url).stdout
    assert f"{job_id}  queued     2-3-1 10,000 epochs lr=0.5 [warm-up run]: 0/10 nets" in listed
    info = json.loads(xorgpu("jobs", "--json", url=url).stdout)[0]
    assert info["label"] == "warm-up run" and info["config"] == "2-3-1 10,000 epochs lr=0.5"
    waiting = "waiting: no worker consumes the queue 'xorgpu': start one with `xorgpu worker --queues xorgpu`"
    assert waiting in xorgpu("status", job_id, url=url).stdout  # no worker runs in this test


def test_status_of_a_failed_or_cancelled_job_exits_non_zero(redis_server):
    store = JobStore.from_url(redis_server.url)
    failed = submit(store, Config(epochs=5), SeedRange(0, 10), enqueue=lambda *a: None)
    store.fail(failed.id, "a reason")
    cancelled = submit(store, Config(epochs=5), SeedRange(0, 10), enqueue=lambda *a: None)
    store.cancel(cancelled.id)
    fine = submit(store, Config(epochs=5), SeedRange(0, 10), enqueue=lambda *a: None)
    run_chunk(store, fine.id, 0, 0, 10)
    assert xorgpu("status", failed.id, url=redis_server.url).exit_code == 1
    assert xorgpu("status", cancelled.id, url=redis_server.url).exit_code == 1
    assert xorgpu("status", fine.id, url=redis_server.url).exit_code == 0


@pytest.mark.slow
def test_status_lists_who_trained_each_chunk_and_results_can_be_partial(redis_server, start_worker, tmp_path):
    start_worker("chunky")
    url = redis_server.url
    job_id = xorgpu("submit", "--nets", 600, "--epochs", 100, "--chunk-size", 200, url=url).stdout.strip()
    store = JobStore.from_url(url)
    wait_for(store, job_id, timeout=120)
    shown = xorgpu("status", job_id, "--chunks", url=url)
    chunk_lines = [line for line in shown.stdout.splitlines() if line.startswith("  chunk ")]
    assert len(chunk_lines) == 3 and all("chunky@" in line and "fused on cpu (" in line for line in chunk_lines)
    assert json.loads(xorgpu("status", job_id, "--chunks", "--json", url=url).stdout)["chunks"][2]["seeds"] == "400:600"
    whole = tmp_path / "whole.parquet"
    assert xorgpu("results", job_id, "-o", whole, url=url).exit_code == 0
    local = tmp_path / "local.parquet"
    assert xorgpu("run", "--nets", 600, "--epochs", 100, "-o", local).exit_code == 0
    pd.testing.assert_frame_equal(pd.read_parquet(whole), pd.read_parquet(local))
    stored = [json.loads(pq.read_schema(f).metadata[b"xorgpu"])["statistics"] for f in (whole, local)]
    assert stored[0]["final_loss"] == stored[1]["final_loss"]  # exact: every net was at hand
    assert stored[0]["final_loss"]["relative_error"] == 0.0 and stored[0]["provenance"]["workers"]

    cancelled = submit(store, Config(epochs=100), SeedRange(0, 600), enqueue=lambda *a: None, chunk_size=200)
    run_chunk(store, cancelled.id, 1, 200, 400)
    store.cancel(cancelled.id)
    refused = xorgpu("results", cancelled.id, "-o", tmp_path / "p.npz", url=url)
    assert refused.exit_code == 1 and "--partial" in refused.stderr
    partial = xorgpu("results", cancelled.id, "-o", tmp_path / "p.parquet", "--partial", url=url)
    assert partial.exit_code == 0 and "wrote 200 nets" in partial.stdout
    assert pd.read_parquet(tmp_path / "p.parquet")["seed"].tolist() == list(range(200, 400))


@pytest.mark.slow
def test_status_watch_redraws_in_place_on_a_terminal(redis_server, start_worker):
    start_worker("w")
    url = redis_server.url
    job_id = xorgpu("submit", "--nets", 4000, "--epochs", 2000, "--chunk-size", 500, "--engine", "array",
                    url=url).stdout.strip()
    leader, follower = pty.openpty()
    watching = subprocess.Popen([*XORGPU, "status", job_id, "--watch", "--redis-url", url], stdout=follower,
                                stderr=follower, close_fds=True)
    os.close(follower)
    seen = b""
    while True:
        if select.select([leader], [], [], 0.2)[0]:
            try:
                seen += os.read(leader, 65536)
                continue
            except OSError:  # the terminal closed: the command ended
                break
        if watching.poll() is not None:
            break
    os.close(leader)
    assert watching.wait(60) == 0
    text = seen.decode()
    assert text.count("\r\x1b[K") >= 2 and text.count("\n") == 1 and " done " in text.rsplit("\r\x1b[K", 1)[1]


@pytest.mark.slow
def test_workers_answer_remote_control_and_a_healthy_stack_logs_no_error(redis_server, start_worker):
    """Celery's own control traffic (ping, inspect, what Flower asks) reaches the workers and
    comes back; a worker joining others (which greet it) logs no error and leaves no dead letter."""
    from xorgpu.workers.app import make_app  # noqa: PLC0415

    workers = [start_worker("w1"), start_worker("w2")]
    answers = make_app(redis_server.url).control.inspect(timeout=3).ping() or {}
    assert {name.split("@")[0] for name in answers} == {"w1", "w2"}
    assert all(answer == {"ok": "pong"} for answer in answers.values())
    workers.append(start_worker("w3"))
    done = xorgpu("submit", "--nets", 600, "--epochs", 100, "--chunk-size", 100, "--wait", url=redis_server.url)
    assert done.exit_code == 0, done.output
    assert redis_server.client().llen("xorgpu:dead-letters") == 0
    for worker in workers:
        errors = [line for line in worker.log.read_text().splitlines() if "ERROR" in line or "WARNING" in line]
        assert errors == [], errors


@pytest.mark.slow
def test_workers_started_without_a_name_on_one_host_have_different_names(redis_server, start_worker):
    """Two `xorgpu worker` on one machine, neither named: each answers under its own name
    (its process id), so neither logs Celery's duplicate-name warning."""
    from xorgpu.workers.app import make_app  # noqa: PLC0415

    workers = [start_worker("first", named=False), start_worker("second", named=False)]
    answers = make_app(redis_server.url).control.inspect(timeout=3).ping() or {}
    assert {name.split("@")[0] for name in answers} == {f"xorgpu-{worker.process.pid}" for worker in workers}
    for worker in workers:
        assert "Duplicate" not in worker.log.read_text() and "WARNING" not in worker.log.read_text()


@pytest.mark.slow
def test_a_job_waiting_behind_another_is_not_taken_for_one_without_workers(redis_server, start_worker):
    """submit --wait asks the workers (Celery's remote control) who consumes the queue: a
    job queued behind a long one hears no 'no worker' warning."""
    start_worker("busy")
    url = redis_server.url
    long_job = xorgpu("submit", "--nets", 80_000, "--epochs", 20_000, "--chunk-size", 80_000, "--engine", "fused",
                      url=url).stdout.strip()
    store = JobStore.from_url(url)
    wait_until(lambda: store.get_job(long_job).state == "running", what="the long job to start")
    started = time.monotonic()
    waited = subprocess.run([*XORGPU, "submit", "--nets", "100", "--epochs", "100", "--wait", "--redis-url", url],
                            capture_output=True, text=True, timeout=240)
    assert waited.returncode == 0, waited.stderr
    assert time.monotonic() - started > 10  # it waited behind the first past the moment it looks for workers
    assert "no worker" not in waited.stderr


@pytest.mark.slow
def test_teams_sharing_a_redis_each_have_their_own_database(redis_server, start_worker):
    """docs/service.md: one Redis database is one team's: its jobs, queues and workers. Two
    databases of one server share nothing a command can see."""
    team_a, team_b = redis_server.url, redis_server.url.rsplit("/", 1)[0] + "/1"
    start_worker("team-b", url=team_b)
    mine = xorgpu("submit", "--nets", 100, "--epochs", 50, url=team_a).stdout.strip()
    theirs = xorgpu("submit", "--nets", 100, "--epochs", 50, "--wait", "--json", url=team_b)
    assert theirs.exit_code == 0, theirs.output
    their_id = json.loads(theirs.stdout)["job_id"]
    assert their_id not in xorgpu("jobs", url=team_a).stdout and mine not in xorgpu("jobs", url=team_b).stdout
    assert "unknown job" in xorgpu("cancel", their_id, url=team_a).stderr
    assert JobStore.from_url(team_a).get_job(mine).state == "queued"  # team B's worker does not take A's chunks
