"""Maps against plain runs: pixel throughput vs the same engine's net-epochs/s, same run.

A map of R x R pixels (lr_hidden x lr_output, log axes: every net with its own rates)
and a plain run of R^2 seeds share a config; each is timed whole (nets built, trained,
their outcomes on the host), A and B in turn, after one warm-up of each (compilation).
The table has medians and map / plain; the target is a map within 10% of a plain run.
On a GPU, add --check to compare a CuPy map with the NumPy fused engine's, pixel by pixel.
Usage: python bench/maps.py [--backend numpy|cupy] [--resolution R] [--epochs E] [--rounds K]
       [--dtype float64] [--write FILE.md] [--check] [--png FILE.png --json FILE.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import numpy as np

from report import emit  # bench/report.py (scripts run from bench/ on sys.path)
from xorgpu.backend import resolve_backend
from xorgpu.config import Config, RunOptions, SeedRange
from xorgpu.experiment import prepare
from xorgpu.maps import Axis, MapSpec, train_map
from xorgpu.maps.dimension import boundary_dimension


def synchronised(backend, fn):  # noqa: ANN001, ANN201
    start = time.perf_counter()
    value = fn()
    if backend.name == "cupy":
        backend.xp.cuda.Device().synchronize()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--write")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--png")
    parser.add_argument("--json")
    args = parser.parse_args()
    backend = resolve_backend(args.backend)
    config = Config(epochs=args.epochs, dtype=args.dtype)
    spec = MapSpec(config, Axis.parse("lr_hidden:0.01:1000:log", 4), Axis.parse("lr_output:0.01:1000:log", 4),
                   args.resolution)
    options = RunOptions(backend=backend.name, engine="fused")
    plan = prepare(config, options, backend)
    pixels = spec.pixels

    def plain():  # noqa: ANN202
        return plan.train(SeedRange(0, pixels))

    def mapped():  # noqa: ANN202
        return train_map(spec, options)

    synchronised(backend, plain), synchronised(backend, mapped)  # warm-up: compilation, caches
    times: dict[str, list[float]] = {"plain": [], "map": []}
    result = None
    for _ in range(args.rounds):
        times["plain"].append(synchronised(backend, plain)[0])
        seconds, result = synchronised(backend, mapped)
        times["map"].append(seconds)
    work = pixels * args.epochs
    a, b = statistics.median(times["plain"]), statistics.median(times["map"])
    lines = [
        f"### Maps vs plain runs (bench/maps.py), {backend.device}",
        "",
        f"Machine: {platform.node()}, {platform.machine()}; {time.strftime('%Y-%m-%d')}. {args.resolution}^2 = "
        f"{pixels:,} nets x {args.epochs:,} epochs, {args.dtype}, fused engine; medians of {args.rounds} rounds, "
        "A and B in turn, after a warm-up of each.",
        "",
        "| what | median s | net-epochs/s | throughput / plain |",
        "|---|---:|---:|---:|",
        f"| plain run of {pixels:,} seeds | {a:.3f} | {work / a / 1e9:.3f}G | 1.00 |",
        f"| map, every net its own lr_hidden and lr_output | {b:.3f} | {work / b / 1e9:.3f}G | {a / b:.2f} |",
    ]
    counts = boundary_dimension(result.solved)
    lines += ["", f"Map: solved {result.solved.mean():.4f} of pixels; boundary dimension "
              f"{counts.dimension:.3f} ± {counts.stderr:.3f} (boxes {counts.fit_sizes[0]}..{counts.fit_sizes[1]} px)"
              if counts.dimension is not None else "no boundary"]
    if args.check:
        small = MapSpec(config, Axis.parse("lr_hidden:0.01:2:log", 4), Axis.parse("lr_output:0.01:2:log", 4), 128)
        here = train_map(small, options)
        cpu = train_map(small, RunOptions(backend="numpy", engine="fused"))
        same = float((here.epochs_to_solve == cpu.epochs_to_solve).mean())
        rel = float(np.max(np.abs(here.final_loss - cpu.final_loss) / cpu.final_loss))
        lines += ["", f"Check, 128^2 map of rates 0.01..2 (not chaotic), {backend.name} vs NumPy fused: "
                  f"epochs_to_solve equal for {100 * same:.3f}% of pixels; max relative final-loss difference "
                  f"{rel:.2e}"]
    emit("\n".join(lines), args.write)
    if args.png:
        from xorgpu.maps.render import save_map_png  # noqa: PLC0415

        save_map_png(result, args.png, dimension=counts)
    if args.json:
        from xorgpu.maps.summary import summary  # noqa: PLC0415

        with open(args.json, "w") as handle:
            json.dump(summary(result), handle)


if __name__ == "__main__":
    main()
