"""A job far larger than Redis's share of it: N nets through two local workers, against `run`.

Starts its own redis-server and two `xorgpu worker --concurrency 1` processes (one numba
thread each: together the CPUs `run` uses here), submits N nets x E epochs with the
default chunk size, and measures: wall time from submit to done; Redis's memory before
and after (used_memory) and the job's own keys; the results files' bytes per net; the
peak RSS of the pool processes that trained (bounded by a chunk, not by the job); then
`xorgpu run` of the same spec, first (its wall time and peak RSS: it holds every net). Checks
the job's statistics equal run's (all but provenance and the final-loss quantiles, exact
in run, 1% in the job).
Usage: python bench/big_job.py [--nets 100000000] [--epochs 20] [--write FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, for tests/service_helpers

from report import emit  # noqa: E402  (bench/report.py)
from tests.service_helpers import RedisServer, Worker  # noqa: E402
from xorgpu.service import wait_for  # noqa: E402
from xorgpu.store import JobStore  # noqa: E402

XORGPU = [sys.executable, "-m", "xorgpu.cli.main"]


def peak_rss_of_children(pids: list[int], stop: threading.Event, peaks: dict[int, int]) -> None:
    """Poll the pool processes of the workers (their children) for their peak RSS (VmHWM)."""
    while not stop.is_set():
        for parent in pids:
            try:
                children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                try:
                    status = Path(f"/proc/{child}/status").read_text()
                except OSError:
                    continue
                kib = int(status.split("VmHWM:")[1].split()[0])
                peaks[child] = max(peaks.get(child, 0), kib * 1024)
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", type=int, default=100_000_000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="xorgpu-big-"))
    (folder / "results").mkdir()
    os.environ["XORGPU_RESULTS_URL"] = str(folder / "results")  # the workers inherit it
    spec = ["--nets", str(args.nets), "--epochs", str(args.epochs), "--engine", "fused", "--backend", "numpy"]
    # numba compiles on first use and caches the machine code: compile it before anything is timed
    subprocess.run(XORGPU + ["run", "--nets", "1000", "--epochs", "2", "--engine", "fused", "--backend", "numpy"],
                   check=True, capture_output=True)
    # run first, while it is this process's only child: its peak RSS is then the children's
    started = time.perf_counter()
    local = subprocess.run(XORGPU + ["run", *spec, "--json"], check=True, capture_output=True, text=True,
                           env={**os.environ, "NUMBA_NUM_THREADS": str(os.cpu_count())})
    run_seconds = time.perf_counter() - started
    run_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    ran = json.loads(local.stdout)
    server = RedisServer(folder).start()
    workers = [Worker(server.url, f"big{i}", folder, visibility_timeout=3600,
                      env={"NUMBA_NUM_THREADS": "1"}).wait_ready() for i in range(2)]
    stop, peaks = threading.Event(), {}
    poller = threading.Thread(target=peak_rss_of_children, args=([w.process.pid for w in workers], stop, peaks))
    poller.start()
    try:
        client = server.client()
        before = client.info("memory")["used_memory"]
        started = time.perf_counter()
        job_id = subprocess.run(XORGPU + ["submit", *spec, "--redis-url", server.url], check=True,
                                capture_output=True, text=True).stdout.strip()
        store = JobStore.from_url(server.url)
        job = wait_for(store, job_id, poll=0.5)
        service_seconds = time.perf_counter() - started
        grown = client.info("memory")["used_memory"] - before
        job_keys = store.bytes_per_net(job)
        files = store.chunk_files(job)
        file_bytes = sum(chunk.size for _, chunk in files)
        stats = json.loads(subprocess.run(XORGPU + ["stats", job_id, "--json", "--redis-url", server.url], check=True,
                                          capture_output=True, text=True).stdout)
    finally:
        stop.set()
        poller.join()
        for worker in workers:
            worker.stop()
        server.stop()
    assert job.state == "done", job
    skip = ("job_id", "state", "provenance", "final_loss")
    same = {k: v for k, v in stats.items() if k not in skip} == {k: v for k, v in ran.items() if k not in skip}
    for path in (folder / "results" / job_id).iterdir():
        path.unlink()

    lines = [
        f"### A job of {args.nets:,} nets x {args.epochs} epochs through two workers (bench/big_job.py)",
        "",
        f"Machine: {platform.node()}, {os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d')}. Fused CPU engine, "
        f"float64; {job.chunks_total} chunks of {job.chunk_size:,} nets (the default size); 2 workers of 1 "
        "process and 1 numba thread each, against `xorgpu run` with the same CPUs.",
        "",
        "| | value |",
        "|---|---:|",
        f"| wall, submit to done | {service_seconds:.1f} s |",
        f"| wall, `xorgpu run` of the same spec | {run_seconds:.1f} s |",
        f"| ratio service / run | {service_seconds / run_seconds:.2f}x |",
        f"| Redis growth (used_memory after - before) | {grown / 2**20:.2f} MiB, {grown / args.nets:.4f} bytes/net |",
        f"| the job's Redis keys | {job_keys:.4f} bytes/net |",
        f"| results files | {file_bytes / 2**30:.2f} GiB, {file_bytes / args.nets:.1f} bytes/net |",
        f"| peak RSS of a worker's pool process | {max(peaks.values()) / 2**20:.0f} MiB |",
        f"| peak RSS of `xorgpu run` (holds every net) | {run_rss / 2**20:.0f} MiB |",
        f"| statistics equal run's (but the loss quantiles' 1%) | {'yes' if same else 'NO'} |",
    ]
    emit("\n".join(lines), args.write)
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
