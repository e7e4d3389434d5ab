"""Jobs, their chunks and their statistics in Redis: the one place that knows the key layout,
and the names of the Celery task and its ids.

Keys (all under `xorgpu:`; a job's expire `ttl` seconds after it ended, never before):
    xorgpu:job:<id>          hash: config, options, seeds, chunk_size, chunks_total, nets_total,
                             queue, created, started, finished, state, chunks_done, nets_done,
                             ttl, error, submit_deadline, stalled (why it waits, if it does)
    xorgpu:job:<id>:chunks   hash: chunk index -> JSON record: its results file (path under
                             the results location, rows, SHA-256, bytes) and who trained it
    xorgpu:job:<id>:summary  hash: the job's statistics so far, as xorgpu.stats.Summary's flat
                             fields, each the sum over the recorded chunks
    xorgpu:job:<id>:made     hash: "engine:fused", "worker:w1@host" ... -> chunks: what trained it
    xorgpu:job:<id>:kills    hash: chunk index -> times a worker process died training it
    xorgpu:jobs              sorted set: job id by creation time
    xorgpu:dead-letters      list: queue entries the workers could not read (workers/transport.py)
    xorgpu:lost-chunk-check  a lock: which worker checks for lost chunks now (workers/recovery.py)
A chunk's task is TASK_NAME, its id `task_id(job, index)`.

Per-net results are not in Redis but in files (xorgpu.results_store), so Redis grows by a
few hundred bytes a chunk whatever the chunk's size, and reading a job's statistics costs
the same at 10 chunks as at 100,000.

A job is `submitting` while its chunks are enqueued, `queued` once all are, then
`running`, and ends `done`, `failed` (with an error) or `cancelled`. A submitter holds a
lease (submit_deadline, in Redis's clock) while it enqueues; a job whose lease ran out
before it was queued is failed by whoever sees it first, so an interrupted submit never
leaves a job waiting forever.

A chunk is recorded by one Lua script (atomic in Redis), once its file is complete: it
writes the chunk's record only if that index is not there yet, and in the same step adds
its statistics to the job's summary and counts it, so a redelivered or duplicated chunk
never counts twice, and a crash can never leave a chunk half-counted. Failing a job is a
script that Redis runs even when it is out of memory (`allow-oom`), so a full Redis can
still be told why a job stopped.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from . import provenance
from .config import Config, ConfigError, RunOptions, SeedRange
from .errors import ServiceError, first_line, redact
from .redis_url import canonical
from .engines.contract import sample_epochs
from .results_store import ChunkFile
from .settings import MAX_CHUNK_NETS, MAX_CHUNKS, MAX_TTL

KEY_PREFIX = "xorgpu"  # every Redis key of the job store starts with it
JOBS_KEY = f"{KEY_PREFIX}:jobs"
DEAD_LETTERS_KEY = f"{KEY_PREFIX}:dead-letters"
LOST_CHUNK_LOCK_KEY = f"{KEY_PREFIX}:lost-chunk-check"
TASK_NAME = "xorgpu.train_chunk"  # the Celery task that trains a chunk


def task_id(job_id: str, index: int) -> str:
    """The Celery task id of a job's chunk: the same however often it is sent."""
    return f"{job_id}-{index}"

from .stats import Summary

FINAL_STATES = ("done", "failed", "cancelled")
JOB_KEY_PARTS = (":chunks", ":summary", ":made", ":kills")  # the job's keys besides its own hash
ACTIVE_STATES = ("submitting", "queued", "running")
JOB_ID = re.compile(r"^[0-9a-f]{12}$")
SUBMIT_LEASE_SECONDS = 60  # a submitter renews its lease far more often than this
CONNECT_TIMEOUT_SECONDS = 3
# a patient client (a worker's) retries a command this many times, waiting 0.1 s doubling
# to at most 2 s: about a minute, enough for Redis to restart from its AOF
PATIENT_RETRIES, PATIENT_FIRST_WAIT, PATIENT_LONGEST_WAIT = 30, 0.1, 2.0
MAX_ERROR_CHARS = 1000  # a job's stored error, at most
FULL_MARGIN = 0.02  # Redis counts as full within this fraction of its maxmemory

_SERVER_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1e6 "

