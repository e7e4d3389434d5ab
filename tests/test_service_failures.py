"""The service when things go wrong: every job reaches a final state with a reason, and the
workers live through anything a message or a job can do. Real redis-server, real workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import redis

from xorgpu.config import Config, RunOptions, SeedRange
from xorgpu.experiment import prepare
from xorgpu.service import submit, wait_for
from xorgpu.store import JobStore
from xorgpu.workers.app import chunk_sender, make_app

from .service_helpers import RedisServer, memory_cgroup, one_line_error, remove_cgroup, wait_until, xorgpu

pytestmark = pytest.mark.timeout(420)


def job_of(result) -> str:  # noqa: ANN001
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def failed_with(store: JobStore, job_id: str, timeout: float = 120) -> str:
    """The error of a job that must fail; `status` shows it, and exits non-zero? (it reports)."""
    job = wait_for(store, job_id, timeout=timeout, poll=0.1)
    assert job.state == "failed", job
    assert job.error and "\n" not in job.error
    shown = xorgpu("status", job_id, url=store.url)
    assert job.error in shown.stdout
    return job.error


def test_a_backend_the_worker_lacks_fails_the_job_with_the_reason(redis_server, start_worker):
    start_worker("cpu-only")
    store = JobStore.from_url(redis_server.url)
    job_id = job_of(xorgpu("submit", "--nets", 200, "--epochs", 10, "--backend", "cupy", url=redis_server.url))
    assert "backend cupy is not available" in failed_with(store, job_id)


@pytest.mark.slow
def test_a_worker_serves_the_next_job_after_poison_messages(redis_server, start_worker):
    worker = start_worker("sturdy")
    store = JobStore.from_url(redis_server.url)
    victim = submit(store, Config(epochs=10), SeedRange(0, 20), enqueue=lambda *args: None, chunk_size=10)
    client = redis_server.client()
    raw = [b"not json", b"[1, 2, 3]", b'{"properties": 5}',
           json.dumps({"body": "%%%", "content-type": "application/json", "headers": {"task": "t", "id": "i"},
                       "properties": {"delivery_tag": "x", "body_encoding": "base64"}}).encode()]
    client.lpush("xorgpu", *raw)
    sender = make_app(redis_server.url)
    for args in (["x"], [victim.id, -1, 0, 10], [victim.id, 2, 20, 30], [victim.id, 0, 0, 99], [1, 2, 3, 4],
                 ["0123456789ab", 0, 0, 10], [victim.id, 0.5, 0, 10], [victim.id, True, 0, 10]):
        sender.send_task("xorgpu.train_chunk", args=args, queue="xorgpu")
    sender.send_task("xorgpu.train_chunk", args=[], kwargs={"job_id": victim.id}, queue="xorgpu")
    wait_until(lambda: client.llen("xorgpu") == 0, what="the queue to drain")
    job_id = job_of(xorgpu("submit", "--nets", 300, "--epochs", 50, url=redis_server.url))
    assert wait_for(store, job_id, timeout=120).state == "done"  # the worker lived on
    assert worker.process.poll() is None
    assert client.llen("xorgpu:dead-letters") == len(raw)
    victim = store.get_job(victim.id)
    assert (victim.state, victim.chunks_done) == ("queued", 0)  # no bogus index was counted
    assert worker.log.read_text().count("chunk message refused") == 9


POISON_HEADERS = [("timelimit", "x"), ("timelimit", [1, 2, 3]), ("timelimit", ["soon", None]), ("eta", "tomorrow"),
                  ("expires", 5), ("retries", "many"), ("stamped_headers", 5), ("compression", "zlib")]


@pytest.mark.slow
def test_poison_headers_leave_every_worker_alive_and_the_next_job_done(redis_server, start_worker):
    """Well-formed task messages whose headers Celery's main process would choke on (a time
    limit that is not a pair of numbers stopped every worker that took it): each goes to
    the dead letters with its reason, once, and both workers serve the next job."""
    from xorgpu.workers.transport import captured_messages  # noqa: PLC0415

    workers = [start_worker("w1"), start_worker("w2")]
    store = JobStore.from_url(redis_server.url)
    victim = submit(store, Config(epochs=10), SeedRange(0, 10), enqueue=lambda *args: None, chunk_size=10)
    with captured_messages() as found:
        make_app(redis_server.url).send_task("xorgpu.train_chunk", args=[victim.id, 0, 0, 10], queue="xorgpu")
    ((queue, message),) = found
    client = redis_server.client()
    for name, value in POISON_HEADERS:
        client.lpush(queue, json.dumps({**message, "headers": {**message["headers"], name: value}}))
    wait_until(lambda: client.llen("xorgpu:dead-letters") == len(POISON_HEADERS), what="every poison dead-lettered")
    job_id = job_of(xorgpu("submit", "--nets", 300, "--epochs", 50, "--chunk-size", 100, url=redis_server.url))
    assert wait_for(store, job_id, timeout=120).state == "done"
    assert all(worker.process.poll() is None for worker in workers)
    assert client.llen("xorgpu:dead-letters") == len(POISON_HEADERS) and client.llen("xorgpu") == 0
    logs = "".join(worker.log.read_text() for worker in workers)
    for name, _ in POISON_HEADERS:
        assert f"header '{name}'" in logs
    assert store.get_job(victim.id).chunks_done == 0


@pytest.mark.slow
def test_a_job_too_large_for_the_workers_memory_fails_and_the_worker_lives_on(redis_server, start_worker):
    # A worker in 600 MB of address space (it starts in about 500 MB, pyarrow loaded): a chunk
    # of 2M nets needs more, which its memory check reads from that limit, not the machine's.
    worker = start_worker("small", memory_limit=600 * 2**20)
    store = JobStore.from_url(redis_server.url)
    big = job_of(xorgpu("submit", "--nets", 2_000_000, "--epochs", 1, "--chunk-size", 2_000_000, "--engine", "array",
                        url=redis_server.url))
    assert "nets would take about" in failed_with(store, big)
    assert "free under its address-space limit of 600 MiB: submit with a smaller --chunk-size" in failed_with(store, big)
    small = job_of(xorgpu("submit", "--nets", 300, "--epochs", 20, "--engine", "array", url=redis_server.url))
    assert wait_for(store, small, timeout=120).state == "done" and worker.process.poll() is None


def test_a_worker_without_a_writable_results_location_does_not_start(redis_server, start_worker, tmp_path):
    (tmp_path / "a-file").write_text("")
    for location in (tmp_path / "missing" / "deeper", tmp_path / "a-file"):
        result = xorgpu("worker", url=redis_server.url, env={"XORGPU_RESULTS_URL": str(location)})
        assert "is not a folder" in one_line_error(result)
    assert not (tmp_path / "missing").exists()  # a named location is made only where its parent folder exists
    start_worker("maker", env={"XORGPU_RESULTS_URL": str(tmp_path / "named")})
    assert (tmp_path / "named").is_dir()


@pytest.mark.slow
def test_a_results_location_lost_mid_job_fails_it_with_one_line(redis_server, start_worker, tmp_path):
    location = tmp_path / "share"
    location.mkdir()
    worker = start_worker("w", env={"XORGPU_RESULTS_URL": str(location)})
    store = JobStore.from_url(redis_server.url)
    location.rmdir()  # an unmounted share
    job_id = job_of(xorgpu("submit", "--nets", 400, "--epochs", 20, "--chunk-size", 200, url=redis_server.url))
    error = failed_with(store, job_id)
    assert "cannot write chunk" in error and str(location) in error and "\n" not in error
    assert store.get_job(job_id).chunks_done == 0 and worker.process.poll() is None


@pytest.mark.slow
def test_a_full_redis_fails_the_job_after_the_workers_patience(redis_server, start_worker):
    start_worker("patient", env={"XORGPU_RECORD_PATIENCE": "3"})
    store = JobStore.from_url(redis_server.url)
    job_id = job_of(xorgpu("submit", "--nets", 30_000, "--epochs", 3000, "--engine", "array", "--chunk-size", 30_000,
                           url=redis_server.url))
    wait_until(lambda: store.get_job(job_id).state == "running", what="the chunk to start")
    redis_server.client().config_set("maxmemory", "1")  # full while the chunk trains: it cannot be recorded
    error = failed_with(store, job_id, timeout=180)
    assert "could not be recorded for 3 s: Redis is full" in error
    assert store.get_job(job_id).chunks_done == 0
    status = xorgpu("status", job_id, url=redis_server.url)
    assert "Redis is full" in status.stderr  # what every later chunk would meet, said where people look
    redis_server.client().config_set("maxmemory", "0")


@pytest.mark.slow
def test_a_job_stalled_by_a_full_redis_says_so_on_every_status_and_finishes_once_memory_is_raised(
        redis_server, start_worker):
    start_worker("patient", env={"XORGPU_RECORD_PATIENCE": "300"}, visibility_timeout=600)
    store = JobStore.from_url(redis_server.url)
    flags = ["--nets", 20_000, "--epochs", 2000, "--engine", "array", "--chunk-size", 10_000]
    job_id = job_of(xorgpu("submit", *flags, url=redis_server.url))
    wait_until(lambda: store.get_job(job_id).state == "running", what="the chunk to start")
    redis_server.client().config_set("maxmemory", "1")  # full while the chunk trains: it cannot be recorded
    wait_until(lambda: store.get_job(job_id).stalled, timeout=120, what="the worker to say why it waits")
    for _ in range(5):
        shown = xorgpu("status", job_id, url=redis_server.url)
        assert shown.exit_code == 0 and "waiting: chunk 0 is trained and waits to be recorded" in shown.stdout
        assert "Redis is full" in shown.stdout
        as_json = json.loads(xorgpu("status", job_id, "--json", url=redis_server.url).stdout)
        assert "Redis is full" in as_json["waiting"]
        time.sleep(0.5)
    redis_server.client().config_set("maxmemory", "0")
    job = wait_for(store, job_id, timeout=180)
    assert job.state == "done" and not job.stalled
    local = json.loads(xorgpu("run", *flags[:6], "--json").stdout)
    assert json.loads(xorgpu("stats", job_id, "--json", url=redis_server.url).stdout)["epochs_to_solve"] == \
        local["epochs_to_solve"]


@pytest.mark.slow
def test_a_broken_job_record_is_reported_without_breaking_the_others(redis_server, start_worker):
    start_worker("w")
    store = JobStore.from_url(redis_server.url)
    fine = job_of(xorgpu("submit", "--nets", 50, "--epochs", 20, url=redis_server.url))
    broken = job_of(xorgpu("submit", "--nets", 50, "--epochs", 20, url=redis_server.url))
    wait_for(store, fine, timeout=120)
    wait_for(store, broken, timeout=120)
    redis_server.client().hset(f"xorgpu:job:{broken}", "config", '{"hidden": "four"')
    assert "its record is broken" in one_line_error(xorgpu("status", broken, url=redis_server.url))
    listed = xorgpu("jobs", url=redis_server.url)
    assert listed.exit_code == 0 and f"{broken}  broken" in listed.stdout and f"{fine}  done" in listed.stdout
    assert json.loads(xorgpu("jobs", "--json", url=redis_server.url).stdout)[0]["state"] == "broken"
    # a worker handed a chunk of it fails it rather than training
    again = submit(store, Config(epochs=20), SeedRange(0, 50), enqueue=lambda *a: None)
    redis_server.client().hset(f"xorgpu:job:{again.id}", "chunks_total", "many")
    make_app(redis_server.url).send_task("xorgpu.train_chunk", args=[again.id, 0, 0, 50], queue="xorgpu")
    wait_until(lambda: redis_server.client().hget(f"xorgpu:job:{again.id}", "state") == b"failed",
               what="the broken job to be failed")


@pytest.mark.parametrize("sent, status, said", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_an_interrupted_submit_fails_its_job_and_names_it(redis_server, sent, status, said):
    store = JobStore.from_url(redis_server.url)
    # submitting 100,000 chunks takes seconds here: long enough to interrupt it mid-way
    command = [sys.executable, "-m", "xorgpu.cli.main", "submit", "--nets", 100_000, "--chunk-size", 1,
               "--redis-url", redis_server.url]
    submitter = subprocess.Popen([str(c) for c in command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client = redis_server.client()
    wait_until(lambda: client.llen("xorgpu") > 100, what="enqueueing to start")
    submitter.send_signal(sent)
    out, err = submitter.communicate(timeout=60)
    assert submitter.returncode == status and out == "", f"exit {submitter.returncode}, stdout {out!r}, stderr {err!r}"
    line = err.strip().splitlines()[-1]
    assert line.startswith("xorgpu: error: job ") and f"submit was {said} after" in line
    job_id = line.split()[3].rstrip(":")
    job = store.get_job(job_id)
    assert job.state == "failed" and "no chunk of this job will run" in job.error


def test_a_submit_that_lost_redis_fails_when_its_lease_runs_out(redis_server):
    store = JobStore.from_url(redis_server.url)
    job = store.create_job(Config(), SeedRange(0, 10), 5, "xorgpu", 60)  # submitting, then the submitter died
    assert store.get_job(job.id).state == "submitting"
    redis_server.client().hset(f"xorgpu:job:{job.id}", "submit_deadline", 1.0)  # its lease ran out long ago
    status = json.loads(xorgpu("status", job.id, "--json", url=redis_server.url).stdout)
    assert status["state"] == "failed" and "submit stopped before every chunk was enqueued" in status["error"]


@pytest.mark.slow
def test_workers_wait_for_a_job_to_be_fully_submitted(redis_server, start_worker):
    worker = start_worker("w")
    store = JobStore.from_url(redis_server.url)
    job = store.create_job(Config(epochs=20), SeedRange(0, 20), 10, "xorgpu", 60)
    sender = make_app(redis_server.url)
    sender.send_task("xorgpu.train_chunk", args=[job.id, 0, 0, 10], queue="xorgpu", task_id=f"{job.id}-0")
    wait_until(lambda: f"[{job.id}-0] received" in worker.log.read_text(), what="the worker to receive the chunk")
    time.sleep(1)  # a chunk of 10 nets x 20 epochs would be done in far less
    job_now = store.get_job(job.id)
    assert job_now.state == "submitting" and job_now.chunks_done == 0  # received, and held back
    sender.send_task("xorgpu.train_chunk", args=[job.id, 1, 10, 20], queue="xorgpu")
    assert store.mark_queued(job.id)
    assert wait_for(store, job.id, timeout=60).state == "done"


def test_a_worker_that_cannot_start_exits_non_zero(tmp_path):
    url = f"redis://127.0.0.1:{RedisServer(tmp_path).port}/0"  # nothing listens there
    done = subprocess.run([sys.executable, "-m", "xorgpu.cli.main", "worker", "--redis-url", url],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "cannot reach Redis" in done.stderr


def test_redis_connection_errors_are_retried_not_dropped(redis_server):
    """A store call that meets a dead Redis raises redis's error (the task retries it), it
    does not report the chunk as done."""
    store = JobStore.from_url(redis_server.url)
    job = submit(store, Config(epochs=5), SeedRange(0, 10), enqueue=lambda *a: None)
    redis_server.kill()
    from xorgpu.service import run_chunk  # noqa: PLC0415

    with pytest.raises(redis.ConnectionError):
        run_chunk(store, job.id, 0, 0, 10)


@pytest.mark.slow
def test_a_chunk_the_broker_lost_is_enqueued_again(redis_server, start_worker):
    """A message taken off the queue by a worker that died before kombu wrote it to its
    unacknowledged hash is gone; the workers' check for lost chunks enqueues it again."""
    store = JobStore.from_url(redis_server.url)
    config = Config(epochs=300, lr=1.0)
    job = submit(store, config, SeedRange(0, 400), enqueue=chunk_sender(redis_server.url), chunk_size=100)
    popped = json.loads(store.client.rpop("xorgpu"))  # the dead worker's pop: the oldest message, chunk 0
    assert popped["headers"]["id"] == f"{job.id}-0"
    worker = start_worker("healer", env={"XORGPU_LOST_CHUNK_CHECK": "1"})
    done = wait_for(store, job.id, timeout=60, poll=0.2)
    assert done.state == "done" and done.nets_done == 400
    results, summary = prepare(config, RunOptions(backend="numpy")).train(SeedRange(0, 400))
    assert store.summary(done).report(config) == summary.report(config)
    log = worker.log.read_text()
    assert f"job {job.id}: chunk 0 left the queue but reached no worker" in log
    assert log.count(f"train_chunk[{job.id}-0] received") == 1  # enqueued once more, not once per check


