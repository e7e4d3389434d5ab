"""Service commands: submit jobs to Celery workers and read their results from Redis."""

from __future__ import annotations

import datetime
import json
import os
import sys
import time
import warnings
from typing import Any

import click

from xorgpu.settings import DEFAULT_QUEUE, DEFAULT_TTL, MAX_CHUNK_NETS, MAX_CHUNKS, MAX_TTL

from .options import JobSpec, complete_job_ids, job_options, progress_bar, redis_option, results_option

WATCH_SECONDS = 1.0  # status --watch: time between refreshes
WORKERS_ASKED_EVERY = 10.0  # status --watch: seconds between asking the workers who consumes a queue
NO_WORKER_WARNING_SECONDS = 8  # submit --wait: after this long without progress, say why the job waits
MAX_LABEL = 80


@click.command()
@job_options
@click.option("--chunk-size", type=click.IntRange(1, MAX_CHUNK_NETS), default=None,
              help=f"Nets per task, at most {MAX_CHUNK_NETS:,}  [default: about 3e7 net-epochs per chunk; "
                   f"at most {MAX_CHUNKS:,} chunks a job].")
@click.option("--queue", default=DEFAULT_QUEUE, show_default=True, help="Celery queue for the chunks.")
@click.option("--ttl", type=click.IntRange(1, MAX_TTL), default=DEFAULT_TTL, show_default=True,
              help=f"Seconds the job's keys live after its last write (at most {MAX_TTL:,}, a year).")
@click.option("--wait", is_flag=True, help="Wait for the job, then print its statistics.")
@click.option("--label", default="", help="A few words to find the job by in `xorgpu jobs`.")
@click.option("--json", "as_json", is_flag=True, help='Print {"job_id": ...} (with --wait, the statistics) as JSON.')
@redis_option
def submit(spec: JobSpec, chunk_size: int | None, queue: str, ttl: int, wait: bool, label: str,
           as_json: bool, redis_url: str) -> None:
    """Submit a job to the Celery workers; print its id (or, with --wait, its statistics).

    Every flag of `run` applies; the job's results equal `xorgpu run` of the same flags.

    \b
    Examples:
      xorgpu submit --nets 10000 --seeds 0:10000 --wait
      JOB=$(xorgpu submit --nets 1000000 --hidden 2 --label "h2, a million")
    """
    from xorgpu.service import job_report  # noqa: PLC0415

    if len(label) > MAX_LABEL or not label.isprintable():
        raise click.BadParameter(f"a label is at most {MAX_LABEL} printable characters", param_hint="--label")
    store, job = submit_chunks(spec.config, spec.seeds, spec.options, chunk_size, queue, ttl, label, redis_url)
    if not wait:
        click.echo(json.dumps({"job_id": job.id}) if as_json else job.id)
        return
    job = wait_until_done(store, job, redis_url)
    _print_report(job_report(store, job), as_json)