# Fails a job whose submit lease ran out before it was queued; returns the state after.
_EXPIRE_SUBMIT = _SERVER_NOW + """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'submitting' then return state end
local deadline = tonumber(redis.call('HGET', KEYS[1], 'submit_deadline') or '0')
if deadline == nil then return 'broken' end
if deadline < now then
  redis.call('HSET', KEYS[1], 'state', 'failed', 'finished', now, 'error', ARGV[1])
  for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], redis.call('HGET', KEYS[1], 'ttl') or 1) end
  return 'failed'
end
return state
"""

_RENEW_LEASE = _SERVER_NOW + """
if redis.call('HGET', KEYS[1], 'state') ~= 'submitting' then return 0 end
redis.call('HSET', KEYS[1], 'submit_deadline', now + tonumber(ARGV[1]))
return 1
"""

# KEYS: job, chunks, summary, made, kills. ARGV: index, record, nets, finished, n, then n
# (summary field, count) pairs, then the made fields (each counts one chunk). A job's keys
# start expiring (ttl) only once it has ended: a job that waits for workers waits forever.
_RECORD_CHUNK = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
local n = tonumber(ARGV[5])
for i = 0, n - 1 do redis.call('HINCRBY', KEYS[3], ARGV[6 + 2 * i], ARGV[7 + 2 * i]) end
for i = 6 + 2 * n, #ARGV do redis.call('HINCRBY', KEYS[4], ARGV[i], 1) end
redis.call('HDEL', KEYS[1], 'stalled')
local done = redis.call('HINCRBY', KEYS[1], 'chunks_done', 1)
redis.call('HINCRBY', KEYS[1], 'nets_done', ARGV[3])
local state = redis.call('HGET', KEYS[1], 'state')
if done == tonumber(redis.call('HGET', KEYS[1], 'chunks_total'))
   and state ~= 'cancelled' and state ~= 'failed' then
  redis.call('HSET', KEYS[1], 'state', 'done', 'finished', ARGV[4])
end
state = redis.call('HGET', KEYS[1], 'state')
if state == 'done' or state == 'failed' or state == 'cancelled' then
  local ttl = redis.call('HGET', KEYS[1], 'ttl')
  for i = 1, 5 do redis.call('EXPIRE', KEYS[i], ttl) end
end
return 1
"""

_FAIL_BODY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local s = redis.call('HGET', KEYS[1], 'state')
if s == 'done' or s == 'failed' or s == 'cancelled' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'failed', 'finished', ARGV[1], 'error', ARGV[2])
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], redis.call('HGET', KEYS[1], 'ttl') or 1) end
return 1
"""
_FAIL = "#!lua flags=allow-oom\n" + _FAIL_BODY  # Redis >= 7 runs it even when out of memory