@pytest.mark.slow
def test_a_chunk_a_worker_holds_is_never_taken_for_lost(redis_server, start_worker):
    """While a worker trains a long chunk (held, unacknowledged) the checks run, find
    another job's lost chunk and enqueue it again, and leave the held one alone."""
    worker = start_worker("patient", env={"XORGPU_LOST_CHUNK_CHECK": "1"})
    store = JobStore.from_url(redis_server.url)
    held = submit(store, Config(epochs=40_000), SeedRange(0, 1500), enqueue=chunk_sender(redis_server.url),
                  chunk_size=1500, options=RunOptions(engine="array", backend="numpy"))  # one chunk, seconds long
    wait_until(lambda: f"train_chunk[{held.id}-0] received" in worker.log.read_text(), what="the long chunk to start")
    lost = submit(store, Config(epochs=50), SeedRange(0, 100), enqueue=chunk_sender(redis_server.url))
    assert json.loads(store.client.rpop("xorgpu"))["headers"]["id"] == f"{lost.id}-0"
    assert wait_for(store, lost.id, timeout=120, poll=0.2).state == "done"
    assert wait_for(store, held.id, timeout=120, poll=0.2).state == "done"
    log = worker.log.read_text()
    assert f"job {lost.id}: chunk 0 left the queue but reached no worker" in log
    assert log.index(f"job {lost.id}: chunk 0 left") < log.index(f"train_chunk[{held.id}-0] succeeded")
    assert f"job {held.id}: chunk" not in log and log.count(f"train_chunk[{held.id}-0] received") == 1


