"""The service end to end: real redis-server, real Celery worker processes, the real CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from xorgpu.config import Config, RunOptions, SeedRange
from xorgpu.experiment import prepare
from xorgpu.results_store import ResultsStore
from xorgpu.service import _forget_unless_recorded, job_results, run_chunk, submit, wait_for
from xorgpu.store import JobStore
from xorgpu.workers.recovery import held_task_ids

from .service_helpers import RedisServer, job_trained_here, one_line_error, wait_until, xorgpu

XORGPU = [sys.executable, "-m", "xorgpu.cli.main"]

pytestmark = pytest.mark.timeout(420)


ARRAY = RunOptions(backend="numpy", engine="array")


def local_report(config: Config, seeds: SeedRange, options: RunOptions) -> tuple[dict, object]:
    results, summary = prepare(config, options).train(seeds)
    return summary.report(config), results


def assert_every_net_once(store: JobStore, job_id: str, config: Config, seeds: SeedRange,
                          options: RunOptions = ARRAY, leftovers: frozenset[str] = frozenset()) -> None:
    """Every seed once, equal to a local run, in Redis's counts, statistics and in the
    results files; and the results folder holds the recorded files and nothing else (but
    `leftovers`, files a test left there on purpose)."""
    job = store.get_job(job_id)
    assert job.state == "done"
    assert job.nets_done == len(seeds) and job.chunks_done == job.chunks_total
    assert sorted(store.chunk_records(job_id)) == list(range(job.chunks_total))
    expected_report, expected = local_report(config, seeds, options)
    results_store = ResultsStore(os.environ["XORGPU_RESULTS_URL"])
    got = job_results(store, results_store, job)
    recorded = {chunk.path.split("/")[1] for _, chunk in store.chunk_files(job)}
    assert {p.name for p in (Path(results_store.root) / job_id).iterdir()} == recorded | leftovers
    assert got.seeds.tolist() == list(range(seeds.start, seeds.stop))
    np.testing.assert_array_equal(got.outputs, expected.outputs)
    np.testing.assert_array_equal(got.epochs_to_solve, expected.epochs_to_solve)
    report = xorgpu("stats", job_id, "--json", url=store.url)
    assert {k: v for k, v in json.loads(report.stdout).items() if k not in ("job_id", "state", "provenance")} == expected_report


@pytest.mark.slow
def test_chunk_records_say_who_trained_them(redis_server, start_worker):
    start_worker("w1")
    start_worker("w2")
    store = JobStore.from_url(redis_server.url)
    job_id = json.loads(xorgpu("submit", "--nets", 16000, "--epochs", 300, "--chunk-size", 1000,
                               "--engine", "array", "--json", url=redis_server.url).stdout)["job_id"]
    wait_for(store, job_id, timeout=300)
    records = store.chunk_records(job_id).values()
    assert {r["worker"].split("@")[0] for r in records} == {"w1", "w2"}  # both shared the job
    assert all(r["backend"] == "numpy" and r["device"].startswith("cpu") and r["host"] for r in records)
    assert_every_net_once(store, job_id, Config(epochs=300), SeedRange(0, 16000))


def submit_and_wait_for_two_chunks(store: JobStore) -> str:
    """Submit 12,000 nets x 2000 epochs in 8 chunks; return once 2 chunks are in.

    The array engine keeps each chunk near a second here, so the job is surely mid-way.
    """
    job_id = json.loads(xorgpu("submit", "--nets", 12000, "--epochs", 2000, "--chunk-size", 1500,
                               "--engine", "array", "--json", url=store.url).stdout)["job_id"]
    wait_until(lambda: store.get_job(job_id).chunks_done >= 2, timeout=120, what="two chunks")
    return job_id


# The check for lost chunks (workers/recovery.py) would also bring back a chunk that no
# worker holds; put off for an hour here, only acks_late redelivery can.
ONLY_REDELIVERY = {"XORGPU_LOST_CHUNK_CHECK": "3600"}


@pytest.mark.slow
def test_sigkilled_worker_loses_nothing_and_counts_nothing_twice(redis_server, start_worker):
    """The chunk a SIGKILLed worker held stays unacknowledged (acks_late) and comes back to
    another worker after the visibility timeout; nothing is lost or counted twice."""
    doomed = start_worker("doomed", visibility_timeout=5, env=ONLY_REDELIVERY)
    store = JobStore.from_url(redis_server.url)
    config = Config(epochs=2000)
    job_id = submit_and_wait_for_two_chunks(store)
    time.sleep(0.4)  # mid-chunk
    doomed.kill()
    assert store.get_job(job_id).state == "running"
    held = held_task_ids(redis_server.client())
    assert any(task.startswith(job_id) for task in held), held  # its chunk, delivered but not acknowledged
    start_worker("fresh", visibility_timeout=5, env=ONLY_REDELIVERY)
    wait_for(store, job_id, timeout=300)
    assert_every_net_once(store, job_id, config, SeedRange(0, 12000))


def test_a_chunk_delivered_twice_counts_once(redis_server, results_location):
    store = JobStore.from_url(redis_server.url)
    config = Config(epochs=200)
    job = submit(store, config, SeedRange(0, 300), enqueue=lambda *args: None, chunk_size=100)
    first = run_chunk(store, job.id, 1, 100, 200)
    again = run_chunk(store, job.id, 1, 100, 200)
    assert first["counted"] is True and again["skipped"] == "duplicate"
    # Two deliveries that both trained and wrote their files before either recorded: the
    # store counts one, and the other's file is deleted.
    results, summary = prepare(config, RunOptions(backend="numpy")).train(SeedRange(200, 300))
    files = [results_location.write_chunk(job.id, 2, SeedRange(200, 300), config, results) for _ in range(2)]
    made = {"engine": "array", "backend": "numpy", "device": "cpu", "worker": "w", "host": "h"}
    records = [{"seeds": "200:300", **f.to_record(), **made} for f in files]
    assert store.record_chunk(job, 2, records[0], summary, made) is True
    assert store.record_chunk(job, 2, records[1], summary, made) is False
    _forget_unless_recorded(store, results_location, job, 2, files[0])  # it was recorded: kept
    _forget_unless_recorded(store, results_location, job, 2, files[1])  # it was not: deleted
    job = store.get_job(job.id)
    assert (job.chunks_done, job.nets_done, job.state) == (2, 200, "running")
    run_chunk(store, job.id, 0, 0, 100)
    assert_every_net_once(store, job.id, config, SeedRange(0, 300), RunOptions(backend="numpy"))


def test_files_of_a_worker_killed_while_writing_or_before_recording_never_count(redis_server, results_location):
    store = JobStore.from_url(redis_server.url)
    config = Config(epochs=200)
    job = submit(store, config, SeedRange(0, 200), enqueue=lambda *args: None, chunk_size=100)
    # A worker SIGKILLed halfway through writing chunk 0's file: half its bytes, under the
    # temporary name the file is written to.
    doomed = Path(results_location.root) / job.id / "chunk-000000-0badc0de.parquet"
    doomed.parent.mkdir()
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from xorgpu.config import Config, RunOptions, SeedRange
        from xorgpu.experiment import prepare
        from xorgpu.files import written_atomically
        from xorgpu.results_store import chunk_bytes
        results = prepare(Config(epochs=200), RunOptions(backend="numpy")).train(SeedRange(0, 100))[0]
        data = chunk_bytes("{job.id}", 0, SeedRange(0, 100), Config(epochs=200), results)
        with written_atomically("{doomed}") as handle:
            handle.write(data[: len(data) // 2])
            handle.flush()
            print("half written", flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "half written"
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    partial = [p.name for p in doomed.parent.iterdir()]
    assert len(partial) == 1 and partial[0].endswith(".part") and not doomed.exists()
    # A worker killed after its file was complete but before Redis recorded it.
    results, _ = prepare(config, RunOptions(backend="numpy")).train(SeedRange(100, 200))
    orphan = results_location.write_chunk(job.id, 1, SeedRange(100, 200), config, results).path.split("/")[1]
    assert store.get_job(job.id).chunks_done == 0  # neither counts
    for index, chunk in enumerate(job.chunks()):  # the chunks' redeliveries
        run_chunk(store, job.id, index, chunk.start, chunk.stop)
    assert_every_net_once(store, job.id, config, SeedRange(0, 200), RunOptions(backend="numpy"),
                          leftovers=frozenset({partial[0], orphan}))


@pytest.mark.slow
def test_job_survives_a_redis_restart_from_its_aof(redis_server, start_worker):
    start_worker("steady", visibility_timeout=5, env=ONLY_REDELIVERY)
    store = JobStore.from_url(redis_server.url)
    config = Config(epochs=2000)
    job_id = submit_and_wait_for_two_chunks(store)
    redis_server.stop()
    redis_server.start()
    wait_for(store, job_id, timeout=300)
    assert_every_net_once(store, job_id, config, SeedRange(0, 12000))


@pytest.mark.slow
def test_cancel_stops_remaining_chunks(redis_server, start_worker, tmp_path):
    start_worker("w")
    store = JobStore.from_url(redis_server.url)
    job_id = xorgpu("submit", "--nets", 40000, "--epochs", 1000, "--chunk-size", 1000, "--engine", "array",
                    url=redis_server.url).stdout.strip()
    wait_until(lambda: store.get_job(job_id).chunks_done >= 1, what="a first chunk")
    cancelled = xorgpu("cancel", job_id, url=redis_server.url)
    assert cancelled.exit_code == 0 and "cancelled" in cancelled.stdout
    done_then = store.get_job(job_id).chunks_done
    wait_until(lambda: redis_server.client().llen("xorgpu") == 0, what="the worker to drain the queue")
    job = store.get_job(job_id)
    assert job.state == "cancelled" and job.chunks_done <= done_then + 1 < job.chunks_total
    status = json.loads(xorgpu("status", job_id, "--json", url=redis_server.url).stdout)
    assert status["state"] == "cancelled"
    waited = xorgpu("results", job_id, "--out", tmp_path / "never.npz", url=redis_server.url)
    assert waited.exit_code == 1 and "cancelled" in waited.stderr and not (tmp_path / "never.npz").exists()


@pytest.mark.slow
def test_jobs_expire_after_their_ttl_once_they_end_and_never_while_they_wait(redis_server):
    job_id = xorgpu("submit", "--nets", 10, "--ttl", 1, url=redis_server.url).stdout.strip()
    time.sleep(2.2)  # no worker: queued past its ttl, and still there
    assert "queued" in xorgpu("status", job_id, url=redis_server.url).stdout
    assert xorgpu("cancel", job_id, url=redis_server.url).exit_code == 0
    assert xorgpu("status", job_id, url=redis_server.url).exit_code == 1  # cancelled, shown
    time.sleep(2.2)
    gone = xorgpu("status", job_id, url=redis_server.url)
    assert gone.exit_code == 1 and "unknown job" in gone.stderr
    assert job_id not in xorgpu("jobs", url=redis_server.url).stdout
    assert not [k for k in redis_server.client().keys("xorgpu:*") if job_id.encode() in k]


def test_pickle_messages_are_refused(redis_server, start_worker):
    worker = start_worker("strict")
    store = JobStore.from_url(redis_server.url)
    job = submit(store, Config(epochs=10), SeedRange(0, 10), enqueue=lambda *args: None)
    from xorgpu.workers.app import make_app  # noqa: PLC0415

    make_app(redis_server.url).send_task("xorgpu.train_chunk", args=[job.id, 0, 0, 10],
                                         serializer="pickle", queue="xorgpu")
    wait_until(lambda: redis_server.client().llen("xorgpu:dead-letters") == 1, what="the dead letter")
    assert b"'application/x-python-serialize' is not application/json" in worker.log.read_bytes()
    assert store.get_job(job.id).chunks_done == 0


def test_password_problems_are_one_line(tmp_path):
    server = RedisServer(tmp_path, password="s3cret").start()
    try:
        wrong = one_line_error(xorgpu("jobs", url=server.url.replace("s3cret", "nope")))
        assert "refused the password" in wrong and "nope" not in wrong
        missing = one_line_error(xorgpu("jobs", url=server.url.replace(":s3cret@", "")))
        assert "needs a password" in missing
        assert xorgpu("jobs", url=server.url).exit_code == 0
    finally:
        server.stop()


def test_plot_a_job_with_its_loss_bands(redis_server, tmp_path):
    store = JobStore.from_url(redis_server.url)
    config = Config(epochs=1000, sample_every=100)
    job = job_trained_here(store.url, config, SeedRange(0, 400), 200)
    result = xorgpu("plot", job.id, "--out", tmp_path / "figures", url=redis_server.url)
    assert result.exit_code == 0, result.output
    names = {line.rsplit("/", 1)[1] for line in result.stdout.splitlines()}
    assert names == {f"{n}.{ext}" for n in ("epochs_to_solve_ecdf", "final_loss_histogram", "loss_bands",
                                            "decision_boundaries") for ext in ("png", "svg")}


def test_job_report_renders_in_a_browser_with_its_figures(redis_server, tmp_path, browser):
    store = JobStore.from_url(redis_server.url)
    job = job_trained_here(store.url, Config(epochs=800, lr=1.0, sample_every=100), SeedRange(0, 300), 150)
    page = tmp_path / "job.html"
    result = xorgpu("report", job.id, "-o", page, url=redis_server.url)
    assert result.exit_code == 0, result.output
    rendered = browser(page)
    assert rendered.console_errors() == []
    assert rendered.figures_drawn == rendered.figures_on_page == 4  # ECDF, loss histogram, loss bands, boundaries
    expected, _ = local_report(Config(epochs=800, lr=1.0, sample_every=100), SeedRange(0, 300), RunOptions())
    assert f"of the nets solved XOR ({expected['solved']:,} of 300)" in rendered.text
    assert job.id in rendered.text and "seeds 0:300" in rendered.text


def test_chunk_messages_are_the_ones_celery_sends(redis_server):
    """submit builds chunk messages from one Celery message (workers/app.py chunk_message):
    each must equal what Celery's own send_task would push for that chunk."""
    from xorgpu.workers.app import chunk_sender, make_app  # noqa: PLC0415
    from xorgpu.workers.messages import why_unreadable  # noqa: PLC0415

    client = redis_server.client()
    make_app(redis_server.url).send_task("xorgpu.train_chunk", args=["0123456789ab", 5, 500, 600], queue="q1",
                                         task_id="0123456789ab-5")
    celery_sent = json.loads(client.rpop("q1"))
    chunk_sender(redis_server.url)("0123456789ab", [(4, SeedRange(400, 500)), (5, SeedRange(500, 600))], "q1")
    ours = [json.loads(raw) for raw in reversed(client.lrange("q1", 0, -1))]  # in the order pushed
    assert [m["headers"]["id"] for m in ours] == ["0123456789ab-4", "0123456789ab-5"]
    assert all(why_unreadable(json.dumps(m).encode()) is None for m in ours)
    assert ours[0]["properties"]["delivery_tag"] != ours[1]["properties"]["delivery_tag"]

    def without_instance_ids(message):  # the sending app's reply queue, and a random tag per message
        properties = {k: v for k, v in message["properties"].items() if k not in ("reply_to", "delivery_tag")}
        return {**message, "properties": properties}

    assert without_instance_ids(ours[1]) == without_instance_ids(celery_sent)


