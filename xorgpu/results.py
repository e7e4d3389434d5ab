"""Per-net results of a job, and their `.npz` file format.

The file holds `seeds` (N,), `outputs` (N, 4) in the pattern order [0,0], [0,1], [1,0],
[1,1], `epochs_to_solve` (N,), `final_loss` (N,), `diverged` (N,), `config`, the
experiment's config as a JSON string, and `statistics`, the job's statistics (the JSON of
`xorgpu run --json`; files from before it was added lack it). It loads with
`np.load(path, allow_pickle=False)`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from .config import Config, ConfigError
from .engine import BlockRecord

BYTES_PER_NET = 8 + 4 * 8 + 8 + 8 + 1  # seeds, outputs, epochs_to_solve, final_loss, diverged


@dataclass
class NetResults:
    seeds: np.ndarray  # (N,) int64
    outputs: np.ndarray  # (N, 4)
    epochs_to_solve: np.ndarray  # (N,) int64, -1: never solved
    final_loss: np.ndarray  # (N,)
    diverged: np.ndarray  # (N,) bool

    @classmethod
    def of_block(cls, seeds: np.ndarray, record: BlockRecord) -> NetResults:
        return cls(seeds, record.outputs, record.epochs_to_solve, record.final_loss, record.diverged)

    @classmethod
    def concatenate(cls, parts: list[NetResults]) -> NetResults:
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    def __len__(self) -> int:
        return len(self.seeds)

    def arrays(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def save_npz(path: str | os.PathLike, results: NetResults, config: Config, statistics: dict[str, Any]) -> None:
    with open(path, "wb") as handle:  # np.savez would append ".npz" to a path without it
        np.savez(handle, **results.arrays(), config=np.array(config.to_json()),
                 statistics=np.array(json.dumps(statistics)))


def load_npz(path: str | os.PathLike) -> tuple[NetResults, Config, dict[str, Any] | None]:
    """The nets, their config and their statistics (None in files that predate them);
    a one-line ConfigError for a file that is missing or not in this format."""
    try:
        with np.load(path, allow_pickle=False) as data:
            results = NetResults(**{f.name: data[f.name] for f in fields(NetResults)})
            statistics = json.loads(str(data["statistics"])) if "statistics" in data else None
            return results, Config.from_json(str(data["config"])), statistics
    except (OSError, ValueError, KeyError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None


def check_writable(path: str | os.PathLike) -> None:
    """Fail now, before any training, if `path` cannot be written; leave no file behind."""
    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"cannot write {path}: it is a directory")
    existed = target.exists()
    try:
        with open(target, "ab"):
            pass
    except OSError as error:
        raise ConfigError(f"cannot write {path}: {error.strerror.lower()}") from None
    if not existed:
        target.unlink()
