"""dedup's compiled inner loops (``dedup/_kernels.c``): the same values as the numpy code.

numpy builds a ``num_perm x shingles`` array, adds to it, then reduces it: three passes over
memory per block. Compiled, each key's shingle hashes are computed once into a small buffer and
every permutation is one pass of multiply, add and minimum over it, which the compiler turns into
SIMD code. The candidate gate's sketch agreement and the LSH table's band merge are there too,
and the text scans of ``keys`` (words, figures, the matching key's folds), ``verify`` (the
content guard) and ``fixes`` (the mojibake pre-check) take from ``extension()`` when it is there.

The extension is built at install and is optional: ``available()`` says whether this install
has it. Importing it costs about a millisecond, so every run uses it from its first key (a JIT
cost 0.45-0.55 s to load in each process, which small runs could not pay back).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType

import numpy as np

Kernel = Callable[[Sequence[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]
Agreement = Callable[[np.ndarray, np.ndarray, np.ndarray], None]
BandMerge = Callable[
    [np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, np.int64, np.ndarray, np.ndarray, np.ndarray], int]


def extension() -> ModuleType | None:
    """The compiled extension (``dedup._kernels``), or None where it was not built."""
    try:
        from dedup import _kernels
    except ImportError:  # built without a C compiler: numpy does the work
        return None
    return _kernels


def available() -> bool:
    """Whether this install has the compiled loops."""
    return extension() is not None


def kernel() -> Kernel | None:
    """The signature loop: ``(keys, shingle multipliers, a, b, out)``; fills ``out`` (keys x
    permutations, uint32), reading each key's characters where the str keeps them. None without
    the extension."""
    found = extension()
    return None if found is None else found.signatures


def _agree(sketch: np.ndarray, pairs: np.ndarray, out: np.ndarray) -> None:
    from dedup import _kernels

    _kernels.agreement(sketch, sketch.shape[1], pairs, out)


def agreement() -> Agreement | None:
    """The sketch agreement: ``(sketch rows (uint8, C order), pairs (n x 2 int64), out)``; fills
    ``out`` (float64) with the share of equal bytes of each pair's rows (``Index.agreement``).
    None without the extension."""
    return None if extension() is None else _agree


def band_merge() -> BandMerge | None:
    """The merge of one band of the LSH table (``lsh.BandTable.add``): ``(old values, old ids,
    new values, new ids, first members, width, values out, ids out, pair codes out)``; returns
    how many pair codes it wrote. None without the extension."""
    found = extension()
    return None if found is None else found.merge_band