# Why a job that has not ended is not moving (a worker that cannot record its chunk); the
# next recorded chunk clears it. Runs even when Redis is out of memory, like _FAIL.
_NOTE_STALL_BODY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local s = redis.call('HGET', KEYS[1], 'state')
if s == 'done' or s == 'failed' or s == 'cancelled' then return 0 end
redis.call('HSET', KEYS[1], 'stalled', ARGV[1])
return 1
"""
_NOTE_STALL = "#!lua flags=allow-oom\n" + _NOTE_STALL_BODY


class UnknownJob(ServiceError):
    """No such job: never submitted, or expired."""


class BrokenJob(ServiceError):
    """A job record that cannot be read (written by something else, or damaged)."""

    def __init__(self, job_id: str, message: str) -> None:
        super().__init__(message)
        self.job_id = job_id


@dataclass(frozen=True)
class Job:
    id: str
    config: Config
    options: RunOptions  # how its chunks run: backend "auto" leaves the choice to each worker
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
    submitter: dict[str, str] = field(default_factory=dict)  # the submitting machine's provenance.here()
    label: str = ""
    map_spec: str = ""  # a map job (xorgpu.maps.MapSpec.to_json): its "seeds" are the map's pixels
    stalled: str = ""  # why it is not moving, as the worker that waits says (cleared by the next recorded chunk)

    @property
    def nets_total(self) -> int:
        return len(self.seeds)

    def chunk(self, index: int) -> SeedRange:
        """The seeds of chunk `index` (0 <= index < chunks_total)."""
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.chunks_total:
            raise ConfigError(f"job {self.id} has chunks 0 to {self.chunks_total - 1}, not {index!r}")
        start = self.seeds.start + index * self.chunk_size
        return SeedRange(start, min(start + self.chunk_size, self.seeds.stop))

    def chunks(self) -> list[SeedRange]:
        return [self.chunk(i) for i in range(self.chunks_total)]


class JobStore:
    def __init__(self, client: redis.Redis, url: str = "") -> None:
        self.client = client
        self.url = url
        self._record_chunk = client.register_script(_RECORD_CHUNK)
        self._fail = client.register_script(_FAIL)
        self._fail_old_redis = client.register_script(_FAIL_BODY)
        self._note_stall = client.register_script(_NOTE_STALL)
        self._note_stall_old_redis = client.register_script(_NOTE_STALL_BODY)
        self._expire_submit = client.register_script(_EXPIRE_SUBMIT)
        self._renew_lease = client.register_script(_RENEW_LEASE)

    @classmethod
    def from_url(cls, url: str, patient: bool = False) -> JobStore:
        """Connect, and check the connection now so a user hears of a problem at once.

        patient: retry failed commands for about a minute (workers use this, to ride out a
        Redis restart without failing the chunk in hand); the CLI fails fast instead.
        """
        url = canonical(url)
        options: dict[str, Any] = {"socket_connect_timeout": CONNECT_TIMEOUT_SECONDS}
        if patient:
            backoff = ExponentialBackoff(cap=PATIENT_LONGEST_WAIT, base=PATIENT_FIRST_WAIT)
            options.update(retry=Retry(backoff, retries=PATIENT_RETRIES),
                           retry_on_error=[redis.ConnectionError, redis.TimeoutError])
        try:
            client = redis.Redis.from_url(url, **options)
        except ValueError as error:
            raise ServiceError(f"bad Redis URL {redact(url)!r}: {redact(str(error))}") from None
        store = cls(client, url)
        store.ping()
        return store

    def ping(self) -> None:
        where = redact(self.url)
        try:
            self.client.ping()
        except (redis.AuthenticationError, redis.ResponseError) as error:
            if ":" not in self.url.split("://", 1)[1].rpartition("@")[0] and "auth" in str(error).lower():
                raise ServiceError(f"Redis at {where} needs a password: put it in the URL, XORGPU_REDIS_PASSWORD "
                                   "or a file named by XORGPU_REDIS_PASSWORD_FILE") from None
            if isinstance(error, redis.AuthenticationError) or "WRONGPASS" in str(error):
                raise ServiceError(f"Redis at {where} refused the password") from None
            raise ServiceError(f"Redis at {where}: {first_line(error)}") from None
        except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
            raise ServiceError(f"cannot reach Redis at {where}: {first_line(error)}") from None
        except redis.RedisError as error:  # e.g. a server that speaks something else than Redis
            raise ServiceError(f"Redis at {where} did not answer as Redis does: {first_line(error)}") from None

    def full(self) -> bool:
        """Redis is at its maxmemory, or within FULL_MARGIN of it (the used memory moves by a
        few kB from one moment to the next): workers can neither take nor record chunks."""
        try:
            memory = self.client.info("memory")
        except redis.ResponseError:  # INFO may be disabled
            return False
        limit = int(memory.get("maxmemory", 0) or 0)
        return bool(limit) and int(memory.get("used_memory", 0)) >= limit * (1 - FULL_MARGIN)

    # --- jobs ------------------------------------------------------------------------------

    def create_job(self, config: Config, seeds: SeedRange, chunk_size: int, queue: str, ttl: int,
                   options: RunOptions = RunOptions(), label: str = "", map_spec: str = "") -> Job:
        """A new job in state `submitting`, its lease held for SUBMIT_LEASE_SECONDS."""
        chunks_total = check_job_size(seeds, chunk_size)
        check_ttl(ttl)
        now = time.time()
        while True:
            job_id = uuid.uuid4().hex[:12]
            fields = {
                "id": job_id, "config": config.to_json(), "seeds": str(seeds),
                "options": json.dumps({"backend": options.backend, "engine": options.engine}),
                "chunk_size": chunk_size, "chunks_total": chunks_total, "nets_total": len(seeds),
                "queue": queue, "created": now, "state": "submitting", "chunks_done": 0,
                "nets_done": 0, "ttl": ttl, "error": "", "submit_deadline": 0,
                "submitter": json.dumps(provenance.here()), "label": label, "map": map_spec,
            }
            key = self._job_key(job_id)
            if self.client.hsetnx(key, "id", job_id):
                pipe = self.client.pipeline()
                pipe.hset(key, mapping=fields)  # no expiry until it ends (_RECORD_CHUNK, _FAIL, cancel)
                pipe.zadd(JOBS_KEY, {job_id: now})
                pipe.execute()
                self.renew_lease(job_id)
                return self.get_job(job_id)

    def renew_lease(self, job_id: str) -> None:
        self._renew_lease(keys=[self._job_key(job_id)], args=[SUBMIT_LEASE_SECONDS])

    def mark_queued(self, job_id: str) -> bool:
        """submitting -> queued, once every chunk is enqueued; False if the job left
        `submitting` meanwhile (cancelled, or failed when its lease ran out)."""
        script = ("if redis.call('HGET', KEYS[1], 'state') ~= 'submitting' then return 0 end "
                  "redis.call('HSET', KEYS[1], 'state', 'queued') return 1")
        return bool(self.client.eval(script, 1, self._job_key(job_id)))

    def get_job(self, job_id: str) -> Job:
        """The job; UnknownJob if there is none, BrokenJob if its record cannot be read."""
        if not isinstance(job_id, str) or not JOB_ID.match(job_id):
            raise UnknownJob(f"unknown job {str(job_id)[:40]!r}: job ids are 12 hexadecimal digits")
        key = self._job_key(job_id)
        try:
            raw = self.client.hgetall(key)
            if raw.get(b"state") == b"submitting":
                if self.expire_submit(job_id) == "broken":
                    raise ValueError("submit_deadline is not a number")
                raw = self.client.hgetall(key) or raw
        except redis.ResponseError as error:  # WRONGTYPE: something else under the job's name
            raise BrokenJob(job_id, f"job {job_id}: its record is broken (not a job record: "
                                    f"{first_line(error)[:80]})") from None
        except ValueError as error:
            raise BrokenJob(job_id, f"job {job_id}: its record is broken ({error})") from None
        if not raw:
            raise UnknownJob(f"unknown job {job_id!r} (never submitted, or ended and expired)")
        try:
            return _job_of(job_id, {k.decode(): v.decode() for k, v in raw.items()})
        except (KeyError, ValueError, TypeError, UnicodeDecodeError) as error:
            raise BrokenJob(job_id, f"job {job_id}: its record is broken ({_reason(error)})") from None

    def expire_submit(self, job_id: str) -> str:
        """Fail the job if its submitter's lease ran out before all its chunks were enqueued."""
        state = self._expire_submit(keys=self._keys(job_id),
                                    args=["submit stopped before every chunk was enqueued (interrupted, "
                                          "or Redis was lost); no chunk of this job will run"])
        return state.decode() if isinstance(state, bytes) else str(state)

    def job_ids(self, limit: int) -> list[str]:
        """The ids of the newest jobs, newest first (without reading their records)."""
        return [raw.decode(errors="replace") for raw in self.client.zrevrange(JOBS_KEY, 0, limit - 1)]

    def recent_jobs(self, limit: int = 20) -> list[Job | BrokenJob]:
        """The newest jobs; a record that cannot be read comes as its BrokenJob error."""
        jobs: list[Job | BrokenJob] = []
        for raw_id in self.client.zrevrange(JOBS_KEY, 0, -1):
            job_id = raw_id.decode(errors="replace")
            try:
                jobs.append(self.get_job(job_id))
            except BrokenJob as error:
                jobs.append(error)
            except UnknownJob:  # expired: forget it
                self.client.zrem(JOBS_KEY, raw_id)
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
            "if s == 'submitting' or s == 'queued' or s == 'running' then "
            "redis.call('HSET', KEYS[1], 'state', 'cancelled', 'finished', ARGV[1]) "
            "for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], redis.call('HGET', KEYS[1], 'ttl')) end "
            "return 'cancelled' end "
            "return s"
        )
        keys = self._keys(job_id)
        return self.client.eval(script, len(keys), *keys, time.time()).decode()

    def fail(self, job_id: str, message: str) -> bool:
        """Fail a job that has not ended, with a one-line reason; works on a full Redis (>= 7).
        True if this call failed it."""
        args = [time.time(), " ".join(redact(message).split())[:MAX_ERROR_CHARS]]
        return bool(self._even_when_full(self._fail, self._fail_old_redis, job_id, args, self._keys(job_id)))

    def note_stall(self, job_id: str, message: str) -> None:
        """Say why a job that has not ended is not moving (status shows it until the next
        chunk is recorded); works on a full Redis (>= 7)."""
        self._even_when_full(self._note_stall, self._note_stall_old_redis, job_id,
                             [" ".join(redact(message).split())[:MAX_ERROR_CHARS]])

    def _even_when_full(self, script: Any, old_redis_script: Any, job_id: str, args: list[Any],
                        keys: list[str] | None = None) -> Any:
        keys = keys or [self._job_key(job_id)]
        try:
            return script(keys=keys, args=args)
        except redis.ResponseError as error:
            if "flags" not in str(error).lower() and "shebang" not in str(error).lower():
                raise
            return old_redis_script(keys=keys, args=args)  # Redis < 7 knows no flags

    # --- chunks ----------------------------------------------------------------------------

    def jobs_in_states(self, states: list[str]) -> list[Job]:
        """Every readable job in one of `states` (one round trip for all the jobs' states);
        a record that cannot be read is skipped (status and jobs report it)."""
        ids = [raw.decode(errors="replace") for raw in self.client.zrange(JOBS_KEY, 0, -1)]
        with self.client.pipeline(transaction=False) as pipe:
            for job_id in ids:
                pipe.hget(self._job_key(job_id), "state")
            found = pipe.execute(raise_on_error=False)  # a key of another type: an error in its place
        jobs = []
        for job_id, state in zip(ids, found):
            if isinstance(state, bytes) and state.decode(errors="replace") in states:
                try:
                    jobs.append(self.get_job(job_id))
                except (BrokenJob, UnknownJob):  # a broken record is reported by status; expired: gone
                    continue
        return jobs

    def recorded_chunks(self, job_id: str) -> set[int]:
        """The indices of the job's recorded chunks."""
        return {int(raw) for raw in self.client.hkeys(self._job_key(job_id) + ":chunks") if raw.isdigit()}

    def has_chunk(self, job_id: str, index: int) -> bool:
        return bool(self.client.hexists(self._job_key(job_id) + ":chunks", index))

    def record_chunk(self, job: Job, index: int, record: dict[str, Any], summary: Summary,
                     made: dict[str, str]) -> bool:
        """Record a chunk whose results file is complete: its record, its statistics added to
        the job's, and what made it (made: engine, backend, device, worker, host -> value).
        Once only: False if the chunk was already recorded."""
        fields = summary.to_fields()
        pairs = [item for pair in fields.items() for item in pair]
        made_fields = [f"{name}:{value}" for name, value in made.items() if value]
        outcome = self._record_chunk(
            keys=self._keys(job.id),
            args=[index, json.dumps(record), len(job.chunk(index)), time.time(), len(fields), *pairs, *made_fields],
        )
        if outcome == -1:
            raise UnknownJob(f"unknown job {job.id!r} (expired while it ran)")
        return outcome == 1

    def chunk_records(self, job_id: str) -> dict[int, dict[str, Any]]:
        raw = self.client.hgetall(self._job_key(job_id) + ":chunks")
        try:
            return {int(k): _object(v) for k, v in raw.items()}
        except ValueError as error:
            raise BrokenJob(job_id, f"job {job_id}: a chunk record is broken ({_reason(error)})") from None

    def chunk_files(self, job: Job, indices: list[int] | None = None) -> list[tuple[int, ChunkFile]]:
        """(index, file) of the recorded chunks (of `indices`, if given), in chunk order."""
        records = self.chunk_records(job.id)
        try:
            return [(i, ChunkFile.of_record(records[i], job.id, job.chunk(i))) for i in sorted(records)
                    if indices is None or i in indices]
        except ConfigError:  # an index past the job's chunks
            raise BrokenJob(job.id, f"job {job.id}: a chunk record is not of one of its chunks") from None
        except (KeyError, ValueError, TypeError) as error:
            raise BrokenJob(job.id, f"job {job.id}: a chunk record names no results file ({_reason(error)})") from None

    def summary(self, job: Job) -> Summary:
        """The statistics of the chunks recorded so far (one read, whatever their number)."""
        raw = self.client.hgetall(self._job_key(job.id) + ":summary")
        try:
            flat = {k.decode(): int(v) for k, v in raw.items()}
            return Summary.from_fields(flat, len(sample_epochs(job.config)))
        except (ValueError, UnicodeDecodeError) as error:
            raise BrokenJob(job.id, f"job {job.id}: its statistics are broken ({_reason(error)})") from None

    def made(self, job: Job) -> dict[str, list[str]]:
        """What trained the recorded chunks: engine, backend, device, worker, host -> values."""
        found: dict[str, set[str]] = {}
        for raw in self.client.hkeys(self._job_key(job.id) + ":made"):
            name, _, value = raw.decode(errors="replace").partition(":")
            found.setdefault(name, set()).add(value)
        return {name: sorted(values) for name, values in found.items()}

    def bytes_per_net(self, job: Job) -> float:
        """Redis memory of a job's keys divided by its nets done."""
        key = self._job_key(job.id)
        used = sum(self.client.memory_usage(k) or 0 for k in (key, *(key + part for part in JOB_KEY_PARTS)))
        return used / max(1, job.nets_done)

    def count_lost_worker(self, job_id: str, index: int) -> int:
        """One more worker process died while training this chunk; how many have."""
        return int(self.client.hincrby(self._job_key(job_id) + ":kills", index, 1))

    @staticmethod
    def _job_key(job_id: str) -> str:
        return f"{KEY_PREFIX}:job:{job_id}"

    @classmethod
    def _keys(cls, job_id: str) -> list[str]:
        """Every key of a job: its hash first, then its chunks, summary, makers and kills."""
        key = cls._job_key(job_id)
        return [key, *(key + part for part in JOB_KEY_PARTS)]