@pytest.mark.slow
def test_a_million_net_job_keeps_results_out_of_redis(redis_server, start_worker, tmp_path):
    """1e6 nets through two workers: Redis grows by at most 2 bytes a net, the results file
    holds every seed once, and the statistics equal `run` of the same spec."""
    for name in ("a", "b"):
        start_worker(name)
    client = redis_server.client()
    before = client.info("memory")["used_memory"]
    spec = ["--nets", 1_000_000, "--epochs", 20, "--hidden", 2, "--lr", 2, "--engine", "array"]
    job_id = xorgpu("submit", *spec, "--chunk-size", 50_000, url=redis_server.url).stdout.strip()
    store = JobStore.from_url(redis_server.url)
    assert wait_for(store, job_id, timeout=300).state == "done"
    grown = client.info("memory")["used_memory"] - before
    assert grown / 1_000_000 <= 2 and store.bytes_per_net(store.get_job(job_id)) <= 2
    out = tmp_path / "job.parquet"
    assert xorgpu("results", job_id, "-o", out, url=redis_server.url).exit_code == 0
    import pyarrow.parquet as pq  # noqa: PLC0415

    np.testing.assert_array_equal(pq.read_table(out, columns=["seed"]).column("seed").to_numpy(), np.arange(1_000_000))
    local = json.loads(xorgpu("run", *spec, "--json").stdout)
    stored = json.loads(pq.read_schema(out).metadata[b"xorgpu"])["statistics"]
    skip = ("job_id", "state", "provenance")
    assert {k: v for k, v in stored.items() if k not in skip} == {k: v for k, v in local.items() if k not in skip}


