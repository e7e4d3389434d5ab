"""How fast the commands that train nothing start, against a bare `import click, numpy`.

Times whole processes (medians of --rounds, taken in turn): `python -c "import click,
numpy"` (the yardstick), and `xorgpu --help`, `status --help`, `jobs --help`, `run --help`
of the current install and, with --baseline, of another install. The target: `status
--help` within 1.5x the yardstick.
Usage: python bench/cli_start.py [--current .venv/bin/python] [--baseline ../old/.venv/bin/python] [--rounds 15]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time

from report import emit  # bench/report.py (scripts run from bench/ on sys.path)

COMMANDS = [["--help"], ["status", "--help"], ["jobs", "--help"], ["run", "--help"]]


def seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--current", default=sys.executable)
    parser.add_argument("--baseline")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--write")
    args = parser.parse_args()
    installs = {"current": args.current, **({"baseline": args.baseline} if args.baseline else {})}
    runs = {"import click, numpy": [args.current, "-c", "import click, numpy"]}
    for name, python in installs.items():
        for command in COMMANDS:
            runs[f"{name}: xorgpu {' '.join(command)}"] = [python, "-m", "xorgpu.cli.main", *command]
    times: dict[str, list[float]] = {label: [] for label in runs}
    for command in runs.values():
        seconds(command)  # warm the page cache
    for _ in range(args.rounds):
        for label, command in runs.items():
            times[label].append(seconds(command))
    yardstick = statistics.median(times["import click, numpy"])
    lines = [
        "### Start-up of commands that train nothing (bench/cli_start.py)",
        "",
        f"Machine: {platform.node()}, {platform.machine()}; {time.strftime('%Y-%m-%d')}. Whole processes, "
        f"medians of {args.rounds} rounds taken in turn.",
        "",
        "| command | median s | x `import click, numpy` |",
        "|---|---:|---:|",
        *(f"| {label} | {statistics.median(t):.3f} | {statistics.median(t) / yardstick:.2f} |"
          for label, t in times.items()),
    ]
    emit("\n".join(lines), args.write)


if __name__ == "__main__":
    main()