def _job_of(job_id: str, data: dict[str, str]) -> Job:
    options = json.loads(data.get("options") or "{}")
    if not isinstance(options, dict):
        raise ValueError("options is not a JSON object")
    job = Job(
        id=job_id, config=Config.from_json(data["config"]),
        options=RunOptions(backend=options.get("backend", "auto"), engine=options.get("engine", "auto")),
        seeds=SeedRange.parse(data["seeds"]), chunk_size=int(data["chunk_size"]),
        chunks_total=int(data["chunks_total"]), queue=data["queue"], created=float(data["created"]),
        state=data["state"], chunks_done=int(data["chunks_done"]), nets_done=int(data["nets_done"]),
        started=float(data["started"]) if data.get("started") else None,
        finished=float(data["finished"]) if data.get("finished") else None,
        error=data.get("error", ""),
        submitter=_object(data.get("submitter") or "{}"), label=data.get("label", ""),
        map_spec=data.get("map", ""), stalled=data.get("stalled", ""),
    )
    if job.state not in ACTIVE_STATES + FINAL_STATES:
        raise ValueError(f"unknown state {job.state[:20]!r}")
    for name in ("created", "started", "finished"):
        when = getattr(job, name)
        if when is not None and not (math.isfinite(when) and 0 <= when <= time.time() + MAX_TTL):
            raise ValueError(f"{name} is not a time")
    if job.chunk_size < 1 or job.chunks_total != -(-len(job.seeds) // job.chunk_size):
        raise ValueError("its chunks do not cover its seeds")
    return job


def _object(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _reason(error: BaseException) -> str:
    if isinstance(error, KeyError):
        return f"no {error.args[0]!s}"
    return first_line(error)


def check_job_size(seeds: SeedRange, chunk_size: int) -> int:
    """The number of chunks of a job, within the limits on nets, chunk size and chunks."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or not 1 <= chunk_size <= MAX_CHUNK_NETS:
        raise ConfigError(f"chunk size must be from 1 to {MAX_CHUNK_NETS:,}, got {chunk_size!r}")
    chunks_total = -(-len(seeds) // chunk_size)
    if chunks_total > MAX_CHUNKS:
        raise ConfigError(f"{len(seeds):,} nets in chunks of {chunk_size:,} make {chunks_total:,} chunks: "
                          f"at most {MAX_CHUNKS:,} (raise --chunk-size or split the seed range)")
    return chunks_total


def check_ttl(ttl: int) -> None:
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= MAX_TTL:
        raise ConfigError(f"ttl must be from 1 to {MAX_TTL:,} seconds (a year), got {ttl!r}")

