#!/usr/bin/env python3
"""How far ``--jobs`` can scale on this machine: dedup beside the machine's own ceiling.

    python benchmarks/scaling.py CORPUS.txt [--mb 52] [--rounds 3] [--jobs N]

The same folder (the first ``--mb`` MB of CORPUS.txt as files of 100 paragraphs, as
``speed.py`` writes it) is cleaned end to end (``dedup clean IN -o OUT --report R``) by:

- ``--jobs 1``, as ``speed.py`` measures its one-job rate (its writing thread may use a
  second core: creating and writing files costs kernel time beside the main thread);
- ``--jobs 1`` pinned to one CPU (``sched_setaffinity``; Linux only): the one-core rate;
- ``--jobs N`` (N: the machine's cores unless given), the default;
- N independent ``--jobs 1`` runs side by side, each on the whole folder with its own output:
  what N cores give this work with no coordination at all (no pickling, no waiting for one
  another). Its rate counts the N copies' input (N x MB over the wall time until the last
  ends). No design of ``--jobs N`` does the work of one run faster than this;
- the engine alone (``Deduplicator.clean`` on the folder's files, results hashed and dropped:
  no report, no files written), on one CPU and with ``jobs=N``: how the engine's own
  division of work scales, without the command's writing.

Each run's CPU time is its own and its workers' (``wait4``). Rounds are interleaved (every
method once, then again) and each method's best round counts, as in ``speed.py``. Every command
run's cleaned files and report (timing fields aside) must be the same, and every engine run's
cleaned texts, or the script fails.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from machine import machine
from speed import make_folder

REPO = Path(__file__).resolve().parent.parent
VOLATILE = (b'"fingerprint"', b'"seconds"', b'"started"')  # report lines that differ run to run
ENGINE = """
import hashlib, sys
from pathlib import Path
from dedup.model import Document
from dedup.pipeline import Deduplicator, collector_tuned
files = sorted(Path(sys.argv[1]).glob("*.txt"))
digest = hashlib.sha256()
with collector_tuned():
    docs = (Document(f.name, f.read_text(encoding="utf-8")) for f in files)
    for result in Deduplicator().clean(docs, jobs=int(sys.argv[2])):
        digest.update(result.cleaned.encode("utf-8", "surrogatepass"))
print(digest.hexdigest()[:16])
"""


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu: float
    outputs: str  # digest of the cleaned files and the report's stable lines


def _digest(out: Path) -> str:
    h = hashlib.sha256()
    for f in sorted((out / "clean").iterdir()):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    for line in (out / "report.jsonl").read_bytes().splitlines():
        if not any(v in line for v in VOLATILE):
            h.update(line)
    return h.hexdigest()[:16]


def _pin_first_cpu() -> None:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _start(engine: bool, folder: Path, out: Path, jobs: int, pin: bool) -> subprocess.Popen[bytes]:
    if engine:
        cmd = [sys.executable, "-c", ENGINE, str(folder), str(jobs)]
    else:
        cmd = [sys.executable, "-m", "dedup", "clean", str(folder), "-o", str(out / "clean"),
               "--report", str(out / "report.jsonl"), "--jobs", str(jobs), "-q"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if engine:  # as the command does (dedup/__main__.py): numpy's OpenBLAS threads only spin
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
    preexec: Callable[[], None] | None = _pin_first_cpu if pin else None
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, preexec_fn=preexec)


def run(folder: Path, work: Path, jobs: int, copies: int = 1, pin: bool = False, engine: bool = False) -> Run:
    """``copies`` runs of ``dedup clean --jobs JOBS`` (or of the engine alone) started together;
    the wall time until the last one ends, and the CPU time of all of them with their workers."""
    outs = [work / f"out{k}" for k in range(copies)]
    for out in outs:
        shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    procs = [_start(engine, folder, out, jobs, pin) for out in outs]
    cpu = 0.0
    printed: list[str] = []
    for proc in procs:
        assert proc.stdout is not None
        printed.append(proc.stdout.read().decode().strip())
        _, status, usage = os.wait4(proc.pid, 0)  # includes the workers it reaped
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"dedup clean --jobs {jobs}: exit {proc.returncode}")
        cpu += usage.ru_utime + usage.ru_stime
    seconds = time.perf_counter() - start
    digests = set(printed) if engine else {_digest(out) for out in outs}
    if len(digests) != 1:
        raise SystemExit("side-by-side runs wrote different outputs")
    return Run(seconds, cpu, digests.pop())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    ap.add_argument("--mb", type=float, default=52.0, help="size of the prefix of the corpus to clean")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="N (default: the machine's cores)")
    args = ap.parse_args()
    n = args.jobs
    compileall.compile_dir(str(REPO / "dedup"), quiet=1)  # as an installed package has it (see speed.py)
    pinnable = hasattr(os, "sched_setaffinity")
    one_job, one_cpu = "dedup clean --jobs 1", "dedup clean --jobs 1, pinned to one CPU"
    engine_one = f"engine alone, jobs=1{', pinned to one CPU' if pinnable else ''}"
    # (name, engine alone?, jobs, copies, pinned to one CPU?)
    methods: list[tuple[str, bool, int, int, bool]] = [(one_job, False, 1, 1, False)]
    if pinnable:
        methods.append((one_cpu, False, 1, 1, True))
    methods.append((f"dedup clean --jobs {n}", False, n, 1, False))
    methods.append((f"{n} x dedup clean --jobs 1 side by side", False, 1, n, False))
    methods.append((engine_one, True, 1, 1, pinnable))
    methods.append((f"engine alone, jobs={n}", True, n, 1, False))
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="dedup-scaling-") as tmp:
        folder, size, count = make_folder(Path(args.corpus), args.mb, Path(tmp))
        mb = size / 1e6
        print(f"input: {mb:.1f} MB, {count:,} paragraphs, best of {args.rounds} interleaved rounds\n")
        runs: dict[str, list[Run]] = {name: [] for name, *_ in methods}
        for _ in range(args.rounds):
            for name, engine, jobs, copies, pin in methods:
                runs[name].append(run(folder, Path(tmp), jobs, copies, pin, engine))
        for engine in (False, True):
            if len({r.outputs for name, e, *_ in methods if e == engine for r in runs[name]}) != 1:
                raise SystemExit("runs of the same kind wrote different outputs")
        best = {name: min(rs, key=lambda r: r.seconds) for name, rs in runs.items()}
        rate = {name: mb * copies / best[name].seconds for name, _, _, copies, _ in methods}
        print("| method | wall s | MB/s | CPU s | cores busy | vs --jobs 1 | vs one CPU |")
        print("|---|---|---|---|---|---|---|")
        for name, engine, *_ in methods:
            # each kind against its own one-job runs: the command's, or the engine's
            one = rate[engine_one if engine else one_job]
            versus_pinned = f"{rate[name] / rate[engine_one if engine else one_cpu]:.2f}x" if pinnable else ""
            r = best[name]
            print(f"| {name} | {r.seconds:.2f} | {rate[name]:.2f} | {r.cpu:.2f} | {r.cpu / r.seconds:.2f} | "
                  f"{rate[name] / one:.2f}x | {versus_pinned} |")
        total = sum(len(rs) for rs in runs.values())
        print(f"\noutputs identical in all {total} runs: command {best[one_job].outputs}, "
              f"engine {best[engine_one].outputs}")


if __name__ == "__main__":
    main()