@click.command()
@click.argument("job_id", shell_complete=complete_job_ids)
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
@click.option("--watch", is_flag=True, help="Refresh until the job ends (in place, on a terminal).")
@click.option("--chunks", is_flag=True, help="Also list its chunks: seeds, worker, host, device, seconds.")
@redis_option
def status(job_id: str, as_json: bool, watch: bool, chunks: bool, redis_url: str) -> None:
    """State, progress and ETA of job JOB_ID, and why it waits if it does (a full Redis, no
    worker on its queue); exits 1 for a failed or cancelled job.

    \b
    Examples:
      xorgpu status 1a2b3c4d5e6f --watch
      xorgpu status 1a2b3c4d5e6f --chunks --json
    """
    from xorgpu.service import through_outages, why_waiting  # noqa: PLC0415
    from xorgpu.store import ACTIVE_STATES, FINAL_STATES, JobStore  # noqa: PLC0415

    store = JobStore.from_url(redis_url)
    in_place = watch and not as_json and sys.stdout.isatty()
    asked: dict[str, Any] = {}  # --watch: who consumes the queue, asked at most every WORKERS_ASKED_EVERY s

    def look() -> tuple[Any, dict[str, Any]]:
        job = store.get_job(job_id)
        info = _status(job)
        if job.state in ACTIVE_STATES:
            info["waiting"] = why_waiting(store, job, lambda queue: _consumers_now(redis_url, queue, asked))
        if chunks:
            info["chunks"] = _chunk_rows(store.chunk_records(job.id))
        return job, info

    say = (lambda message: click.echo(("\n" if in_place else "") + f"xorgpu: {message}", err=True))
    while True:
        job, info = through_outages(look, say) if watch else look()
        if in_place:
            click.echo("\r\033[K" + _status_line(info), nl=False)
        else:
            click.echo(json.dumps(info) if as_json else _status_line(info))
        if not watch or job.state in FINAL_STATES:
            break
        time.sleep(WATCH_SECONDS)
    if in_place:
        click.echo()
    if job.state in FINAL_STATES and store.full():
        click.echo("xorgpu: Redis is full (used memory at its maxmemory): workers can neither take nor record "
                   "chunks until memory is freed or maxmemory raised", err=True)
    if chunks and not as_json:
        for row in info["chunks"]:
            click.echo(f"  chunk {row['chunk']:>6}  seeds {row['seeds']:<15}  {row['worker']:<24}  {row['host']:<16}  "
                       f"{row['engine']} on {row['device']}  {row['seconds']:.1f} s")
    if job.state in ("failed", "cancelled"):
        sys.exit(1)


@click.command()
@click.argument("job_id", shell_complete=complete_job_ids)
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as one JSON object (as `run --json`).")
@redis_option
def stats(job_id: str, as_json: bool, redis_url: str) -> None:
    """Convergence statistics of job JOB_ID (of its chunks so far, if it is not done).

    \b
    Example:
      xorgpu stats 1a2b3c4d5e6f --json
    """
    from xorgpu.service import job_report  # noqa: PLC0415
    from xorgpu.store import JobStore  # noqa: PLC0415

    store = JobStore.from_url(redis_url)
    job = store.get_job(job_id)
    report = job_report(store, job)
    if not as_json and job.state != "done":
        click.echo(f"job {job.id} is {job.state}: {job.nets_done} of {job.nets_total} nets so far", err=True)
    _print_report(report, as_json)


@click.command()
@click.argument("job_id", shell_complete=complete_job_ids)
@click.option("-o", "--out", type=click.Path(dir_okay=False), required=True,
              help="FILE.parquet or FILE.npz to write (the format of `run --out`, by its suffix); .parquet "
                   "streams the job's files, whatever its size.")
@click.option("--partial", is_flag=True, help="Of a job not done (running, failed, cancelled): the chunks so far.")
@redis_option
@results_option
def results(job_id: str, out: str, partial: bool, redis_url: str, results_url: str | None) -> None:
    """Write every net of job JOB_ID to a file, as `run --out` does.

    \b
    Examples:
      xorgpu results 1a2b3c4d5e6f -o nets.parquet
      xorgpu results 1a2b3c4d5e6f -o so-far.npz --partial
    """
    from xorgpu.files import RESULTS_SUFFIXES, check_output  # noqa: PLC0415
    from xorgpu.results_store import ResultsStore  # noqa: PLC0415
    from xorgpu.service import write_job_results  # noqa: PLC0415
    from xorgpu.settings import results_url as default_results_url  # noqa: PLC0415
    from xorgpu.store import JobStore  # noqa: PLC0415

    check_output(out, RESULTS_SUFFIXES)
    store = JobStore.from_url(redis_url)
    job = store.get_job(job_id)
    nets = write_job_results(store, ResultsStore(results_url or default_results_url()), job, out, partial)
    click.echo(f"wrote {nets:,} nets of job {job.id} to {out}" + ("" if nets == job.nets_total else
                                                                  f" ({job.nets_total:,} in the job)"))


