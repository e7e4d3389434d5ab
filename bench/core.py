"""Core benchmark: whole `xorgpu run` processes against the notebook's loop, same run.

For N = 1e3 .. 1e6 nets in float64 and float32 and each CPU engine (array: NumPy;
fused: numba), times `xorgpu run --backend numpy --engine E` as a whole process (start-up, init, training, statistics) with epochs chosen so each run does
about WORK net-epochs, and reports net-epochs per second, the ratio to the notebook's
one-net-at-a-time loop timed in the same run, and the peak memory per net beyond a 1-net
run. Medians of --repeat runs. Usage: python bench/core.py [--repeat 3] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from report import emit  # bench/report.py (scripts run from bench/ on sys.path)
from xorgpu.notebook import X, NeuralNetwork, y

WORK = 5e7  # net-epochs per timed run
SIZES = [1_000, 10_000, 100_000, 1_000_000]
XORGPU = [sys.executable, "-m", "xorgpu.cli.main"]


def notebook_rate(nets: int = 3, epochs: int = 3000) -> float:
    """Net-epochs/s of the notebook's own training loop, one net after another."""
    start = time.perf_counter()
    for seed in range(nets):
        nn = NeuralNetwork(2, 4, 1, rng=np.random.RandomState(seed))
        nn.train(X, y, epochs=epochs, learning_rate=0.1, print_fn=lambda line: None)
    return nets * epochs / (time.perf_counter() - start)


def run_process(args: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one `xorgpu run` process."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL,"
        " stderr=subprocess.DEVNULL)\n"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", probe, *XORGPU, *args], check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), int(out[1]) * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", type=Path, help="append the markdown table to this file")
    args = parser.parse_args()

    baseline = statistics.median(notebook_rate() for _ in range(args.repeat))
    base_rss = {  # a 1-net run of each engine: the interpreter, imports and compiled code
        engine: max(run_process(["run", "--nets", "1", "--epochs", "1", "--backend", "numpy",
                                 "--engine", engine])[1] for _ in range(2))
        for engine in ("array", "fused")
    }
    rows = []
    for engine in ("array", "fused"):
        for dtype in ("float64", "float32"):
            for nets in SIZES:
                epochs = max(1, int(WORK / nets))
                cmd = ["run", "--nets", str(nets), "--epochs", str(epochs), "--dtype", dtype,
                       "--backend", "numpy", "--engine", engine, "--json"]
                runs = [run_process(cmd) for _ in range(args.repeat)]
                wall = statistics.median(r[0] for r in runs)
                rate = nets * epochs / wall
                per_net = (max(r[1] for r in runs) - base_rss[engine]) / nets
                rows.append((engine, dtype, nets, epochs, wall, rate, rate / baseline, per_net))
                print(rows[-1], file=sys.stderr, flush=True)

    lines = [
        "### Core: `xorgpu run` (NumPy array engine) vs the notebook loop",
        "",
        f"Machine: {platform.node()}, {platform.processor() or platform.machine()}, "
        f"{len(__import__('os').sched_getaffinity(0))} CPUs; Python {platform.python_version()}, "
        f"NumPy {np.__version__}; {time.strftime('%Y-%m-%d')}. Whole processes, median of {args.repeat}.",
        f"Notebook loop (one 2-4-1 net at a time, float64): {baseline:,.0f} net-epochs/s.",
        "",
        "| engine | dtype | nets | epochs | wall s | net-epochs/s | x notebook | peak bytes/net |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {g} | {d} | {n:,} | {e:,} | {w:.2f} | {r / 1e6:.2f}M | {x:.0f}x | {b:.0f} |"
        for g, d, n, e, w, r, x, b in rows
    ]
    table = "\n".join(lines)
    emit(table, args.write)


if __name__ == "__main__":
    main()
