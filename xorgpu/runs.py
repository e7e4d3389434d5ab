"""A trained set of nets as a notebook uses it: results, statistics, provenance, a table.

`xorgpu.train(...)` and `xorgpu.load(...)` return a `Run`. A Run of a service job is lazy:
its statistics come from Redis at once, its nets from the job's results files only when
asked, and `dataset()` scans them without loading the job into memory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .config import Config
from .results import NetResults, save_results


@dataclass
class Run:
    config: Config
    _results: NetResults | None  # every net, in seed order (None: not read yet, see _read)
    stats: dict[str, Any]  # the statistics, as `xorgpu run --json` prints them, with their provenance
    _dataset: Callable[[], Any] | None = None  # a job's results files, as a lazy pyarrow dataset
    _read: Callable[[], NetResults] | None = None  # a job's nets, read from its files (checksums checked)

    @property
    def results(self) -> NetResults:
        """Every net's results (a job's are read from its files on first use)."""
        if self._results is None:
            self._results = self._read()
        return self._results

    def dataset(self) -> Any:
        """The nets as a pyarrow dataset, one row per net (the columns of to_pandas()): for a
        job, its results files, read only as far as a query needs them; pandas
        (`.to_table(columns=[...]).to_pandas()`), polars (`polars.scan_pyarrow_dataset`) and
        DuckDB read it directly."""
        if self._dataset is not None:
            return self._dataset()
        import pyarrow as pa  # noqa: PLC0415
        import pyarrow.dataset as ds  # noqa: PLC0415

        return ds.dataset(pa.Table.from_pandas(self.to_pandas(), preserve_index=False))

    @property
    def seeds(self) -> np.ndarray:
        return self.results.seeds

    @property
    def provenance(self) -> dict[str, Any]:
        return self.stats.get("provenance", {})

    def __len__(self) -> int:
        return int(self.stats["nets"]) if self._results is None else len(self._results)

    def to_pandas(self) -> Any:
        """A DataFrame, one row per net: seed, o00, o01, o10, o11, epochs_to_solve, final_loss,
        outcome, diverged, and each net's initial_... and final_... weights if they were kept."""
        from .tables import to_frame  # noqa: PLC0415  (pandas loads slowly)

        return to_frame(self.results, self.config.hidden)

    def save(self, path: str | os.PathLike) -> None:
        """A results file (`.parquet`, else `.npz`), the same as `xorgpu run --out`."""
        save_results(path, self.results, self.config, self.stats)

    def __repr__(self) -> str:
        nets, solved = self.stats["nets"], self.stats["solved"]
        return (f"Run({nets:,} nets of 2-{self.config.hidden}-1, {self.config.epochs:,} epochs: "
                f"{solved:,} solved, seeds {self.provenance.get('seeds', '?')})")
