"""Results files: `.npz` here, `.parquet` through xorgpu.tables, told apart by their first bytes.

The `.npz` file holds `seeds` (N,), `outputs` (N, P), one per pattern in the task's order
(xorgpu.tasks: [0,0], [0,1], [1,0], [1,1] for two inputs), `epochs_to_solve` (N,), `final_loss` (N,), `diverged` (N,), `outcome` (N,), the
code (xorgpu.outcomes) of how each net ended, `config`, the experiment's config as
a JSON string, and `statistics`, the job's statistics (the JSON of `xorgpu run --json`).
Files from before outcomes or statistics were kept lack them. It loads with
`np.load(path, allow_pickle=False)`.
"""

from __future__ import annotations

import json
import os
from dataclasses import fields
from typing import Any

import numpy as np

from .config import Config, ConfigError
from .errors import first_line
from .files import RESULTS_SUFFIXES, check_readable, check_suffix, npz_arrays, written_atomically
from .outcomes import UNKNOWN_OUTCOME
from .params import weight_names
from .words import net as words_net
from .results import NetResults, check_seeds
from .stats import check_report

# The arrays of a results file: (shape with N for the nets, dtype kinds accepted)
NPZ_ARRAYS = {
    "seeds": (("N",), "iu"),
    "outputs": (("N", "P"), "f"),
    "epochs_to_solve": (("N",), "iu"),
    "final_loss": (("N",), "f"),
    "diverged": (("N",), "b"),
    "config": ((), "U"),
}
OPTIONAL_NPZ_ARRAYS = {"statistics": ((), "U"), "outcome": (("N",), "u"),
                       "initial_weights": (("N", "P"), "f"), "final_weights": (("N", "P"), "f")}  # P: any; checked against the config


def save_results(path: str | os.PathLike, results: NetResults, config: Config, statistics: dict[str, Any]) -> None:
    """A results file: Parquet if `path` ends in .parquet, .npz if in .npz."""
    check_suffix(path, RESULTS_SUFFIXES)
    if str(path).lower().endswith(".parquet"):
        from .tables import save_parquet  # noqa: PLC0415  (pyarrow loads slowly)

        save_parquet(path, results, config, statistics)
    else:
        save_npz(path, results, config, statistics)


def load_results(path: str | os.PathLike) -> tuple[NetResults, Config, dict[str, Any] | None]:
    """A results file of either format, told apart by its first bytes."""
    with open(check_readable(path), "rb") as handle:
        head = handle.read(4)
    if head == b"PAR1":
        from .tables import load_parquet  # noqa: PLC0415

        return load_parquet(path)
    return load_npz(path)


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
        per_net = {f.name: data[f.name] for f in fields(NetResults) if f.name in found}
        per_net.setdefault("outcome", np.full(nets, UNKNOWN_OUTCOME, np.uint8))
        results = NetResults(**per_net)
        config_text = str(data["config"])
        statistics_text = str(data["statistics"]) if "statistics" in found else None
    try:
        config = Config.from_json(config_text)
    except ConfigError as error:
        raise ConfigError(f"cannot read {path}: its config is not valid ({error})") from None
    if results.outputs.shape[1] != config.patterns:
        raise ConfigError(f"cannot read {path}: it holds {results.outputs.shape[1]} outputs per net, not the "
                          f"{config.patterns} of task {config.task}")
    weights = len(weight_names(config.hidden, config.inputs, config.skip))
    for kept in (results.initial_weights, results.final_weights):
        if kept is not None and kept.shape[1] != weights:
            raise ConfigError(f"cannot read {path}: its weights are not those of its {words_net(config)}")
    statistics = None
    if statistics_text is not None:
        try:
            statistics = check_report(json.loads(statistics_text), nets)
        except (ValueError, ConfigError) as error:
            raise ConfigError(f"cannot read {path}: its statistics are not valid ({first_line(error)})") from None
    check_seeds(results.seeds, path)
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
        want = tuple(nets if axis == "N" else got_shape[i] if axis == "P" and len(got_shape) > i else axis
                     for i, axis in enumerate(shape))
        if got_shape != want or dtype.kind not in kinds:
            raise ConfigError(f"cannot read {path}: its {name} array is {dtype} {got_shape}, "
                              f"not the {_kinds(kinds)} {want} of a results file")
    if nets == 0:
        raise ConfigError(f"cannot read {path}: it holds no nets")
    return nets


def _kinds(kinds: str) -> str:
    names = {"i": "integer", "u": "integer", "f": "float", "b": "bool", "U": "string"}
    return "/".join(dict.fromkeys(names[k] for k in kinds))
