"""Figures of a job, a results file or a sweep, with matplotlib (PNG and SVG).

- epochs-to-solve ECDF: the fraction of nets solved by each epoch (unsolved nets keep the
  curve below 1, so the final height is the success rate);
- final-loss histogram on log-spaced bins;
- loss percentile bands over epochs (p10-p90 around the median), from statistics with a
  sampled loss curve (`--sample-every`);
- decision boundaries of a few solved and unsolved nets, re-trained from their seeds;
- for a sweep: success rate along one axis, as a heatmap over two, or as heatmaps over
  the last two axes for each combination of the others; for a literature preset whose
  source gives a law (Chauvin's P = 280 - 33 log2 H), our epochs to solve beside it.
matplotlib is imported inside the functions, with the non-interactive Agg backend, so the
rest of xorgpu never pays for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import presets, sweeps
from .results import NetResults

FORMATS = ("png", "svg")


def _pyplot() -> Any:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    matplotlib.rcParams["text.parse_math"] = False  # a "$" in a file name or label is text, not mathtext
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


def _save(figure: Any, folder: Path, name: str) -> list[Path]:
    paths = []
    for fmt in FORMATS:
        path = folder / f"{name}.{fmt}"
        figure.savefig(path, dpi=120, bbox_inches="tight")
        paths.append(path)
    _pyplot().close(figure)
    return paths


def epochs_to_solve_ecdf(results: NetResults, epochs: int, folder: Path, title: str) -> list[Path]:
    plt = _pyplot()
    solved = np.sort(results.epochs_to_solve[results.epochs_to_solve >= 0])
    figure, axes = plt.subplots(figsize=(6, 4))
    fraction = np.arange(1, solved.size + 1) / len(results)
    axes.step(np.concatenate([[0], solved, [epochs]]),
              np.concatenate([[0], fraction, [fraction[-1] if solved.size else 0]]), where="post")
    axes.set(xlabel="epochs", ylabel="fraction of nets solved", ylim=(0, 1.02), xlim=(0, epochs),
             title=f"{title}: epochs to solve (ECDF, {len(results)} nets)")
    axes.grid(alpha=0.3)
    return _save(figure, folder, "epochs_to_solve_ecdf")


def final_loss_histogram(results: NetResults, folder: Path, title: str) -> list[Path]:
    plt = _pyplot()
    losses = results.final_loss[np.isfinite(results.final_loss)].astype(np.float64)
    figure, axes = plt.subplots(figsize=(6, 4))
    floor = 1e-20
    axes.hist(np.log10(np.maximum(losses, floor)), bins=80, color="tab:orange")
    axes.set(xlabel="log10 final loss (MSE)", ylabel="nets", title=f"{title}: final loss")
    axes.grid(alpha=0.3)
    return _save(figure, folder, "final_loss_histogram")


def loss_bands(report: dict[str, Any], folder: Path, title: str) -> list[Path]:
    plt = _pyplot()
    curve = report["loss_curve"]
    epochs = [row["epoch"] for row in curve]
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.fill_between(epochs, [row["p10"] for row in curve], [row["p90"] for row in curve],
                      alpha=0.3, label="p10-p90")
    axes.plot(epochs, [row["median"] for row in curve], label="median")
    axes.set(yscale="log", xlabel="epoch", ylabel="loss (MSE)", title=f"{title}: loss across nets")
    axes.legend()
    axes.grid(alpha=0.3)
    return _save(figure, folder, "loss_bands")


def job_figures(results: NetResults, config: Any, report: dict[str, Any], folder: Path,
                title: str) -> list[Path]:
    """Every figure of a job or results file: ECDF, loss histogram, boundaries, loss bands."""
    written = epochs_to_solve_ecdf(results, config.epochs, folder, title)
    written += final_loss_histogram(results, folder, title)
    written += decision_boundaries(results, config, folder, title)
    if report.get("loss_curve"):
        written += loss_bands(report, folder, title)
    return written


def sweep_figures(rows: list[dict[str, Any]], folder: Path) -> list[Path]:
    """Every figure of a sweep file's rows: success rates, and for a literature preset with
    a law of its own, our epochs beside the source's."""
    varying = sweeps.varying_axes(rows)
    written = success_figure(sweeps.table_rows(rows, varying), varying, folder)
    preset = presets.of_rows(rows)
    if preset is not None and preset.curve is not None:
        written += preset_figure(rows, preset.curve, folder)
    return written


