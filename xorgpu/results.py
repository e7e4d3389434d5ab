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
from typing import Any

import numpy as np

from .config import Config, ConfigError
from .engines.contract import BlockRecord
from .files import npz_arrays, written_atomically
from .stats import check_report

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


# The arrays of a results file: (shape with N for the nets, dtype kinds accepted)
NPZ_ARRAYS = {
    "seeds": (("N",), "iu"),
    "outputs": (("N", 4), "f"),
    "epochs_to_solve": (("N",), "iu"),
    "final_loss": (("N",), "f"),
    "diverged": (("N",), "b"),
    "config": ((), "U"),
}
OPTIONAL_NPZ_ARRAYS = {"statistics": ((), "U")}


def save_npz(path: str | os.PathLike, results: NetResults, config: Config, statistics: dict[str, Any]) -> None:
    """Write a results file; it replaces `path` only once it is complete."""
    with written_atomically(path) as handle:  # a handle: np.savez would append ".npz" to a bare path
        np.savez(handle, **results.arrays(), config=np.array(config.to_json()),
                 statistics=np.array(json.dumps(statistics)))


def load_npz(path: str | os.PathLike) -> tuple[NetResults, Config, dict[str, Any] | None]:
    """The nets, their config and their statistics (None in files that predate them);
    a one-line ConfigError for a file that is missing, damaged or not in this format."""
    found = npz_arrays(path)
    nets = _check_layout(path, found)
    with np.load(path, allow_pickle=False) as data:
        results = NetResults(**{f.name: data[f.name] for f in fields(NetResults)})
        config_text = str(data["config"])
        statistics_text = str(data["statistics"]) if "statistics" in found else None
    try:
        config = Config.from_json(config_text)
    except ConfigError as error:
        raise ConfigError(f"cannot read {path}: its config is not valid ({error})") from None
    statistics = None
    if statistics_text is not None:
        try:
            statistics = check_report(json.loads(statistics_text), nets)
        except (ValueError, ConfigError) as error:
            raise ConfigError(f"cannot read {path}: its statistics are not valid ({_first_line(error)})") from None
    results.seeds = results.seeds.astype(np.int64)
    results.epochs_to_solve = results.epochs_to_solve.astype(np.int64)
    return results, config, statistics


def _check_layout(path: str | os.PathLike, found: dict[str, tuple[tuple[int, ...], np.dtype]]) -> int:
    """The number of nets in a results file whose arrays are as NPZ_ARRAYS says."""
    missing = [name for name in NPZ_ARRAYS if name not in found]
    if missing:
        raise ConfigError(f"cannot read {path}: not an xorgpu results file (no {', '.join(missing)})")
    nets = found["seeds"][0][0] if len(found["seeds"][0]) == 1 else -1
    for name, (shape, kinds) in {**NPZ_ARRAYS, **OPTIONAL_NPZ_ARRAYS}.items():
        if name not in found:
            continue
        got_shape, dtype = found[name]
        want = tuple(nets if axis == "N" else axis for axis in shape)
        if got_shape != want or dtype.kind not in kinds:
            raise ConfigError(f"cannot read {path}: its {name} array is {dtype} {got_shape}, "
                              f"not the {_kinds(kinds)} {want} of a results file")
    if nets == 0:
        raise ConfigError(f"cannot read {path}: it holds no nets")
    return nets


def _kinds(kinds: str) -> str:
    names = {"i": "integer", "u": "integer", "f": "float", "b": "bool", "U": "string"}
    return "/".join(dict.fromkeys(names[k] for k in kinds))


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return (lines[0] if lines else type(error).__name__)[:200]
