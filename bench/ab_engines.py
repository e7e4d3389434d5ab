"""A/B: whole `xorgpu run` processes of two installs of xorgpu, same machine, same run.

For a change that must not slow any engine (a restructuring, say): `--baseline` and
`--current` are the Python interpreters of two environments, each with its own xorgpu
installed (e.g. a git worktree of the old commit with its own venv). Each case (engine x
dtype x nets, about WORK net-epochs) runs as a whole process under both, A and B taken
in turn in every round (the first to run alternating), after one warm-up of each (numba's
cache filled), whose per-net results the table also compares bit for bit; the table has
the medians and current / baseline.
Usage: python bench/ab_engines.py --baseline ../old/.venv/bin/python --current .venv/bin/python [--rounds 5]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from report import emit  # bench/report.py (scripts run from bench/ on sys.path)

WORK = 5e7  # net-epochs per run
CASES = [(engine, dtype, nets) for engine in ("fused", "array") for dtype in ("float64", "float32")
         for nets in (10_000, 100_000, 1_000_000)]


PER_NET = ("seeds", "outputs", "epochs_to_solve", "final_loss", "diverged", "outcome")


def seconds(python: str, engine: str, dtype: str, nets: int, work: float = WORK, out: Path | None = None) -> float:
    epochs = max(1, int(work // nets))
    command = [python, "-m", "xorgpu.cli.main", "run", "--nets", str(nets), "--epochs", str(epochs),
               "--engine", engine, "--dtype", dtype, "--backend", "numpy", "--json"] + (["-o", str(out)] if out else [])
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--current", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--work", type=float, default=WORK, help="net-epochs per run")
    parser.add_argument("--engines", default="fused,array", help="comma-separated")
    parser.add_argument("--write")
    args = parser.parse_args()
    lines = [
        "### A/B: whole `xorgpu run` processes, baseline and current (bench/ab_engines.py)",
        "",
        f"Machine: {platform.node()}, {platform.machine()}; {time.strftime('%Y-%m-%d')}. Medians of {args.rounds} "
        f"rounds, A and B in turn (A first in odd rounds, B first in even ones); each run about {args.work:.0e} net-epochs, start-up included.",
        "",
        "| engine | dtype | nets | epochs | baseline s | current s | current / baseline | per-net results |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    folder = Path(tempfile.mkdtemp(prefix="ab-engines-"))
    for engine, dtype, nets in CASES:
        if engine not in args.engines.split(","):
            continue
        for side, python in (("a", args.baseline), ("b", args.current)):  # warm-up: numba's cache, page cache
            seconds(python, engine, dtype, nets, args.work, folder / f"{side}.npz")
        with np.load(folder / "a.npz") as a, np.load(folder / "b.npz") as b:
            same = all(np.array_equal(a[name], b[name], equal_nan=True) for name in PER_NET)
        times: dict[str, list[float]] = {"baseline": [], "current": []}
        sides = [("baseline", args.baseline), ("current", args.current)]
        for round_ in range(args.rounds):  # A then B, then B then A: neither side always runs second
            for name, python in sides if round_ % 2 == 0 else sides[::-1]:
                times[name].append(seconds(python, engine, dtype, nets, args.work))
        a, b = statistics.median(times["baseline"]), statistics.median(times["current"])
        lines.append(f"| {engine} | {dtype} | {nets:,} | {max(1, int(args.work // nets)):,} | {a:.2f} | {b:.2f} | "
                     f"{b / a:.2f} | {'identical' if same else 'DIFFERENT'} |")
        print(lines[-1], flush=True)
    emit("\n".join(lines), args.write)


if __name__ == "__main__":
    main()
