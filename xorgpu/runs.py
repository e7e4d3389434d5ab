"""A trained set of nets as a notebook uses it: results, statistics, provenance, a table.

`xorgpu.train(...)` and `xorgpu.load(...)` return a `Run`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import Config
from .results import NetResults, save_results


@dataclass
class Run:
    config: Config
    results: NetResults  # every net, in seed order
    stats: dict[str, Any]  # the statistics, as `xorgpu run --json` prints them, with their provenance

    @property
    def seeds(self) -> np.ndarray:
        return self.results.seeds

    @property
    def provenance(self) -> dict[str, Any]:
        return self.stats.get("provenance", {})

    def __len__(self) -> int:
        return len(self.results)

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