@pytest.mark.slow
def test_a_chunk_whose_worker_process_keeps_dying_fails_its_job_and_the_worker_lives_on(redis_server, start_worker):
    """The kernel's OOM killer, or any SIGKILL, ending the pool process that trains a chunk:
    Celery puts the chunk back, and without a count every worker would take it and die in
    turn, forever. At the third death (XORGPU_CHUNK_DEATHS) its job fails, saying why."""
    from .test_processes import descendants  # noqa: PLC0415

    worker = start_worker("doomed", env={"XORGPU_CHUNK_DEATHS": "3"})
    store = JobStore.from_url(redis_server.url)
    job_id = job_of(xorgpu("submit", "--nets", 50_000, "--epochs", 100_000, "--chunk-size", 50_000,
                           "--engine", "array", url=redis_server.url))
    killed = set()
    for _ in range(3):
        def training_pid():  # the pool process that holds the chunk now (a new one after each death)
            job = store.get_job(job_id)
            pids = descendants(worker.process.pid) - killed
            return next(iter(pids), None) if job.state == "running" and pids else None

        pid = wait_until(training_pid, timeout=60, what="the chunk to be trained")
        time.sleep(1)  # well into its training
        os.kill(pid, signal.SIGKILL)
        killed.add(pid)
    error = failed_with(store, job_id, timeout=60)
    assert "was killed 3 times while training it (by the kernel, out of memory?) on doomed@" in error
    assert worker.process.poll() is None
    small = job_of(xorgpu("submit", "--nets", 300, "--epochs", 20, url=redis_server.url))
    assert wait_for(store, small, timeout=120).state == "done"
    assert redis_server.client().llen("xorgpu") == 0  # the chunk went back to no queue


