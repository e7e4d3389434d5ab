"""A sweep's cells as a pandas table: what `xorgpu.sweep` returns, and `xorgpu.load` of a
sweep file (.jsonl) too, column for column."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from . import sweeps, words


class SweepTable(pd.DataFrame):
    """A DataFrame, one row per cell (the varying settings, then nets, solved, success_rate,
    ci95_low, ci95_high, median_epochs, p90_epochs and each unsolved outcome's count), that
    prints a line saying what was swept above the table. Computations on it return plain
    DataFrames: that line describes the whole sweep."""

    _metadata = ["summary"]

    @property
    def _constructor(self) -> type:
        return pd.DataFrame

    def __repr__(self) -> str:
        return f"{getattr(self, 'summary', '')}\n{super().__repr__()}"

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(getattr(self, 'summary', ''))}</p>{super()._repr_html_()}"


def sweep_table(rows: list[dict[str, Any]]) -> SweepTable:
    """The table of a sweep's finished rows (as its .jsonl file holds them), ordered by the
    varying settings' values."""
    varying = sweeps.varying_axes(rows)
    table = SweepTable(sweeps.table_rows(rows, varying, with_outcomes=True))
    over = ", ".join(words.label(name) for name in varying) or "nothing (one cell)"
    table.summary = (f"Sweep of {len(rows)} cells over {over}, {rows[0]['report']['nets']:,} nets each: "
                     f"{words.describe(rows[0]['config'], rows[0]['seeds'], omit=tuple(varying))}")
    return table
