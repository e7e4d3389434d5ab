"""How every bench script hands over its markdown table: printed, and appended to a file."""

from __future__ import annotations


def emit(table: str, path: str | None) -> None:
    print(table)
    if path:
        with open(path, "a") as handle:
            handle.write(table + "\n\n")
