"""CPU engines against the peers a user might pick instead, same machine, same run.

Each measurement runs in its own process (so its peak memory is its own): the notebook
loop, xorgpu's array engine (NumPy) and fused engine (numba), and, when installed,
torch.compile on a nets-last layout and JAX vmap + jit (bench/peers.py). Reports steady
net-epochs/s, first-call seconds (compilation included), the ratio to the notebook loop
and to the best peer, and peak RSS: medians over --repeats rounds, the engines taken in
turn within each round so that a noisy machine slows them alike.
Usage: python bench/cpu_peers.py [--sizes 10000,100000,1000000] [--repeats 3] [--write FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from report import emit  # noqa: E402  (bench/ is on sys.path above)

WORK = 2e7  # net-epochs per steady-state measurement


def measure(engine: str, dtype: str, nets: int) -> dict:
    epochs = max(10, int(WORK / nets))
    if engine == "notebook":
        from xorgpu.notebook import X, NeuralNetwork, y  # noqa: PLC0415
        import numpy as np  # noqa: PLC0415

        nets, epochs = 3, 3000
        start = time.perf_counter()
        for seed in range(nets):
            NeuralNetwork(2, 4, 1, rng=np.random.RandomState(seed)).train(
                X, y, epochs, 0.1, print_fn=lambda line: None)
        first = steady = time.perf_counter() - start
    elif engine in ("array", "fused"):
        from xorgpu.config import Config, RunOptions, SeedRange  # noqa: PLC0415
        from xorgpu.experiment import train_seeds  # noqa: PLC0415

        config = Config(epochs=epochs, dtype=dtype)
        times = []
        for _ in range(2):
            start = time.perf_counter()
            train_seeds(config, SeedRange(0, nets), RunOptions(backend="numpy", engine=engine))
            times.append(time.perf_counter() - start)
        first, steady = times
    else:
        import peers  # noqa: PLC0415

        measure_peer = {"torch.compile": peers.torch_seconds, "torch.func.vmap": peers.torch_vmap_seconds,
                        "jax": peers.jax_seconds}[engine]
        first, steady = measure_peer(nets, epochs, dtype)
    return {"rate": nets * epochs / steady, "first": first,
            "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def installed(module: str) -> bool:
    return subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], args.one[1], int(args.one[2]))))
        return
    peers = [name for name, module in (("torch.compile", "torch"), ("torch.func.vmap", "torch"), ("jax", "jax"))
             if installed(module)]

    def run(engine: str, dtype: str, nets: int) -> dict:
        out = subprocess.run([sys.executable, __file__, "--one", engine, dtype, str(nets)],
                             capture_output=True, text=True)
        if out.returncode:
            return {"rate": float("nan"), "first": float("nan"), "rss": 0, "error": out.stderr[-200:]}
        return json.loads(out.stdout.strip().splitlines()[-1])

    notebook = run("notebook", "float64", 3)["rate"]
    rows = []
    for dtype in ("float32", "float64"):
        for nets in map(int, args.sizes.split(",")):
            engines = ["array", "fused", *peers]
            rounds = [{engine: run(engine, dtype, nets) for engine in engines} for _ in range(args.repeats)]
            results = {engine: {key: statistics.median(r[engine][key] for r in rounds)
                                for key in ("rate", "first", "rss")} for engine in engines}
            best_peer = max((results[p]["rate"] for p in peers), default=float("nan"))
            for engine, r in results.items():
                rows.append(f"| {engine} | {dtype} | {nets:,} | {r['rate'] / 1e6:.1f}M | "
                            f"{r['rate'] / notebook:.0f}x | {r['rate'] / best_peer:.2f}x | "
                            f"{r['first']:.2f} | {r['rss'] / 2**20:.0f} |")
                print(rows[-1], file=sys.stderr, flush=True)
    table = "\n".join([
        f"### CPU engines vs peers (in-process, steady state, medians of {args.repeats})",
        "",
        f"Machine: {platform.node()}, {platform.machine()}, 2 CPUs; {time.strftime('%Y-%m-%d')}. "
        f"Notebook loop: {notebook:,.0f} net-epochs/s. Peers installed: {', '.join(peers) or 'none'}.",
        "Peers train only (no per-epoch success tracking); xorgpu's engines also record",
        "epochs_to_solve every epoch.",
        "",
        "| engine | dtype | nets | net-epochs/s | x notebook | x best peer | first call s | peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
        *rows,
    ])
    emit(table, args.write)


if __name__ == "__main__":
    main()
