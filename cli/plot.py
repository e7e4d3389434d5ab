"""`xorgpu plot SOURCE --out DIR`: figures of a job, a results file or a sweep file."""

from __future__ import annotations

from pathlib import Path

import click

from xorgpu import sweep as sweeps
from xorgpu.config import ConfigError
from xorgpu.results import load_npz
from xorgpu.store import JobStore

from .options import redis_option


@click.command()
@click.argument("source")
@click.option("--out", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("xorgpu-plots"),
              show_default=True, help="Folder for the PNG and SVG files.")
@redis_option
def plot(source: str, folder: Path, redis_url: str) -> None:
    """Plot a job (JOB id), a results file (FILE.npz) or a sweep (FILE.jsonl)."""
    from xorgpu import plots  # noqa: PLC0415  (matplotlib loads slowly)

    folder.mkdir(parents=True, exist_ok=True)
    if source.endswith(".jsonl"):
        rows = sweeps.finished_rows(Path(source))
        if not sweeps.varying_axes(rows):
            raise ConfigError(f"{source} holds one cell: nothing varies to plot (plot a job or FILE.npz instead)")
        written = plots.sweep_figures(rows, folder)
    elif source.endswith(".npz"):
        results, config, stats = load_npz(source)  # stats None in older files: no loss bands
        written = plots.job_figures(results, config, stats or {}, folder, Path(source).stem)
    else:
        from xorgpu.service import job_report, job_results  # noqa: PLC0415

        store = JobStore.from_url(redis_url)
        job = store.get_job(source)
        written = plots.job_figures(job_results(store, job), job.config, job_report(store, job), folder,
                                    f"job {job.id}")
    for path in written:
        click.echo(str(path))
