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

import contextlib
import logging
import os
import socket
import time
from dataclasses import fields
from typing import Any, Callable

import numpy as np
import redis

from . import provenance
from .backend import resolve_backend
from .memory import Headroom, check_fits
from .config import Config, ConfigError, RunOptions, SeedRange
from .engines.selection import bytes_per_net
from .files import MAX_INPUT_FRACTION
from .errors import Terminated
from .experiment import prepare
from .results import NetOutcomes, NetResults, bytes_per_net_result
from .settings import (
    CHUNK_NET_EPOCHS, DEFAULT_QUEUE, DEFAULT_TTL, MAX_CHUNK_NETS, MAX_CHUNKS, default_backend_name, record_patience,
    results_url,
)
from .stats import Summary
from .results_store import ChunkFile, ResultsStore
from .errors import first_line
from .store import FINAL_STATES, SUBMIT_LEASE_SECONDS, BrokenJob, Job, JobStore, ServiceError, UnknownJob

log = logging.getLogger(__name__)

Enqueue = Callable[[str, list[tuple[int, SeedRange]], str], None]  # job id, (chunk index, seeds) ..., queue
ENQUEUE_BATCH = 1000  # chunks sent to Redis at once by submit
Outcome = dict[str, Any]  # what a chunk's task did: counted, skipped, refused or failed
TRANSIENT_REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, redis.OutOfMemoryError)
SUBMITTING_POLL_SECONDS = 0.2
RECORD_FIRST_WAIT, RECORD_LONGEST_WAIT = 0.5, 10.0  # seconds between tries to record a chunk, doubling
WAIT_POLL_SECONDS = 0.5  # how often `wait_for` looks at a job
EXACT_QUANTILE_NETS = 50_000_000  # results of jobs up to this size get exact final-loss quantiles
OUTCOME_BYTES_PER_NET = 8 + 8 + 8 + 1  # NetOutcomes: seed, epochs to solve, final loss, outcome


class SubmitFailed(ServiceError):
    """A submit that did not enqueue all its chunks; its job (if one was made) is failed."""

    def __init__(self, message: str, job_id: str | None, interrupted: bool, terminated: bool = False) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.interrupted = interrupted
        self.exit_code = 143 if terminated else 130 if interrupted else 1


