#!/usr/bin/env python3
"""Resource figures for hostile inputs: the real command in a subprocess, measured from outside.

    python benchmarks/hostile.py longline --mb 100 [--kind prose|repetitive|c52]
    python benchmarks/hostile.py files --n 100000

``longline`` writes one line of about ``--mb`` megabytes (a title line, then the line; the first
~1% of it is said again at its end, as a body captured twice) and runs ``dedup clean FILE -o OUT``:
seconds, peak RSS, characters removed. ``--kind``: ``prose`` made-up words from a 60,000-word
vocabulary (unrelated sentences share little, like real text); ``repetitive`` 20,000 words built
from 20 syllables (every piece looks like every other: the adversarial case for candidate search);
``c52`` the real prose of the shared benchmark corpus (``--c52 PATH``, ../shared/bench), joined.

``corpus`` takes the first ``--paragraphs`` lines of a corpus of real paragraphs (one per line:
``../shared/bench/build_corpus.py``), writes them as JSON Lines records of 100 paragraphs each
(or a folder of files with ``--format folder``) and runs ``dedup clean`` with ``-o`` and
``--report``: seconds, CPU seconds, peak RSS, and the memory per indexed paragraph (peak RSS
above that of the same command on one record).

``files`` writes ``--n`` small files (four lines each, one repeated, across 100 folders) and runs
``dedup clean DIR -o OUT --report R``: seconds, peak RSS, and the most file descriptors the process
held at once (sampled from /proc every 20 ms).

Results go to stdout as a table row; nothing here is a test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from machine import machine

REPO = Path(__file__).resolve().parent.parent
LETTERS = "abcdefghijklmnopqrstuvwxyzéèàü’"
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "ve", "da", "gu", "zo", "ber", "lin", "tor",
             "mas", "fel", "qui", "ran", "so"]




def vocabulary(kind: str, rnd: random.Random) -> list[str]:
    if kind == "repetitive":
        return ["".join(rnd.choice(SYLLABLES) for _ in range(rnd.randint(1, 4))) for _ in range(20_000)]
    return ["".join(rnd.choices(LETTERS, k=rnd.randint(2, 9))) for _ in range(60_000)]


def write_long_line(path: Path, mb: float, kind: str, c52: Path | None) -> int:
    rnd = random.Random(1)
    target = int(mb * 1_000_000)
    if kind == "c52":
        assert c52 is not None
        text = c52.read_text(encoding="utf-8").replace("\n", " ")
        body = (text * (target // len(text) + 1))[:target]
    else:
        words = vocabulary(kind, rnd)
        parts: list[str] = []
        size = 0
        while size < target:
            s = " ".join(rnd.choices(words, k=rnd.randint(6, 16))).capitalize() + rnd.choice(".!?")
            parts.append(s)
            size += len(s) + 1
        body = " ".join(parts)
    head = body[: target // 100]
    head = head[: head.rfind(". ") + 1] or head
    line = body + " " + head
    path.write_text("Title\n" + line + "\n", encoding="utf-8")
    return len(line) + 7


# Runs ``python -m dedup ARGS`` and writes the process's own peak RSS (VmHWM, kB) to a file at exit.
# (The rusage of a child started from this process would count this process's memory too: Linux
# keeps the highest RSS across the fork and the exec.)
PEAK_WRAPPER = """
import runpy, sys
out = sys.argv.pop(1)
sys.argv[0] = "dedup"
try:
    runpy.run_module("dedup", run_name="__main__", alter_sys=True)
finally:
    with open("/proc/self/status") as fh:
        peak = next(line.split()[1] for line in fh if line.startswith("VmHWM:"))
    with open(out, "w") as fh:
        fh.write(peak)
"""


def tree_memory(pid: int) -> int:
    """Bytes of memory of process ``pid`` and all its descendants (``--jobs`` workers): the sum
    of their proportional set sizes (pages shared after fork counted once), RSS where PSS is not
    readable."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{p}/task"):  # children of every thread
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        with contextlib.suppress(OSError, StopIteration), open(f"/proc/{p}/smaps_rollup") as fh:
            total += int(next(line.split()[1] for line in fh if line.startswith("Pss:"))) * 1024
            continue
        with contextlib.suppress(OSError, StopIteration), open(f"/proc/{p}/status") as fh:
            total += int(next(line.split()[1] for line in fh if line.startswith("VmRSS:"))) * 1024
    return total


