"""Service benchmark: `xorgpu submit --wait` with 2 workers against `xorgpu run`, same spec.

Starts two `xorgpu worker --concurrency 1` processes (one numba thread each, so the two
together use the 2 cores that `run` uses), times whole CLI processes, alternating A B A B,
and reports medians, the ratio, the Redis bytes stored per net and the results files' bytes
per net (written to a temporary folder).
Usage: python bench/service.py [--redis-url redis://127.0.0.1:6379/15] [--repeat 3] [--write FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

from report import emit  # bench/report.py (scripts run from bench/ on sys.path)
from xorgpu.store import JobStore

SPEC = ["--nets", "100000", "--epochs", "2000", "--backend", "numpy"]
XORGPU = [sys.executable, "-m", "xorgpu.cli.main"]


def timed(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(XORGPU + args, env=env, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk-size", default="5000")
    parser.add_argument("--write")
    args = parser.parse_args()
    results_folder = tempfile.mkdtemp(prefix="xorgpu-bench-results-")
    env = {**os.environ, "XORGPU_REDIS_URL": args.redis_url, "NUMBA_NUM_THREADS": "1",
           "XORGPU_RESULTS_URL": results_folder}
    workers = [
        subprocess.Popen(XORGPU + ["worker", "--concurrency", "1", "--hostname", f"bench{i}@%h",
                                   "--loglevel", "WARNING"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for i in range(2)
    ]
    try:
        time.sleep(8)  # workers up
        timed(["run", *SPEC, "--json"], os.environ.copy())  # warm numba's cache
        local, service, job_ids = [], [], []
        for _ in range(args.repeat):
            local.append(timed(["run", *SPEC, "--json"], os.environ.copy())[0])
            seconds, out = timed(["submit", *SPEC, "--chunk-size", args.chunk_size, "--wait", "--json"], env)
            service.append(seconds)
            job_ids.append(json.loads(out)["job_id"])
        store = JobStore.from_url(args.redis_url)
        last = store.get_job(job_ids[-1])
        per_net = store.bytes_per_net(last)
        file_bytes = sum(c.size for _, c in store.chunk_files(last)) / last.nets_total
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
    ratios = [s / l for s, l in zip(service, local)]
    table = "\n".join([
        "### Service: `submit --wait` (2 workers) vs `run`, 1e5 nets x 2000 epochs, fused CPU engine",
        "",
        f"Machine: {platform.node()}, {os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d')}; "
        f"chunk size {args.chunk_size}; whole CLI processes, median of {args.repeat}, A/B alternating.",
        "",
        "| | median wall s |",
        "|---|---:|",
        f"| xorgpu run | {statistics.median(local):.2f} |",
        f"| xorgpu submit --wait | {statistics.median(service):.2f} |",
        f"| ratio submit / run (median of pairs) | {statistics.median(ratios):.2f}x |",
        "",
        f"Redis memory per net (job hash, chunk records, statistics): {per_net:.2f} bytes; "
        f"results files (Parquet, zstd): {file_bytes:.1f} bytes per net.",
    ])
    emit(table, args.write)


if __name__ == "__main__":
    main()
