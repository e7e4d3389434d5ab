"""`xorgpu compare A B`: two sets of results on the same seeds, paired net by net."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .options import complete_source, notice, redis_option, results_option


@click.command()
@click.argument("a", shell_complete=complete_source)
@click.argument("b", shell_complete=complete_source)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as one JSON object.")
@click.option("--report", "page", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the comparison as a self-contained HTML page.")
@redis_option
@results_option
def compare(a: str, b: str, as_json: bool, page: Path | None, redis_url: str, results_url: str | None) -> None:
    """Compare A and B net by net, on the same seeds: who solves what, McNemar's test, and
    the difference of median epochs to solve.

    A and B are each a results file (FILE.parquet, FILE.npz), a job id, or a cell of a
    sweep file (SWEEP.jsonl@hidden=2,lr=0.5, re-trained from its config and seeds).

    \b
    Examples:
      xorgpu compare h2.parquet h3.parquet
      xorgpu compare h-lr.jsonl@hidden=2 h-lr.jsonl@hidden=3 --report compare.html
    """
    from xorgpu import compare as paired  # noqa: PLC0415
    from xorgpu.files import check_output, written_atomically  # noqa: PLC0415
    from xorgpu.sources import paired_results  # noqa: PLC0415

    if page:
        check_output(page, (".html",))
    side_a = paired_results(a, redis_url, notice, results_url)
    side_b = paired_results(b, redis_url, notice, results_url)
    result = paired.compare(side_a.outcomes, side_b.outcomes)
    if page:
        from xorgpu import report_html  # noqa: PLC0415

        text = report_html.compare_page(result, [(s.name, s.outcomes, s.statistics, s.config) for s in (side_a, side_b)])
        with written_atomically(page, "w") as handle:
            handle.write(text)
    click.echo(json.dumps(result) if as_json else paired.to_text(result, side_a.name, side_b.name))
