"""Chaos as a regression check (not CI): jobs through real workers while workers are
SIGKILLed, Redis is killed with -9 and restarted from its AOF, and poison messages land in
the queue; then every net checked.

Starts its own redis-server (AOF, fsync always) on a free port and `--workers` worker
processes (`--limited` of them in 700 MiB of address space, or a memory cgroup of that
size where one can be made), submits `--jobs` jobs with a waiting client on each (`status
--watch`), and meanwhile, at random moments (seeded), SIGKILLs a worker with its pool and
starts a fresh one, kill -9s Redis and restarts it, or pushes a poison message (a task
message whose headers Celery cannot parse). Once the kills are done it waits for every
job, then counts, per job:
  lost        chunks never recorded (the job did not finish)
  doubled     chunks counted more than once (the job's count above its distinct records)
  mismatched  nets whose results differ from the same nets trained in this process
  hung        jobs not in a final state `--settle` seconds after the last kill
  failed      jobs that ended failed (with their reasons)
  unrecorded  chunk files in the results folder that no record names (a worker killed
              between writing its file and recording it: never read, never counted)
Every recorded chunk file is read back and checked against its SHA-256. And over the run:
  poison      messages pushed, and how many reached the dead letters (each once)
  deaths      workers that ended other than by our kills
  clients     waiting clients that did not end with their job (exit 0), and how many said
              they lost Redis and had it back
Usage: python bench/chaos.py [--worker-kills 24] [--redis-kills 6] [--poison 8] [--jobs 6] [--seed 0] [--write FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, for tests/service_helpers

from report import emit  # noqa: E402  (bench/report.py)
from tests.service_helpers import RedisServer, Worker, memory_cgroup, remove_cgroup  # noqa: E402
from xorgpu.config import Config, RunOptions, SeedRange  # noqa: E402
from xorgpu.experiment import train_seeds  # noqa: E402
from xorgpu.results_store import ResultsStore  # noqa: E402
from xorgpu.service import job_results, submit  # noqa: E402
from xorgpu.store import FINAL_STATES, JobStore  # noqa: E402
from xorgpu.workers.app import chunk_sender, make_app  # noqa: E402
from xorgpu.workers.transport import DEAD_LETTERS, captured_messages  # noqa: E402

CONFIG = Config(epochs=3000, hidden=3)  # chunks of 600 nets: about a second each on the array engine
NETS_PER_JOB, CHUNK = 24_000, 600
VISIBILITY_TIMEOUT = 5
LIMITED_MEMORY = 700 << 20  # a limited worker's memory: enough for these chunks, not for much more
POISON_HEADERS = [("timelimit", "x"), ("timelimit", [1, 2, 3]), ("eta", "tomorrow"), ("expires", 5),
                  ("retries", "many"), ("stamped_headers", 5), ("compression", "zlib"), ("x-evil", 1)]


def poison_message(url: str, rng: random.Random) -> tuple[str, str]:
    """(queue, entry): a task message as Celery sends it, one of its headers made unparseable."""
    with captured_messages() as found:
        make_app(url).send_task("xorgpu.train_chunk", args=["0123456789ab", 0, 0, 1], queue="xorgpu")
    ((queue, message),) = found
    name, value = rng.choice(POISON_HEADERS)
    return queue, json.dumps({**message, "headers": {**message["headers"], name: value}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker-kills", type=int, default=24)
    parser.add_argument("--redis-kills", type=int, default=6)
    parser.add_argument("--poison", type=int, default=8, help="poison messages pushed during the run")
    parser.add_argument("--limited", type=int, default=1, help="workers in limited memory")
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
    cgroup = memory_cgroup(LIMITED_MEMORY, "chaos") if args.limited else None
    limits = "a memory cgroup" if cgroup else "address space"

    def new_worker(number: int) -> Worker:  # the first --limited of them in limited memory
        limited = number < args.limited
        return Worker(server.url, f"w{number}", folder, visibility_timeout=VISIBILITY_TIMEOUT,
                      cgroup=cgroup if limited else None,
                      memory_limit=LIMITED_MEMORY if limited and cgroup is None else None).wait_ready()

    workers = [new_worker(i) for i in range(args.workers)]
    started = time.time()
    enqueue = chunk_sender(server.url)
    seeds = [SeedRange(j * NETS_PER_JOB, (j + 1) * NETS_PER_JOB) for j in range(args.jobs)]
    jobs = [submit(store, CONFIG, s, enqueue, CHUNK, options=RunOptions(engine="array")).id for s in seeds]
    clients = [subprocess.Popen([sys.executable, "-m", "xorgpu.cli.main", "status", job_id, "--watch", "--redis-url",
                                 server.url], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
               for job_id in jobs]
    print(f"{args.jobs} jobs of {NETS_PER_JOB} nets in chunks of {CHUNK}; redis and workers in {folder}", flush=True)

    kills = ["worker"] * args.worker_kills + ["redis"] * args.redis_kills + ["poison"] * args.poison
    rng.shuffle(kills)
    spawned = len(workers)
    during = {"worker": 0, "redis": 0, "poison": 0}  # faults while some job was still running
    for number, kind in enumerate(kills, 1):
        time.sleep(rng.uniform(0.3, 2.5))
        during[kind] += any(store.get_job(j).state not in FINAL_STATES for j in jobs)
        if kind == "worker":
            victim = rng.randrange(len(workers))
            workers[victim].kill()
            workers[victim] = new_worker(spawned)
            spawned += 1
        elif kind == "redis":
            server.kill()
            time.sleep(rng.uniform(0.2, 2.0))
            server.start()
        else:
            server.client().lpush(*poison_message(server.url, rng))
        print(f"fault {number}/{len(kills)}: {kind}", flush=True)
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
    deaths = sum(worker.process.poll() is not None for worker in workers)  # ended on their own
    dead_letters = server.client().llen(DEAD_LETTERS)
    failed_clients, heard = 0, 0
    for client in clients:
        try:
            _, said = client.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            client.kill()
            said = ""
        failed_clients += client.returncode != 0
        heard += "lost Redis" in said and "Redis is back" in said
    for worker in workers:
        worker.stop()
    server.stop()
    if cgroup is not None:
        remove_cgroup(cgroup)
    totals["deaths"] = deaths
    totals["clients"] = failed_clients
    totals["poison not dead-lettered once"] = abs(dead_letters - args.poison)

    lines = [
        "### Chaos: worker SIGKILLs, Redis kill -9 restarts and poison messages during jobs (bench/chaos.py)",
        "",
        f"Machine: {platform.node()}, {platform.machine()}; {time.strftime('%Y-%m-%d')}. {args.jobs} jobs x "
        f"{NETS_PER_JOB:,} nets ({CONFIG.epochs} epochs, H={CONFIG.hidden}, array engine) in chunks of {CHUNK}; "
        f"{args.workers} workers ({args.limited} in {LIMITED_MEMORY >> 20} MiB of {limits}), visibility timeout "
        f"{VISIBILITY_TIMEOUT} s; a `status --watch` client on every job; seed {args.seed}.",
        f"{args.worker_kills} worker SIGKILLs, {args.redis_kills} Redis kill -9 restarts and {args.poison} poison "
        f"messages in {chaos_over - started:.0f} s ({during['worker']}, {during['redis']} and {during['poison']} of "
        f"them while jobs ran); every job final {settled - chaos_over:.0f} s after the last.",
        "",
        "| job | state | chunks | lost | doubled | mismatched nets | hung | error |",
        "|---|---|---:|---:|---:|---:|---|---|",
        *rows,
        "",
        f"Totals: lost {totals['lost']}, doubled {totals['doubled']}, mismatched {totals['mismatched']}, "
        f"hung {totals['hung']}, failed {totals['failed']}; unrecorded chunk files left {unrecorded} "
        "(never read or counted).",
        f"Poison messages: {args.poison} pushed, {dead_letters} in the dead letters. Workers that ended other than "
        f"by a kill: {deaths}. Waiting clients: {len(clients) - failed_clients} of {len(clients)} ended with their "
        f"job (exit 0), {heard} of them saying they lost Redis and had it back.",
    ]
    emit("\n".join(lines), args.write)
    sys.exit(0 if not any(totals.values()) else 1)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
