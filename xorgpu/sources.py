"""What `inspect`, `plot` and `report` read: a job, a results file or a sweep file.

`open_source` decides which by what exists and by its content, not by its name alone:
an existing file is a results file if it is a Parquet file or a zip archive (.npz), a
sweep file if it holds JSON lines; anything else that exists is refused; a name that does not exist is a
job id if it looks like one, else a missing file. Every problem is one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .config import Config, ConfigError, SeedRange
from .files import check_readable

ZIP_MAGIC = b"PK\x03\x04"  # .npz
PARQUET_MAGIC = b"PAR1"


@dataclass
class Source:
    kind: str  # "job", "results", "sweep" or "map"
    name: str  # how titles call it: "job 1a2b3c4d5e6f", "results nets.npz", "sweep s.jsonl"
    config: Config | None = None  # jobs and results files
    has_seed: Callable[[int], bool] = lambda seed: False  # jobs and results files: is this net in it?
    seeds: str = ""  # jobs and results files: their seeds, "A:B" (or "A..B" where not recorded as a range)
    statistics: dict[str, Any] | None = None  # None in results files that predate them
    rows: list[dict[str, Any]] = field(default_factory=list)  # sweep files: finished cells
    _results: Callable[[], Any] | None = None
    recorded: Callable[[int], tuple[int, float] | None] = lambda seed: None  # a net's stored outcome
    dataset: Callable[[], Any] | None = None  # jobs: their results files as a lazy pyarrow dataset
    _outcomes: Callable[[], Any] | None = None  # jobs: read without the outputs (default: of results())
    map: Callable[[], Any] | None = None  # maps (a map file or a map job): its xorgpu.maps.MapResult, read now

    def outcomes(self) -> Any:
        """How every net ended (xorgpu.results.NetOutcomes): what figures and reports draw;
        for a job, four columns of its files, read now."""
        if self._outcomes is not None:
            return self._outcomes()
        return self.results().outcomes()

    def results(self) -> Any:
        """Every net's results (xorgpu.results.NetResults); for a job, read from its files now."""
        if self._results is None:
            raise ConfigError(f"{self.name} holds no per-net results")
        return self._results()


def open_source(text: str, redis_url: str | None = None, results_url: str | None = None,
                maps: bool = False) -> Source:
    """results_url: where a job's results files are (default: xorgpu.settings.results_url).
    maps: the caller reads maps (`map --out` files, `map --submit` jobs); else one is refused."""
    opened = _open(text, redis_url, results_url)
    if opened.kind == "map" and not maps:
        raise ConfigError(f"{text} is a map of trainability (xorgpu map): `xorgpu report` draws it, "
                          "xorgpu.load reads it")
    return opened


def _open(text: str, redis_url: str | None, results_url: str | None) -> Source:
    path = Path(text)
    if path.exists() or path.is_symlink():
        file = check_readable(path)
        with open(file, "rb") as handle:
            head = handle.read(64)
        if head.startswith(ZIP_MAGIC) or head.startswith(PARQUET_MAGIC):
            return _results_file(file)
        if head.lstrip()[:1] == b"{":
            return _sweep_file(file)
        if not head:
            raise ConfigError(f"{text} is empty: not a results (.parquet, .npz) or sweep (.jsonl) file")
        raise ConfigError(f"{text} is neither a results file (.parquet, .npz) nor a sweep file (JSON lines)")
    from .store import JOB_ID  # noqa: PLC0415

    if JOB_ID.match(text):
        return _job(text, redis_url, results_url)
    if path.suffix or "/" in text or "\\" in text:
        raise ConfigError(f"no such file: {text}")
    raise ConfigError(f"no such file, and not a job id (12 hexadecimal digits): {text!r}"[:200])


def _results_file(file: Path) -> Source:
    from .maps.result import MapResult, is_map_file  # noqa: PLC0415
    from .result_files import load_results  # noqa: PLC0415

    if is_map_file(file):
        return Source("map", f"map {file.name}", map=lambda: MapResult.load(str(file)))

    results, config, statistics = load_results(file)

    def recorded(seed: int) -> tuple[int, float] | None:
        where = np.flatnonzero(results.seeds == seed)
        return (int(results.epochs_to_solve[where[0]]), float(results.final_loss[where[0]])) if where.size else None

    seeds = results.seeds
    span = ((statistics or {}).get("provenance") or {}).get("seeds") or f"{seeds.min()}..{seeds.max()}"
    return Source("results", f"results {file.name}", config=config, statistics=statistics,
                  has_seed=lambda seed: bool(np.any(seeds == seed)), seeds=str(span),
                  _results=lambda: results, recorded=recorded)