def default_chunk_size(config: Config, nets: int) -> int:
    """About CHUNK_NET_EPOCHS net-epochs a chunk (seconds on a CPU core), within the limits
    on chunk size and count."""
    size = max(1, min(MAX_CHUNK_NETS, int(CHUNK_NET_EPOCHS // config.epochs)))
    return max(size, -(-nets // MAX_CHUNKS))


def submit(
    store: JobStore, config: Config, seeds: SeedRange, enqueue: Enqueue, chunk_size: int | None = None,
    queue: str = DEFAULT_QUEUE, ttl: int = DEFAULT_TTL, options: RunOptions = RunOptions(), label: str = "",
    map_spec: str = "",
) -> Job:
    """Store the job, enqueue one task per chunk (ENQUEUE_BATCH at a time), then let workers
    start on it.

    Until every chunk is enqueued the job is `submitting`, and a worker that receives one
    of its chunks waits. If enqueueing stops (Ctrl-C, Redis lost), the job is failed with
    the reason and SubmitFailed names it; if even that cannot be written, the job's lease
    runs out and the next reader fails it.
    """
    job = store.create_job(config, seeds, chunk_size or default_chunk_size(config, len(seeds)), queue, ttl, options,
                           label, map_spec)
    enqueued = 0
    try:
        renewed = time.monotonic()
        for first in range(0, job.chunks_total, ENQUEUE_BATCH):
            batch = [(index, job.chunk(index)) for index in range(first, min(first + ENQUEUE_BATCH, job.chunks_total))]
            enqueue(job.id, batch, queue)
            enqueued += len(batch)
            if time.monotonic() - renewed > SUBMIT_LEASE_SECONDS / 6:
                store.renew_lease(job.id)
                renewed = time.monotonic()
        if not store.mark_queued(job.id):
            raise ServiceError(f"job {job.id} was {store.get_job(job.id).state} while its chunks were enqueued")
    except BaseException as error:  # noqa: BLE001  (Ctrl-C included: the job must not be left waiting)
        interrupted = isinstance(error, KeyboardInterrupt)
        terminated = isinstance(error, Terminated)
        why = "was terminated" if terminated else "was interrupted" if interrupted else f"failed ({first_line(error)})"
        message = (f"submit {why} after {enqueued:,} of {job.chunks_total:,} chunks were enqueued; "
                   "no chunk of this job will run")
        try:
            store.fail(job.id, message)
        except redis.RedisError:
            pass  # its lease runs out instead
        raise SubmitFailed(f"job {job.id}: {message}", job.id, interrupted, terminated) from None
    return store.get_job(job.id)


def run_chunk_message(store: JobStore, args: Any, kwargs: Any, worker: str = "",
                      results_store: ResultsStore | None = None) -> Outcome:
    """A chunk task's message, checked, then `run_chunk`: (job_id, index, start, stop)."""
    if kwargs or not isinstance(args, (list, tuple)) or len(args) != 4:
        return _refused(f"a chunk message has 4 arguments (job id, index, start, stop), got {_shown(args, kwargs)}")
    job_id, index, start, stop = args
    if not isinstance(job_id, str) or not all(isinstance(v, int) and not isinstance(v, bool)
                                              for v in (index, start, stop)):
        return _refused(f"a chunk message has a job id and three integers, got {_shown(args, kwargs)}")
    return run_chunk(store, job_id, index, start, stop, worker, results_store)


def worker_lost(store: JobStore, args: Any, worker: str, most: int) -> bool:
    """The pool process training the chunk of a task's args (job id, index, start, stop) died
    (killed by the kernel for want of memory, or by a signal): count it; at the `most`-th
    time, fail the job with the reason instead of handing the chunk out again. True if the
    job was failed (the chunk then goes back to no queue)."""
    if not (isinstance(args, (list, tuple)) and len(args) == 4 and isinstance(args[0], str)
            and isinstance(args[1], int)):
        return False
    job_id, index = args[0], args[1]
    deaths = store.count_lost_worker(job_id, index)
    if deaths < most:
        log.warning("job %s chunk %d: its worker process died (%d of %d before the job fails); it goes back to "
                    "the queue", job_id, index, deaths, most)
        return False
    reason = (f"chunk {index} failed: its worker process was killed {deaths} times while training it (by the kernel, "
              f"out of memory?) on {worker}; submit with a smaller --chunk-size, or give the worker more memory")
    log.error("job %s failed: %s", job_id, reason)
    store.fail(job_id, reason)
    return True


def run_chunk(store: JobStore, job_id: str, index: int, start: int, stop: int, worker: str = "",
              results_store: ResultsStore | None = None) -> Outcome:
    """Train one chunk, write its results file, then record it; harmless to run twice (the
    second is not counted, and its file deleted). results_store: where the file goes
    (default: XORGPU_RESULTS_URL, xorgpu.settings.results_url).

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
        results, summary = _train_chunk(job, plan, seeds)
        results_store = results_store or ResultsStore(results_url())
        chunk_file = results_store.write_chunk(job.id, index, seeds, job.config, results)
    except Exception as error:  # noqa: BLE001  (MemoryError included: anything the job's training raises)
        return _fail(store, job, index, f"chunk {index} failed: {_describe(error)}")
    del results
    ran = plan.ran()
    made = {**ran, "worker": worker, "host": socket.gethostname()}
    record = {"seeds": str(seeds), **chunk_file.to_record(), **made, "pid": os.getpid(),
              "seconds": time.time() - started, "finished": time.time()}
    outcome = _record_patiently(store, job, index, record, summary, made)
    if not outcome.get("counted"):
        _forget_unless_recorded(store, results_store, job, index, chunk_file)
    return outcome


def _forget_unless_recorded(store: JobStore, results_store: ResultsStore, job: Job, index: int,
                            chunk_file: ChunkFile) -> None:
    """Delete this worker's file of a chunk that another copy of it was recorded for. (A
    lost reply can make our own recording look like a duplicate: the record says whose.)"""
    try:
        recorded = store.chunk_records(job.id).get(index)
    except (redis.RedisError, ServiceError):
        return  # an unrecorded file is never read: leaving it is harmless
    if recorded is None or recorded.get("file") != chunk_file.path:
        results_store.delete(chunk_file)


def _chunk_plan(job: Job, nets: int) -> Any:
    """The plan for one chunk on this worker: its own backend if the job left it to the
    worker, one process, and enough memory for it, checked before anything is allocated."""
    backend = resolve_backend(job.options.backend if job.options.backend != "auto" else default_backend_name())
    plan = prepare(job.config, RunOptions(backend=backend.name, engine=job.options.engine, processes=1), backend)
    # the results, and while its file is written their Arrow table and the file's bytes (with room to spare)
    needed = (4 * nets * bytes_per_net_result(job.config.patterns)
              + min(nets, plan.block_nets) * bytes_per_net(job.config))
    free = backend.free_memory() if backend.on_device else None
    check_fits(needed, f"its {nets:,} nets", "submit with a smaller --chunk-size",
               room=None if free is None else Headroom(free, f"on {backend.device}"))
    return plan


def _train_chunk(job: Job, plan: Any, seeds: SeedRange) -> tuple[NetResults, Summary]:
    """A chunk's nets: seeds, or for a map job a tile of its pixels (xorgpu.maps)."""
    if not job.map_spec:
        return plan.train(seeds)
    from .maps.spec import MapSpec  # noqa: PLC0415
    from .maps.train import train_tile  # noqa: PLC0415

    spec = MapSpec.from_json(job.map_spec)
    if spec.config != job.config or seeds.stop > spec.pixels:
        raise ConfigError(f"job {job.id}'s map does not match its config and pixels")
    return train_tile(spec, plan, seeds)


def _wait_until_submitted(store: JobStore, job: Job) -> Job:
    """Wait while the job's chunks are still being enqueued (bounded by its submit lease)."""
    while job.state == "submitting":
        time.sleep(SUBMITTING_POLL_SECONDS)
        job = store.get_job(job.id)
    return job


def _record_patiently(store: JobStore, job: Job, index: int, record: dict[str, Any], summary: Summary,
                      made: dict[str, str]) -> Outcome:
    patience = record_patience()
    deadline = time.monotonic() + patience
    delay = RECORD_FIRST_WAIT
    while True:
        try:
            counted = store.record_chunk(job, index, record, summary, made)
            return {"job": job.id, "chunk": index, "counted": counted}
        except UnknownJob as error:
            return {"job": job.id, "chunk": index, "skipped": str(error)}
        except TRANSIENT_REDIS_ERRORS as error:
            full = isinstance(error, redis.OutOfMemoryError)
            why = "Redis is full (its maxmemory)" if full else f"Redis did not answer ({first_line(error)})"
            if time.monotonic() + delay > deadline:
                return _fail(store, job, index, f"chunk {index} was trained but could not be recorded for "
                                                f"{patience} s: {why}")
            if delay == RECORD_FIRST_WAIT:  # once: status says it until a chunk is recorded
                with contextlib.suppress(redis.RedisError):
                    store.note_stall(job.id, f"chunk {index} is trained and waits to be recorded since "
                                             f"{time.strftime('%H:%M:%S')}: {why}")
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


def why_waiting(store: JobStore, job: Job, consumers: Callable[[str], list[str]]) -> str | None:
    """Why a job that has not ended may not be moving, or None: a worker that cannot record
    a trained chunk (it says why), a full Redis, no worker consuming its queue (consumers:
    the workers that do, as they answer; asked only if nothing else explains a wait)."""
    if job.stalled:
        return job.stalled
    if store.full():
        return "Redis is full (used memory at its maxmemory): workers can neither take nor record chunks"
    if job.state in ("queued", "running") and not consumers(job.queue):
        return f"no worker consumes the queue {job.queue!r}: start one with `xorgpu worker --queues {job.queue}`"
    return None


def job_report(store: JobStore, job: Job) -> dict[str, Any]:
    """The statistics report of `run --json` (loss quantiles from the merged sketch, within
    1%), plus the job's id and state, and the provenance of its chunks so far. Two reads
    of Redis, whatever the number of chunks."""
    return {"job_id": job.id, "state": job.state, **store.summary(job).report(job.config),
            "provenance": provenance.of_job(job.seeds, store.made(job), job.started, job.finished, job.submitter)}


def job_chunk_files(store: JobStore, job: Job, partial: bool = False) -> list[ChunkFile]:
    """The results files of a job that is done, in seed order; with partial, of the chunks
    recorded so far, whatever the job's state."""
    if job.state != "done" and not partial:
        raise ServiceError(f"job {job.id} is {job.state} ({job.chunks_done} of {job.chunks_total} chunks): "
                           "--partial writes the chunks so far")
    files = [chunk for _, chunk in store.chunk_files(job)]
    if not files:
        raise ServiceError(f"job {job.id} has no chunk recorded yet")
    if not partial and len(files) != job.chunks_total:
        raise BrokenJob(job.id, f"job {job.id} is done but {job.chunks_total - len(files)} of its chunks have no record")
    return files


def job_results(store: JobStore, results_store: ResultsStore, job: Job, partial: bool = False) -> NetResults:
    """Every net's results in memory, in seed order (see job_chunk_files); for jobs too large
    for that, read job_chunk_files one at a time (xorgpu.results_store.iter_tables)."""
    return NetResults.concatenate([results_store.read_chunk(chunk, job.config)
                                   for chunk in job_chunk_files(store, job, partial)])


def job_outcomes(store: JobStore, results_store: ResultsStore, job: Job) -> NetOutcomes:
    """How every net of a finished job ended (seed, epochs to solve, final loss, outcome),
    read as those four columns of its files: what plot and report draw, 25 bytes a net."""
    from .results_store import iter_tables  # noqa: PLC0415
    from .tables import OUTCOME_TABLE_COLUMNS, outcomes_of_table  # noqa: PLC0415

    files = job_chunk_files(store, job)
    nets = sum(chunk.rows for chunk in files)
    check_fits(2 * nets * OUTCOME_BYTES_PER_NET, f"drawing job {job.id}'s {nets:,} nets",  # parts, then joined
               "use a machine with more, or read the job's files in parts (xorgpu.load(JOB).dataset())",
               share=MAX_INPUT_FRACTION)
    parts = [outcomes_of_table(table) for table in iter_tables(results_store, files, OUTCOME_TABLE_COLUMNS)]
    return NetOutcomes(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(NetOutcomes)))


def map_of_job(store: JobStore, results_store: ResultsStore, job: Job) -> Any:
    """The xorgpu.maps.MapResult of a finished map job (`map --submit`), from four columns
    of its files."""
    from .maps.spec import MapSpec  # noqa: PLC0415
    from .maps.train import map_of_outcomes  # noqa: PLC0415

    if not job.map_spec:
        raise ServiceError(f"job {job.id} is not a map: it trained seeds (xorgpu submit), not pixels")
    spec = MapSpec.from_json(job.map_spec)
    try:
        return map_of_outcomes(spec, job_outcomes(store, results_store, job), job_report(store, job)["provenance"])
    except ValueError as error:
        raise BrokenJob(job.id, f"job {job.id}: {error}") from None


def write_job_results(store: JobStore, results_store: ResultsStore, job: Job, path: str,
                      partial: bool = False) -> int:
    """A results file of the job (see job_chunk_files), in the format of `run --out`; nets.

    .parquet streams the chunk files (memory: one chunk); .npz is built in memory. Final-loss
    quantiles are exact (every net's loss is read, 8 bytes a net) up to EXACT_QUANTILE_NETS
    nets, and from the job's 1% sketch beyond."""
    from .result_files import save_npz  # noqa: PLC0415
    from .results_store import iter_tables  # noqa: PLC0415
    from .stats import exact_loss_quantiles  # noqa: PLC0415
    from .tables import save_parquet_tables  # noqa: PLC0415

    files = job_chunk_files(store, job, partial)
    report = job_report(store, job)
    nets = sum(chunk.rows for chunk in files)
    if str(path).lower().endswith(".parquet"):
        if nets <= EXACT_QUANTILE_NETS:  # a first pass, over the one column: the file's metadata comes first
            losses = [t.column("final_loss").to_numpy() for t in iter_tables(results_store, files, ["final_loss"])]
            report["final_loss"] = exact_loss_quantiles(np.concatenate(losses))
        return save_parquet_tables(path, iter_tables(results_store, files), job.config, report)
    check_fits(3 * nets * bytes_per_net_result(job.config.patterns), f"job {job.id}'s {nets:,} nets as .npz",
               "write .parquet instead, which streams", share=MAX_INPUT_FRACTION)
    results = NetResults.concatenate([results_store.read_chunk(chunk, job.config) for chunk in files])
    if nets <= EXACT_QUANTILE_NETS:
        report["final_loss"] = exact_loss_quantiles(results.final_loss)
    save_npz(path, results, job.config, report)
    return nets


def wait_for(store: JobStore, job_id: str, on_progress: Callable[[Job], None] | None = None,
             poll: float = WAIT_POLL_SECONDS, timeout: float | None = None,
             say: Callable[[str], None] | None = None) -> Job:
    """Poll until the job reaches a final state. A Redis that goes away meanwhile (a restart)
    is waited for: say hears when it went and when it came back."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        job = through_outages(lambda: store.get_job(job_id), say)
        if on_progress is not None:
            through_outages(lambda: on_progress(job), say)
        if job.state in FINAL_STATES:
            return job
        if deadline is not None and time.monotonic() > deadline:
            raise ServiceError(f"job {job_id} still {job.state} after {timeout} s")
        time.sleep(poll)


OUTAGE_POLL_SECONDS = 1.0  # how often a waiting client looks for a Redis that went away


def through_outages(call: Callable[[], Any], say: Callable[[str], None] | None = None) -> Any:
    """call(), again and again while Redis cannot be reached (restarting, loading its AOF):
    say hears once that it went, and once that it is back. For clients that wait anyway."""
    lost = None
    while True:
        try:
            result = call()
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as error:
            if lost is None:
                lost = time.monotonic()
                if say is not None:
                    say(f"lost Redis ({first_line(error)[:120]}); waiting for it to come back (Ctrl-C stops waiting)")
            time.sleep(OUTAGE_POLL_SECONDS)
            continue
        if lost is not None and say is not None:
            say(f"Redis is back after {time.monotonic() - lost:.0f} s")
        return result
