"""`xorgpu run` and `xorgpu demo`: experiments in this process, no Redis needed."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import click

from .options import JobSpec, config_flag, job_options, notice, progress_bar


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


DEMO_FIELDS = ("hidden", "task", "activation", "output", "encoding", "loss", "bias", "skip", "lr", "momentum",
               "epochs", "loss_reduction")  # the net and its training; init is the notebook's, from --seed


def demo_options(command):  # noqa: ANN001, ANN201
    from xorgpu.config import Config  # noqa: PLC0415

    fields = {f.name: f for f in dataclasses.fields(Config)}
    for name in reversed(DEMO_FIELDS):
        command = config_flag(fields[name])(command)
    return command


@click.command()
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
              help="Seed of the notebook's np.random.seed.")
@click.option("--explain", "show_explanation", is_flag=True,
              help="Show one epoch layer by layer, a gradient check and the decision boundary.")
@demo_options
def demo(seed: int, show_explanation: bool, **settings: Any) -> None:
    """Train one net, the notebook's 2-4-1 by default, and print what the notebook prints.

    Its initial weights are the notebook's: np.random.seed(SEED), W1 then W2 (then the skip
    weights) drawn U[0,1), zero biases.

    \b
    Examples:
      xorgpu demo                      the notebook's run, np.random.seed(0)
      xorgpu demo --seed 3 --explain   one epoch layer by layer, a gradient check, the boundary
      xorgpu demo --hidden 1 --skip --lr 0.5 --momentum 0.9 --explain   the 2-1-1 net of Rumelhart et al.
      xorgpu demo --activation tanh --output tanh --encoding pm1 --explain
    """
    from xorgpu.config import Config  # noqa: PLC0415

    config = Config(init="notebook", **settings)
    if show_explanation:
        from xorgpu.explain import explain  # noqa: PLC0415

        explain(config, seed, print_fn=click.echo)
        return
    if config == Config(init="notebook", hidden=config.hidden, epochs=config.epochs, lr=config.lr):
        from xorgpu.notebook import run_notebook  # noqa: PLC0415

        run_notebook(seed, config.hidden, config.epochs, config.lr, print_fn=click.echo)
        return
    from xorgpu.explain import train_one  # noqa: PLC0415

    train_one(config, seed, print_fn=click.echo)
