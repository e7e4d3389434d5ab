"""One map on both CPU engines: how far a chaotic view's pixels and statistics carry over.

The fused CPU kernel contracts multiply-adds into FMAs and the array engine does not, so
where training is chaotic they part ways on single pixels; this prints how many pixels
agree and each engine's solved share and boundary dimension (docs/maps.md, lr-3 at 256^2).
Usage: python bench/map_engines.py [--resolution R] [--center X,Y] [--span D] [--epochs E]
"""

from __future__ import annotations

import argparse

from xorgpu.config import Config, RunOptions
from xorgpu.maps.dimension import boundary_dimension
from xorgpu.maps.train import train_map
from xorgpu.maps.zoom import view


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--center", default="193.9417155161882,7.911134124029648")
    parser.add_argument("--span", default="0.04")
    parser.add_argument("--epochs", type=int, default=2000)
    args = parser.parse_args()
    spec = view(Config(epochs=args.epochs), "lr_hidden:log", "lr_output:log", args.resolution, 0, args.center,
                args.span)
    maps = {engine: train_map(spec, RunOptions(backend="numpy", engine=engine)) for engine in ("fused", "array")}
    print(f"lr_hidden {spec.x.low:.6g}..{spec.x.high:.6g}, lr_output {spec.y.low:.6g}..{spec.y.high:.6g}, "
          f"{args.resolution}^2 pixels, {args.epochs} epochs\n")
    print("| engine | solved | boundary dimension | seconds |\n|---|---:|---:|---:|")
    for engine, result in maps.items():
        counts = boundary_dimension(result.solved)
        print(f"| {engine} | {result.solved.mean():.2%} | {counts.dimension:.3f} ± {counts.stderr:.3f} | "
              f"{result.provenance['wall_seconds']} |")
    fused, array = maps["fused"], maps["array"]
    print(f"\npixels with the same outcome: {(fused.outcome == array.outcome).mean():.1%}; "
          f"the same solved or not: {(fused.solved == array.solved).mean():.1%}; "
          f"the same epochs to solve: {(fused.epochs_to_solve == array.epochs_to_solve).mean():.1%}")


if __name__ == "__main__":
    main()
