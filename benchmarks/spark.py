#!/usr/bin/env python3
"""dedup on Spark beside the embedded engine, on 1x and 4x a corpus, start-up cost apart.

    python benchmarks/spark.py CORPUS.txt [--base-mb 2] [--sizes 1 4] [--master local[2]] [--json OUT]

CORPUS.txt has one paragraph per line; each size is a prefix of it (``--base-mb`` times the size)
written as a folder of files of 100 paragraphs (as ``speed.py`` does). For each size, in a
fresh process each (so every Spark figure includes a fresh JVM):

- *start-up*: creating the SparkSession (launching the JVM), then a first trivial job that
  starts the Python workers and imports dedup in them;
- *run 1* and *run 2*: ``dedup.spark.run_dataframe`` on the documents, read on the driver as
  the command line reads them, until every cleaned text and edit record is back on the driver
  (run 2 in the same, warm, session), and the time the driver spends planning;
- *embedded*: ``Deduplicator.run`` on the same documents, in process;
- *command line*: ``dedup clean FOLDER -o OUT --report EDITS`` with each engine, wall time of
  the whole command (JVM start included for Spark), and whether both wrote the same bytes.

Also the driver's memory for planning: Python heap (tracemalloc peak) of ``plan_collected`` per
collected paragraph, measured on the largest size with the embedded engine's own columns.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "tests"))

from machine import machine  # noqa: E402
from speed import make_folder  # noqa: E402


def _documents(folder: Path) -> list[Any]:
    from dedup.readers import discover, read_inputs

    found, _ = discover([str(folder)])
    loaded, _ = read_inputs(found)
    return [item.document for item in loaded]


def child(folder: Path, master: str) -> dict[str, Any]:
    """Everything measured in one process: start-up, two Spark runs, the embedded run."""
    from dedup import Deduplicator
    from dedup.spark import _frame, _to_arrow, run_dataframe, session

    out: dict[str, Any] = {}
    docs = _documents(folder)
    t = time.perf_counter()
    spark = session(master, quiet=True, config={"spark.ui.enabled": "false"})
    out["session_s"] = time.perf_counter() - t

    def warm(batches: Any) -> Any:
        import dedup.pipeline  # noqa: F401 - what the workers import

        yield from batches

    t = time.perf_counter()
    spark.range(4).mapInArrow(warm, "id long").count()
    out["first_job_s"] = time.perf_counter() - t
    for n in (1, 2):
        t = time.perf_counter()
        df = _frame(spark, {"id": [d.id for d in docs], "text": [d.text for d in docs]}, "id string, text string")
        run = run_dataframe(df)
        table = _to_arrow(run.output.select("_dd_doc", "text", "_dd_record"))
        out[f"run{n}_s"] = time.perf_counter() - t
        out[f"run{n}_plan_s"] = run.stats["plan_seconds"]
        out["stats"] = run.stats
        out["documents"] = table.num_rows
        run.output.unpersist()
    out["driver_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    Deduplicator().run(docs)
    out["embedded_s"] = time.perf_counter() - t
    spark.stop()
    return out


def driver_memory(folder: Path) -> dict[str, float]:
    """Python heap of planning on the driver, per collected paragraph (every document collected,
    every key text held: the most a driver holds for these documents)."""
    from test_driver import _columns

    from dedup import Deduplicator
    from dedup.driver import plan_collected

    dedup = Deduplicator()
    list(dedup.clean(sorted(_documents(folder), key=lambda d: d.id)))
    columns = _columns(dedup.index, "near")
    tracemalloc.start()
    plan = plan_collected(dedup.settings, dedup.verifier, dedup.banding, columns, lambda kids: {})
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"collected_paragraphs": plan.paragraphs, "held_keys": plan.held_keys, "peak_mb": peak / 1e6,
            "bytes_per_paragraph": peak / max(plan.paragraphs, 1)}


def command_line(folder: Path, master: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    work = Path(tempfile.mkdtemp(prefix="dedup-spark-bench-"))
    for engine in ("embedded", "spark"):
        cmd = [sys.executable, "-m", "dedup", "clean", str(folder), "-o", str(work / engine),
               "--report", str(work / f"{engine}.jsonl"), "--engine", engine, "--spark-master", master, "-q"]
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        out[f"{engine}_s"] = time.perf_counter() - t
    same = filecmp.dircmp(work / "embedded", work / "spark")
    out["identical"] = (not same.diff_files and not same.left_only and not same.right_only
                        and (work / "embedded.jsonl").read_bytes() == (work / "spark.jsonl").read_bytes())
    shutil.rmtree(work)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?")
    ap.add_argument("--base-mb", type=float, default=2.0)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--json", help="also write the figures as JSON")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child), args.master)))
        return
    if not args.corpus:
        ap.error("give the corpus file (one paragraph per line)")
    import pyspark

    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    print(f"machine: {machine()}; pyspark {pyspark.__version__}; {java}; master {args.master}")
    where = Path(tempfile.mkdtemp(prefix="dedup-spark-corpus-"))
    figures: list[dict[str, Any]] = []
    try:
        for size in args.sizes:
            folder, nbytes, count = make_folder(Path(args.corpus), args.base_mb * size, where)
            env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
            run = subprocess.run([sys.executable, __file__, "--child", str(folder), "--master", args.master],
                                 check=True, capture_output=True, text=True, env=env)
            row = {"size": f"{size}x", "mb": nbytes / 1e6, "paragraphs": count,
                   **json.loads(run.stdout.strip().splitlines()[-1]), "cli": command_line(folder, args.master)}
            figures.append(row)
            print(json.dumps(row), flush=True)
        memory = driver_memory(folder)
    finally:
        shutil.rmtree(where)
    print()
    print("| corpus | paragraphs | Spark start-up (session + first job) | Spark run 1 | Spark run 2 (warm) "
          "| of which planning on the driver | embedded (in process) "
          "| `dedup clean`: embedded / spark (whole command) | same output |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in figures:
        cli = r["cli"]
        print(f"| {r['size']} ({r['mb']:.1f} MB) | {r['paragraphs']:,}"
              f" | {r['session_s']:.1f} + {r['first_job_s']:.1f} s"
              f" | {r['run1_s']:.1f} s | {r['run2_s']:.1f} s | {r['run2_plan_s']:.2f} s | {r['embedded_s']:.1f} s"
              f" | {cli['embedded_s']:.1f} s / {cli['spark_s']:.1f} s | {'yes' if cli['identical'] else 'NO'} |")
    print()
    print(f"driver planning memory ({figures[-1]['size']}): {memory['peak_mb']:.1f} MB Python heap for "
          f"{memory['collected_paragraphs']:,} collected paragraphs ({memory['bytes_per_paragraph']:.0f} B each, "
          f"{memory['held_keys']:,} key texts held)")
    if args.json:
        Path(args.json).write_text(json.dumps({"figures": figures, "driver_memory": memory}, indent=1))


if __name__ == "__main__":
    main()
