"""The family kernels against the notebook's, same engine, same run: net-epochs per second,
and per pattern (a task of P patterns does P times the work of one epoch of XOR's 4 / 4).

Each case trains N nets for about WORK / P net-epochs through the engine `xorgpu run`
would choose (fused on the CPU with --backend numpy, the CUDA kernels with cupy), in this
process, after one warm-up (compilation); the notebook's net is the baseline, timed in
turn with the others in every round. The table has medians and each case's throughput
per pattern against the baseline's.
Usage: python bench/families.py [--backend numpy|cupy] [--nets N] [--rounds K] [--dtype D] [--write FILE.md]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np

from report import emit  # bench/report.py (scripts run from bench/ on sys.path)
from xorgpu.backend import resolve_backend
from xorgpu.config import Config, RunOptions
from xorgpu.experiment import prepare
from xorgpu.init import nets_of

WORK = 4e8  # net-pattern-epochs per case (the notebook's net: 1e8 net-epochs)
CASES = {
    "the notebook's net (baseline)": {},
    "tanh hidden units": {"activation": "tanh"},
    "tanh units, linear output, pm1": {"activation": "tanh", "output": "linear", "encoding": "pm1"},
    "cross-entropy": {"loss": "cross-entropy"},
    "no biases, relu": {"bias": False, "activation": "relu"},
    "skip weights (H = 4)": {"skip": True},
    "2-1-1 with skip weights": {"hidden": 1, "skip": True},
    "parity:3 (H = 4)": {"task": "parity:3"},
    "parity:4 (H = 4)": {"task": "parity:4"},
    "parity:6 (H = 6)": {"task": "parity:6", "hidden": 6},
}


def seconds(config: Config, options: RunOptions, nets: int) -> float:
    plan = prepare(config, options)
    backend = plan.backend
    params = nets_of(config, np.arange(nets), backend.xp)
    start = time.perf_counter()
    plan.engine.train_block(params, config, backend)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--nets", type=int, default=65_536)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--write")
    args = parser.parse_args()
    backend = resolve_backend(args.backend)
    options = RunOptions(backend=backend.name, engine="fused")
    configs = {name: Config(dtype=args.dtype, init="uniform:-1:1", **settings) for name, settings in CASES.items()}
    configs = {name: c.replace(epochs=max(1, int(WORK / c.patterns / args.nets))) for name, c in configs.items()}
    for config in configs.values():
        seconds(config.replace(epochs=2), options, 1024)  # compile, once per kernel
    times: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(args.rounds):
        for name, config in configs.items():
            times[name].append(seconds(config, options, args.nets))
    rate = {name: args.nets * configs[name].epochs / statistics.median(times[name]) for name in configs}
    baseline = next(iter(configs))
    per_pattern = {name: rate[name] * configs[name].patterns / 4 / rate[baseline] for name in configs}
    lines = [f"### The family kernels against the notebook's ({backend.name}, {args.dtype}, bench/families.py)", "",
             f"Machine: {platform.node()}, {platform.machine()}; {backend.device}; {time.strftime('%Y-%m-%d')}. {args.nets:,} nets per case, "
             f"about {WORK:.0e} net-pattern-epochs each; medians of {args.rounds} rounds, the cases in turn.", "",
             "| net | patterns | epochs | s | net-epochs/s | per pattern, against the baseline |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, config in configs.items():
        lines.append(f"| {name} | {config.patterns} | {config.epochs:,} | {statistics.median(times[name]):.2f} | "
                     f"{rate[name] / 1e6:.1f}M | {per_pattern[name]:.2f} |")
    emit("\n".join(lines), args.write)


if __name__ == "__main__":
    main()
