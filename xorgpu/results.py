"""Per-net results: how each net of an experiment ended (NetResults), or just its outcome
(NetOutcomes). Their files: xorgpu.result_files (.npz, and .parquet through xorgpu.tables).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

import numpy as np

from .config import MAX_SEED, ConfigError
from .engines.contract import BlockRecord

BYTES_PER_NET = 8 + 4 * 8 + 8 + 8 + 1 + 1  # seeds, 4 outputs, epochs_to_solve, final_loss, diverged, outcome


def bytes_per_net_result(patterns: int = 4) -> int:
    """What NetResults holds of one net of a task of `patterns` patterns (no weights)."""
    return BYTES_PER_NET + 8 * (patterns - 4)


@dataclass
class NetResults:
    seeds: np.ndarray  # (N,) int64
    outputs: np.ndarray  # (N, P): one output per pattern of the task
    epochs_to_solve: np.ndarray  # (N,) int64, -1: never solved
    final_loss: np.ndarray  # (N,)
    diverged: np.ndarray  # (N,) bool
    outcome: np.ndarray  # (N,) uint8: its xorgpu.outcomes code (UNKNOWN_OUTCOME in older files)
    # kept on request: (N, weights) each net's weights before and after training (params.weight_names)
    initial_weights: np.ndarray | None = None
    final_weights: np.ndarray | None = None

    @classmethod
    def of_block(cls, seeds: np.ndarray, record: BlockRecord, outcome: np.ndarray) -> NetResults:
        return cls(seeds, record.outputs, record.epochs_to_solve, record.final_loss, record.diverged, outcome)

    @classmethod
    def concatenate(cls, parts: list[NetResults]) -> NetResults:
        def joined(name: str) -> np.ndarray | None:
            arrays = [getattr(p, name) for p in parts]
            return None if any(a is None for a in arrays) else np.concatenate(arrays)

        return cls(**{f.name: joined(f.name) for f in fields(cls)})

    def __len__(self) -> int:
        return len(self.seeds)

    def outcomes(self) -> NetOutcomes:
        return NetOutcomes(self.seeds, self.epochs_to_solve, self.final_loss, self.outcome)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every per-net array that is there (the weights only if kept)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


@dataclass
class NetOutcomes:
    """How each net ended, without its outputs and weights: all that figures and reports
    draw (25 bytes a net, against 46 and more for NetResults), so a job's are read as four
    columns of its results files (xorgpu.service.job_outcomes)."""

    seeds: np.ndarray  # (N,) int64
    epochs_to_solve: np.ndarray  # (N,) int64, -1: never solved
    final_loss: np.ndarray  # (N,)
    outcome: np.ndarray  # (N,) uint8: its xorgpu.outcomes code

    def __len__(self) -> int:
        return len(self.seeds)


def check_seeds(seeds: np.ndarray, path: str | os.PathLike) -> None:
    """Refuse a results file whose seeds no training could have written: each a whole number
    in [0, 2**32), each once."""
    if seeds.dtype.kind not in "iu":
        raise ConfigError(f"cannot read {path}: its seeds are not whole numbers")
    if seeds.size and (int(seeds.min()) < 0 or int(seeds.max()) >= MAX_SEED):
        raise ConfigError(f"cannot read {path}: a seed is negative or not below 2**32")
    if np.unique(seeds).size != seeds.size:
        raise ConfigError(f"cannot read {path}: a seed appears twice")
