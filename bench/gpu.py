"""GPU benchmark and cross-backend check: CuPy engines against NumPy on the same nets.

1. Correctness: the same nets on NumPy and on each CuPy engine; max |output difference|
   and whether epochs_to_solve agree exactly (float64) or nearly (float32).
2. Speed: net-epochs/s for N = 1e4, 1e5, 1e6 in float32 and float64, each engine; the
   first call (with compilation) and the median of the next ones.
3. Init: seconds to initialise 1e6 nets on the host and copy them to the device.
Usage (on a machine with a CUDA GPU): python bench/gpu.py [--write FILE.md]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from xorgpu.backend import numpy_backend, resolve_backend
from xorgpu.config import Config, RunOptions, SeedRange
from xorgpu.experiment import train_seeds
from xorgpu.init import initial_params

ENGINES = ["array", "fused"]


def timed(fn, repeat: int) -> tuple[float, float]:
    import cupy  # noqa: PLC0415

    times = []
    for _ in range(repeat + 1):
        cupy.cuda.Device().synchronize()
        start = time.perf_counter()
        fn()
        cupy.cuda.Device().synchronize()
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times[1:])


def _save(path: str | None, lines: list[str]) -> None:
    """Write what is measured so far, so a run cut short still leaves its numbers."""
    if path:
        with open(path, "w") as handle:
            handle.write("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    gpu = resolve_backend("cupy")
    lines = [f"### GPU: {gpu.device}", ""]

    lines += ["Cross-backend check (same seeds, NumPy vs CuPy):", "",
              "| engine | dtype | nets x epochs | max abs output diff | epochs_to_solve equal |",
              "|---|---|---|---:|---:|"]
    for engine in ENGINES:
        for dtype in ("float64", "float32"):
            config = Config(epochs=4000, dtype=dtype)
            cpu, _ = train_seeds(config, SeedRange(0, 3000), RunOptions(engine=engine), numpy_backend())
            dev, _ = train_seeds(config, SeedRange(0, 3000), RunOptions(engine=engine), gpu)
            diff = float(np.abs(cpu.outputs.astype(float) - dev.outputs.astype(float)).max())
            same = float((cpu.epochs_to_solve == dev.epochs_to_solve).mean())
            lines.append(f"| {engine} | {dtype} | 3000 x 4000 | {diff:.2e} | {100 * same:.2f}% |")
            print(lines[-1], flush=True)
            _save(args.write, lines)

    lines += ["", "| engine | dtype | nets | epochs | first call s | median s | net-epochs/s |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for engine in ENGINES:
        for dtype in ("float32", "float64"):
            for nets in (10_000, 100_000, 1_000_000):
                epochs = 10_000 if engine != "array" else 1_000
                config = Config(epochs=epochs, dtype=dtype)
                first, median = timed(lambda: train_seeds(config, SeedRange(0, nets), RunOptions(engine=engine), gpu),
                                      args.repeat)
                lines.append(f"| {engine} | {dtype} | {nets:,} | {epochs:,} | {first:.3f} | {median:.3f} | "
                             f"{nets * epochs / median / 1e9:.2f}G |")
                print(lines[-1], flush=True)
                _save(args.write, lines)

    try:
        from peers import torch_seconds  # noqa: PLC0415

        for dtype in ("float32", "float64"):
            for nets in (100_000, 1_000_000):
                first, steady = torch_seconds(nets, 10_000, dtype, device="cuda")
                lines.append(f"| torch.compile | {dtype} | {nets:,} | 10,000 | {first:.3f} | {steady:.3f} | "
                             f"{nets * 1e4 / steady / 1e9:.2f}G |")
                print(lines[-1], flush=True)
                _save(args.write, lines)
    except Exception as error:  # noqa: BLE001
        lines.append(f"| torch.compile | (failed: {type(error).__name__}: {str(error)[:80]}) | | | | | |")
    _save(args.write, lines)

    for dtype in ("float32", "float64"):
        seeds = np.arange(1_000_000)
        scheme = Config().init_scheme
        first, median = timed(lambda: initial_params(scheme, seeds, 4, dtype, gpu.xp), args.repeat)
        lines.append(f"\nInit of 1,000,000 nets ({dtype}, on the device): median {median:.4f} s")
    end_to_end = Config(epochs=10_000, dtype="float32")
    fused = RunOptions(engine="fused")
    first, median = timed(lambda: train_seeds(end_to_end, SeedRange(0, 1_000_000), fused, gpu), args.repeat)
    lines.append(f"\n1e6 nets x 1e4 epochs float32, fused, init to statistics on the host: "
                 f"first {first:.3f} s, median {median:.3f} s")
    table = "\n".join(lines)
    print(table)
    if args.write:
        with open(args.write, "w") as handle:
            handle.write(table + "\n")


if __name__ == "__main__":
    main()
