"""How a net's training ended: the one table of outcomes, with their codes, names, words and
colours. Everything that counts, stores, prints or draws an outcome takes it from here.

A net is
- solved: it meets the criterion at the end;
- solved_then_lost: it met the criterion at some epoch, and no longer does at the end;
- plateau: never solved, and its loss fell by less than PLATEAU_RELATIVE_DROP over the
  last tenth of training (xorgpu.engines.contract.plateau_window);
- still_improving: never solved, its loss still falling;
- diverged: never solved, and a weight or output is no longer finite.
"""

from __future__ import annotations

from dataclasses import dataclass

PLATEAU_RELATIVE_DROP = 0.01  # an unsolved net whose loss fell by less than this is on a plateau


@dataclass(frozen=True)
class Outcome:
    code: int  # what per-net arrays and files hold (uint8)
    name: str  # what tables, JSON and Parquet files hold
    label: str  # what a person reads
    colour: str  # how maps draw it (solved pixels take a colour map of epochs instead)


TABLE = (
    Outcome(0, "solved", "solved", "#21918c"),
    Outcome(1, "solved_then_lost", "solved, then lost", "#ff7f0e"),
    Outcome(2, "plateau", "plateau", "#d0d0d0"),
    Outcome(3, "still_improving", "still improving", "#6e6e6e"),
    Outcome(4, "diverged", "diverged", "#d62728"),
)
OUTCOMES = tuple(o.name for o in TABLE)  # by code
FAILURES = tuple(o.name for o in TABLE if o.name != "solved")  # the ways a net ends other than solved
UNSOLVED = ("plateau", "still_improving", "diverged")  # never met the criterion
UNKNOWN_OUTCOME = 255  # the code in results written before outcomes were kept
BY_NAME = {o.name: o for o in TABLE}


def code(name: str) -> int:
    return BY_NAME[name].code


def label(name: str) -> str:
    return BY_NAME[name].label
