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

Then the way a shell script runs it over many files (``xargs -P``): ``--files`` runs of
``dedup clean -q FILE`` on the input files of ``samples/`` in turn, as many at a time as the
machine has cores, as the command ships and with ``OPENBLAS_NUM_THREADS`` set to the number of
cores (numpy's default, which the command overrides since stop 27: see ``dedup/__main__.py``);
best and median wall time of the whole set, interleaved rounds too.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
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


def run_once(args: list[str], stdin: bytes | None, blas: str | None = None) -> float:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    env["PYTHONPATH"] = str(REPO)
    if blas is not None:
        env["OPENBLAS_NUM_THREADS"] = blas
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], input=stdin, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def run_many(files: list[Path], at_once: int, blas: str | None) -> float:
    """``dedup clean -q FILE`` for every file, ``at_once`` processes at a time; the wall time."""
    start = time.perf_counter()
    with ThreadPoolExecutor(at_once) as pool:
        list(pool.map(lambda f: run_once(["-m", "dedup", "clean", "-q", str(f)], None, blas), files))
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--files", type=int, default=40, help="runs in the many-files test")
    ap.add_argument("--many-rounds", type=int, default=3)
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
    cores = os.cpu_count() or 1
    inputs = sorted(REPO.glob("samples/*/input/*.txt"))
    files = [inputs[k % len(inputs)] for k in range(args.files)]
    many: dict[str, list[float]] = {"as shipped": [], f"OPENBLAS_NUM_THREADS={cores} (before stop 27)": []}
    for _ in range(args.many_rounds):
        for name, blas in zip(many, (None, str(cores)), strict=True):
            many[name].append(run_many(files, cores, blas))
    print(f"\n{args.files} x `dedup clean -q FILE` ({len(inputs)} sample inputs in turn), {cores} at a time, "
          f"{args.many_rounds} interleaved rounds\n")
    print("| how | best s | median s | files/s (best) |")
    print("|---|---|---|---|")
    for name, walls in many.items():
        print(f"| {name} | {min(walls):.2f} | {statistics.median(walls):.2f} | {args.files / min(walls):.1f} |")


if __name__ == "__main__":
    main()
