"""`xorgpu report SOURCE -o report.html`: one self-contained page for a job or a sweep."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from xorgpu import presets
from xorgpu import sweep as sweeps
from xorgpu.config import ConfigError
from xorgpu.results import check_writable, load_npz
from xorgpu.store import JobStore

from .options import redis_option


@click.command()
@click.argument("source")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"),
              show_default=True)
@redis_option
def report(source: str, out: Path, redis_url: str) -> None:
    """Write an HTML report of a job (JOB id), a results file (FILE.npz) or a sweep (FILE.jsonl)."""
    from xorgpu import plots, report_html  # noqa: PLC0415  (matplotlib loads slowly)

    check_writable(out)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if source.endswith(".jsonl"):
            rows = sweeps.finished_rows(Path(source))
            varying = sweeps.varying_axes(rows)
            flat = sweeps.table_rows(rows, varying)
            figures = plots.sweep_figures(rows, folder)
            preset = presets.of_rows(rows)
            comparison = presets.comparison(preset, rows) if preset else None
            page = report_html.sweep_page(f"xorgpu sweep {Path(source).name}", flat, figures, preset, comparison)
        elif source.endswith(".npz"):
            results, config, stats = load_npz(source)
            if stats is None:
                raise ConfigError(f"{source} holds no statistics (written by an older xorgpu): "
                                  "write it again with `xorgpu run --out` or `xorgpu results`")
            name = Path(source).name
            figures = plots.job_figures(results, config, stats, folder, name)
            page = report_html.job_page(f"xorgpu results {name}", stats, figures)
        else:
            from xorgpu.service import job_report, job_results  # noqa: PLC0415

            store = JobStore.from_url(redis_url)
            job = store.get_job(source)
            stats = job_report(store, job)
            figures = plots.job_figures(job_results(store, job), job.config, stats, folder, f"job {job.id}")
            page = report_html.job_page(f"xorgpu job {job.id}", stats, figures)
        out.write_text(page)
    click.echo(f"wrote {out}")