@click.command()
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True, help="Jobs to list, at most.")
@click.option("--json", "as_json", is_flag=True, help="Print the jobs as one JSON list.")
@redis_option
def jobs(limit: int, as_json: bool, redis_url: str) -> None:
    """Recent jobs, newest first, with their state, config and label (a job whose record
    cannot be read is listed as broken).

    \b
    Example:
      xorgpu jobs --limit 5
    """
    from xorgpu.store import BrokenJob, JobStore  # noqa: PLC0415

    store = JobStore.from_url(redis_url)
    infos = [_broken(job) if isinstance(job, BrokenJob) else _status(job) for job in store.recent_jobs(limit)]
    if as_json:
        click.echo(json.dumps(infos))
        return
    for info in infos:
        click.echo(_status_line(info))


@click.command()
@click.argument("job_id", shell_complete=complete_job_ids)
@redis_option
def cancel(job_id: str, redis_url: str) -> None:
    """Cancel job JOB_ID: chunks not yet started are skipped.

    \b
    Example:
      xorgpu cancel 1a2b3c4d5e6f
    """
    from xorgpu.store import JobStore  # noqa: PLC0415

    state = JobStore.from_url(redis_url).cancel(job_id)
    click.echo(f"job {job_id} is {state}")


@click.command()
@click.option("--concurrency", type=click.IntRange(1, 1024), default=None,
              help="Pool processes  [default: the CPUs; use 1 per GPU].")
@click.option("--hostname", default=None,
              help="Worker node name, unique among the workers (default: xorgpu-PID@HOST; %h is the host).")
@click.option("--queues", default=DEFAULT_QUEUE, show_default=True, help="Comma-separated queues.")
@click.option("--loglevel", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], case_sensitive=False),
              default="INFO", show_default=True, help="How much the worker logs.")
