"""Jobs and their chunk results in Redis: the one place that knows the key layout.

Keys (all under `xorgpu:`, all expiring `ttl` seconds after the job's last write):
    xorgpu:job:<id>          hash: config, seeds, chunk_size, chunks_total, nets_total, queue,
                             created, started, finished, state, chunks_done, nets_done, ttl, error
    xorgpu:job:<id>:chunks   hash: chunk index -> JSON record (statistics, host, backend, device)
    xorgpu:job:<id>:results  hash: chunk index -> per-net results (.npz bytes)
    xorgpu:jobs              sorted set: job id by creation time

A chunk is recorded by one Lua script (atomic in Redis): it writes the chunk only if that
index is not there yet and counts it in the same step, so a redelivered or duplicated
chunk never counts twice, and a crash can never leave a chunk half-counted.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from .config import Config, ConfigError, SeedRange
from .results import NetResults

PREFIX = "xorgpu"
DEFAULT_REDIS_URL = "redis://localhost:6379/0"
FINAL_STATES = ("done", "failed", "cancelled")

_RECORD_CHUNK = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
local done = redis.call('HINCRBY', KEYS[1], 'chunks_done', 1)
redis.call('HINCRBY', KEYS[1], 'nets_done', ARGV[4])
local state = redis.call('HGET', KEYS[1], 'state')
if done == tonumber(redis.call('HGET', KEYS[1], 'chunks_total'))
   and state ~= 'cancelled' and state ~= 'failed' then
  redis.call('HSET', KEYS[1], 'state', 'done', 'finished', ARGV[5])
end
local ttl = redis.call('HGET', KEYS[1], 'ttl')
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ttl) end
return 1
"""

class ServiceError(Exception):
    """A service problem for the user (unreachable Redis, unknown job); one line."""


@dataclass(frozen=True)
class Job:
    id: str
    config: Config
    seeds: SeedRange
    chunk_size: int
    chunks_total: int
    queue: str
    created: float
    state: str
    chunks_done: int
    nets_done: int
    started: float | None
    finished: float | None
    error: str

    @property
    def nets_total(self) -> int:
        return len(self.seeds)

    def chunks(self) -> list[SeedRange]:
        return self.seeds.split(self.chunk_size)