def success_figure(flat: list[dict[str, Any]], axes_names: list[str], folder: Path) -> list[Path]:
    """Success rates: a line over one axis, a heatmap over two, small multiples of heatmaps
    over the last two axes for each combination of the others."""
    if not axes_names:
        return []
    if len(axes_names) == 1:
        return sweep_lines(flat, axes_names[0], folder)
    *outer, rows_axis, cols_axis = axes_names
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in flat:
        groups.setdefault(tuple(r[a] for a in outer), []).append(r)
    plt = _pyplot()
    row_values = sweeps.in_order([r[rows_axis] for r in flat])
    col_values = sweeps.in_order([r[cols_axis] for r in flat])
    columns = min(3, len(groups))
    lines = -(-len(groups) // columns)
    figure, panels = plt.subplots(lines, columns, squeeze=False, layout="constrained", figsize=(
        columns * (1.1 * len(col_values) + 1.6) + 1, lines * (0.7 * len(row_values) + 1.4)))
    for panel, (key, cells) in zip(panels.flat, groups.items()):
        grid = np.full((len(row_values), len(col_values)), np.nan)
        for r in cells:
            grid[row_values.index(r[rows_axis]), col_values.index(r[cols_axis])] = r["success_rate"]
        image = panel.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        panel.set_xticks(range(len(col_values)), [str(v) for v in col_values])
        panel.set_yticks(range(len(row_values)), [str(v) for v in row_values])
        panel.set(xlabel=cols_axis, ylabel=rows_axis,
                  title=", ".join(f"{a}={v}" for a, v in zip(outer, key)) or "success rate")
        for (i, j), value in np.ndenumerate(grid):
            if np.isfinite(value):
                panel.text(j, i, f"{100 * value:.0f}%", ha="center", va="center",
                           color="white" if value < 0.6 else "black")
    for panel in list(panels.flat)[len(groups):]:
        panel.set_axis_off()
    figure.colorbar(image, ax=panels.ravel().tolist(), label="success rate")
    return _save(figure, folder, "success_heatmap")


def sweep_lines(flat: list[dict[str, Any]], axis: str, folder: Path) -> list[Path]:
    """Success rate (with its 95% CI) and median / p90 epochs to solve along one axis."""
    plt = _pyplot()
    labels = [str(r[axis]) for r in flat]
    x = np.arange(len(flat))
    rate = np.array([r["success_rate"] for r in flat])
    low = np.maximum(rate - np.array([r["ci95_low"] for r in flat]), 0)  # >= 0 despite rounding at 0% / 100%
    high = np.maximum(np.array([r["ci95_high"] for r in flat]) - rate, 0)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    left.errorbar(x, 100 * rate, yerr=100 * np.vstack([low, high]), fmt="o-", capsize=3)
    left.set(xlabel=axis, ylabel="solved, % (95% CI)", title="success rate", ylim=(0, 102))
    for name, style in (("median_epochs", "o-"), ("p90_epochs", "s--")):
        values = [np.nan if r[name] is None else r[name] for r in flat]
        right.plot(x, values, style, label=name.replace("_", " "))
    right.set(xlabel=axis, ylabel="epochs", title="epochs to solve (solved nets)")
    right.legend()
    for panel in (left, right):
        panel.set_xticks(x, labels)
    return _save(figure, folder, "success_by_" + axis)


def preset_figure(rows: list[dict[str, Any]], curve: presets.SourceCurve, folder: Path) -> list[Path]:
    """Our median epochs to solve (p10-p90 bars) along curve.axis, one line per value of the
    other varying axes, beside the source's law."""
    plt = _pyplot()
    others = [a for a in sweeps.varying_axes(rows) if a != curve.axis]
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row["config"][a] for a in others), []).append(row)
    figure, axes = plt.subplots(figsize=(6.5, 4.2))
    for key, cells in groups.items():
        cells = [c for c in cells if c["report"]["epochs_to_solve"]["median"] is not None]
        x = np.array([c["config"][curve.axis] for c in cells], dtype=float)
        ets = [c["report"]["epochs_to_solve"] for c in cells]
        median = np.array([e["median"] for e in ets])
        bars = np.array([[m - e["p10"] for m, e in zip(median, ets)], [e["p90"] - m for m, e in zip(median, ets)]])
        label = ", ".join(f"{a}={v}" for a, v in zip(others, key)) or "ours"
        axes.errorbar(x, median, yerr=bars, fmt="o-", capsize=3, label=f"ours ({label}): median, p10-p90")
    values = sorted({float(row["config"][curve.axis]) for row in rows})
    positive = values[0] > 0  # then a log axis: doublings evenly spaced, as Chauvin's log2 H
    dense = np.geomspace(values[0], values[-1], 100) if positive else np.linspace(values[0], values[-1], 100)
    axes.plot(dense, [curve.law(v) for v in dense], "k--", label=curve.label)
    if positive:
        axes.set_xscale("log", base=2)
    axes.set_xticks(values, [f"{v:g}" for v in values])
    axes.set(xlabel=curve.axis, ylabel="epochs to solve", title="ours beside the source")
    axes.legend(fontsize="small")
    return _save(figure, folder, "beside_the_source")


