"""First run against later runs: whole `xorgpu run` processes, numba's cache empty or filled.

The fused CPU engine is compiled on first use and cached on disk, so a user's very first
run pays the compilation. Each round times, as whole processes: a command with an empty
NUMBA_CACHE_DIR (cold), the same command again with the cache it filled (warm), and, for
the issue's target, torch.compile's steady state on the same nets x epochs (bench/peers.py,
in its own process, compile excluded). Medians over --repeats rounds.
Usage: python bench/cold_start.py [--repeats 3] [--write FILE]
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from report import emit  # noqa: E402  (bench/ is on sys.path above)

XORGPU = [sys.executable, "-m", "xorgpu.cli.main"]
JOBS = {  # the target job, and the README's main job
    "run --nets 100000 --epochs 3000 --dtype float32": (100_000, 3000, "float32"),
    "run --nets 10000 --seeds 0:10000": (10_000, 10_000, "float64"),
}


def seconds(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def torch_steady(nets: int, epochs: int, dtype: str) -> float:
    code = f"import peers, json; print(json.dumps(peers.torch_seconds({nets}, {epochs}, {dtype!r})))"
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write")
    args = parser.parse_args()
    try:
        import torch  # noqa: F401, PLC0415
        with_torch = True
    except ImportError:
        with_torch = False
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.repeats):
        for job, (nets, epochs, dtype) in JOBS.items():
            with tempfile.TemporaryDirectory() as cache:
                env = {**os.environ, "NUMBA_CACHE_DIR": cache}
                for state in ("cold", "warm"):
                    times.setdefault((job, state), []).append(seconds([*XORGPU, *job.split()], env))
            if with_torch:
                times.setdefault((job, "torch.compile steady state"), []).append(torch_steady(nets, epochs, dtype))
    rows = []
    for job in JOBS:
        peer = statistics.median(times[(job, "torch.compile steady state")]) if with_torch else float("nan")
        for (name, state), values in times.items():
            if name == job:
                median = statistics.median(values)
                rows.append(f"| `xorgpu {job}` | {state} | {median:.2f} | {median / peer:.2f}x |")
    table = "\n".join([
        f"### First run vs later runs (whole processes, medians of {args.repeats})",
        "",
        f"Machine: {platform.node()}, {platform.machine()}, {os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d')}. "
        "cold: empty numba cache (compilation included); warm: the cache filled by the cold run; "
        "torch.compile: steady state on the same nets x epochs, compile and start-up excluded.",
        "",
        "| job | run | median s | x torch.compile steady |",
        "|---|---|---:|---:|",
        *rows,
    ])
    emit(table, args.write)


if __name__ == "__main__":
    main()
