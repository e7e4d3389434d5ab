"""A trained map: per-pixel arrays, what made them, and their `.npz` file."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..stats import OUTCOMES
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
    outcome: np.ndarray  # (R, R) uint8: index into OUTCOMES
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
        return {name: int(counts[k]) / self.outcome.size for k, name in enumerate(OUTCOMES)}

    def save(self, path: str) -> None:
        """An .npz file: x, y, epochs_to_solve, final_loss, outcome, outcome_names, spec (JSON)."""
        with open(path, "wb") as file:
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