def decision_boundaries(results: NetResults, config: Any, folder: Path, title: str, per_kind: int = 3) -> list[Path]:
    """The output over the input plane of a few solved and a few unsolved nets, re-trained."""
    from .backend import numpy_backend  # noqa: PLC0415
    from .engines.array import predict, train_block  # noqa: PLC0415
    from .init import initial_params  # noqa: PLC0415

    plt = _pyplot()
    solved = results.seeds[results.epochs_to_solve >= 0][:per_kind]
    unsolved = results.seeds[results.epochs_to_solve < 0][:per_kind]
    chosen = [(int(s), "solved") for s in solved] + [(int(s), "unsolved") for s in unsolved]
    grid = np.linspace(-0.5, 1.5, 101)
    x0, x1 = np.meshgrid(grid, grid)
    plane = np.column_stack([x0.ravel(), x1.ravel()])  # (101 * 101, 2)
    figure, axes = plt.subplots(1, max(1, len(chosen)), figsize=(3 * max(1, len(chosen)), 3.2), squeeze=False)
    for ax, (seed, kind) in zip(axes[0], chosen):
        params = initial_params(config.init_scheme, np.array([seed]), config.hidden, config.dtype)
        backend = numpy_backend()
        train_block(params, config.replace(sample_every=0), backend)  # updates params in place
        with backend.quiet():  # a diverged net's weights are not finite
            output = predict(np, params, plane)[:, 0].reshape(x0.shape)  # (101, 101)
        ax.contourf(x0, x1, output, levels=np.linspace(0, 1, 11), cmap="coolwarm", vmin=0, vmax=1)
        ax.contour(x0, x1, output, levels=[0.5], colors="black", linewidths=1)
        ax.scatter([0, 1], [0, 1], c="blue", edgecolors="white", s=60)  # target 0
        ax.scatter([0, 1], [1, 0], c="red", edgecolors="white", s=60)  # target 1
        ax.set(title=f"seed {seed} ({kind})", xticks=[0, 1], yticks=[0, 1])
    figure.suptitle(f"{title}: decision boundaries after {config.epochs} epochs (black: output 0.5)", y=1.05)
    return _save(figure, folder, "decision_boundaries")
