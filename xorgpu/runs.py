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
from .results import NetResults
from .result_files import save_results


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

        return to_frame(self.results, self.config)

    def save(self, path: str | os.PathLike) -> None:
        """A results file (`.parquet` or `.npz`), the same as `xorgpu run --out`."""
        save_results(path, self.results, self.config, self.stats)

    def plot(self, title: str | None = None) -> Any:
        """The figures of `xorgpu plot` (xorgpu.plots.Figures): a notebook shows them;
        `.save(folder)` writes PNG and SVG. title: instead of what was trained."""
        from . import plots  # noqa: PLC0415  (matplotlib loads slowly)
        from .trajectory import trained_nets  # noqa: PLC0415
        from .words import describe  # noqa: PLC0415

        outcomes = self.results.outcomes()
        trained = trained_nets(self.config, plots.chosen_nets(outcomes))
        return plots.Figures(plots.job_figures(outcomes, self.config, self.stats,
                                               title or describe(self.config, self._seeds()), trained))

    def report(self, path: str | os.PathLike, title: str | None = None) -> None:
        """The HTML page of `xorgpu report`, written to `path` (FILE.html)."""
        from . import plots, report_html  # noqa: PLC0415
        from .files import check_output, written_atomically  # noqa: PLC0415
        from .trajectory import trained_nets  # noqa: PLC0415

        check_output(path, (".html",))
        outcomes = self.results.outcomes()
        trained = trained_nets(self.config, plots.chosen_nets(outcomes))
        page = report_html.job_report(title or "xorgpu run", self.stats, outcomes, self.config, self._seeds(), trained)
        with written_atomically(path, "w") as handle:
            handle.write(page)

    def _seeds(self) -> str:
        return str(self.provenance.get("seeds") or f"{self.seeds.min()}..{self.seeds.max()}")

    def __repr__(self) -> str:
        """One line: what was trained and how it went."""
        from .words import net, rate_text  # noqa: PLC0415

        return (f"Run({self.stats['nets']:,} nets, each a {net(self.config)}, {self.config.epochs:,} epochs, "
                f"seeds {self.provenance.get('seeds', '?')}: {rate_text(self.stats['solved'], self.stats['nets'])} "
                "solved)")

    def _repr_html_(self) -> str:
        """In a notebook: what was trained, the success rate with its interval, epochs to solve
        and how the unsolved nets failed."""
        import html  # noqa: PLC0415

        from .words import percent, rate_text  # noqa: PLC0415
        from .words import describe  # noqa: PLC0415

        s = self.stats
        low, high = s["success_ci95"]
        ets, failures = s["epochs_to_solve"], s["failures"]
        rows = [("solved", f"{rate_text(s['solved'], s['nets'])}, 95% CI [{percent(low)}, {percent(high)}] (Wilson)"),
                ("epochs to solve", "none solved" if ets["median"] is None else
                 f"median {ets['median']:g}, p10 {ets['p10']:g}, p90 {ets['p90']:g}, max {ets['max']:,}"),
                ("unsolved", f"{failures['unsolved']:,}: plateau {failures['plateau']:,}, still improving "
                             f"{failures['still_improving']:,}, diverged {failures['diverged']:,}")]
        body = "".join(f"<tr><th style='text-align:left'>{name}</th><td style='text-align:left'>{html.escape(value)}"
                       f"</td></tr>" for name, value in rows)
        return (f"<p><b>xorgpu Run</b>: {html.escape(describe(self.config, self.provenance.get('seeds')))}</p>"
                f"<table>{body}</table>")
