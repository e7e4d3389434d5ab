"""Per-net results as a table: a pandas DataFrame, and Parquet files of it.

One row per net: `seed`, the outputs, one per pattern, named after its inputs' bits
(`o00 o01 o10 o11` for two inputs, xorgpu.tasks), `epochs_to_solve` (-1: never), `final_loss`, `outcome` (solved, solved_then_lost,
plateau, still_improving, diverged; "unknown" in files that predate them), `diverged`, and,
where kept, each net's weights before and after training (`initial_W1[0,0]` ...
`final_b2`, named as xorgpu.params.weight_names). A Parquet file holds that table, with the
config, the statistics and their provenance as one JSON object under the schema
metadata key b"xorgpu". pandas and pyarrow are imported when first needed.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable

import numpy as np

from .memory import check_fits
from .config import Config, ConfigError
from .errors import first_line
from .files import MAX_INPUT_FRACTION, check_readable, written_atomically
from .params import weight_names
from .results import NetOutcomes, NetResults, check_seeds
from .outcomes import OUTCOMES, UNKNOWN_OUTCOME
from .stats import check_report

METADATA_KEY = b"xorgpu"
OUTCOME_NAMES = (*OUTCOMES, "unknown")
STAGES = ("initial", "final")


def output_columns(config: Config) -> tuple[str, ...]:
    return config.task_spec.output_names


def weight_columns(config: Config, stage: str) -> list[str]:
    return [f"{stage}_{name}" for name in weight_names(config.hidden, config.inputs, config.skip)]


def to_arrow(results: NetResults, config: Config) -> Any:
    """The results as a pyarrow Table, one row per net (no pandas: a worker writes these)."""
    import pyarrow as pa  # noqa: PLC0415

    columns: dict[str, Any] = {"seed": pa.array(results.seeds.astype(np.int64))}
    columns.update({name: pa.array(results.outputs[:, i]) for i, name in enumerate(output_columns(config))})
    columns["epochs_to_solve"] = pa.array(results.epochs_to_solve.astype(np.int64))
    columns["final_loss"] = pa.array(results.final_loss)
    codes = np.minimum(results.outcome, len(OUTCOMES)).astype(np.int8)
    columns["outcome"] = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(OUTCOME_NAMES))
    columns["diverged"] = pa.array(results.diverged.astype(bool))
    for stage in STAGES:
        weights = getattr(results, f"{stage}_weights")
        if weights is not None:
            columns.update({name: pa.array(weights[:, j]) for j, name in enumerate(weight_columns(config, stage))})
    return pa.table(columns)


def to_frame(results: NetResults, config: Config) -> Any:
    """The results as a DataFrame, one row per net (outcome a categorical)."""
    return to_arrow(results, config).to_pandas()


def of_frame(frame: Any, config: Config) -> NetResults:
    """NetResults from a DataFrame laid out as `to_frame` lays it out."""
    missing = [c for c in ("seed", *output_columns(config), "epochs_to_solve", "final_loss", "outcome", "diverged")
               if c not in frame.columns]
    if missing:
        raise ConfigError(f"not an xorgpu results table (no {', '.join(missing)})")
    names = [str(x) for x in frame["outcome"].astype(str)]
    unknown = set(names) - set(OUTCOME_NAMES)
    if unknown:
        raise ConfigError(f"unknown outcome {sorted(unknown)[0][:40]!r} in a results table")
    code = {name: i for i, name in enumerate(OUTCOMES)}
    weights = {}
    for stage in STAGES:
        columns = weight_columns(config, stage)
        weights[f"{stage}_weights"] = frame[columns].to_numpy() if all(c in frame.columns for c in columns) else None
    return NetResults(
        seeds=frame["seed"].to_numpy(np.int64), outputs=frame[list(output_columns(config))].to_numpy(),
        epochs_to_solve=frame["epochs_to_solve"].to_numpy(np.int64), final_loss=frame["final_loss"].to_numpy(),
        diverged=frame["diverged"].to_numpy(bool),
        outcome=np.array([code.get(n, UNKNOWN_OUTCOME) for n in names], dtype=np.uint8), **weights,
    )


OUTCOME_TABLE_COLUMNS = ["seed", "epochs_to_solve", "final_loss", "outcome"]  # what NetOutcomes holds


def outcomes_of_table(table: Any) -> NetOutcomes:
    """NetOutcomes from a pyarrow Table with (at least) OUTCOME_TABLE_COLUMNS, as to_arrow writes them."""
    import pyarrow as pa  # noqa: PLC0415

    code = {name: i for i, name in enumerate(OUTCOMES)}
    outcome = []
    for part in table.column("outcome").chunks:
        if not pa.types.is_dictionary(part.type):
            part = part.dictionary_encode()
        lookup = np.array([code.get(str(name), UNKNOWN_OUTCOME) for name in part.dictionary.to_pylist()] or [0],
                          dtype=np.uint8)
        outcome.append(lookup[part.indices.to_numpy(zero_copy_only=False)])
    return NetOutcomes(seeds=table.column("seed").to_numpy().astype(np.int64, copy=False),
                       epochs_to_solve=table.column("epochs_to_solve").to_numpy().astype(np.int64, copy=False),
                       final_loss=table.column("final_loss").to_numpy(),
                       outcome=np.concatenate(outcome) if outcome else np.zeros(0, np.uint8))


def save_parquet(path: str | os.PathLike, results: NetResults, config: Config, statistics: dict[str, Any]) -> None:
    """Write a Parquet file of the results; it replaces `path` only once it is complete."""
    save_parquet_tables(path, [to_arrow(results, config)], config, statistics)


def save_parquet_tables(path: str | os.PathLike, tables: Iterable[Any], config: Config,
                        statistics: dict[str, Any]) -> int:
    """Write a Parquet file of `save_parquet`'s layout from tables of rows (a job's chunk
    files, one at a time: memory holds one); it replaces `path` only once complete. Rows."""
    import pyarrow.parquet as pq  # noqa: PLC0415

    metadata = {METADATA_KEY: json.dumps({"config": config.to_dict(), "statistics": statistics,
                                          "provenance": statistics.get("provenance")})}
    rows = 0
    with written_atomically(path) as handle:
        writer = None
        try:
            for table in tables:
                table = table.replace_schema_metadata(metadata)
                if writer is None:
                    writer = pq.ParquetWriter(handle, table.schema)
                writer.write_table(table)
                rows += table.num_rows
        finally:
            if writer is not None:
                writer.close()
    return rows


PANDAS_TEXT_BYTES = 64  # a text cell as pandas holds it (a Python string and its pointer), about


def decoded_bytes(schema: Any, rows: int) -> int:
    """What a table's rows take once decoded into pandas, from its schema and row count
    alone (the footer): an encoded size says nothing of it (a run-length encoded column of
    30 million equal values takes a few bytes on disk). Counted twice: Arrow, then pandas."""
    import pyarrow as pa  # noqa: PLC0415

    width = sum(max(1, field.type.bit_width // 8) if pa.types.is_primitive(field.type) else PANDAS_TEXT_BYTES
                for field in schema)
    return 2 * rows * width


def load_parquet(path: str | os.PathLike) -> tuple[NetResults, Config, dict[str, Any] | None]:
    """The nets, their config and their statistics, from a Parquet file of `save_parquet`;
    one-line errors for anything else."""
    import pyarrow.parquet as pq  # noqa: PLC0415

    check_readable(path)
    try:
        schema = pq.read_schema(path)
        metadata = json.loads((schema.metadata or {}).get(METADATA_KEY, b"null"))
        footer = pq.ParquetFile(path).metadata
        size = decoded_bytes(schema, footer.num_rows)
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read {path}: a damaged Parquet file ({first_line(error)})") from None
    check_fits(size, f"reading the {footer.num_rows:,} rows of {path}", "read it on a machine with more memory",
               share=MAX_INPUT_FRACTION)
    if not isinstance(metadata, dict):
        raise ConfigError(f"cannot read {path}: a Parquet file without xorgpu's metadata")
    try:
        config = Config.from_dict(metadata.get("config"))
        frame = pq.read_table(path).to_pandas()
        results = of_frame(frame, config)
    except ConfigError as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    except (OSError, ValueError, KeyError) as error:
        raise ConfigError(f"cannot read {path}: a damaged Parquet file ({first_line(error)})") from None
    if len(results) == 0:
        raise ConfigError(f"cannot read {path}: it holds no nets")
    check_seeds(results.seeds, path)
    statistics = metadata.get("statistics")
    if statistics is not None:
        try:
            statistics = check_report(statistics, len(results))
        except ConfigError as error:
            raise ConfigError(f"cannot read {path}: its statistics are not valid ({error})") from None
    return results, config, statistics
