"""dedup's compiled inner loops (``dedup/_kernels.c``): the same values as the numpy code.

numpy builds a ``num_perm x shingles`` array, adds to it, then reduces it: three passes over
memory per block. Compiled, each key's shingle hashes are computed once into a small buffer and
every permutation is one pass of multiply, add and minimum over it, which the compiler turns into
SIMD code. The candidate gate and the LSH table's insert (each one call over a whole batch that
lets go of the GIL, so a helper thread can run them beside the planning) are there too,
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
Gate = Callable[[np.ndarray, np.ndarray, np.ndarray, int, float, int, np.ndarray], None]
# (values, ids, size, new values, new ids, first members, width) -> the pairs, as int64 bytes
BandAdd = Callable[[list[np.ndarray], list[np.ndarray], int, np.ndarray, np.ndarray, int, int], bytearray]


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


def _gate(sketch: np.ndarray, pairs: np.ndarray, key_len: np.ndarray, min_chars: int, share: float,
          long_chars: int, out: np.ndarray) -> None:
    from dedup import _kernels

    _kernels.gate(sketch, sketch.shape[1], pairs, key_len, min_chars, share, long_chars, out)


def gate() -> Gate | None:
    """The candidate gate in one pass (``pipeline.plausible``): ``(sketch rows (uint8, C order),
    pairs (n x 2 int64), key lengths (int32), min chars, share, long chars, out)``; fills ``out``
    (uint8) with bit 1 where a pair passes and bit 2 where it has a long key. None without the
    extension."""
    return None if extension() is None else _gate


def agreement() -> Agreement | None:
    """The sketch agreement: ``(sketch rows (uint8, C order), pairs (n x 2 int64), out)``; fills
    ``out`` (float64) with the share of equal bytes of each pair's rows (``Index.agreement``).
    None without the extension."""
    return None if extension() is None else _agree


def band_add() -> BandAdd | None:
    """The LSH table's insert of a batch (``lsh.BandTable.add``) for every band at once: ``(values,
    ids, size, new values, new ids, first members, width)``; merges the new keys into each band's
    arrays in place (they have room) and returns the sorted unique candidate pairs ``(earlier, new)``
    as a bytearray of int64, two a pair.
    None without the extension."""
    found = extension()
    return None if found is None else found.add_bands