def _sweep_file(file: Path) -> Source:
    from . import sweeps  # noqa: PLC0415

    return Source("sweep", f"sweep {file.name}", rows=sweeps.finished_rows(file))


def _job(job_id: str, redis_url: str | None, results_url: str | None) -> Source:
    from .results_store import ResultsStore  # noqa: PLC0415
    from .service import job_chunk_files, job_outcomes, job_report, job_results  # noqa: PLC0415
    from .settings import DEFAULT_REDIS_URL, results_url as default_results_url  # noqa: PLC0415
    from .store import JobStore  # noqa: PLC0415

    store = JobStore.from_url(redis_url or DEFAULT_REDIS_URL)
    job = store.get_job(job_id)
    seeds: SeedRange = job.seeds
    files = ResultsStore(results_url or default_results_url())
    if job.map_spec:
        from .service import map_of_job  # noqa: PLC0415

        return Source("map", f"map job {job.id}", map=lambda: map_of_job(store, files, job))

    def recorded(seed: int) -> tuple[int, float] | None:
        """The stored outcome of one net: one chunk file read, two columns of it."""
        if not seeds.start <= seed < seeds.stop:
            return None
        index = (seed - seeds.start) // job.chunk_size
        chunks = store.chunk_files(job, [index])
        if not chunks:
            return None
        table = files.read_table(chunks[0][1], ["seed", "epochs_to_solve", "final_loss"]).to_pydict()
        row = table["seed"].index(seed)
        return int(table["epochs_to_solve"][row]), float(table["final_loss"][row])

    return Source("job", f"job {job.id}", config=job.config, has_seed=lambda seed: seeds.start <= seed < seeds.stop,
                  seeds=str(seeds),
                  statistics=job_report(store, job), _results=lambda: job_results(store, files, job),
                  recorded=recorded, dataset=lambda: files.dataset(job_chunk_files(store, job)),
                  _outcomes=lambda: job_outcomes(store, files, job))


@dataclass
class Side:
    """One side of a paired comparison."""

    name: str
    outcomes: Any  # NetOutcomes: seeds, epochs to solve, final loss, outcome (all a comparison reads)
    config: Config
    statistics: dict[str, Any] | None


def paired_results(text: str, redis_url: str | None, notice: Callable[[str], None],
                   results_url: str | None = None) -> Side:
    """Every net of a source, for a paired comparison: a results file, a finished job, or a
    cell of a sweep file, `SWEEP.jsonl@hidden=2,lr=0.5`, re-trained from its config and
    seeds (results depend on them alone; notice says so first)."""
    if "@" in text and not Path(text).exists():
        file, _, selector = text.rpartition("@")
        opened = open_source(file, redis_url, results_url)
        if opened.kind != "sweep":
            raise ConfigError(f"{file} is not a sweep file: @field=value picks a cell of a sweep")
        row = _cell(opened.rows, selector, file)
        from .config import RunOptions  # noqa: PLC0415
        from .experiment import prepare  # noqa: PLC0415

        config, seeds = Config.from_dict(row["config"]), SeedRange.parse(row["seeds"])
        notice(f"re-training the cell {selector} of {file} ({len(seeds):,} nets, seeds {seeds})")
        results, stats = prepare(config, RunOptions()).measure(seeds)
        return Side(f"{file}@{selector}", results.outcomes(), config, stats)
    opened = open_source(text, redis_url, results_url)
    if opened.kind == "sweep":
        raise ConfigError(f"{text} is a sweep file: pick a cell, e.g. {text}@hidden=2")
    return Side(opened.name, opened.outcomes(), opened.config, opened.statistics)


def _cell(rows: list[dict[str, Any]], selector: str, file: str) -> dict[str, Any]:
    wanted: dict[str, str] = {}
    for item in filter(None, selector.split(",")):
        name, equals, value = item.partition("=")
        if not equals or name not in rows[0]["config"]:
            raise ConfigError(f"{selector!r}: pick a cell as field=value,... (fields: {', '.join(rows[0]['config'])})")
        wanted[name] = value
    matching = [r for r in rows if all(_same(r["config"][name], value) for name, value in wanted.items())]
    if len(matching) != 1:
        if not matching:
            values = {name: sorted({str(r["config"][name]) for r in rows}) for name in wanted}
            held = "; ".join(f"{name} {', '.join(v)}" for name, v in values.items())
            raise ConfigError(f"{file}@{selector} picks no cell: its cells have {held}")
        raise ConfigError(f"{file}@{selector} picks {len(matching)} cells, not one: name more fields")
    return matching[0]


def _same(stored: Any, typed: str) -> bool:
    if isinstance(stored, (int, float)) and not isinstance(stored, bool):
        try:
            return float(typed) == float(stored)
        except ValueError:
            return False
    return str(stored) == typed
