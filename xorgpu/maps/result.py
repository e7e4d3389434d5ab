"""A trained map: per-pixel arrays, what made them, and their `.npz` file."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..outcomes import OUTCOMES, code
from .spec import MapSpec


def is_map_file(path: object) -> bool:
    """Is this .npz a map (xorgpu map --out), not a results file? (Reads its list of arrays;
    a file that is no readable zip is not a map: the results reader then says what it is.)"""
    try:
        with np.load(path, allow_pickle=False) as data:
            return "spec" in data.files and "outcome_names" in data.files
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return False


@dataclass
class MapResult:
    spec: MapSpec
    epochs_to_solve: np.ndarray  # (R, R) int64, -1: never; pixel [i, j] is the net at (x[j], y[i])
    final_loss: np.ndarray  # (R, R) float64
    outcome: np.ndarray  # (R, R) uint8: its xorgpu.outcomes code
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def x(self) -> np.ndarray:
        return self.spec.xs()

    @property
    def y(self) -> np.ndarray:
        return self.spec.ys()

    @property
    def solved(self) -> np.ndarray:
        """(R, R) bool: the net met the criterion at some epoch."""
        return self.epochs_to_solve >= 0

    def fractions(self) -> dict[str, float]:
        """The fraction of pixels in each outcome (exact: counts / pixels)."""
        counts = np.bincount(self.outcome.ravel(), minlength=len(OUTCOMES))
        return {name: int(counts[code(name)]) / self.outcome.size for name in OUTCOMES}

    def dimension(self) -> Any:
        """The box-counting dimension of the boundary between solved and unsolved pixels, as
        `xorgpu map` prints it (xorgpu.maps.dimension.BoxCounts: its box sizes and counts,
        the fitted slope and its least-squares error)."""
        from .dimension import boundary_dimension  # noqa: PLC0415

        return boundary_dimension(self.solved)

    def to_xarray(self) -> Any:
        """The map as an xarray.Dataset: epochs_to_solve, final_loss and outcome (with its
        names in the attrs) over two coordinates named after the knobs, the y knob first
        (rows) and the x knob second (columns), so `.sel` picks a net by its knob values.
        Needs xarray (`pip install xarray`)."""
        try:
            import xarray  # noqa: PLC0415
        except ImportError:
            raise ConfigError("MapResult.to_xarray needs xarray: pip install xarray") from None
        x_name, y_name = self.spec.x.knob.name, self.spec.y.knob.name
        dims = (y_name, x_name)
        return xarray.Dataset(
            {"epochs_to_solve": (dims, self.epochs_to_solve), "final_loss": (dims, self.final_loss),
             "outcome": (dims, self.outcome, {"names": list(OUTCOMES)})},
            coords={x_name: (x_name, self.x, {"log": int(self.spec.x.log)}),
                    y_name: (y_name, self.y, {"log": int(self.spec.y.log)})},
            attrs={"spec": self.spec.to_json(), "provenance": json.dumps(self.provenance, sort_keys=True)},
        )

    def plot(self, title: str | None = None, shade_failures: bool = False) -> Any:
        """The figures of `xorgpu plot MAP.npz` (xorgpu.plots.Figures): the map and the box
        counts of its boundary; a notebook shows them, `.save(folder)` writes PNG and SVG.
        shade_failures: as `xorgpu map --shade-failures`."""
        from .. import words  # noqa: PLC0415
        from ..plots import Figures  # noqa: PLC0415
        from .dimension import boundary_dimension  # noqa: PLC0415
        from .render import counts_figure, map_figure  # noqa: PLC0415

        counts = boundary_dimension(self.solved)
        return Figures(map=map_figure(self, title, counts, shade_failures),
                       boundary_counts=counts_figure(counts, title or words.map_view(self.spec)))

    def report(self, path: str, title: str | None = None) -> None:
        """The HTML page of `xorgpu report MAP.npz`, written to `path` (FILE.html)."""
        from ..files import check_output, written_atomically  # noqa: PLC0415
        from ..report_html import map_report  # noqa: PLC0415

        check_output(path, (".html",))
        page = map_report(title or "xorgpu map", self)
        with written_atomically(path, "w") as handle:
            handle.write(page)

    def __repr__(self) -> str:
        """One line: the view, its size, and how much of it solved."""
        from .. import words  # noqa: PLC0415
        from ..words import percent  # noqa: PLC0415

        fractions = self.fractions()
        solved = fractions["solved"] + fractions["solved_then_lost"]
        return (f"MapResult({self.spec.resolution} x {self.spec.resolution} pixels, {words.axis_range(self.spec.x)} "
                f"across, {words.axis_range(self.spec.y)} up: {percent(solved)} solved)")

    def _repr_html_(self) -> str:
        """In a notebook: what was trained, each outcome's share, and the map itself."""
        import base64  # noqa: PLC0415
        import html  # noqa: PLC0415
        import io  # noqa: PLC0415

        from .. import words  # noqa: PLC0415
        from ..words import percent  # noqa: PLC0415
        from .render import map_figure  # noqa: PLC0415

        buffer = io.BytesIO()
        map_figure(self).savefig(buffer, format="png", dpi=80)
        shares = ", ".join(f"{name.replace('_', ' ')} {percent(share)}" for name, share in self.fractions().items())
        return (f"<p><b>xorgpu MapResult</b>: {html.escape(words.map_view(self.spec))}</p><p>{html.escape(shares)}</p>"
                f'<img alt="the map" style="max-width: 640px" '
                f'src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">')

    def save(self, path: str) -> None:
        """An .npz file: x, y, epochs_to_solve, final_loss, outcome, outcome_names, spec (JSON);
        written whole or not at all."""
        from ..files import check_suffix, written_atomically  # noqa: PLC0415

        check_suffix(path, (".npz",))
        with written_atomically(path) as file:
            np.savez_compressed(
                file, x=self.x, y=self.y, epochs_to_solve=self.epochs_to_solve, final_loss=self.final_loss,
                outcome=self.outcome, outcome_names=np.array(OUTCOMES), spec=np.array(self.spec.to_json()),
                provenance=np.array(json.dumps(self.provenance, sort_keys=True)),
            )

    @classmethod
    def load(cls, path: str) -> MapResult:
        try:
            with np.load(path, allow_pickle=False) as data:
                if "spec" not in data or "outcome_names" not in data:
                    raise ValueError("it is not a map (xorgpu map --out): it has no spec")
                if tuple(data["outcome_names"].tolist()) != OUTCOMES:
                    raise ValueError("its outcome names differ from this xorgpu's")
                try:
                    spec = MapSpec.from_json(str(data["spec"]))
                except ConfigError as error:
                    raise ValueError(str(error)) from None
                return cls(spec, data["epochs_to_solve"], data["final_loss"], data["outcome"],
                           json.loads(str(data["provenance"])) if "provenance" in data else {})
        except (OSError, ValueError, KeyError) as error:
            raise ConfigError(f"cannot read map file {path}: {error}") from None
