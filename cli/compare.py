"""`xorgpu compare A B`: two sets of results on the same seeds, paired net by net."""

from __future__ import annotations

import json

import click

from .options import notice, redis_option


@click.command()
@click.argument("a")
@click.argument("b")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as one JSON object.")
@redis_option
def compare(a: str, b: str, as_json: bool, redis_url: str) -> None:
    """Compare A and B net by net: each a results file, a job id, or a sweep cell
    (SWEEP.jsonl@hidden=2,lr=0.5, re-trained from its config and seeds)."""
    from xorgpu import compare as paired  # noqa: PLC0415
    from xorgpu.sources import paired_results  # noqa: PLC0415

    results_a, name_a = paired_results(a, redis_url, notice)
    results_b, name_b = paired_results(b, redis_url, notice)
    result = paired.compare(results_a, results_b)
    click.echo(json.dumps(result) if as_json else paired.to_text(result, name_a, name_b))
