"""The LSH table's compiled insert and the candidate gate on a large index, alone.

    python benchmarks/lsh_table.py [--keys 1000000 100000] [--batches 8] [--pairs 600000]

For each index size it fills a ``BandTable`` (42 bands, as the defaults choose) with random band
values, one key in twenty sharing another's values, then times inserting batches of 11,000 keys
(a batch of the 52 MB corpus), a tenth of them copies of indexed keys; and it times the gate on a
sketch table of that many rows with candidate pairs shaped like the insert's (earlier ids sorted,
new ids among the last batch). It prints the best and median time and a hash of the pairs and
flags, so two builds can be compared on the same values. These are the parts of a run whose
cost grows with the index: every other stage costs the same per paragraph at any size.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from machine import machine

from dedup import compiled
from dedup.lsh import Banding, BandTable

BANDS, ROWS, BATCH, WIDTH = 42, 3, 11_000, 128


def insert(keys: int, batches: int) -> tuple[list[float], str, int]:
    rng = np.random.default_rng(1)
    table = BandTable(Banding(BANDS, ROWS))
    table.compiled = compiled.band_add()
    values = rng.integers(0, 1 << 32, size=(keys, BANDS), dtype=np.uint64).astype(np.uint32)
    values[::20] = values[1::20][: len(values[::20])]
    for start in range(0, keys, 50_000):
        table.add(np.arange(start, min(keys, start + 50_000)), values[start : start + 50_000])
    times, digest, pairs = [], hashlib.blake2b(digest_size=8), 0
    for r in range(batches):
        new = rng.integers(0, 1 << 32, size=(BATCH, BANDS), dtype=np.uint64).astype(np.uint32)
        new[::10] = values[rng.integers(0, keys, len(new[::10]))]
        ids = np.arange(keys + r * BATCH, keys + (r + 1) * BATCH)
        t = time.perf_counter()
        found = table.add(ids, new)
        times.append(time.perf_counter() - t)
        digest.update(found.tobytes())
        pairs += len(found)
    return times, digest.hexdigest(), pairs


def gate(rows: int, pairs: int, rounds: int) -> tuple[list[float], str]:
    rng = np.random.default_rng(3)
    sketch = rng.integers(0, 256, size=(rows, WIDTH), dtype=np.uint8)
    last = max(1, rows - BATCH)
    sketch[last::7] = sketch[rng.integers(0, last, len(sketch[last::7]))]
    lengths = rng.integers(20, 900, size=rows).astype(np.int32)
    earlier = np.sort(rng.integers(0, last, pairs))
    new = rng.integers(last, rows, pairs)
    pair_rows = np.ascontiguousarray(np.stack([earlier, new], 1).astype(np.int64))
    run = compiled.gate()
    assert run is not None
    times = []
    flags = np.empty(pairs, dtype=np.uint8)
    for _ in range(rounds):
        t = time.perf_counter()
        run(sketch, pair_rows, lengths, 50, 0.5, 2000, flags)
        times.append(time.perf_counter() - t)
    return times, hashlib.blake2b(flags.tobytes(), digest_size=8).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, nargs="+", default=[1_000_000, 100_000])
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--pairs", type=int, default=600_000)
    args = parser.parse_args()
    if not compiled.available():
        sys.exit("the compiled extension is not built: nothing to measure")
    print(f"machine: {machine()}")
    print("| index keys | what | best ms | median ms | per item | hash |")
    print("|---|---|---|---|---|---|")
    for keys in args.keys:
        times, digest, pairs = insert(keys, args.batches)
        best, median = min(times), statistics.median(times)
        print(f"| {keys:,} | insert {BATCH:,} keys x {BANDS} bands ({pairs:,} pairs) | {best * 1e3:.1f} "
              f"| {median * 1e3:.1f} | {best / BATCH / BANDS * 1e9:.0f} ns a band value | {digest} |")
        times, digest = gate(keys, args.pairs, args.batches)
        best, median = min(times), statistics.median(times)
        print(f"| {keys:,} | gate {args.pairs:,} pairs | {best * 1e3:.1f} | {median * 1e3:.1f} "
              f"| {best / args.pairs * 1e9:.0f} ns a pair | {digest} |")


if __name__ == "__main__":
    main()
