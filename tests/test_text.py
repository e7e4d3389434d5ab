"""The plain-text report: every number of the statistics, where a reader looks for it."""

from __future__ import annotations

from xorgpu.config import Config
from xorgpu.engines.contract import BlockRecord
from xorgpu.stats import Summary
from xorgpu.text import format_report

import numpy as np


def report_of(epochs_to_solve, diverged=(), lost=(), config=Config(epochs=100)):  # noqa: B008, ANN001
    n = len(epochs_to_solve)
    ets = np.array(epochs_to_solve)
    flags = np.zeros(n, bool)
    flags[list(diverged)] = True
    at_end = ets >= 0
    at_end[list(lost)] = False
    record = BlockRecord(outputs=np.tile([0.1, 0.9, 0.9, 0.6], (n, 1)), final_loss=np.full(n, 0.04),
                         epochs_to_solve=ets, solved_at_end=at_end, diverged=flags,
                         loss_before_end=np.full(n, 0.05), loss_samples=np.zeros((0, n)))
    return Summary.of_block(record).report(config)


def test_the_text_shows_every_count_and_the_interval():
    text = format_report(report_of([10, 20, 30, -1, -1], diverged=[4], lost=[2]))
    lines = text.splitlines()
    assert lines[0].startswith("xorgpu: 2-4-1 sigmoid net on XOR: learning rate 0.1, momentum 0, 100 epochs")
    assert "  nets                5" in lines and "  solved              3" in lines
    assert "  success rate        60.00% (3/5)   95% CI [23.07%, 88.24%] (Wilson)" in lines
    assert "  epochs to solve     min 10  p10 12  median 20  p90 28  max 30  mean 20" in lines
    assert "  unsolved            2: plateau 0, still improving 1, diverged 1" in lines
    assert "  unsolved by patterns on the wrong side of 0.5: 1 wrong: 1" in lines
    assert "  solved, then lost by the end: 1" in lines


def test_none_solved_says_so():
    text = format_report(report_of([-1, -1]))
    assert "  epochs to solve     none solved" in text.splitlines()


def test_a_rate_is_never_rounded_to_100_or_0_percent():
    from xorgpu.words import percent, rate_text  # noqa: PLC0415

    # Within 1% of an end, two significant figures of the distance to it: 1/30000 = 0.0033%.
    assert rate_text(29999, 30000) == "99.9967% (29,999/30,000)"
    assert rate_text(1999, 2000) == "99.950% (1,999/2,000)"
    assert rate_text(1, 2000) == "0.050% (1/2,000)"
    assert rate_text(1, 3) == "33.33% (1/3)"
    assert percent(1 / 10**7) == "0.000010%" and percent(1.0) == "100%" and percent(0.0) == "0%"
    text = format_report(report_of([1] * 29999 + [-1]))
    assert "100.00%" not in text and "99.9967% (29,999/30,000)" in text
