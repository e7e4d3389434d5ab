"""`xorgpu run` and `xorgpu demo`: experiments in this process, no Redis needed."""

from __future__ import annotations

import json

import click

from .options import JobSpec, job_options, notice, progress_bar


@click.command()
@job_options
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as one JSON object.")
@click.option("-o", "--out", type=click.Path(dir_okay=False),
              help="Write every net to FILE.parquet or FILE.npz (by its suffix).")
@click.option("--processes", type=click.IntRange(1, 1024), default=None,
              help="Blocks trained at once in processes  [default: the usable CPUs for the "
                   "array engine on NumPy; the fused engine uses threads itself].")
def run(spec: JobSpec, as_json: bool, out: str | None, processes: int | None) -> None:
    """Train the nets in this process and print their convergence statistics.

    \b
    Examples:
      xorgpu run --nets 10000                          the notebook's net, seeds 0:10000
      xorgpu run --seeds 100:200 --hidden 2 --lr 0.5 --momentum 0.9 -o nets.parquet
      xorgpu run --nets 1000 --init uniform:-1:1 --sample-every 100 --json
    """
    from xorgpu.experiment import check_fits_in_memory, prepare  # noqa: PLC0415
    from xorgpu.files import RESULTS_SUFFIXES, check_output  # noqa: PLC0415
    from xorgpu.result_files import save_results  # noqa: PLC0415
    from xorgpu.text import format_report  # noqa: PLC0415

    if out:
        check_output(out, RESULTS_SUFFIXES)
    check_fits_in_memory(len(spec.seeds))
    plan = prepare(spec.config, spec.options.replace(processes=processes), on_compile=notice)
    with progress_bar(len(spec.seeds), "training") as bar:
        results, stats = plan.measure(spec.seeds, progress=bar.update)
    if out:
        save_results(out, results, plan.config, stats)
    click.echo(json.dumps(stats) if as_json else format_report(stats))


@click.command()
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
              help="Seed of the notebook's np.random.seed.")
@click.option("--explain", "show_explanation", is_flag=True,
              help="Show one epoch layer by layer, a gradient check and the decision boundary.")
def demo(seed: int, show_explanation: bool) -> None:
    """Train the notebook's single 2-4-1 net and print what the notebook prints.

    \b
    Examples:
      xorgpu demo                      the notebook's run, np.random.seed(0)
      xorgpu demo --seed 3 --explain   one epoch layer by layer, a gradient check, the boundary
    """
    from xorgpu.config import Config  # noqa: PLC0415

    defaults = Config()
    if show_explanation:
        from xorgpu.explain import explain  # noqa: PLC0415

        explain(seed, defaults.hidden, defaults.epochs, defaults.lr, print_fn=click.echo)
        return
    from xorgpu.notebook import run_notebook  # noqa: PLC0415

    run_notebook(seed, defaults.hidden, defaults.epochs, defaults.lr, print_fn=click.echo)
