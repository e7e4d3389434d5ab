"""`xorgpu inspect SOURCE --seed S`: re-train one net of a job or results file and show its path."""

from __future__ import annotations

import click

from .options import complete_source, redis_option, results_option


@click.command()
@click.argument("source", shell_complete=complete_source)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), required=True, help="The net to re-train.")
@click.option("--every", type=click.IntRange(1), default=None, help="Epochs between rows [default: epochs/20].")
@redis_option
@results_option
def inspect(source: str, seed: int, every: int | None, redis_url: str, results_url: str | None) -> None:
    """Re-train net SEED of SOURCE and print its trajectory: loss, outputs and gradient norm.

    SOURCE is a results file (FILE.parquet or FILE.npz, from `run -o` or `results -o`) or a
    job id (12 hexadecimal digits).

    \b
    Examples:
      xorgpu inspect nets.parquet --seed 7
      xorgpu inspect 1a2b3c4d5e6f --seed 123 --every 100
    """
    from xorgpu.config import ConfigError  # noqa: PLC0415
    from xorgpu.sources import open_source  # noqa: PLC0415
    from xorgpu.trajectory import trajectory  # noqa: PLC0415
    from xorgpu.words import describe  # noqa: PLC0415

    opened = open_source(source, redis_url, results_url)
    if opened.kind == "sweep":
        raise ConfigError(f"{source} is a sweep file: inspect a job or a results file (FILE.npz)")
    config = opened.config
    if not opened.has_seed(seed):
        raise ConfigError(f"seed {seed} is not in {source} (seeds {opened.seeds})")
    every = every or max(1, config.epochs // 20)
    click.echo(f"net {seed}, a {describe(config)}; trained again by the array engine on NumPy")
    names = " ".join(f"{name:>7}" for name in config.task_spec.output_names)
    click.echo(f"{'epoch':>8}  {'loss':>10}  {names}  {'|grad|':>9}")
    for snap in trajectory(config, seed, every):
        outputs = " ".join(f"{o:7.4f}" for o in snap.outputs)
        click.echo(f"{snap.epoch:>8}  {snap.loss:10.3e}  {outputs}  {snap.gradient_norm:9.2e}")
    recorded = opened.recorded(seed)
    if recorded is not None:
        click.echo(f"recorded in {source}: epochs_to_solve {recorded[0]}, final loss {recorded[1]:.3e}")
