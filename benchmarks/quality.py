#!/usr/bin/env python3
"""Quality of `dedup clean` against labelled corpora, beside the baselines, in one table.

For each corpus (../shared/eval-dev and ../shared/eval-real-dev by default) this runs:

- `dedup clean CORPUS -o PRED` with default settings (the real command, in a subprocess);
- exact duplicate lines within each file;
- exact duplicate lines across the folder (files in sorted order);
- datasketch as its documentation shows: one MinHash per paragraph over its words, a
  MinHashLSH index, a paragraph dropped when the index returns an earlier one (no verification),
  at thresholds 0.5 and 0.8;

and scores every output with the corpus's own `score.py` (paragraph precision, recall, F1, and
wrongly removed paragraphs = data loss). Usage:

    python benchmarks/quality.py [--shared ../shared] [--corpora eval-dev eval-real-dev] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from machine import machine

REPO = Path(__file__).resolve().parent.parent


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def write_kept(out: Path, name: str, lines: list[str], drop: set[int]) -> None:
    (out / name).write_text("\n".join(line for i, line in enumerate(lines) if i not in drop) + "\n", encoding="utf-8")


def exact_within(corpus: Path, out: Path) -> None:
    for f in sorted(corpus.glob("*.txt")):
        lines = read_lines(f)
        seen: set[str] = set()
        drop: set[int] = set()
        for i, line in enumerate(lines):
            key = line.strip()
            if not key:
                continue
            if key in seen:
                drop.add(i)
            seen.add(key)
        write_kept(out, f.name, lines, drop)


def exact_across(corpus: Path, out: Path) -> None:
    seen: set[str] = set()
    for f in sorted(corpus.glob("*.txt")):
        lines = read_lines(f)
        drop: set[int] = set()
        for i, line in enumerate(lines):
            key = line.strip()
            if not key:
                continue
            if key in seen:
                drop.add(i)
            seen.add(key)
        write_kept(out, f.name, lines, drop)


def datasketch_lsh(threshold: float) -> Callable[[Path, Path], None]:
    def run(corpus: Path, out: Path) -> None:
        from datasketch import MinHash, MinHashLSH

        lsh = MinHashLSH(threshold=threshold, num_perm=128)
        n = 0
        for f in sorted(corpus.glob("*.txt")):
            lines = read_lines(f)
            drop: set[int] = set()
            for i, line in enumerate(lines):
                if not line.strip():
                    continue
                m = MinHash(num_perm=128)
                for word in set(line.split()):
                    m.update(word.encode("utf8"))
                if lsh.query(m):
                    drop.add(i)
                else:
                    lsh.insert(f"p{n}", m)
                    n += 1
            write_kept(out, f.name, lines, drop)

    return run


def dedup_cli(corpus: Path, out: Path) -> None:
    cmd = [sys.executable, "-m", "dedup", "clean", str(corpus), "-o", str(out), "-q"]
    subprocess.run(cmd, check=True)


METHODS: list[tuple[str, Callable[[Path, Path], None]]] = [
    ("dedup clean (defaults)", dedup_cli),
    ("exact lines within each file", exact_within),
    ("exact lines across the folder", exact_across),
    ("datasketch MinHashLSH t=0.5 (no verification)", datasketch_lsh(0.5)),
    ("datasketch MinHashLSH t=0.8 (no verification)", datasketch_lsh(0.8)),
]


def score(dataset: Path, pred: Path) -> dict[str, float]:
    scorer = dataset.parent / "eval-dev" / "score.py"
    cmd = [sys.executable, str(scorer), "--corpus", str(dataset / "corpus"), "--gold", str(dataset / "gold"),
           "--pred", str(pred), "--json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out)["overall"]
    return result




def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    ap.add_argument("--corpora", nargs="+", default=["eval-dev", "eval-real-dev"])
    ap.add_argument("--json", help="also write the figures as JSON to this file")
    args = ap.parse_args()
    print(f"machine: {machine()}\n")
    figures: dict[str, list[dict[str, object]]] = {}
    for name in args.corpora:
        dataset = Path(args.shared) / name
        print(f"### {name} ({len(list((dataset / 'corpus').glob('*.txt')))} files)\n")
        print("| method | precision | recall | F1 | wrongly removed | missed | exact files | seconds |")
        print("|---|---|---|---|---|---|---|---|")
        rows: list[dict[str, object]] = []
        for label, method in METHODS:
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                method(dataset / "corpus", Path(tmp))
                seconds = time.perf_counter() - t0
                o = score(dataset, Path(tmp))
            rows.append({"method": label, **o, "seconds": round(seconds, 2)})
            print(f"| {label} | {o['precision']:.3f} | {o['recall']:.3f} | {o['f1']:.3f} | {o['wrongly_removed']} "
                  f"| {o['missed_duplicates']} | {o['exact_match_rate']:.3f} | {seconds:.2f} |", flush=True)
        figures[name] = rows
        print()
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "corpora": figures}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
