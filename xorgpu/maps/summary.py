"""What a map says in numbers: its outcome fractions, the boundary's dimension, its cost."""

from __future__ import annotations

from typing import Any

from .. import outcomes
from ..words import percent
from .dimension import BoxCounts, boundary_dimension
from .result import MapResult


def summary(result: MapResult, counts: BoxCounts | None = None) -> dict[str, Any]:
    """The `--json` object of a map; counts: its boundary_dimension, if already computed."""
    counts = boundary_dimension(result.solved) if counts is None else counts
    spec = result.spec
    wall = result.provenance.get("wall_seconds")
    return {
        "map": {"x": spec.x.to_dict(), "y": spec.y.to_dict(), "resolution": spec.resolution, "seed": spec.seed,
                "pixels": spec.pixels},
        "config": spec.config.to_dict(),
        "fractions": result.fractions(),
        "boundary": {"between": "solved and never solved", **counts.to_dict()},
        "pixels_per_second": round(spec.pixels / wall, 1) if wall else None,
        "provenance": result.provenance,
    }


def format_summary(data: dict[str, Any]) -> str:
    """A few lines for a terminal."""
    spec, fractions, edge = data["map"], data["fractions"], data["boundary"]
    axes = ", ".join(f"{a['name']} {a['low']:.6g}..{a['high']:.6g}{' (log)' if a['log'] else ''} {side}"
                     for a, side in ((spec["x"], "across"), (spec["y"], "up")))
    solved = fractions["solved"] + fractions["solved_then_lost"]
    outcome = "; ".join(f"{outcomes.label(name)} {percent(fractions[name])}" for name in outcomes.FAILURES)
    if edge["dimension"] is None:
        dimension = "none: no boundary in this view" if edge["boundary_pixels"] == 0 else \
            "none: too few box sizes to fit one (raise --resolution)"
    else:
        lo, hi = edge["fit_box_sizes"]
        dimension = (f"{edge['dimension']:.3f} ± {edge['stderr']:.3f} (box counting, boxes of {lo}..{hi} px, "
                     f"{edge['boundary_pixels']:,} boundary pixels)")
    speed = data["pixels_per_second"]
    return "\n".join([
        f"map of {spec['resolution']} x {spec['resolution']} nets from seed {spec['seed']}: {axes}",
        f"  solved at some epoch {percent(solved)}; {outcome}",
        f"  boundary between solved and unsolved: dimension {dimension}",
        f"  trained in {data['provenance'].get('wall_seconds')} s"
        + (f" ({speed:,.0f} nets/s on {data['provenance'].get('engine')})" if speed else ""),
    ])