@redis_option
@results_option
def worker(concurrency: int | None, hostname: str | None, queues: str, loglevel: str, redis_url: str,
           results_url: str | None) -> None:
    """Start a Celery worker that trains jobs' chunks (prefork pool; CUDA starts in its
    children, one per GPU).

    \b
    Examples:
      xorgpu worker --concurrency 2
      XORGPU_BACKEND=cupy xorgpu worker --concurrency 1 --hostname gpu0@%h --queues xorgpu
    """
    from xorgpu.redis_url import canonical  # noqa: PLC0415
    from xorgpu.results_store import ResultsStore  # noqa: PLC0415
    from xorgpu.settings import (  # noqa: PLC0415
        REDIS_URL_ENV, RESULTS_URL_ENV, chunk_deaths, default_backend_name, default_results_folder, lost_chunk_check,
        record_patience, results_url as default_results_url, visibility_timeout,
    )
    from xorgpu.store import JobStore  # noqa: PLC0415
    from xorgpu.workers.versions import check_versions  # noqa: PLC0415

    check_versions()  # the Celery and kombu whose internals the workers were tested with, or one line
    _check_queues(queues)
    if hostname is not None and (not hostname.strip() or any(c.isspace() for c in hostname)):
        raise click.BadParameter("a worker name has no spaces", param_hint="--hostname")
    for setting in (default_backend_name, visibility_timeout, record_patience, lost_chunk_check, chunk_deaths):
        setting()  # a bad setting: one line now, not an error in every pool process
    JobStore.from_url(redis_url)  # a clear error now rather than a retry loop
    location = results_url or default_results_url()
    # made if missing: the default with its parents (under your home), a named one if its parent exists
    ResultsStore(location).check_writable(parents=location == default_results_folder())
    os.environ[REDIS_URL_ENV] = canonical(redis_url)  # for the tasks' store in the pool processes
    os.environ[RESULTS_URL_ENV] = location
    # Each pool process runs the fused CPU engine on numba threads: share the CPUs out.
    processes = concurrency or os.cpu_count() or 1
    os.environ.setdefault("NUMBA_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // processes)))
    from celery.utils.nodenames import default_nodename, host_format  # noqa: PLC0415

    from xorgpu.workers.app import make_app  # noqa: PLC0415

    # app.Worker, as `celery worker` builds it, rather than app.start: its exit code reaches
    # the shell (app.start drops it), so a worker that stops on an error exits non-zero
    # the process id in the default name, so two workers started on one host differ
    name = host_format(default_nodename(hostname or f"xorgpu-{os.getpid()}@%h"))
    worker = make_app(redis_url).Worker(hostname=name, pool_cls="prefork",
                                        loglevel=loglevel, concurrency=concurrency, queues=queues)
    worker.start()
    if worker.exitcode:
        raise SystemExit(worker.exitcode)


def submit_chunks(config: Any, seeds: Any, options: Any, chunk_size: int | None, queue: str, ttl: int, label: str,
                  redis_url: str, map_spec: str = "") -> tuple[Any, Any]:
    """(store, job): the job submitted, its size checked before Redis is reached (a job too
    large is refused at once); map_spec makes it a map's job of tiles (`map --submit`)."""
    from xorgpu.service import default_chunk_size, submit as submit_job  # noqa: PLC0415
    from xorgpu.store import JobStore, check_job_size  # noqa: PLC0415
    from xorgpu.workers.app import chunk_sender  # noqa: PLC0415

    _check_queues(queue, one=True)
    chunk_size = chunk_size or default_chunk_size(config, len(seeds))
    check_job_size(seeds, chunk_size)
    store = JobStore.from_url(redis_url)
    job = submit_job(store, config, seeds, chunk_sender(redis_url), chunk_size, queue, ttl, options, label, map_spec)
    return store, job


def wait_until_done(store: Any, job: Any, redis_url: str, what: str = "job") -> Any:
    """The job once done, with a progress bar; Ctrl-C stops waiting (not the job), and a
    job that failed or was cancelled is an error with its reason."""
    from xorgpu.errors import Interrupted, ServiceError  # noqa: PLC0415

    try:
        job = _wait_with_bar(store, job, redis_url)
    except KeyboardInterrupt:
        raise Interrupted(f"stopped waiting; {what} {job.id} goes on: `xorgpu status {job.id}` follows it, "
                          f"`xorgpu cancel {job.id}` stops it") from None
    if job.state != "done":
        raise ServiceError(f"{what} {job.id} ended {job.state}{': ' + job.error if job.error else ''}")
    return job


def _check_queues(queues: str, one: bool = False) -> None:
    """A worker's comma-separated queues, or (one) the single queue a job's chunks go to."""
    names = queues.split(",")
    if one and len(names) > 1:
        raise click.BadParameter(f"{queues[:60]!r}: a job's chunks go to one queue (a worker may consume several)",
                                 param_hint="--queue")
    if not all(name and name.strip() == name and name.isprintable() and len(name) <= 200 for name in names):
        raise click.BadParameter(f"{queues[:60]!r} is not a comma-separated list of queue names",
                                 param_hint="--queue(s)")


def _wait_with_bar(store: Any, job: Any, redis_url: str) -> Any:
    """wait_for with a progress bar; once the job has not moved for NO_WORKER_WARNING_SECONDS,
    why it waits (xorgpu.service.why_waiting), said once for each new reason."""
    from xorgpu.service import wait_for, why_waiting  # noqa: PLC0415
    from xorgpu.store import FINAL_STATES  # noqa: PLC0415

    moved = {"nets": 0, "when": time.monotonic()}
    asked: dict[str, Any] = {}
    said = [None]
    with progress_bar(job.nets_total, f"job {job.id}") as bar:

        def advance(current: Any) -> None:
            if current.nets_done != moved["nets"]:
                bar.update(current.nets_done - moved["nets"])
                moved.update(nets=current.nets_done, when=time.monotonic())
            if time.monotonic() - moved["when"] < NO_WORKER_WARNING_SECONDS or current.state in FINAL_STATES:
                return
            reason = why_waiting(store, current, lambda queue: _consumers_now(redis_url, queue, asked))
            if reason and reason != said[0]:
                click.echo(f"\nxorgpu: job {current.id} waits: {reason}", err=True)
            said[0] = reason

        return wait_for(store, job.id, advance, say=lambda message: click.echo(f"\nxorgpu: {message}", err=True))


def _consumers_now(redis_url: str, queue: str, asked: dict[str, Any]) -> list[str]:
    """_consumers, asked again only once WORKERS_ASKED_EVERY seconds have passed (asked: the
    last answer and when it came)."""
    if "when" not in asked or time.monotonic() - asked["when"] > WORKERS_ASKED_EVERY:
        asked.update(answer=_consumers(redis_url, queue), when=time.monotonic())
    return asked["answer"]


def _consumers(redis_url: str, queue: str) -> list[str]:
    """The workers that answer and consume `queue` (Celery's remote control, one second)."""
    from xorgpu.workers.app import make_app  # noqa: PLC0415

    with warnings.catch_warnings():  # two workers of one name: this asks which consume, not how many
        warnings.simplefilter("ignore")
        answers = make_app(redis_url).control.inspect(timeout=1.0).active_queues() or {}
    return [worker for worker, queues in answers.items() if any(q.get("name") == queue for q in queues)]


def _status(job: Any) -> dict[str, Any]:
    now = job.finished or time.time()
    elapsed = now - (job.started or job.created)
    eta = None
    if job.state == "running" and job.nets_done:
        eta = elapsed * (job.nets_total - job.nets_done) / job.nets_done
    return {
        "job_id": job.id, "state": job.state, "nets_done": job.nets_done, "nets_total": job.nets_total,
        "chunks_done": job.chunks_done, "chunks_total": job.chunks_total,
        "created": datetime.datetime.fromtimestamp(job.created).isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 1), "eta_s": None if eta is None else round(eta, 1),
        "queue": job.queue, "error": job.error or None, "label": job.label or None,
        "config": _short_config(job.config),
    }


