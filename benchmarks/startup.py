#!/usr/bin/env python3
"""How long ``dedup`` takes to start, for scripts that run it once per file or per line.

    python benchmarks/startup.py [--rounds 15]

Each command runs in a fresh interpreter, ``--rounds`` times, interleaved (a round runs every
command once, so a machine whose speed drifts gives each the same share of its fast and slow
moments); the table gives the best and the median wall time of each, and the machine. dedup's
modules are byte-compiled first, as ``pip install`` leaves an installed package.

- the interpreter alone (``python -c pass``), the floor of any Python tool;
- ``import dedup`` (the library, as an ingestion job imports it);
- ``dedup --version`` (the command line: click, rich and the library);
- ``dedup clean -`` on one short paragraph from standard input, the whole round trip.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import machine

REPO = Path(__file__).resolve().parent.parent
COMMANDS = (
    ("python -c pass", ["-c", "pass"], None),
    ("import dedup", ["-c", "import dedup"], None),
    ("dedup --version", ["-m", "dedup", "--version"], None),
    ("echo TEXT | dedup clean -", ["-m", "dedup", "clean", "-", "-q"],
     b"A short paragraph from standard input, cleaned and written back.\n"),
)


def run_once(args: list[str], stdin: bytes | None) -> float:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], input=stdin, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    compileall.compile_dir(str(REPO / "dedup"), quiet=1)
    times: dict[str, list[float]] = {name: [] for name, _, _ in COMMANDS}
    for _name, argv, stdin in COMMANDS:  # one warm-up run each: the page cache, not the code, varies
        run_once(argv, stdin)
    for _ in range(args.rounds):
        for name, argv, stdin in COMMANDS:
            times[name].append(run_once(argv, stdin))
    print(f"machine: {machine()}; {args.rounds} interleaved rounds\n")
    print("| command | best ms | median ms |")
    print("|---|---|---|")
    for name, _, _ in COMMANDS:
        print(f"| {name} | {min(times[name]) * 1000:.0f} | {statistics.median(times[name]) * 1000:.0f} |")


if __name__ == "__main__":
    main()