@pytest.mark.slow
def test_a_worker_in_a_memory_cgroup_refuses_a_chunk_too_large_for_it_and_lives_on(redis_server, start_worker):
    """A container's memory limit, not the host's free memory, decides: the chunk fails its
    job with the reason before anything is allocated, instead of the kernel killing the
    worker's process again and again."""
    cgroup = memory_cgroup(500 << 20, "worker")  # the worker starts in about 250 MB; the chunk needs 450 MB more
    if cgroup is None:
        pytest.skip("no memory cgroup can be made here (not root, or no writable memory controller)")
    try:
        worker = start_worker("contained", cgroup=cgroup)
        store = JobStore.from_url(redis_server.url)
        started = time.monotonic()
        big = job_of(xorgpu("submit", "--nets", 2_000_000, "--epochs", 1, "--chunk-size", 2_000_000, "--engine",
                            "array", url=redis_server.url))
        error = failed_with(store, big)
        assert "free under its cgroup's limit of 500 MiB: submit with a smaller --chunk-size" in error, error
        assert time.monotonic() - started < 60 and worker.process.poll() is None
        small = job_of(xorgpu("submit", "--nets", 300, "--epochs", 20, url=redis_server.url))
        assert wait_for(store, small, timeout=120).state == "done"
    finally:
        worker.stop()
        remove_cgroup(cgroup)