class JobStore:
    def __init__(self, client: redis.Redis, url: str = "") -> None:
        self.client = client
        self.url = url
        self._record_chunk = client.register_script(_RECORD_CHUNK)

    @classmethod
    def from_url(cls, url: str, patient: bool = False) -> JobStore:
        """Connect, and check the connection now so a user hears of a problem at once.

        patient: retry failed commands for about a minute (workers use this, to ride out a
        Redis restart without failing the chunk in hand); the CLI fails fast instead.
        """
        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=3)
        except ValueError as error:
            raise ServiceError(f"bad Redis URL {redact(url)!r}: {error}") from None
        cls(client, url).ping()
        if patient:
            client = redis.Redis.from_url(
                url, socket_connect_timeout=3,
                retry=Retry(ExponentialBackoff(cap=2.0, base=0.1), retries=30),
                retry_on_error=[redis.ConnectionError, redis.TimeoutError],
            )
        return cls(client, url)

    def ping(self) -> None:
        where = redact(self.url)
        try:
            self.client.ping()
        except (redis.AuthenticationError, redis.ResponseError) as error:
            if urlsplit(self.url).password is None and "auth" in str(error).lower():
                raise ServiceError(f"Redis at {where} needs a password: put it in the URL") from None
            if isinstance(error, redis.AuthenticationError) or "WRONGPASS" in str(error):
                raise ServiceError(f"Redis at {where} refused the password") from None
            raise ServiceError(f"Redis at {where}: {_first_line(error)}") from None
        except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
            raise ServiceError(f"cannot reach Redis at {where}: {_first_line(error)}") from None

    # --- jobs ------------------------------------------------------------------------------

    def create_job(self, config: Config, seeds: SeedRange, chunk_size: int, queue: str, ttl: int) -> Job:
        check_chunk_size(chunk_size)
        if ttl < 1:
            raise ConfigError(f"ttl must be >= 1 second, got {ttl}")
        chunks_total = len(seeds.split(chunk_size))
        now = time.time()
        while True:
            job_id = uuid.uuid4().hex[:12]
            fields = {
                "id": job_id, "config": config.to_json(), "seeds": str(seeds),
                "chunk_size": chunk_size, "chunks_total": chunks_total, "nets_total": len(seeds),
                "queue": queue, "created": now, "state": "queued", "chunks_done": 0,
                "nets_done": 0, "ttl": ttl, "error": "",
            }
            key = self._job_key(job_id)
            if self.client.hsetnx(key, "id", job_id):
                pipe = self.client.pipeline()
                pipe.hset(key, mapping=fields)
                pipe.expire(key, ttl)
                pipe.zadd(f"{PREFIX}:jobs", {job_id: now})
                pipe.execute()
                return self.get_job(job_id)

    def get_job(self, job_id: str) -> Job:
        raw = self.client.hgetall(self._job_key(job_id))
        if not raw or b"config" not in raw:
            raise ServiceError(f"unknown job {job_id!r} (never submitted, or expired)")
        data = {k.decode(): v.decode() for k, v in raw.items()}
        return Job(
            id=job_id, config=Config.from_json(data["config"]), seeds=SeedRange.parse(data["seeds"]),
            chunk_size=int(data["chunk_size"]), chunks_total=int(data["chunks_total"]),
            queue=data["queue"], created=float(data["created"]), state=data["state"],
            chunks_done=int(data["chunks_done"]), nets_done=int(data["nets_done"]),
            started=float(data["started"]) if data.get("started") else None,
            finished=float(data["finished"]) if data.get("finished") else None,
            error=data.get("error", ""),
        )

    def recent_jobs(self, limit: int = 20) -> list[Job]:
        ids = [i.decode() for i in self.client.zrevrange(f"{PREFIX}:jobs", 0, -1)]
        jobs = []
        for job_id in ids:
            try:
                jobs.append(self.get_job(job_id))
            except ServiceError:  # expired: forget it
                self.client.zrem(f"{PREFIX}:jobs", job_id)
            if len(jobs) == limit:
                break
        return jobs

    def mark_running(self, job_id: str) -> None:
        """queued -> running, when its first chunk starts."""
        script = (
            "if redis.call('HGET', KEYS[1], 'state') == 'queued' then "
            "redis.call('HSET', KEYS[1], 'state', 'running', 'started', ARGV[1]) end"
        )
        self.client.eval(script, 1, self._job_key(job_id), time.time())

    def cancel(self, job_id: str) -> str:
        """Cancel a job that has not finished; returns its state afterwards."""
        self.get_job(job_id)
        script = (
            "local s = redis.call('HGET', KEYS[1], 'state') "
            "if s == 'queued' or s == 'running' then "
            "redis.call('HSET', KEYS[1], 'state', 'cancelled', 'finished', ARGV[1]) return 'cancelled' end "
            "return s"
        )
        return self.client.eval(script, 1, self._job_key(job_id), time.time()).decode()

    def fail(self, job_id: str, message: str) -> None:
        script = (
            "local s = redis.call('HGET', KEYS[1], 'state') "
            "if s == 'queued' or s == 'running' then "
            "redis.call('HSET', KEYS[1], 'state', 'failed', 'finished', ARGV[1], 'error', ARGV[2]) end"
        )
        self.client.eval(script, 1, self._job_key(job_id), time.time(), message)

    # --- chunks ----------------------------------------------------------------------------

    def has_chunk(self, job_id: str, index: int) -> bool:
        return bool(self.client.hexists(self._job_key(job_id) + ":chunks", index))

    def record_chunk(self, job: Job, index: int, record: dict[str, Any], results: NetResults) -> bool:
        """Store a chunk's statistics and per-net results once; False if it was already in."""
        key = self._job_key(job.id)
        outcome = self._record_chunk(
            keys=[key, key + ":chunks", key + ":results"],
            args=[index, json.dumps(record), encode_results(results), len(results), time.time()],
        )
        if outcome == -1:
            raise ServiceError(f"unknown job {job.id!r} (expired while it ran)")
        return outcome == 1

    def chunk_records(self, job_id: str) -> dict[int, dict[str, Any]]:
        raw = self.client.hgetall(self._job_key(job_id) + ":chunks")
        return {int(k): json.loads(v) for k, v in raw.items()}

    def chunk_results(self, job: Job, index: int) -> NetResults:
        blob = self.client.hget(self._job_key(job.id) + ":results", index)
        if blob is None:
            raise ServiceError(f"job {job.id}: chunk {index} has no results")
        return decode_results(blob, job.chunks()[index])

    def bytes_per_net(self, job: Job) -> float:
        """Redis memory of a job's keys divided by its nets done."""
        key = self._job_key(job.id)
        used = sum(self.client.memory_usage(k) or 0 for k in (key, key + ":chunks", key + ":results"))
        return used / max(1, job.nets_done)

    @staticmethod
    def _job_key(job_id: str) -> str:
        return f"{PREFIX}:job:{job_id}"


def check_chunk_size(chunk_size: int | None) -> None:
    if chunk_size is not None and chunk_size < 1:
        raise ConfigError(f"chunk size must be >= 1, got {chunk_size}")


def encode_results(results: NetResults) -> bytes:
    """Per-net results of one chunk as .npz bytes; seeds are implied by the chunk's range."""
    buffer = io.BytesIO()
    np.savez(buffer, outputs=results.outputs, final_loss=results.final_loss,
             epochs_to_solve=results.epochs_to_solve.astype(np.int32),
             diverged=np.packbits(results.diverged))
    return buffer.getvalue()


def decode_results(blob: bytes, seeds: SeedRange) -> NetResults:
    with np.load(io.BytesIO(blob), allow_pickle=False) as data:
        n = len(seeds)
        return NetResults(
            seeds=np.arange(seeds.start, seeds.stop, dtype=np.int64),
            outputs=data["outputs"], final_loss=data["final_loss"],
            epochs_to_solve=data["epochs_to_solve"].astype(np.int64),
            diverged=np.unpackbits(data["diverged"], count=n).astype(bool),
        )


def redact(url: str) -> str:
    """The URL with any password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
