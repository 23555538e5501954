#!/usr/bin/env python3
"""Speed and memory of dedup beside its peers, on a corpus of real paragraphs, in one run.

    python benchmarks/speed.py CORPUS.txt [--base-mb 3.25] [--sizes 1 4 16] [--jobs 1 2]
                               [--rounds 3] [--sample-mb 0.5] [--json OUT]

CORPUS.txt has one paragraph per line (``../shared/bench/build_corpus.py`` builds the 52 MB one).
For each size (a multiple of ``--base-mb``, a prefix of the corpus) the paragraphs are written
as a folder of files of 100 paragraphs each, and every method runs in its own subprocess (so its
peak RSS, read from ``VmHWM``, is its own; for dedup also the highest memory of the command with
its ``--jobs`` workers, sampled every 0.1 s):

- ``dedup clean`` end to end: read, segment, fix, key, sign, index, verify, plan, write every
  cleaned file and the report (``--jobs`` 1 and 2);
- the same on the same text as records: one JSON Lines file and one Parquet file holding one
  record per file of the folder (``--jsonl``, ``--parquet``; written back as records), and one
  JSON Lines file holding one record per paragraph;
- dedup signatures only (MinHasher on the matching keys), to compare with the sketch-only peers:
  as dedup runs them (the compiled loop, ``dedup/_kernels.c``) and with numpy only;
- datasketch as documented: a MinHash per paragraph fed shingle by shingle, MinHashLSH
  query + insert (on a sample: it is slow);
- datasketch's fastest documented path: ``MinHash.bulk`` with an xxhash hash function,
  ``LeanMinHash``, MinHashLSH insertion session (on a sample);
- rensa fed flat numpy shingle hashes (a Rust MinHash; benchmark-only comparison);
- the floor: hashing every 5-gram with numpy and nothing else.

Every method runs ``--rounds`` times and its best round counts; the rounds are interleaved (a
round runs every method of a size once), so a machine whose speed drifts gives each method the
same share of its fast and slow minutes. All sketches use character 5-gram shingles and 128
permutations. Prints a table per size with
MB/s, paragraphs/s, the ratio to dedup end to end on one job and with its default ``--jobs``
(the machine's cores), peak RSS, and the machine.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hostile import run_measured
from machine import machine

REPO = Path(__file__).resolve().parent.parent
PARAGRAPHS_PER_FILE = 100
NUM_PERM = 128
NGRAM = 5
FORMATS = ("folder", "jsonl", "parquet", "paragraphs")  # paragraphs: JSON Lines, one paragraph a record


# -- methods (each runs inside its own subprocess) -------------------------------------------------


def _paragraphs(folder: Path, limit_bytes: int | None = None) -> list[str]:
    out: list[str] = []
    size = 0
    for f in sorted(folder.glob("*.txt")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line:
                out.append(line)
                size += len(line.encode("utf-8")) + 1
                if limit_bytes is not None and size >= limit_bytes:
                    return out
    return out


def _shingles(text: str) -> list[str]:
    return [text[i : i + NGRAM] for i in range(max(len(text) - NGRAM + 1, 1))]


def method_dedup(folder: Path, jobs: int, fmt: str = "folder") -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="dedup-speed-out-"))
    if fmt == "folder":
        inputs = [str(folder), "-o", str(out / "clean")]
    elif fmt == "paragraphs":
        inputs = ["--jsonl", str(_paragraph_records(folder)), "-o", str(out / "clean.jsonl")]
    else:  # the records written next to the folder by make_folder
        inputs = [f"--{fmt}", str(folder.with_suffix(f".{fmt}")), "-o", str(out / f"clean.{fmt}")]
    cmd = ["clean", *inputs, "--report", str(out / "edits.jsonl"), "--jobs", str(jobs), "-q"]
    seconds, _, peak, code, _, tree = run_measured(cmd)
    if code != 0:
        raise SystemExit(f"dedup {' '.join(cmd)}: exit {code}")
    shutil.rmtree(out)
    return {"seconds": seconds, "rss_kib": peak // 1024, "tree_kib": tree // 1024}


def method_dedup_signatures(folder: Path, compiled: bool = True) -> dict[str, Any]:
    from dedup.keys import matching_key
    from dedup.signatures import MinHasher

    paras = _paragraphs(folder)
    t = time.perf_counter()
    MinHasher(NUM_PERM, 1, NGRAM, compiled=compiled).signatures([matching_key(p) for p in paras])
    return {"seconds": time.perf_counter() - t}


def method_datasketch_naive(folder: Path, sample: int) -> dict[str, Any]:
    from datasketch import MinHash, MinHashLSH

    paras = _paragraphs(folder, sample)
    t = time.perf_counter()
    lsh = MinHashLSH(threshold=0.8, num_perm=NUM_PERM)
    for i, p in enumerate(paras):
        m = MinHash(num_perm=NUM_PERM)
        for s in _shingles(p):
            m.update(s.encode("utf8"))
        lsh.query(m)
        lsh.insert(i, m)
    return {"seconds": time.perf_counter() - t, "bytes": sum(len(p.encode()) + 1 for p in paras),
            "paragraphs": len(paras)}


def method_datasketch_fast(folder: Path, sample: int) -> dict[str, Any]:
    import xxhash
    from datasketch import LeanMinHash, MinHash, MinHashLSH

    paras = _paragraphs(folder, sample)

    def h32(b: bytes) -> int:
        return xxhash.xxh32_intdigest(b)

    t = time.perf_counter()
    sets = [[s.encode("utf8") for s in _shingles(p)] for p in paras]
    minhashes = [LeanMinHash(m) for m in MinHash.bulk(sets, num_perm=NUM_PERM, hashfunc=h32)]
    lsh = MinHashLSH(threshold=0.8, num_perm=NUM_PERM)
    with lsh.insertion_session() as session:
        for i, m in enumerate(minhashes):
            session.insert(i, m)
    return {"seconds": time.perf_counter() - t, "bytes": sum(len(p.encode()) + 1 for p in paras),
            "paragraphs": len(paras)}


def method_rensa(folder: Path) -> dict[str, Any]:
    import numpy as np
    import rensa

    from dedup.signatures import MinHasher

    paras = _paragraphs(folder)
    hasher = MinHasher(NUM_PERM, 1, NGRAM)
    t = time.perf_counter()
    hashes, offsets = hasher.shingle_hashes(paras)
    hashes = hashes.astype(np.uint64)  # rensa takes 64-bit token hashes
    rensa.RMinHash.digest_matrix_from_flat_token_hashes(hashes, offsets, NUM_PERM, 1)
    return {"seconds": time.perf_counter() - t}


def method_floor(folder: Path) -> dict[str, Any]:
    from dedup.signatures import MinHasher

    paras = _paragraphs(folder)
    hasher = MinHasher(NUM_PERM, 1, NGRAM)
    t = time.perf_counter()
    for i in range(0, len(paras), 2000):
        hasher._window_hashes(paras[i : i + 2000])
    return {"seconds": time.perf_counter() - t}


def _child(args: argparse.Namespace) -> None:
    folder = Path(args.folder)
    name = args.run
    if name.startswith("dedup-") and name[6:] in FORMATS:
        result = method_dedup(folder, args.job_count, name[6:])
    elif name == "dedup-signatures":
        result = method_dedup_signatures(folder)
    elif name == "dedup-signatures-numpy":
        result = method_dedup_signatures(folder, compiled=False)
    elif name == "datasketch-naive":
        result = method_datasketch_naive(folder, args.sample_bytes)
    elif name == "datasketch-fast":
        result = method_datasketch_fast(folder, args.sample_bytes)
    elif name == "rensa":
        result = method_rensa(folder)
    else:
        result = method_floor(folder)
    if "rss_kib" not in result:
        # VmHWM, not getrusage: Linux carries ru_maxrss over exec, so a child would report at least
        # the orchestrator's own peak at the moment it forked (every row showed the same value)
        with open("/proc/self/status") as fh:
            result["rss_kib"] = int(next(line.split()[1] for line in fh if line.startswith("VmHWM:")))
    print(json.dumps(result))


# -- orchestration -----------------------------------------------------------------------------------




def make_folder(corpus: Path, megabytes: float, where: Path) -> tuple[Path, int, int]:
    """A folder of files of PARAGRAPHS_PER_FILE paragraphs: the first ``megabytes`` of the corpus."""
    folder = where / f"corpus-{megabytes:g}MB"
    folder.mkdir(parents=True, exist_ok=True)
    limit = int(megabytes * 1e6)
    size = count = 0
    batch: list[str] = []
    n = 0
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            batch.append(line)
            size += len(line.encode("utf-8"))
            count += 1
            if len(batch) == PARAGRAPHS_PER_FILE or size >= limit:
                (folder / f"{n:06d}.txt").write_text("".join(batch), encoding="utf-8")
                batch, n = [], n + 1
            if size >= limit:
                break
    if batch:
        (folder / f"{n:06d}.txt").write_text("".join(batch), encoding="utf-8")
    _write_records(folder)
    return folder, size, count


def _write_records(folder: Path) -> None:
    """The folder's files as records (id = file name, text = its content), in JSON Lines and in
    Parquet, next to it: the same text for the record paths."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = sorted(folder.glob("*.txt"))
    ids = [f.name for f in files]
    texts = [f.read_text(encoding="utf-8") for f in files]
    with folder.with_suffix(".jsonl").open("w", encoding="utf-8") as fh:
        for i, t in zip(ids, texts, strict=True):
            fh.write(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n")
    pq.write_table(pa.table({"id": ids, "text": texts}), folder.with_suffix(".parquet"))
    with _paragraph_records(folder).open("w", encoding="utf-8") as fh:
        for i, t in zip(ids, texts, strict=True):
            for n, line in enumerate(t.splitlines(), 1):
                fh.write(json.dumps({"id": f"{i}:{n}", "text": line}, ensure_ascii=False) + "\n")


def _paragraph_records(folder: Path) -> Path:
    """The folder's paragraphs as JSON Lines, one record each (the shape of many crawls)."""
    return folder.parent / f"{folder.name}.paragraphs.jsonl"


def run_child(method: str, folder: Path, jobs: int = 1, sample: int = 0) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--run", method, "--folder", str(folder), "--job-count", str(jobs),
           "--sample-bytes", str(sample)]
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?")
    ap.add_argument("--base-mb", type=float, default=3.25)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sample-mb", type=float, default=0.5, help="input for the slow datasketch peers")
    ap.add_argument("--peers-at", type=int, default=None, help="run the peers at this size only (default: largest)")
    ap.add_argument("--json", help="also write the figures as JSON")
    ap.add_argument("--run", help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    ap.add_argument("--job-count", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--sample-bytes", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run:
        _child(args)
        return
    if not args.corpus:
        ap.error("give the corpus file (one paragraph per line)")
    corpus = Path(args.corpus)
    peers_at = args.peers_at or max(args.sizes)
    # dedup's modules byte-compiled first, as ``pip install`` leaves an installed package (and as
    # the peers are): a checkout run with PYTHONDONTWRITEBYTECODE set would otherwise compile
    # every module from source on every run, about 0.13 s of each ``dedup clean`` here.
    compileall.compile_dir(str(REPO / "dedup"), quiet=1)
    print(f"machine: {machine()}")
    print(f"corpus: {corpus} (char {NGRAM}-gram shingles, {NUM_PERM} permutations, "
          f"best of {args.rounds} rounds)\n")
    figures: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="dedup-speed-") as tmp:
        for factor in args.sizes:
            folder, size, count = make_folder(corpus, args.base_mb * factor, Path(tmp))
            mb = size / 1e6
            # (row name, scope, child method, jobs, sample bytes): every method of this size
            tasks: list[tuple[str, str, str, int, int]] = []
            for fmt in FORMATS:
                for jobs in args.jobs:
                    flag = {"folder": "", "paragraphs": " --jsonl (a paragraph a record)"}.get(fmt, f" --{fmt}")
                    tasks.append((f"dedup clean{flag} --jobs {jobs}", f"end to end, {fmt}", f"dedup-{fmt}", jobs, 0))
            if factor == peers_at:
                sample = int(args.sample_mb * 1e6)
                for method, scope, needs_sample in (
                        ("dedup-signatures", "signatures", False),
                        ("dedup-signatures-numpy", "signatures, numpy only", False),
                        ("datasketch-naive", "signatures + LSH", True),
                        ("datasketch-fast", "signatures + LSH", True),
                        ("rensa", "signatures", False),
                        ("floor", "5-gram hashes", False)):
                    tasks.append((method, scope + (" (sample)" if needs_sample else ""), method, 1,
                                  sample if needs_sample else 0))
            # Rounds interleaved: round 1 runs every method once, then round 2, ...; the best of
            # each method's rounds is kept. A shared machine drifts by tens of percent within
            # minutes, and back-to-back rounds of one method would give it one phase of that
            # drift and the next method another, biasing the ratios either way.
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in tasks}
            for _ in range(args.rounds):
                for name, _scope, method, jobs, sample_bytes in tasks:
                    runs[name].append(run_child(method, folder, jobs, sample=sample_bytes))
            rows: list[tuple[str, str, dict[str, Any]]] = []
            for name, scope, *_ in tasks:
                best = min(runs[name], key=lambda r: r["seconds"])
                best.setdefault("mb", mb)
                if "bytes" in best:
                    best["mb"] = best["bytes"] / 1e6
                best.setdefault("paragraphs", count)
                best["spread"] = statistics.pstdev([r["seconds"] for r in runs[name]])
                rows.append((name, scope, best))
            base = rows[0][2]["mb"] / rows[0][2]["seconds"]
            # dedup's default --jobs is the number of cores: its rate beside the peers too
            cores = os.cpu_count() or 1
            default = next((r for name, _, r in rows if name == f"dedup clean --jobs {cores}"), None)
            default_rate = default["mb"] / default["seconds"] if default else None
            print(f"### {factor}x: {mb:.1f} MB, {count:,} paragraphs, {count // PARAGRAPHS_PER_FILE + 1} files\n")
            print(f"| method | scope | MB/s | paragraphs/s | dedup (1 job) / method | dedup ({cores} jobs, the "
                  "default) / method | peak RSS MB | with workers MB (PSS, sampled) |")
            print("|---|---|---|---|---|---|---|---|")
            for name, scope, r in rows:
                rate = r["mb"] / r["seconds"]
                tree = f"{r['tree_kib'] / 1024:.0f}" if "tree_kib" in r else ""
                versus_default = f"{default_rate / rate:.2f}x" if default_rate else ""
                print(f"| {name} | {scope} | {rate:.2f} | {r['paragraphs'] / r['seconds']:,.0f} | "
                      f"{base / rate:.2f}x | {versus_default} | {r['rss_kib'] / 1024:.0f} | {tree} |")
                figures.append({"size": factor, "mb": mb, "method": name, "scope": scope, "mb_per_s": rate,
                                "paragraphs_per_s": r["paragraphs"] / r["seconds"], "rss_mb": r["rss_kib"] / 1024,
                                "seconds": r["seconds"]})
            print(flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "figures": figures}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
