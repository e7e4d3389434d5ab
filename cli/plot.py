"""`xorgpu plot SOURCE --out DIR`: figures of a job, a results file or a sweep file."""

from __future__ import annotations

from pathlib import Path

import click

from xorgpu import sweep as sweeps
from xorgpu.config import ConfigError
from xorgpu.results import load_npz
from xorgpu.store import DEFAULT_REDIS_URL, JobStore


@click.command()
@click.argument("source")
@click.option("--out", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("xorgpu-plots"),
              show_default=True, help="Folder for the PNG and SVG files.")
@click.option("--redis-url", envvar="XORGPU_REDIS_URL", default=DEFAULT_REDIS_URL, show_default=True)
def plot(source: str, folder: Path, redis_url: str) -> None:
    """Plot a job (JOB id), a results file (FILE.npz) or a sweep (FILE.jsonl)."""
    from xorgpu import plots  # noqa: PLC0415  (matplotlib loads slowly)

    folder.mkdir(parents=True, exist_ok=True)
    if source.endswith(".jsonl"):
        rows = list(sweeps.load(Path(source)).values())
        if not rows:
            raise ConfigError(f"{source} has no finished sweep cells")
        varying = [name for name in sweeps.SWEEPABLE if len({str(r["config"][name]) for r in rows}) > 1]
        if len(varying) != 2:
            raise ConfigError(f"a heatmap needs a sweep over exactly two axes; {source} varies {varying}")
        written = plots.sweep_heatmap(sweeps.table_rows(rows, varying), varying, folder)
    elif source.endswith(".npz"):
        try:
            results, config = load_npz(source)
        except (OSError, ValueError, KeyError) as error:
            raise ConfigError(f"cannot read {source}: {error}") from None
        written = plots.epochs_to_solve_ecdf(results, config.epochs, folder, Path(source).stem)
        written += plots.final_loss_histogram(results, folder, Path(source).stem)
        written += plots.decision_boundaries(results, config, folder, Path(source).stem)
    else:
        from xorgpu.service import job_report, job_results  # noqa: PLC0415

        store = JobStore.from_url(redis_url)
        job = store.get_job(source)
        results = job_results(store, job)
        written = plots.epochs_to_solve_ecdf(results, job.config.epochs, folder, f"job {job.id}")
        written += plots.final_loss_histogram(results, folder, f"job {job.id}")
        written += plots.decision_boundaries(results, job.config, folder, f"job {job.id}")
        report = job_report(store, job)
        if report["loss_curve"]:
            written += plots.loss_bands(report, folder, f"job {job.id}")
    for path in written:
        click.echo(str(path))
