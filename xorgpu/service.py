"""A job as a set of chunks: what `submit`, the Celery task and `stats`/`results` call.

The Celery task and the CLI are thin wrappers over these functions; nothing here imports
Celery. Chunks are consecutive seed ranges of `chunk_size` nets, trained independently,
so a job's results equal a local run of the same config and seeds chunk for chunk.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any, Callable

from .backend import default_backend_name, resolve_backend
from .config import Config, SeedRange
from .experiment import train_range
from .results import NetResults
from .stats import Summary
from .store import FINAL_STATES, Job, JobStore, ServiceError

# A chunk of about this many net-epochs takes seconds on one CPU core (bench/core.py).
CHUNK_NET_EPOCHS = 3e7
DEFAULT_TTL = 7 * 24 * 3600  # seconds a job's keys live after its last write
DEFAULT_QUEUE = "xorgpu"

Enqueue = Callable[[str, int, SeedRange, str], None]  # job id, chunk index, seeds, queue


def default_chunk_size(config: Config) -> int:
    return max(1, int(CHUNK_NET_EPOCHS // config.epochs))


def submit(
    store: JobStore, config: Config, seeds: SeedRange, enqueue: Enqueue,
    chunk_size: int | None = None, queue: str = DEFAULT_QUEUE, ttl: int = DEFAULT_TTL,
) -> Job:
    """Store the job, then enqueue one task per chunk."""
    job = store.create_job(config, seeds, chunk_size or default_chunk_size(config), queue, ttl)
    try:
        for index, chunk in enumerate(job.chunks()):
            enqueue(job.id, index, chunk, queue)
    except Exception as error:
        store.fail(job.id, f"enqueueing failed: {error}")
        raise ServiceError(f"job {job.id}: enqueueing its chunks failed: {error}") from None
    return job


def run_chunk(
    store: JobStore, job_id: str, index: int, seeds: SeedRange, worker: str = ""
) -> dict[str, Any]:
    """Train one chunk and record it; harmless to run twice (the second is not counted)."""
    job = store.get_job(job_id)
    if job.chunks()[index] != seeds:
        raise ServiceError(f"job {job_id}: chunk {index} is {job.chunks()[index]}, not {seeds}")
    if job.state in FINAL_STATES or store.has_chunk(job_id, index):
        return {"job": job_id, "chunk": index, "skipped": job.state if job.state in FINAL_STATES else "duplicate"}
    store.mark_running(job_id)
    # Resolved here, in the worker's pool process (never before the fork). A job's "auto"
    # leaves the choice to the worker: its XORGPU_BACKEND, else CuPy if it has a GPU.
    wanted = job.config.backend if job.config.backend != "auto" else default_backend_name()
    backend = resolve_backend(wanted)
    started = time.time()
    try:
        results, summary = train_range(job.config, seeds, backend)
    except Exception as error:
        store.fail(job_id, f"chunk {index} failed: {type(error).__name__}: {error}")
        raise
    record = {
        "seeds": str(seeds),
        "summary": summary.to_state(),
        "worker": worker,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "backend": backend.name,
        "device": backend.device,
        "seconds": time.time() - started,
        "finished": time.time(),
    }
    counted = store.record_chunk(job, index, record, results)
    return {"job": job_id, "chunk": index, "counted": counted}


def job_summary(store: JobStore, job: Job) -> Summary:
    """Statistics merged from the chunks recorded so far."""
    summary = Summary()
    for _, record in sorted(store.chunk_records(job.id).items()):
        summary = summary.merge(Summary.from_state(record["summary"]))
    return summary


def job_report(store: JobStore, job: Job) -> dict[str, Any]:
    """The statistics report of `run --json`, plus the job's id and state."""
    report = job_summary(store, job).report(job.config)
    return {"job_id": job.id, "state": job.state, **report}


def job_results(store: JobStore, job: Job) -> NetResults:
    """Every net's results, in seed order; only for a job that is done."""
    if job.state != "done":
        raise ServiceError(f"job {job.id} is {job.state} ({job.chunks_done} of {job.chunks_total} chunks)")
    return NetResults.concatenate([store.chunk_results(job, i) for i in range(job.chunks_total)])


def wait_for(store: JobStore, job_id: str, on_progress: Callable[[Job], None] | None = None,
             poll: float = 0.5, timeout: float | None = None) -> Job:
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
