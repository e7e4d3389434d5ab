"""Where a job's per-net results live: one Parquet file per chunk, in a folder or at an
fsspec URL, never in Redis (which keeps each chunk's file name, row count and checksum).

Layout under the root (XORGPU_RESULTS_URL, xorgpu.settings.results_url):
    <job id>/chunk-<index, 6 digits>-<token>.parquet

A file holds the chunk's rows in the table of `run --out` (xorgpu.tables), with the job's
config, job id, chunk index and seeds as metadata: nothing that differs between two
trainings of the same chunk, so one worker training a chunk twice writes the same bytes.
The token (random per attempt) keeps two workers that train the same chunk at once from
writing over each other: each writes its own file, the store counts whichever is
recorded first, and the other deletes its own.

A file is complete before it has its name: in a folder it is written under a temporary
name, flushed to disk and renamed (xorgpu.files.written_atomically); on an object store (s3://, gs://, ...) one PUT makes
the object appear whole or not at all. A worker killed mid-write leaves at most a
temporary file or an unrecorded chunk file, which no reader counts: readers open only the
files Redis recorded, and trust nothing of a record they can check: its path must name a
chunk file of its job under the root (never an absolute path, `..`, a link or a device),
the file must be a regular file of the recorded size and SHA-256, and it must hold the
recorded number of rows and exactly the chunk's seeds (each checked before a column is
decoded, or as soon as the seeds are read).

Paths in Redis are relative to the root, so machines may mount a shared folder at
different paths: each sets XORGPU_RESULTS_URL to where it sees the share.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .config import Config, SeedRange
from .errors import ServiceError, first_line
from .files import written_atomically
from .results import NetResults

CHUNK_SUFFIX = ".parquet"
METADATA_KEY = b"xorgpu"
CHUNK_PATH = re.compile(r"^(?P<job>[0-9a-f]{12})/chunk-\d{6}-[0-9a-f]{8}\.parquet$")  # what write_chunk names
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ChunkFile:
    """A chunk's file as Redis records it, and the seeds it must hold (its job's, not the record's)."""

    path: str  # relative to the root: <job id>/chunk-000012-<token>.parquet
    rows: int
    sha256: str
    size: int  # bytes
    seeds: SeedRange | None = None  # the chunk's nets (seeds, or a map's pixels), where known

    def to_record(self) -> dict[str, Any]:
        return {"file": self.path, "rows": self.rows, "sha256": self.sha256, "bytes": self.size}

    @classmethod
    def of_record(cls, record: dict[str, Any], job_id: str, seeds: SeedRange) -> ChunkFile:
        """The file a chunk record names, checked: a chunk file of this job under the root,
        with as many rows as the chunk has nets; ValueError otherwise."""
        path = str(record["file"])
        found = CHUNK_PATH.match(path)
        if found is None or found["job"] != job_id:
            raise ValueError(f"its file {path[:80]!r} is not a chunk file of job {job_id} under the results location")
        rows, size, sha256 = int(record["rows"]), int(record["bytes"]), str(record["sha256"])
        if rows != len(seeds) or size < 0 or not SHA256.match(sha256):
            raise ValueError(f"its file {path} is recorded with {rows} rows for {len(seeds)} nets, or a bad size "
                             "or checksum")
        return cls(path, rows, sha256, size, seeds)


