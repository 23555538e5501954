"""The MinHash loop compiled with numba: the same values as ``signatures.MinHasher``'s numpy path.

numpy builds a ``num_perm x shingles`` array, adds to it, then reduces it: three passes over
memory per block. Compiled, each key's shingle hashes are computed once into a small buffer and
every permutation is one pass of multiply, add and minimum over it, which the compiler turns into
SIMD code: about 2.5x the numpy path on the same machine (benchmarks/README.md). The candidate
gate's sketch agreement and the LSH table's band merge are here too. Importing numba and loading
the cached machine code costs about 0.55 s, so ``MinHasher`` switches to this only after it has
signed enough text for that to pay (``COMPILED_AFTER_CHARS``), and the rest is used once loaded.

This module imports numba at import time; import it only through ``signatures.load_kernel``,
``signatures.load_agreement`` and ``signatures.load_band_merge``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit

_FOLD = np.uint64(0x9E3779B97F4A7C15)
_LOW32 = np.uint64(0xFFFFFFFF)


# cache=True: the machine code is kept beside this file (or in numba's user cache directory when
# that is not writable), so only the first run on a machine pays the compilation (1-2 s).
@njit(cache=True, nogil=True, boundscheck=False)
def _signatures(cps: np.ndarray, starts: np.ndarray, lengths: np.ndarray, multipliers: np.ndarray,
                a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    ngram = multipliers.shape[0]
    num_perm = a.shape[0]
    longest = 0
    for k in range(lengths.shape[0]):
        longest = max(longest, lengths[k])
    mixed = np.empty(longest, dtype=np.uint32)
    for k in range(starts.shape[0]):
        start, n = starts[k], lengths[k]
        for i in range(n):
            # the polynomial shingle hash and its fold (signatures.MinHasher._window_hashes, _fold) ...
            h = np.uint64(0)
            for j in range(ngram):
                h += np.uint64(cps[start + i + j]) * multipliers[j]
            h = h ^ (h >> np.uint64(29))
            x = (h * _FOLD) >> np.uint64(32)
            # ... then MurmurHash3's finalizer (signatures._fmix32), in 64-bit lanes cut to 32 bits
            x = x ^ (x >> np.uint64(16))
            x = (x * np.uint64(0x85EBCA6B)) & _LOW32
            x = x ^ (x >> np.uint64(13))
            x = (x * np.uint64(0xC2B2AE35)) & _LOW32
            mixed[i] = np.uint32(x ^ (x >> np.uint64(16)))
        for p in range(num_perm):
            ap, bp = a[p], b[p]
            low = np.uint32(0xFFFFFFFF)
            for i in range(n):
                low = min(low, np.uint32(ap * mixed[i] + bp))  # a * h + b mod 2**32
            out[k, p] = low


@njit(cache=True, nogil=True, boundscheck=False)
def _agreement(sketch: np.ndarray, pairs: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    # numpy's ``(sketch[a] == sketch[b]).mean(axis=1)`` gathers two rows per pair into new arrays
    # and averages in float64; counting in place is an order of magnitude faster, same values
    width = sketch.shape[1]
    for k in range(pairs.shape[0]):
        a, b = pairs[k, 0], pairs[k, 1]
        same = 0
        for p in range(width):
            same += sketch[a, p] == sketch[b, p]
        out[k] = same / width


@njit(cache=True, nogil=True, boundscheck=False)
def _merge_band(old_values: np.ndarray, old_ids: np.ndarray, new_values: np.ndarray, new_ids: np.ndarray,
                first_members: int, width: np.int64, values: np.ndarray, ids: np.ndarray,
                codes: np.ndarray) -> int:  # pragma: no cover - compiled
    # lsh.BandTable.add for one band in one pass: merge the sorted new values after the equal
    # old ones, and pair each new member of a bucket with the bucket's first members and its
    # predecessor (lsh._bucket_pairs), as codes ``earlier * width + new``; returns their count
    n_old = old_values.shape[0]
    i = 0
    p = 0
    m = 0
    for j in range(new_values.shape[0]):
        v = new_values[j]
        while i < n_old and old_values[i] <= v:
            values[p] = old_values[i]
            ids[p] = old_ids[i]
            p += 1
            i += 1
        new = np.int64(new_ids[j])
        if p > 0 and values[p - 1] == v:
            lo = 0  # the bucket's first position: a binary search, buckets can be long
            hi = p - 1
            while lo < hi:
                mid = (lo + hi) >> 1
                if values[mid] < v:
                    lo = mid + 1
                else:
                    hi = mid
            for k in range(lo, lo + min(p - lo, first_members)):
                codes[m] = np.int64(ids[k]) * width + new
                m += 1
            if p - lo > first_members:
                codes[m] = np.int64(ids[p - 1]) * width + new
                m += 1
        values[p] = v
        ids[p] = new_ids[j]
        p += 1
    while i < n_old:
        values[p] = old_values[i]
        ids[p] = old_ids[i]
        p += 1
        i += 1
    return m


Kernel = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]
Agreement = Callable[[np.ndarray, np.ndarray, np.ndarray], None]
BandMerge = Callable[
    [np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, np.int64, np.ndarray, np.ndarray, np.ndarray], int]


def kernel() -> Kernel:
    """The compiled signature loop: ``(code points, key starts, key lengths, shingle multipliers,
    a, b, out)``; fills ``out`` (keys x permutations, uint32)."""
    found: Kernel = _signatures
    return found


def agreement() -> Agreement:
    """The compiled sketch agreement: ``(sketch rows (uint8), pairs (n x 2 int64), out)``; fills
    ``out`` (float64) with the share of equal bytes of each pair's rows (``Index.agreement``)."""
    found: Agreement = _agreement
    return found


def band_merge() -> BandMerge:
    """The compiled merge of one band of the LSH table (``lsh.BandTable.add``): ``(old values,
    old ids, new values, new ids, first members, width, values out, ids out, pair codes out)``;
    returns how many pair codes it wrote."""
    found: BandMerge = _merge_band
    return found