def run_measured(args: list[str], watch_fds: bool = False) -> tuple[float, float, int, int, int, int]:
    """``dedup ARGS``: (seconds, CPU seconds, peak RSS bytes of the command's process, exit code,
    most open descriptors seen, peak memory of its process tree sampled every 0.1 s (the
    command plus its ``--jobs`` workers: see ``tree_memory``))."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    fd, peak_path = tempfile.mkstemp()
    os.close(fd)
    cmd = [sys.executable, "-c", PEAK_WRAPPER, peak_path, *args]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    most = tree = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal most
        fd_dir = f"/proc/{proc.pid}/fd"
        while not stop.is_set():
            with contextlib.suppress(OSError):
                most = max(most, len(os.listdir(fd_dir)))
            time.sleep(0.02)

    def sample_tree() -> None:
        nonlocal tree
        while not stop.is_set():
            tree = max(tree, tree_memory(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    if watch_fds:
        sampler.start()
    threading.Thread(target=sample_tree, daemon=True).start()
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)  # its CPU time is its own (unlike its max RSS)
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime
    stop.set()
    if code not in (0, 3):
        sys.stderr.write(err.decode("utf-8", "replace"))
    peak = int(Path(peak_path).read_text() or 0) * 1024
    os.unlink(peak_path)
    return seconds, cpu, peak, code, most, tree


def longline(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "line.txt"
        chars = write_long_line(src, args.mb, args.kind, args.c52)
        size = src.stat().st_size
        out = Path(tmp) / "out"
        seconds, cpu, rss, code, _, _ = run_measured(["clean", str(src), "-o", str(out), "-q"])
        cleaned = (out / "line.txt").read_text(encoding="utf-8") if code == 0 else ""
    print(f"machine: {machine()}")
    print("| kind | MB (file) | characters | seconds | CPU seconds | peak RSS MB | RSS / file size "
          "| removed characters | exit |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.kind} | {size / 1e6:.1f} | {chars:,} | {seconds:.1f} | {cpu:.1f} | {rss / 2**20:.0f} "
          f"| {rss / size:.1f} | {chars - len(cleaned):,} | {code} |")


def files(args: argparse.Namespace) -> None:
    rnd = random.Random(2)
    words = vocabulary("prose", rnd)
    common = [" ".join(rnd.choices(words, k=14)).capitalize() + "." for _ in range(200)]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        start = time.perf_counter()
        for i in range(args.n):
            folder = src / f"{i % 100:02d}"
            if i < 100:
                folder.mkdir(parents=True)
            a, b = (" ".join(rnd.choices(words, k=rnd.randint(10, 20))).capitalize() + "." for _ in range(2))
            (folder / f"{i:06d}.txt").write_text(f"{a}\n{rnd.choice(common)}\n{b}\n{a}\n", encoding="utf-8")
        made = time.perf_counter() - start
        cmd = ["clean", str(src), "-o", str(Path(tmp) / "out"), "--report", str(Path(tmp) / "r.jsonl"), "-q"]
        seconds, cpu, rss, code, most, _ = run_measured(cmd, watch_fds=True)
        written = sum(len(files) for _, _, files in os.walk(Path(tmp) / "out"))
    print(f"machine: {machine()} (writing the {args.n:,} input files took {made:.1f} s)")
    print("| files | seconds | CPU seconds | peak RSS MB | most open descriptors | files written | exit |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {args.n:,} | {seconds:.1f} | {cpu:.1f} | {rss / 2**20:.0f} | {most} | {written:,} | {code} |")


def corpus(args: argparse.Namespace) -> None:
    per = 100
    with tempfile.TemporaryDirectory() as tmp:
        lines: list[str] = []
        with open(args.corpus, encoding="utf-8") as fh:
            for line in fh:
                if len(lines) == args.paragraphs:
                    break
                lines.append(line.rstrip("\n"))
        size = sum(len(line.encode()) + 1 for line in lines)
        docs = ["\n\n".join(lines[i : i + per]) + "\n" for i in range(0, len(lines), per)]
        del lines

        def write(where: Path, chunk: list[str]) -> Path:
            if args.format == "jsonl":
                path = where / "in.jsonl"
                with open(path, "w", encoding="utf-8") as out:
                    for n, text in enumerate(chunk):
                        out.write(json.dumps({"id": f"d{n:07d}", "text": text}, ensure_ascii=False) + "\n")
                return path
            path = where / "in"
            for n, text in enumerate(chunk):
                folder = path / f"{n // 1000:04d}"
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{n:07d}.txt").write_text(text, encoding="utf-8")
            return path

        results = []
        for label, chunk in (("one record", docs[:1]), ("corpus", docs)):
            where = Path(tmp) / label.replace(" ", "-")
            where.mkdir()
            src = write(where, chunk)
            out = where / ("out.jsonl" if args.format == "jsonl" else "out")
            cmd = ["clean", str(src), "-o", str(out), "--report", str(where / "r.jsonl"),
                   "--jobs", str(args.jobs), "-q"]
            results.append(run_measured(cmd))
            del chunk
        del docs
    (_, _, base, _, _, _), (seconds, cpu, rss, code, _, tree) = results
    print(f"machine: {machine()}; corpus {args.corpus}, as {args.format}, {per} paragraphs a document")
    print("| paragraphs | MB | --jobs | seconds | CPU seconds | MB/s | peak RSS MB | baseline RSS MB "
          "| bytes per paragraph above baseline | peak with workers MB (PSS) | exit |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.paragraphs:,} | {size / 1e6:.1f} | {args.jobs} | {seconds:.1f} | {cpu:.1f} "
          f"| {size / 1e6 / seconds:.2f} "
          f"| {rss / 2**20:.0f} | {base / 2**20:.0f} | {(rss - base) / args.paragraphs:,.0f} "
          f"| {tree / 2**20:.0f} | {code} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("longline")
    p.add_argument("--mb", type=float, default=100)
    p.add_argument("--kind", choices=["prose", "repetitive", "c52"], default="prose")
    p.add_argument("--c52", type=Path, help="corpus.txt written by ../shared/bench/build_corpus.py")
    p.set_defaults(run=longline)
    p = sub.add_parser("corpus")
    p.add_argument("corpus", type=Path)
    p.add_argument("--paragraphs", type=int, default=1_000_000)
    p.add_argument("--format", choices=["jsonl", "folder"], default="jsonl")
    p.add_argument("--jobs", type=int, default=1)
    p.set_defaults(run=corpus)
    p = sub.add_parser("files")
    p.add_argument("--n", type=int, default=100_000)
    p.set_defaults(run=files)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