class ResultsStore:
    """A root folder or fsspec URL that holds chunk files."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") or "/"
        protocol, _, rest = url.partition("://")
        self.local = not rest or protocol == "file"
        self.root = (rest if protocol == "file" else url) if self.local else url.rstrip("/")
        self._fs: Any = None
        if not self.local:
            try:
                import fsspec  # noqa: PLC0415

                self._fs = fsspec.filesystem(protocol)
            except (ImportError, ValueError) as error:
                raise ServiceError(f"results location {url}: no fsspec filesystem for {protocol}:// here "
                                   f"({first_line(error)}); install the fsspec package for it, e.g. s3fs") from None

    def __repr__(self) -> str:
        return f"ResultsStore({self.url!r})"

    # --- checks --------------------------------------------------------------------------

    def check_writable(self, parents: bool = False) -> None:
        """Fail with one line unless a file can be written here and deleted again. A missing
        local folder is made, if its parent folder exists (parents: and its parents too, as
        for the default location under the user's home)."""
        probe = f".xorgpu-probe-{secrets.token_hex(4)}"
        try:
            if self.local:
                root = Path(self.root)
                if not root.exists() and (parents or root.parent.is_dir()):
                    root.mkdir(parents=parents, exist_ok=True)
                if not root.is_dir():
                    what = "a file" if root.exists() else f"missing, and so is its folder {root.parent}"
                    raise ServiceError(f"results location {self.url} is not a folder ({what}): create it, "
                                       "or set XORGPU_RESULTS_URL / --results-url")
                (root / probe).write_bytes(b"")
                (root / probe).unlink()
            else:
                self._fs.pipe(f"{self.root}/{probe}", b"")
                self._fs.rm(f"{self.root}/{probe}")
        except ServiceError:
            raise
        except Exception as error:  # noqa: BLE001  (fsspec backends raise their own kinds)
            raise ServiceError(f"results location {self.url} is not writable: {first_line(error)}") from None

    # --- writing ---------------------------------------------------------------------------

    def write_chunk(self, job_id: str, index: int, seeds: SeedRange, config: Config,
                    results: NetResults) -> ChunkFile:
        """Write one chunk's results as a complete file under a name of its own."""
        data = chunk_bytes(job_id, index, seeds, config, results)
        path = f"{job_id}/chunk-{index:06d}-{secrets.token_hex(4)}{CHUNK_SUFFIX}"
        chunk = ChunkFile(path, len(results), hashlib.sha256(data).hexdigest(), len(data))
        try:
            if self.local:
                (Path(self.root) / job_id).mkdir(exist_ok=True)
                with written_atomically(Path(self.root) / path) as handle:
                    handle.write(data)
            else:
                self._fs.makedirs(f"{self.root}/{job_id}", exist_ok=True)
                self._fs.pipe(f"{self.root}/{path}", data)
        except Exception as error:  # noqa: BLE001
            raise ServiceError(f"cannot write chunk {index}'s results to {self.url}: {first_line(error)}") from None
        return chunk

    def delete(self, chunk: ChunkFile) -> None:
        """Remove a file that was not recorded (another worker's copy of the chunk was)."""
        try:
            if self.local:
                (Path(self.root) / chunk.path).unlink(missing_ok=True)
            else:
                self._fs.rm(f"{self.root}/{chunk.path}")
        except Exception:  # noqa: BLE001  (an unrecorded file is never read: leaving it is harmless)
            pass

    # --- reading ---------------------------------------------------------------------------

    def read_bytes(self, chunk: ChunkFile) -> bytes:
        """A recorded chunk file's bytes: a regular file of the recorded size (checked before
        it is read) whose SHA-256 is the recorded one."""
        where = f"{self.url}/{chunk.path}"
        try:
            if self.local:
                path = Path(self.root) / chunk.path
                info = os.lstat(path)
                if not stat.S_ISREG(info.st_mode):  # a link, a device, a FIFO: never followed or read
                    raise ServiceError(f"results file {where} is not a regular file: not reading it")
                size = info.st_size
            else:
                size = int(self._fs.info(f"{self.root}/{chunk.path}")["size"])
            if size != chunk.size:
                raise ServiceError(f"results file {where} holds {size:,} bytes, not the {chunk.size:,} recorded: "
                                   "changed or damaged since")
            data = path.read_bytes() if self.local else self._fs.cat_file(f"{self.root}/{chunk.path}")
        except FileNotFoundError:
            raise ServiceError(f"results file {where} is missing: is {self.url} where the workers write "
                               "(XORGPU_RESULTS_URL, --results-url)?") from None
        except ServiceError:
            raise
        except Exception as error:  # noqa: BLE001
            raise ServiceError(f"cannot read results file {where}: {first_line(error)}") from None
        if hashlib.sha256(data).hexdigest() != chunk.sha256:
            raise ServiceError(f"results file {where} is not the file that was recorded (its checksum differs): "
                               "changed or damaged since")
        return data

    def read_table(self, chunk: ChunkFile, columns: list[str] | None = None) -> Any:
        """A recorded chunk as a pyarrow Table (only `columns`, if given): its bytes checked
        (read_bytes), its row count before any column is decoded, its seeds after."""
        import pyarrow.parquet as pq  # noqa: PLC0415

        data = self.read_bytes(chunk)
        where = f"results file {self.url}/{chunk.path}"
        wanted = None if columns is None else list(dict.fromkeys([*columns, "seed"]))
        try:
            parquet = pq.ParquetFile(io.BytesIO(data))
            if parquet.metadata.num_rows != chunk.rows:
                raise ServiceError(f"{where} holds {parquet.metadata.num_rows:,} rows, not {chunk.rows:,}")
            table = parquet.read(columns=wanted)
        except ServiceError:
            raise
        except (OSError, ValueError, KeyError) as error:
            raise ServiceError(f"{where} cannot be read: {first_line(error)}") from None
        if chunk.seeds is not None:
            seeds = table.column("seed").to_numpy()
            if not np.array_equal(seeds, np.arange(chunk.seeds.start, chunk.seeds.stop)):
                raise ServiceError(f"{where} holds other nets than its chunk's, seeds {chunk.seeds}: "
                                   "swapped or changed since it was recorded")
        return table if columns is None or "seed" in columns else table.drop(["seed"])

    def read_chunk(self, chunk: ChunkFile, config: Config) -> NetResults:
        from .tables import of_frame  # noqa: PLC0415

        return of_frame(self.read_table(chunk).to_pandas(), config)

    def dataset(self, chunks: list[ChunkFile]) -> Any:
        """The chunks as one pyarrow dataset, its columns read as it is scanned; every file is
        checked first (read once: its size, checksum, rows and seeds), so a scan never meets a
        file other than the one recorded."""
        import pyarrow.dataset as ds  # noqa: PLC0415

        for chunk in chunks:
            self.read_table(chunk, ["seed"])

        if self.local:
            return ds.dataset([str(Path(self.root) / c.path) for c in chunks], format="parquet")
        from pyarrow.fs import FSSpecHandler, PyFileSystem  # noqa: PLC0415

        return ds.dataset([f"{self.root}/{c.path}" for c in chunks], format="parquet",
                          filesystem=PyFileSystem(FSSpecHandler(self._fs)))


def chunk_bytes(job_id: str, index: int, seeds: SeedRange, config: Config, results: NetResults) -> bytes:
    """A chunk's Parquet file: the same bytes whenever the same results are written."""
    import pyarrow.parquet as pq  # noqa: PLC0415

    from .tables import to_arrow  # noqa: PLC0415

    table = to_arrow(results, config)
    metadata = {"config": config.to_dict(), "job": job_id, "chunk": index, "seeds": str(seeds)}
    table = table.replace_schema_metadata({METADATA_KEY: json.dumps(metadata, sort_keys=True)})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()



def iter_tables(store: ResultsStore, chunks: list[ChunkFile], columns: list[str] | None = None) -> Iterator[Any]:
    """The chunks' tables one at a time, in the order given (memory: one chunk)."""
    for chunk in chunks:
        yield store.read_table(chunk, columns)