@pytest.mark.slow
def test_a_full_redis_stops_no_worker_and_every_client_says_so(redis_server, tmp_path):
    """A worker started while Redis is at its maxmemory waits for memory instead of exiting
    (with status 0, as it did); clients say "Redis is full" in one line; once memory is
    raised, the worker serves the next job."""
    from .service_helpers import Worker  # noqa: PLC0415

    client = redis_server.client()
    client.config_set("maxmemory", "1")
    submitted = xorgpu("submit", "--nets", 10, url=redis_server.url)
    assert "Redis is full (used memory at its maxmemory)" in one_line_error(submitted)
    worker = Worker(redis_server.url, "patient", tmp_path)
    try:
        time.sleep(7)  # a few of its tries to reach Redis (workers/transport.py: FULL_REDIS_PAUSE)
        assert worker.process.poll() is None, worker.log.read_text()[-2000:]
        assert b" ready." not in worker.log.read_bytes()  # it cannot take chunks: it waits
        client.config_set("maxmemory", "0")
        worker.wait_ready(timeout=60)
        store = JobStore.from_url(redis_server.url)
        job_id = job_of(xorgpu("submit", "--nets", 300, "--epochs", 20, url=redis_server.url))
        assert wait_for(store, job_id, timeout=120).state == "done"
        client.config_set("maxmemory", "1")  # full again under a running worker: it waits, and lives
        time.sleep(7)  # a few of its tries to reach Redis (workers/transport.py: FULL_REDIS_PAUSE)
        assert worker.process.poll() is None
        client.config_set("maxmemory", "0")
        again = job_of(xorgpu("submit", "--nets", 300, "--epochs", 20, url=redis_server.url))
        assert wait_for(store, again, timeout=120).state == "done"
        assert "Unrecoverable error" not in worker.log.read_text()
    finally:
        client.config_set("maxmemory", "0")
        worker.stop()
