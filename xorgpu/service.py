"""A job as a set of chunks: what `submit`, the Celery task and `stats`/`results` call.

The Celery task and the CLI are thin wrappers over these functions; nothing here imports
Celery. Chunks are consecutive seed ranges of `chunk_size` nets, trained independently,
so a job's results equal a local run of the same config and seeds chunk for chunk.

Every job reaches a final state with a reason. `submit` makes a job visible to workers
only once all its chunks are enqueued, and fails it, with the reason, if it cannot get
there. `run_chunk` never lets a problem of the job or of a message escape: whatever goes
wrong (the config, the backend, memory, a Redis that is full or gone for longer than the
worker's patience) fails the job with a one-line reason that `status` shows, and a
message that names no chunk of a job is refused without touching any job.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any, Callable

import redis

from . import provenance
from .backend import resolve_backend
from .config import Config, ConfigError, RunOptions, SeedRange
from .engines.selection import bytes_per_net
from .experiment import prepare
from .results import BYTES_PER_NET, NetResults
from .settings import (
    CHUNK_NET_EPOCHS, DEFAULT_QUEUE, DEFAULT_TTL, MAX_CHUNK_NETS, MAX_CHUNKS, default_backend_name, record_patience,
)
from .stats import Summary
from .store import (
    FINAL_STATES, SUBMIT_LEASE_SECONDS, BrokenJob, Job, JobStore, ServiceError, UnknownJob, encode_results,
    first_line,
)

log = logging.getLogger(__name__)

Enqueue = Callable[[str, int, SeedRange, str], None]  # job id, chunk index, seeds, queue
Outcome = dict[str, Any]  # what a chunk's task did: counted, skipped, refused or failed
TRANSIENT_REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, redis.OutOfMemoryError)
SUBMITTING_POLL_SECONDS = 0.2
RECORD_FIRST_WAIT, RECORD_LONGEST_WAIT = 0.5, 10.0  # seconds between tries to record a chunk, doubling
WAIT_POLL_SECONDS = 0.5  # how often `wait_for` looks at a job


class SubmitFailed(ServiceError):
    """A submit that did not enqueue all its chunks; its job (if one was made) is failed."""

    def __init__(self, message: str, job_id: str | None, interrupted: bool) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.interrupted = interrupted
        self.exit_code = 130 if interrupted else 1


def default_chunk_size(config: Config, nets: int) -> int:
    """About CHUNK_NET_EPOCHS net-epochs a chunk (seconds on a CPU core), within the limits
    on chunk size and count."""
    size = max(1, min(MAX_CHUNK_NETS, int(CHUNK_NET_EPOCHS // config.epochs)))
    return max(size, -(-nets // MAX_CHUNKS))


def submit(
    store: JobStore, config: Config, seeds: SeedRange, enqueue: Enqueue, chunk_size: int | None = None,
    queue: str = DEFAULT_QUEUE, ttl: int = DEFAULT_TTL, options: RunOptions = RunOptions(), label: str = "",
) -> Job:
    """Store the job, enqueue one task per chunk, then let workers start on it.

    Until every chunk is enqueued the job is `submitting`, and a worker that receives one
    of its chunks waits. If enqueueing stops (Ctrl-C, Redis lost), the job is failed with
    the reason and SubmitFailed names it; if even that cannot be written, the job's lease
    runs out and the next reader fails it.
    """
    job = store.create_job(config, seeds, chunk_size or default_chunk_size(config, len(seeds)), queue, ttl, options,
                           label)
    enqueued = 0
    try:
        renewed = time.monotonic()
        for index in range(job.chunks_total):
            enqueue(job.id, index, job.chunk(index), queue)
            enqueued += 1
            if time.monotonic() - renewed > SUBMIT_LEASE_SECONDS / 6:
                store.renew_lease(job.id)
                renewed = time.monotonic()
        if not store.mark_queued(job.id):
            raise ServiceError(f"job {job.id} was {store.get_job(job.id).state} while its chunks were enqueued")
    except BaseException as error:  # noqa: BLE001  (Ctrl-C included: the job must not be left waiting)
        interrupted = isinstance(error, KeyboardInterrupt)
        why = "was interrupted" if interrupted else f"failed ({first_line(error)})"
        message = (f"submit {why} after {enqueued:,} of {job.chunks_total:,} chunks were enqueued; "
                   "no chunk of this job will run")
        try:
            store.fail(job.id, message)
        except redis.RedisError:
            pass  # its lease runs out instead
        raise SubmitFailed(f"job {job.id}: {message}", job.id, interrupted) from None
    return store.get_job(job.id)


def run_chunk_message(store: JobStore, args: Any, kwargs: Any, worker: str = "") -> Outcome:
    """A chunk task's message, checked, then `run_chunk`: (job_id, index, start, stop)."""
    if kwargs or not isinstance(args, (list, tuple)) or len(args) != 4:
        return _refused(f"a chunk message has 4 arguments (job id, index, start, stop), got {_shown(args, kwargs)}")
    job_id, index, start, stop = args
    if not isinstance(job_id, str) or not all(isinstance(v, int) and not isinstance(v, bool)
                                              for v in (index, start, stop)):
        return _refused(f"a chunk message has a job id and three integers, got {_shown(args, kwargs)}")
    return run_chunk(store, job_id, index, start, stop, worker)