@pytest.mark.slow
def test_waiting_clients_ride_out_a_redis_restart(redis_server, start_worker):
    """submit --wait, status --watch and sweep --submit, waiting while Redis is stopped and
    started again from its AOF: each says it lost Redis and that it is back, and goes on."""
    start_worker("steady", visibility_timeout=30)
    url = redis_server.url
    flags = ["--nets", "30000", "--epochs", "2000", "--chunk-size", "3000", "--engine", "array"]
    waiting = subprocess.Popen([*XORGPU, "submit", *flags, "--wait", "--json", "--redis-url", url],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    store = JobStore.from_url(url)
    job_id = wait_until(lambda: next(iter(store.job_ids(1)), None), what="the job")
    watching = subprocess.Popen([*XORGPU, "status", job_id, "--watch", "--redis-url", url],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sweeping = subprocess.Popen([*XORGPU, "sweep", "--nets", "2000", "--hidden", "2,3", "--epochs", "2000", "--submit",
                                 "--engine", "array", "-o", str(redis_server.folder / "s.jsonl"), "--redis-url", url],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: store.get_job(job_id).chunks_done >= 1, timeout=120, what="a first chunk")
    redis_server.stop()
    time.sleep(3)  # every client meets the outage
    redis_server.start()
    printed = {}
    for name, process in (("submit", waiting), ("status", watching), ("sweep", sweeping)):
        printed[name], stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        assert "lost Redis" in stderr and "waiting for it to come back" in stderr and "Redis is back after" in stderr
    assert json.loads(printed["submit"])["nets"] == 30000
