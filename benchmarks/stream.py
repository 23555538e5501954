"""Memory of a long JSON Lines stream on stdin (issue 5): does it grow with the index or the input?

Feeds ``dedup clean - --jsonl -o OUT --jobs 1`` a stream of ``--gb`` gigabytes built from a corpus
of real paragraphs (one per line: ``../shared/bench/build_corpus.py``), as records of 100
paragraphs: the corpus's first ``--distinct`` paragraphs, then the same records again with fresh
ids (a re-scrape, as an hourly job sees it), pass after pass, until the stream holds ``--gb``.
Every pass after the first adds nothing to the index but its per-paragraph columns, so memory
should stop growing after the first pass. The resident memory of the dedup process is sampled
twice a second and printed at every fifth of the stream, with its peak (VmHWM) at the end.

    python benchmarks/stream.py /path/to/corpus.txt --gb 5 --distinct 1000000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile import PEAK_WRAPPER, REPO
from machine import machine

PER_RECORD = 100


def rss_of(pid: int) -> int:
    """Resident bytes of a process, 0 once it is gone."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def records(corpus: Path, distinct: int) -> list[str]:
    """The JSON text of each record's ``text`` value (ids are added per pass)."""
    lines: list[str] = []
    with open(corpus, encoding="utf-8") as fh:
        for line in fh:
            if len(lines) == distinct:
                break
            lines.append(line.rstrip("\n"))
    return [json.dumps("\n\n".join(lines[i : i + PER_RECORD]) + "\n", ensure_ascii=False)
            for i in range(0, len(lines), PER_RECORD)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", type=Path)
    p.add_argument("--gb", type=float, default=5.0)
    p.add_argument("--distinct", type=int, default=1_000_000, help="paragraphs before the stream repeats")
    args = p.parse_args()
    texts = records(args.corpus, args.distinct)
    target = int(args.gb * 1e9)
    checkpoints = [target * k // 5 for k in range(1, 6)]
    fed = 0
    samples: list[tuple[int, int, float]] = []  # (bytes fed, rss, seconds)
    with tempfile.TemporaryDirectory() as tmp:
        peak_path = Path(tmp) / "peak"
        cmd = [sys.executable, "-c", PEAK_WRAPPER, str(peak_path), "clean", "-", "--jsonl", "-o",
               str(Path(tmp) / "out.jsonl"), "--jobs", "1", "-q"]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdin is not None and proc.stderr is not None
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.5):
                samples.append((fed, rss_of(proc.pid), time.perf_counter() - start))

        errors: list[bytes] = []
        threading.Thread(target=sample, daemon=True).start()
        threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True).start()  # type: ignore[union-attr]
        passes = paragraphs = 0
        while fed < target:
            for n, text in enumerate(texts):
                line = f'{{"id": "p{passes}-{n:07d}", "text": {text}}}\n'.encode()
                proc.stdin.write(line)
                fed += len(line)
                paragraphs += PER_RECORD
                if fed >= target:
                    break
            passes += 1
        proc.stdin.close()
        code = proc.wait()
        seconds = time.perf_counter() - start
        done.set()
        peak = int(peak_path.read_text()) * 1024 if peak_path.exists() else 0
        out_bytes = (Path(tmp) / "out.jsonl").stat().st_size if (Path(tmp) / "out.jsonl").exists() else 0
    if code != 0:
        print(b"".join(errors).decode(errors="replace"), file=sys.stderr)
    print(f"machine: {machine()}; corpus {args.corpus}; first {args.distinct:,} paragraphs, repeated "
          f"with fresh ids; {PER_RECORD} paragraphs a record; --jobs 1")
    print(f"streamed {fed / 1e9:.2f} GB ({paragraphs:,} paragraphs, {passes} passes) in {seconds:.0f} s "
          f"({fed / 1e6 / seconds:.2f} MB/s), exit {code}, output {out_bytes / 1e6:.0f} MB, "
          f"peak RSS {peak / 2**20:,.0f} MB")
    # MB/s between checkpoints: the first stretch builds the index, the later ones are repeats
    print("| fed GB | resident MB | seconds | MB/s since the previous row |")
    print("|---|---|---|---|")
    last_at = last_time = 0.0
    for mark in checkpoints:
        seen = [(at, rss, t) for at, rss, t in samples if at <= mark and rss]
        if seen:
            at, rss, t = seen[-1]
            rate = (at - last_at) / 1e6 / (t - last_time) if t > last_time else 0.0
            print(f"| {mark / 1e9:.2f} | {rss / 2**20:,.0f} | {t:.0f} | {rate:.2f} |")
            last_at, last_time = at, t


if __name__ == "__main__":
    main()
