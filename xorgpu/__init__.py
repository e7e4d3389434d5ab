"""xorgpu: how, and how often, does backpropagation solve XOR?

Trains many independently seeded 2-H-1 sigmoid nets on XOR at once, on NumPy or CuPy,
and reports how they converge. The Python API (xorgpu.api):

    import xorgpu
    run = xorgpu.train(nets=10_000, hidden=4, lr=0.1)   # -> xorgpu.Run
    run.stats, run.to_pandas(), run.save("nets.parquet")
    xorgpu.sweep(nets=1000, hidden=[2, 3, 4], lr=[0.5, 1.0])   # -> a pandas DataFrame
    xorgpu.map("lr_hidden:0.1:1000:log", "lr_output:0.1:1000:log", epochs=2000)   # -> MapResult
    xorgpu.load("nets.parquet")                           # a results file, a sweep or map file, or a job id

Names are loaded on first use, so `import xorgpu` (and the command line) stays fast.
"""

from __future__ import annotations

from typing import Any

from .version import __version__ as __version__

__all__ = ["Config", "Run", "RunOptions", "load", "map", "sweep", "train"]

_LAZY = {"train": "api", "sweep": "api", "map": "api", "load": "api", "Run": "runs", "Config": "config",
         "RunOptions": "config"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module  # noqa: PLC0415

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'xorgpu' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