def run_chunk(store: JobStore, job_id: str, index: int, start: int, stop: int, worker: str = "") -> Outcome:
    """Train one chunk and record it; harmless to run twice (the second is not counted).

    Returns what happened; raises only if Redis cannot be reached at all (the message then
    comes back to the queue).
    """
    try:
        job = store.get_job(job_id)
    except UnknownJob as error:
        return _refused(str(error))
    except BrokenJob as error:
        store.fail(job_id, str(error))
        return {"job": job_id, "chunk": index, "failed": str(error)}
    try:
        seeds = job.chunk(index)
    except ConfigError as error:
        return _refused(str(error))
    if (start, stop) != (seeds.start, seeds.stop):
        return _refused(f"chunk {index} of job {job.id} is seeds {seeds}, not {start}:{stop}")
    if job.state == "submitting":
        job = _wait_until_submitted(store, job)
    if job.state in FINAL_STATES or store.has_chunk(job.id, index):
        return {"job": job.id, "chunk": index, "skipped": job.state if job.state in FINAL_STATES else "duplicate"}
    try:
        store.mark_running(job.id)
    except redis.OutOfMemoryError:
        pass  # recording the chunk will meet the same problem, and deal with it
    started = time.time()
    try:
        plan = _chunk_plan(job, len(seeds))
        results, summary = plan.train(seeds)
        record = {
            "seeds": str(seeds),
            "summary": summary.to_state(),
            "worker": worker,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            **plan.ran(),
            "seconds": time.time() - started,
            "finished": time.time(),
        }
        blob = encode_results(results)
    except Exception as error:  # noqa: BLE001  (MemoryError included: anything the job's training raises)
        return _fail(store, job, index, f"chunk {index} failed: {_describe(error)}")
    del results
    return _record_patiently(store, job, index, record, blob)


def _chunk_plan(job: Job, nets: int) -> Any:
    """The plan for one chunk on this worker: its own backend if the job left it to the
    worker, one process, and enough memory for it, checked before anything is allocated."""
    backend = resolve_backend(job.options.backend if job.options.backend != "auto" else default_backend_name())
    plan = prepare(job.config, RunOptions(backend=backend.name, engine=job.options.engine, processes=1), backend)
    needed = 2 * nets * BYTES_PER_NET + min(nets, plan.block_nets) * bytes_per_net(job.config)
    available = backend.free_memory()
    if available is not None and needed > available:
        raise ConfigError(f"it needs about {needed / 2**30:.2f} GiB of memory and this worker has "
                          f"{available / 2**30:.2f} GiB free (submit with a smaller --chunk-size)")
    return plan


def _wait_until_submitted(store: JobStore, job: Job) -> Job:
    """Wait while the job's chunks are still being enqueued (bounded by its submit lease)."""
    while job.state == "submitting":
        time.sleep(SUBMITTING_POLL_SECONDS)
        job = store.get_job(job.id)
    return job


