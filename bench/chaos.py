"""Chaos as a regression check (not CI): jobs through real workers while workers are
SIGKILLed and Redis is killed with -9 and restarted from its AOF, then every net checked.

Starts its own redis-server (AOF, fsync always) on a free port and `--workers` worker
processes, submits `--jobs` jobs, and meanwhile, at random moments (seeded), SIGKILLs a
worker with its pool and starts a fresh one, or kill -9s Redis and restarts it. Once the
kills are done it waits for every job, then counts, per job:
  lost        chunks never recorded (the job did not finish)
  doubled     chunks counted more than once (the job's count above its distinct records)
  mismatched  nets whose results differ from the same nets trained in this process
  hung        jobs not in a final state `--settle` seconds after the last kill
  failed      jobs that ended failed (with their reasons)
  unrecorded  chunk files in the results folder that no record names (a worker killed
              between writing its file and recording it: never read, never counted)
Every recorded chunk file is read back and checked against its SHA-256.
Usage: python bench/chaos.py [--worker-kills 24] [--redis-kills 6] [--jobs 6] [--seed 0] [--write FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, for tests/service_helpers

from report import emit  # noqa: E402  (bench/report.py)
from tests.service_helpers import RedisServer, Worker  # noqa: E402
from xorgpu.config import Config, RunOptions, SeedRange  # noqa: E402
from xorgpu.experiment import train_seeds  # noqa: E402
from xorgpu.results_store import ResultsStore  # noqa: E402
from xorgpu.service import job_results, submit  # noqa: E402
from xorgpu.store import FINAL_STATES, JobStore  # noqa: E402
from xorgpu.workers.app import chunk_sender  # noqa: E402

CONFIG = Config(epochs=3000, hidden=3)  # chunks of 600 nets: about a second each on the array engine
NETS_PER_JOB, CHUNK = 24_000, 600
VISIBILITY_TIMEOUT = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker-kills", type=int, default=24)
    parser.add_argument("--redis-kills", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--settle", type=float, default=240, help="seconds allowed after the last kill")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="xorgpu-chaos-"))
    os.environ["XORGPU_RESULTS_URL"] = str(folder / "results")  # the workers inherit it
    (folder / "results").mkdir()
    results_store = ResultsStore(str(folder / "results"))
    server = RedisServer(folder).start()
    store = JobStore.from_url(server.url, patient=True)
    workers = [Worker(server.url, f"w{i}", folder, visibility_timeout=VISIBILITY_TIMEOUT).wait_ready()
               for i in range(args.workers)]
    started = time.time()
    enqueue = chunk_sender(server.url)
    seeds = [SeedRange(j * NETS_PER_JOB, (j + 1) * NETS_PER_JOB) for j in range(args.jobs)]
    jobs = [submit(store, CONFIG, s, enqueue, CHUNK, options=RunOptions(engine="array")).id for s in seeds]
    print(f"{args.jobs} jobs of {NETS_PER_JOB} nets in chunks of {CHUNK}; redis and workers in {folder}", flush=True)

    kills = ["worker"] * args.worker_kills + ["redis"] * args.redis_kills
    rng.shuffle(kills)
    spawned = len(workers)
    during = {"worker": 0, "redis": 0}  # kills while some job was still running
    for number, kind in enumerate(kills, 1):
        time.sleep(rng.uniform(0.3, 2.5))
        during[kind] += any(store.get_job(j).state not in FINAL_STATES for j in jobs)
        if kind == "worker":
            victim = rng.randrange(len(workers))
            workers[victim].kill()
            workers[victim] = Worker(server.url, f"w{spawned}", folder,
                                     visibility_timeout=VISIBILITY_TIMEOUT).wait_ready()
            spawned += 1
        else:
            server.kill()
            time.sleep(rng.uniform(0.2, 2.0))
            server.start()
        print(f"kill {number}/{len(kills)}: {kind}", flush=True)
    chaos_over = time.time()

    hung = []
    for job_id in jobs:
        while store.get_job(job_id).state not in FINAL_STATES:
            if time.time() - chaos_over > args.settle:
                hung.append(job_id)
                break
            time.sleep(0.5)
    settled = time.time()

    rows, totals = [], {"lost": 0, "doubled": 0, "mismatched": 0, "hung": len(hung), "failed": 0}
    unrecorded = 0
    for job_id, seed_range in zip(jobs, seeds):
        job = store.get_job(job_id)
        records = store.chunk_records(job_id)
        lost = job.chunks_total - len(records)
        doubled = max(0, job.chunks_done - len(records))  # counted more often than recorded
        mismatched = 0
        if job.state == "done":
            got = job_results(store, results_store, job)  # every file checked against its SHA-256
            expected, _ = train_seeds(CONFIG, seed_range, RunOptions(backend="numpy", engine="array"))
            same = (got.outputs == expected.outputs).all(axis=1) & (got.epochs_to_solve == expected.epochs_to_solve)
            mismatched = int((~same).sum() + (got.seeds != expected.seeds).sum())
        totals["lost"] += lost
        totals["doubled"] += doubled
        totals["mismatched"] += mismatched
        totals["failed"] += job.state == "failed"
        named = {r.get("file") for r in records.values()}
        on_disk = {f"{job_id}/{p.name}" for p in (folder / "results" / job_id).glob("chunk-*")}
        unrecorded += len(on_disk - named)
        rows.append(f"| {job_id} | {job.state} | {job.chunks_done}/{job.chunks_total} | {lost} | {doubled} | "
                    f"{mismatched} | {'yes' if job_id in hung else 'no'} | {job.error or '-'} |")
    for worker in workers:
        worker.stop()
    server.stop()

    lines = [
        "### Chaos: worker SIGKILLs and Redis kill -9 restarts during jobs (bench/chaos.py)",
        "",
        f"Machine: {platform.node()}, {platform.machine()}; {time.strftime('%Y-%m-%d')}. {args.jobs} jobs x "
        f"{NETS_PER_JOB:,} nets ({CONFIG.epochs} epochs, H={CONFIG.hidden}, array engine) in chunks of {CHUNK}; "
        f"{args.workers} workers, visibility timeout {VISIBILITY_TIMEOUT} s; seed {args.seed}.",
        f"{args.worker_kills} worker SIGKILLs and {args.redis_kills} Redis kill -9 restarts in "
        f"{chaos_over - started:.0f} s ({during['worker']} and {during['redis']} of them while jobs ran); "
        f"every job final {settled - chaos_over:.0f} s after the last kill.",
        "",
        "| job | state | chunks | lost | doubled | mismatched nets | hung | error |",
        "|---|---|---:|---:|---:|---:|---|---|",
        *rows,
        "",
        f"Totals: lost {totals['lost']}, doubled {totals['doubled']}, mismatched {totals['mismatched']}, "
        f"hung {totals['hung']}, failed {totals['failed']}; unrecorded chunk files left {unrecorded} "
        "(never read or counted).",
    ]
    emit("\n".join(lines), args.write)
    sys.exit(0 if not any(totals.values()) else 1)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
