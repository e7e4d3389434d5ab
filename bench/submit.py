"""Enqueueing a job's chunks: messages made from one Celery message and pushed 1,000 per
LPUSH (xorgpu.workers.app.chunk_sender), against Celery's send_task once per chunk (one
round trip each), measured in the same run against a throw-away redis-server.

Each try submits one job of N chunks (xorgpu.service.submit, the function `xorgpu submit`
calls) and times it from the call to its return: job record, every message in the queue,
the job marked queued; then the whole `xorgpu submit` command, process start included.
The queue is emptied between tries. Medians of --repeat tries.
Usage: python bench/submit.py [--chunks 20000] [--repeat 3] [--write FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, for tests/service_helpers

from report import emit  # noqa: E402  (bench/report.py)
from tests.service_helpers import RedisServer  # noqa: E402
from xorgpu.config import Config, SeedRange  # noqa: E402
from xorgpu.service import submit  # noqa: E402
from xorgpu.store import JobStore  # noqa: E402
from xorgpu.store import TASK_NAME, task_id  # noqa: E402
from xorgpu.workers.app import chunk_sender, make_app  # noqa: E402

NETS_PER_CHUNK = 100


def one_send_task_per_chunk(redis_url: str):
    """The baseline: what chunk_sender did before, Celery's send_task for each chunk."""
    sender = make_app(redis_url)

    def enqueue(job_id: str, chunks: list[tuple[int, SeedRange]], queue: str) -> None:
        for index, seeds in chunks:
            sender.send_task(TASK_NAME, args=[job_id, index, seeds.start, seeds.stop], queue=queue,
                             task_id=task_id(job_id, index))

    return enqueue


def timed_submit(store: JobStore, enqueue, chunks: int) -> float:
    store.client.delete("xorgpu")
    started = time.perf_counter()
    job = submit(store, Config(epochs=10), SeedRange(0, chunks * NETS_PER_CHUNK), enqueue=enqueue,
                 chunk_size=NETS_PER_CHUNK)
    seconds = time.perf_counter() - started
    assert store.client.llen("xorgpu") == chunks == job.chunks_total
    return seconds


def timed_cli_submit(store: JobStore, chunks: int) -> float:
    store.client.delete("xorgpu")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "xorgpu.cli.main", "submit", "--nets", str(chunks * NETS_PER_CHUNK),
                    "--chunk-size", str(NETS_PER_CHUNK), "--epochs", "10", "--redis-url", store.url],
                   check=True, capture_output=True)
    seconds = time.perf_counter() - started
    assert store.client.llen("xorgpu") == chunks
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    server = RedisServer(Path(tempfile.mkdtemp(prefix="xorgpu-submit-"))).start()
    try:
        store = JobStore.from_url(server.url)
        senders = {"chunk_sender (batched)": chunk_sender(server.url),
                   "send_task per chunk (baseline)": one_send_task_per_chunk(server.url)}
        timed_submit(store, senders["chunk_sender (batched)"], 100)  # connections and imports, untimed
        timed_submit(store, senders["send_task per chunk (baseline)"], 100)
        times: dict[str, list[float]] = {name: [] for name in senders}
        for _ in range(args.repeat):  # interleaved: a slow moment of the machine falls on both
            for name, enqueue in senders.items():
                times[name].append(timed_submit(store, enqueue, args.chunks))
        cli = [timed_cli_submit(store, args.chunks) for _ in range(args.repeat)]
    finally:
        server.stop()
    batched, baseline = (statistics.median(t) for t in times.values())
    lines = [
        f"### Submitting {args.chunks:,} chunks (bench/submit.py)",
        "",
        f"Machine: {platform.node()}, {os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d')}. A local redis-server; "
        f"medians of {args.repeat} interleaved tries of xorgpu.service.submit.",
        "",
        "| enqueue | median s | tries (s) |",
        "|---|---:|---|",
        *(f"| {name} | {statistics.median(t):.2f} | {', '.join(f'{x:.2f}' for x in t)} |" for name, t in times.items()),
        f"| ratio baseline / batched | {baseline / batched:.1f}x | |",
        f"| whole `xorgpu submit` process (batched) | {statistics.median(cli):.2f} | "
        f"{', '.join(f'{x:.2f}' for x in cli)} |",
    ]
    emit("\n".join(lines), args.write)


if __name__ == "__main__":
    main()