def _record_patiently(store: JobStore, job: Job, index: int, record: dict[str, Any], blob: bytes) -> Outcome:
    limit = store.max_bulk_bytes()
    if len(blob) >= limit:
        return _fail(store, job, index, f"chunk {index}'s results take {len(blob) / 2**20:.1f} MiB, more than Redis "
                                        f"takes in one command (proto-max-bulk-len, {limit / 2**20:.1f} MiB): "
                                        "submit with a smaller --chunk-size")
    patience = record_patience()
    deadline = time.monotonic() + patience
    delay = RECORD_FIRST_WAIT
    while True:
        try:
            counted = store.record_chunk(job, index, record, blob)
            return {"job": job.id, "chunk": index, "counted": counted}
        except UnknownJob as error:
            return {"job": job.id, "chunk": index, "skipped": str(error)}
        except TRANSIENT_REDIS_ERRORS as error:
            if time.monotonic() + delay > deadline:
                full = isinstance(error, redis.OutOfMemoryError)
                why = "Redis is full (its maxmemory)" if full else f"Redis did not answer ({first_line(error)})"
                return _fail(store, job, index, f"chunk {index} was trained but could not be recorded for "
                                                f"{patience} s: {why}")
            log.warning("job %s chunk %d: recording failed (%s); trying again in %.1f s",
                        job.id, index, first_line(error), delay)
            time.sleep(delay)
            delay = min(2 * delay, RECORD_LONGEST_WAIT)


def _fail(store: JobStore, job: Job, index: int, reason: str) -> Outcome:
    log.error("job %s failed: %s", job.id, reason)
    store.fail(job.id, reason)
    return {"job": job.id, "chunk": index, "failed": reason}


def _refused(reason: str) -> Outcome:
    log.error("chunk message refused: %s", reason)
    return {"refused": reason}


def _describe(error: BaseException) -> str:
    if isinstance(error, MemoryError):
        return "out of memory on this worker (submit with a smaller --chunk-size)"
    if isinstance(error, (ConfigError, ServiceError)):
        return first_line(error)
    return f"{type(error).__name__}: {first_line(error)}"


def _shown(args: Any, kwargs: Any) -> str:
    text = repr(args) + (f" {kwargs!r}" if kwargs else "")
    return text if len(text) <= 80 else text[:77] + "..."


def job_report(store: JobStore, job: Job) -> dict[str, Any]:
    """The statistics report of `run --json` (loss quantiles from the merged sketch, within
    1%), plus the job's id and state, and the provenance of its chunks so far."""
    records = store.chunk_records(job.id)
    summary = Summary()
    for _, record in sorted(records.items()):
        summary = summary.merge(Summary.from_state(record["summary"]))
    return {"job_id": job.id, "state": job.state, **summary.report(job.config),
            "provenance": provenance.of_job(job.seeds, list(records.values()), job.started, job.finished,
                                            job.submitter)}


def job_results(store: JobStore, job: Job, partial: bool = False) -> NetResults:
    """Every net's results, in seed order, of a job that is done; with partial, of the
    chunks recorded so far, whatever the job's state."""
    if job.state != "done" and not partial:
        raise ServiceError(f"job {job.id} is {job.state} ({job.chunks_done} of {job.chunks_total} chunks): "
                           "--partial writes the chunks so far")
    recorded = sorted(store.chunk_records(job.id)) if partial else range(job.chunks_total)
    if not recorded:
        raise ServiceError(f"job {job.id} has no chunk recorded yet")
    return NetResults.concatenate([store.chunk_results(job, i) for i in recorded])


def wait_for(store: JobStore, job_id: str, on_progress: Callable[[Job], None] | None = None,
             poll: float = WAIT_POLL_SECONDS, timeout: float | None = None) -> Job:
    """Poll until the job reaches a final state."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        job = store.get_job(job_id)
        if on_progress is not None:
            on_progress(job)
        if job.state in FINAL_STATES:
            return job
        if deadline is not None and time.monotonic() > deadline:
            raise ServiceError(f"job {job_id} still {job.state} after {timeout} s")
        time.sleep(poll)
