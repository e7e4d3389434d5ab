"""The job store against a real redis-server: states, leases, broken records, a full Redis."""

from __future__ import annotations

import json

import pytest
import redis

from xorgpu.config import Config, ConfigError, SeedRange
from xorgpu.settings import MAX_CHUNKS
from xorgpu.store import BrokenJob, JobStore, UnknownJob


@pytest.fixture
def store(redis_server):
    return JobStore.from_url(redis_server.url)


def test_a_job_is_submitting_until_queued(store):
    job = store.create_job(Config(), SeedRange(0, 10), 4, "xorgpu", 60)
    assert job.state == "submitting" and job.chunks_total == 3
    assert [str(c) for c in job.chunks()] == ["0:4", "4:8", "8:10"]
    assert store.mark_queued(job.id) and store.get_job(job.id).state == "queued"
    assert not store.mark_queued(job.id)  # only from submitting


def test_a_submit_lease_that_runs_out_fails_the_job(store, redis_server):
    job = store.create_job(Config(), SeedRange(0, 10), 5, "xorgpu", 60)
    store.renew_lease(job.id)
    assert store.get_job(job.id).state == "submitting"  # within its lease
    redis_server.client().hset(f"xorgpu:job:{job.id}", "submit_deadline", 1.0)
    failed = store.get_job(job.id)
    assert failed.state == "failed" and "submit stopped" in failed.error
    assert not store.mark_queued(job.id)


@pytest.mark.parametrize("index", [-1, 3, 1.0, True, "0"])
def test_a_chunk_index_outside_the_job_is_refused(store, index):
    job = store.create_job(Config(), SeedRange(0, 10), 4, "xorgpu", 60)
    with pytest.raises(ConfigError, match="has chunks 0 to 2"):
        job.chunk(index)


@pytest.mark.parametrize("nets, chunk_size, ttl, message", [
    (MAX_CHUNKS + 1, 1, 60, "chunks: at most"),
    (10, 0, 60, "chunk size"),
    (10, 1, 0, "ttl"),
    (10, 1, 10**17, "ttl"),
])
def test_jobs_beyond_the_limits_are_refused(store, nets, chunk_size, ttl, message):
    with pytest.raises(ConfigError, match=message):
        store.create_job(Config(), SeedRange(0, nets), chunk_size, "xorgpu", ttl)
    assert not store.client.keys("xorgpu:job:*")


@pytest.mark.parametrize("field, value", [
    ("config", "{not json"), ("config", '{"hidden": 0}'), ("config", "null"), ("seeds", "9:3"),
    ("chunks_total", "many"), ("chunks_total", "7"), ("state", "exploded"), ("options", "[]"),
])
def test_a_broken_record_is_reported_as_broken(store, redis_server, field, value):
    job = store.create_job(Config(), SeedRange(0, 10), 5, "xorgpu", 60)
    other = store.create_job(Config(), SeedRange(0, 10), 5, "xorgpu", 60)
    redis_server.client().hset(f"xorgpu:job:{job.id}", field, value)
    with pytest.raises(BrokenJob, match=f"job {job.id}: its record is broken"):
        store.get_job(job.id)
    listed = store.recent_jobs()
    assert {getattr(j, "id", None) or j.job_id for j in listed} == {job.id, other.id}
    assert any(isinstance(j, BrokenJob) for j in listed)
    assert store.fail(job.id, "its record is broken")  # a worker can still end it


def test_unknown_and_malformed_ids_are_unknown_jobs(store):
    for job_id in ("0123456789ab", "nosuchjob", "x" * 5000, "../../etc"):
        with pytest.raises(UnknownJob):
            store.get_job(job_id)


def test_a_job_can_be_failed_when_redis_is_full(store, redis_server):
    job = store.create_job(Config(), SeedRange(0, 10), 5, "xorgpu", 60)
    store.mark_queued(job.id)
    redis_server.client().config_set("maxmemory", "1")  # every write that could grow memory is refused
    with pytest.raises(redis.OutOfMemoryError, match="maxmemory"):
        store.mark_running(job.id)
    assert store.fail(job.id, "chunk 0 could not be recorded: Redis is full")
    redis_server.client().config_set("maxmemory", "0")
    assert store.get_job(job.id).state == "failed"


def test_damaged_statistics_are_a_broken_job_not_a_crash(store, redis_server):
    job = store.create_job(Config(epochs=5), SeedRange(0, 4), 4, "xorgpu", 60)
    redis_server.client().hset(f"xorgpu:job:{job.id}:summary", "epochs_to_solve:many", 3)
    with pytest.raises(BrokenJob, match="its statistics are broken"):
        store.summary(job)


def test_a_chunk_record_without_a_file_is_a_broken_job(store, redis_server):
    job = store.create_job(Config(epochs=5), SeedRange(0, 4), 4, "xorgpu", 60)
    redis_server.client().hset(f"xorgpu:job:{job.id}:chunks", 0, '{"seeds": "0:4"}')
    with pytest.raises(BrokenJob, match="names no results file"):
        store.chunk_files(job)


