"""`xorgpu compare`: counts and p-values against independent computations."""

from __future__ import annotations

import json
from fractions import Fraction
from math import comb

import numpy as np
import pytest
from click.testing import CliRunner

from xorgpu.cli.main import cli
from xorgpu.compare import mcnemar_exact

from .service_helpers import one_line_error


def exact_mcnemar(b: int, c: int) -> float:
    """Two-sided exact binomial test of b successes in b + c trials at 1/2, in rationals."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(Fraction(comb(n, i), 2**n) for i in range(min(b, c) + 1))
    return float(min(Fraction(1), 2 * tail))


@pytest.mark.parametrize("b, c", [(0, 0), (1, 0), (0, 7), (3, 10), (50, 70), (500, 480), (2, 200), (1234, 1300)])
def test_mcnemar_is_the_exact_binomial_test(b, c):
    assert mcnemar_exact(b, c) == pytest.approx(exact_mcnemar(b, c), rel=1e-9, abs=1e-300)


def run_out(tmp_path, name, *args):
    out = tmp_path / name
    result = CliRunner().invoke(cli, ["run", "--seeds", "100:700", "--epochs", "1500", "--hidden", "2", *args,
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_the_paired_counts_agree_with_an_independent_count(tmp_path):
    a = run_out(tmp_path, "a.npz", "--lr", "0.5")
    b = run_out(tmp_path, "b.parquet", "--lr", "2")
    result = CliRunner().invoke(cli, ["compare", str(a), str(b), "--json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    with np.load(a) as data:
        seeds, ets_a = data["seeds"], data["epochs_to_solve"]
    import pandas as pd  # noqa: PLC0415

    ets_b = pd.read_parquet(b)["epochs_to_solve"].to_numpy()
    solved_a, solved_b = ets_a >= 0, ets_b >= 0
    assert got["nets"] == 600
    assert got["both_solved"] == sum(1 for x, y in zip(solved_a, solved_b) if x and y)
    assert got["only_a"] == sum(1 for x, y in zip(solved_a, solved_b) if x and not y)
    assert got["only_b"] == sum(1 for x, y in zip(solved_a, solved_b) if y and not x)
    assert got["neither"] == 600 - got["both_solved"] - got["only_a"] - got["only_b"]
    assert got["only_b_seeds"] == [int(s) for s, x, y in zip(seeds, solved_a, solved_b) if y and not x]
    assert got["mcnemar_p"] == pytest.approx(exact_mcnemar(got["only_a"], got["only_b"]), rel=1e-9)
    both = solved_a & solved_b
    assert got["median_epochs_difference"] == float(np.median(ets_b[both]) - np.median(ets_a[both]))
    low, high = got["median_epochs_difference_ci95"]
    assert low <= got["median_epochs_difference"] <= high
    again = json.loads(CliRunner().invoke(cli, ["compare", str(a), str(b), "--json"]).stdout)
    assert again == got  # the bootstrap's generator is seeded
    text = CliRunner().invoke(cli, ["compare", str(a), str(b)]).stdout
    assert f"  only B solves   {got['only_b']:>10,}" in text and "McNemar's exact test" in text


def test_a_sweep_cell_is_retrained_and_paired(tmp_path):
    sweep = tmp_path / "s.jsonl"
    assert CliRunner().invoke(cli, ["sweep", "--seeds", "100:700", "--epochs", "1500", "--hidden", "2",
                                    "--lr", "0.5,2", "--out", str(sweep)]).exit_code == 0
    a = run_out(tmp_path, "a.npz", "--lr", "0.5")
    result = CliRunner().invoke(cli, ["compare", str(a), f"{sweep}@lr=0.5", "--json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    assert got["only_a"] == got["only_b"] == 0 and got["median_epochs_difference"] == 0.0  # the same nets


def test_unpaired_sources_are_one_line(tmp_path):
    a = run_out(tmp_path, "a.npz")
    other = tmp_path / "other.npz"
    assert CliRunner().invoke(cli, ["run", "--seeds", "0:600", "--epochs", "100", "-o", str(other)]).exit_code == 0
    assert "same seeds" in one_line_error(CliRunner().invoke(cli, ["compare", str(a), str(other)]))
    sweep = tmp_path / "s.jsonl"
    assert CliRunner().invoke(cli, ["sweep", "--nets", "20", "--epochs", "50", "--hidden", "2,3",
                                    "--out", str(sweep)]).exit_code == 0
    for bad in (str(sweep), f"{sweep}@hidden=9", f"{sweep}@layers=2", f"{a}@hidden=2"):
        one_line_error(CliRunner().invoke(cli, ["compare", str(a), bad]))