def _short_config(config: Any) -> str:
    """The config in a few words, for a line of `jobs`: the net, its epochs, and every other
    setting that differs from the notebook's defaults, as name=value."""
    import dataclasses  # noqa: PLC0415

    from xorgpu.config import Config  # noqa: PLC0415

    default = Config()
    changed = [f"{f.name}={getattr(config, f.name)}" for f in dataclasses.fields(Config)
               if f.name not in ("hidden", "epochs") and getattr(config, f.name) != getattr(default, f.name)]
    return " ".join([f"2-{config.hidden}-1", f"{config.epochs:,} epochs", *changed])


def _chunk_rows(records: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"chunk": index, "seeds": r.get("seeds", "?"), "worker": r.get("worker") or "?", "host": r.get("host") or "?",
             "engine": r.get("engine", "?"), "device": r.get("device", "?"), "seconds": float(r.get("seconds", 0))}
            for index, r in sorted(records.items())]


def _broken(error: Any) -> dict[str, Any]:
    return {"job_id": error.job_id, "state": "broken", "error": str(error)}


def _status_line(info: dict[str, Any]) -> str:
    if info["state"] == "broken":
        return f"{info['job_id']}  broken     {info['error']}"
    eta = f", ETA {info['eta_s']:.0f} s" if info["eta_s"] is not None else ""
    error = f", error: {info['error']}" if info["error"] else ""
    error += f"; waiting: {info['waiting']}" if info.get("waiting") else ""
    label = f" [{info['label']}]" if info.get("label") else ""
    return (f"{info['job_id']}  {info['state']:<10} {info['config']}{label}: {info['nets_done']:,}/{info['nets_total']:,} "
            f"nets, {info['chunks_done']}/{info['chunks_total']} chunks, created {info['created']}, "
            f"{info['elapsed_s']:.0f} s{eta}{error}")


def _print_report(report: dict[str, Any], as_json: bool) -> None:
    from xorgpu.text import format_report  # noqa: PLC0415

    click.echo(json.dumps(report) if as_json else f"job {report['job_id']} ({report['state']})\n"
               + format_report(report))