def redis_work(client) -> tuple[int, int]:
    """Commands the server has run so far, and bytes it has sent (the INFOs that ask included)."""
    return (sum(stats["calls"] for stats in client.info("commandstats").values()),
            client.info("stats")["total_net_output_bytes"])


def test_status_and_stats_cost_the_same_at_10_chunks_as_at_1000(store, redis_server):
    """They read the job's merged summary, never each chunk: the same Redis commands, and the
    same bytes from Redis, whatever the number of chunks; and the summary is the chunks' sum."""
    from xorgpu.config import RunOptions
    from xorgpu.experiment import prepare

    from .service_helpers import xorgpu

    config = Config(epochs=40, lr=1.0)
    _, summary = prepare(config, RunOptions(backend="numpy")).train(SeedRange(0, 10))  # one chunk's statistics
    made = {"engine": "array", "backend": "numpy", "device": "cpu", "worker": "w", "host": "h"}
    client, cost = redis_server.client(), {}
    for chunks in (10, 1000):
        job = store.create_job(config, SeedRange(0, 10 * chunks), 10, "xorgpu", 600)
        for index in range(chunks):
            record = {"file": f"{job.id}/chunk-{index:06d}-00000000.parquet", "rows": 10, "sha256": "0" * 64,
                      "bytes": 1, "seeds": str(job.chunk(index))}
            assert store.record_chunk(job, index, record, summary, made)
        for command in ("status", "stats"):
            before = redis_work(client)
            shown = xorgpu(command, job.id, "--json", url=store.url)
            assert shown.exit_code == 0, shown.output
            after = redis_work(client)
            cost[chunks, command] = (after[0] - before[0], after[1] - before[1])
        report = json.loads(xorgpu("stats", job.id, "--json", url=store.url).stdout)
        assert report["nets"] == 10 * chunks and report["solved"] == chunks * summary.report(config)["solved"]
    for command in ("status", "stats"):
        assert cost[10, command][0] == cost[1000, command][0], cost
        assert abs(cost[10, command][1] - cost[1000, command][1]) < 2000, cost  # more digits in the counts
    # (one HGETALL of the 1000 chunk records alone would be over 100 kB more)


BAD_RECORDS = {  # what a broken or foreign job record can hold, and what status says of it
    "created is nan": (lambda c, key: c.hset(key, "created", "nan"), "created"),
    "created is 1e300": (lambda c, key: c.hset(key, "created", "1e300"), "created"),
    "finished is inf": (lambda c, key: c.hset(key, "finished", "inf"), "finished"),
    "a deadline that is not a number": (lambda c, key: (c.hset(key, "state", "submitting"),
                                                         c.hset(key, "submit_deadline", "soon")), "submit_deadline"),
    "a list under the job's name": (lambda c, key: (c.delete(key), c.rpush(key, "x")), "not a job record"),
    "a string under the job's name": (lambda c, key: (c.delete(key), c.set(key, "x")), "not a job record"),
    "a list under its chunks": (lambda c, key: c.rpush(key + ":chunks", "x"), None),  # its hash reads well
}


@pytest.mark.parametrize("damage, said", BAD_RECORDS.values(), ids=BAD_RECORDS.keys())
def test_one_bad_record_breaks_no_listing_and_no_check_of_the_others(store, redis_server, damage, said):
    """`jobs` and the workers' lost-chunk check skip a record they cannot read (saying which)
    and go on with the rest; `status` of that job is one line."""
    from xorgpu.workers.recovery import LostChunkSweeper  # noqa: PLC0415

    bad = store.create_job(Config(), SeedRange(0, 10), 5, "xorgpu", 60)
    good = store.create_job(Config(), SeedRange(0, 10), 5, "xorgpu", 60)
    for job in (bad, good):
        store.mark_queued(job.id)
    damage(redis_server.client(), f"xorgpu:job:{bad.id}")
    listed = {getattr(j, "id", None) or j.job_id: j for j in store.recent_jobs()}
    assert set(listed) == {bad.id, good.id}
    if said is not None:
        with pytest.raises(BrokenJob, match=f"job {bad.id}: .*{said}"):
            store.get_job(bad.id)
        assert isinstance(listed[bad.id], BrokenJob)
        assert [job.id for job in store.jobs_in_states(["queued"])] == [good.id]
    sent = []
    sweeper = LostChunkSweeper(store, lambda job_id, chunks, queue: sent.append((job_id, len(chunks))), interval=1)
    assert sweeper.sweep(now=0.0) == {}  # suspects: neither queued nor held nor recorded
    redis_server.client().delete("xorgpu:lost-chunk-check")  # the check's lock, as it expires between checks
    assert sweeper.sweep(now=1.0) == {good.id: [0, 1]}  # still lost: sent again
    assert sent == [(good.id, 2)]
