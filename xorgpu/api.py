"""The Python API, for notebooks and scripts: `xorgpu.train`, `xorgpu.sweep`, `xorgpu.load`.

    import xorgpu
    run = xorgpu.train(nets=10_000, hidden=4, lr=0.1)   # any Config field as a keyword
    run.stats["success_rate"], run.stats["success_ci95"]
    nets = run.to_pandas()                               # one row per net
    nets.groupby("outcome").size()
    cells = xorgpu.sweep(nets=1000, hidden=[2, 3, 4], lr=[0.5, 1.0])   # one row per cell
    again = xorgpu.load("nets.parquet")                  # a results file, or a job id

The same engines, numbers and files as the `xorgpu` command: `train(...).stats` is
`xorgpu run --json`, `train(...).save("f.parquet")` is `xorgpu run --out f.parquet`.
"""

from __future__ import annotations

import sys
from typing import Any

from .config import Config, ConfigError, RunOptions, SeedRange
from .runs import Run
from .settings import default_backend_name


def train(nets: int | None = None, seeds: str | range | None = None, *, backend: str | None = None,
          engine: str = "auto", processes: int | None = None, keep_weights: bool = False,
          progress: bool | None = None, **config: Any) -> Run:
    """Train nets on XOR; their results, statistics and provenance.

    nets, seeds: `nets=N` alone trains seeds 0..N-1; `seeds` is "A:B" or range(A, B).
    config: any field of xorgpu.Config (hidden, lr, momentum, epochs, update,
    loss_reduction, init, criterion, dtype, sample_every), as keywords.
    backend, engine, processes: how to run (see xorgpu.RunOptions); not part of the results.
    keep_weights: keep each net's initial and final weights (columns of to_pandas()).
    progress: a progress bar (tqdm) in a notebook or on a terminal (None), always (True), never (False).
    """
    from .experiment import prepare  # noqa: PLC0415  (the engines load on first use)

    seed_range = _seed_range(nets, seeds)
    plan = prepare(Config.of(**config), _options(backend, engine, processes))
    with _bar(len(seed_range), "nets", progress) as bar:
        return Run(plan.config, *plan.measure(seed_range, progress=bar.update, keep_weights=keep_weights))


def sweep(nets: int | None = None, seeds: str | range | None = None, *, backend: str | None = None,
          engine: str = "auto", processes: int | None = None, progress: bool | None = None,
          **values: Any) -> Any:
    """Train the same seeds under every combination of config values; one row per cell.

    values: config fields, each a list of values to sweep (hidden=[2, 3, 4]) or one value
    to hold fixed (epochs=2000). Returns a xorgpu.sweep_table.SweepTable, a pandas
    DataFrame: the swept values, then nets, solved, success_rate, ci95_low, ci95_high,
    median_epochs, p90_epochs and, per outcome, how many nets ended so.
    """
    from . import sweeps  # noqa: PLC0415
    from .experiment import prepare  # noqa: PLC0415
    from .sweep_table import sweep_table  # noqa: PLC0415

    seed_range = _seed_range(nets, seeds)
    axes = {name: list(v) for name, v in values.items() if isinstance(v, (list, tuple, range))}
    fixed = {name: v for name, v in values.items() if name not in axes}
    configs = sweeps.cells(Config.of(**fixed), axes)
    options = _options(backend, engine, processes)
    plans = [prepare(config, options) for config in configs]  # every problem before any work
    rows = []
    with _bar(len(plans), "cells", progress) as bar:
        for plan in plans:
            rows.append({"config": plan.config.to_dict(), "seeds": str(seed_range), "report": plan.measure(seed_range)[1]})
            bar.update(1)
    return sweep_table(rows)


def map(x: str, y: str, resolution: int = 256, seed: int = 0, *, center: str | None = None,  # noqa: A001
        span: str | None = None, backend: str | None = None, engine: str = "auto", progress: bool | None = None,
        **config: Any) -> Any:
    """A map of trainability, as `xorgpu map` trains it: one net per pixel, all from seed
    `seed`'s initial weights, the knobs of x and y varied across the picture.

    x, y: "NAME:LOW:HIGH" or "NAME:LOW:HIGH:log" (NAME: lr, lr_hidden, lr_output, momentum,
    init_scale, W1[i,j], b1[j], W2[j], b2), or with center="X,Y" and span="D[,DY]": "NAME"
    or "NAME:log". config: any field of xorgpu.Config. Returns an xorgpu.maps.MapResult
    (`.plot()`, `.report(path)`, `.save("map.npz")`).
    """
    from .maps.train import check_map_fits, train_map  # noqa: PLC0415
    from .maps.zoom import view  # noqa: PLC0415

    spec = view(Config.of(**config), x, y, resolution, seed, center, span)
    check_map_fits(spec)
    with _bar(spec.pixels, "pixels", progress) as bar:
        return train_map(spec, _options(backend, engine, None), progress=bar.update)


def load(source: str, redis_url: str | None = None, results_url: str | None = None) -> Any:
    """A Run from a results file (.parquet or .npz, as `xorgpu run --out` writes them) or a
    finished job of the service (its id; redis_url and results_url as for the command,
    default $XORGPU_REDIS_URL or redis://localhost:6379/0, and $XORGPU_RESULTS_URL or
    ~/.local/share/xorgpu/results). A job's Run is lazy: `run.dataset()` scans its
    results files; `run.results` and `run.to_pandas()` read them all. A map (a `map --out`
    file or a `map --submit` job) loads as an xorgpu.maps.MapResult; a sweep file (.jsonl)
    as the table `xorgpu.sweep` returns (xorgpu.sweep_table.SweepTable)."""
    import os  # noqa: PLC0415

    from .settings import DEFAULT_REDIS_URL, REDIS_URL_ENV  # noqa: PLC0415
    from .sources import open_source  # noqa: PLC0415

    opened = open_source(str(source), redis_url or os.environ.get(REDIS_URL_ENV, DEFAULT_REDIS_URL), results_url,
                         maps=True)
    if opened.kind == "map":
        return opened.map()
    if opened.kind == "sweep":
        from .sweep_table import sweep_table  # noqa: PLC0415

        return sweep_table(opened.rows)
    if opened.kind == "job":
        return Run(opened.config, None, opened.statistics or {}, _dataset=opened.dataset, _read=opened.results)
    return Run(opened.config, opened.results(), opened.statistics or {})


def _seed_range(nets: int | None, seeds: str | range | None) -> SeedRange:
    if isinstance(seeds, range):
        if seeds.step != 1:
            raise ConfigError(f"seeds {seeds!r}: a range of consecutive seeds (step 1)")
        seeds = f"{seeds.start}:{seeds.stop}"
    return SeedRange.resolve(nets, seeds)


def _options(backend: str | None, engine: str, processes: int | None) -> RunOptions:
    return RunOptions(backend=backend or default_backend_name(), engine=engine, processes=processes)


def _bar(total: int, unit: str, progress: bool | None) -> Any:
    """A tqdm bar: in a notebook or on a terminal when progress is None."""
    from tqdm.auto import tqdm  # noqa: PLC0415

    shown = progress if progress is not None else (_in_notebook() or sys.stderr.isatty())
    return tqdm(total=total, unit=unit, disable=not shown, leave=False)


def _in_notebook() -> bool:
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return type(shell).__name__ == "ZMQInteractiveShell"
