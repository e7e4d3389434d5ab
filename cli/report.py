"""`xorgpu report SOURCE -o report.html`: one self-contained page for a job or a sweep."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from xorgpu import sweep as sweeps
from xorgpu.config import ConfigError
from xorgpu.results import check_writable
from xorgpu.store import DEFAULT_REDIS_URL, JobStore


@click.command()
@click.argument("source")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"),
              show_default=True)
@click.option("--redis-url", envvar="XORGPU_REDIS_URL", default=DEFAULT_REDIS_URL, show_default=True)
def report(source: str, out: Path, redis_url: str) -> None:
    """Write an HTML report of a job (JOB id) or a sweep (FILE.jsonl), figures embedded."""
    from xorgpu import plots, report_html  # noqa: PLC0415  (matplotlib loads slowly)

    check_writable(out)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if source.endswith(".jsonl"):
            rows = list(sweeps.load(Path(source)).values())
            if not rows:
                raise ConfigError(f"{source} has no finished sweep cells")
            varying = [name for name in sweeps.SWEEPABLE if len({str(r["config"][name]) for r in rows}) > 1]
            flat = sweeps.table_rows(rows, varying)
            figures = plots.sweep_heatmap(flat, varying, folder) if len(varying) == 2 else []
            page = report_html.sweep_page(f"xorgpu sweep {Path(source).name}", flat, figures)
        elif source.endswith(".npz"):
            raise ConfigError("report takes a job id or a sweep file; for a results file use xorgpu plot")
        else:
            from xorgpu.service import job_report, job_results  # noqa: PLC0415

            store = JobStore.from_url(redis_url)
            job = store.get_job(source)
            results = job_results(store, job)
            stats = job_report(store, job)
            figures = plots.epochs_to_solve_ecdf(results, job.config.epochs, folder, f"job {job.id}")
            figures += plots.final_loss_histogram(results, folder, f"job {job.id}")
            figures += plots.decision_boundaries(results, job.config, folder, f"job {job.id}")
            if stats["loss_curve"]:
                figures += plots.loss_bands(stats, folder, f"job {job.id}")
            page = report_html.job_page(f"xorgpu job {job.id}", stats, figures)
        out.write_text(page)
    click.echo(f"wrote {out}")
