"""Batched MinHash signatures, value for value identical to datasketch's ``MinHash``.

Each paragraph key is cut into character n-grams (shingles); every shingle gets a 32-bit hash
from a vectorised polynomial hash over its code points. The signature is then datasketch's
``affine32`` scheme: the MurmurHash3 finalizer, then ``a * h + b mod 2**32`` for each of
``num_perm`` permutations whose parameters come from datasketch itself, then the minimum over
the shingles. Thousands of paragraphs are processed per numpy call; there is no Python loop per
shingle. ``tests/test_signatures.py`` checks the values against ``datasketch.MinHash``.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from dedup import compiled as compiled_loops
from dedup.writers import write_atomic

EMPTY_VALUE = np.uint32(0xFFFFFFFF)  # datasketch's value for a permutation that saw no shingle
SCHEME = "affine32"

# Fixed odd 64-bit multipliers for the polynomial shingle hash (digits of pi and e); changing
# them changes every signature, so a persisted index records HASH_VERSION.
_MULTIPLIERS = np.array(
    [
        0x243F6A8885A308D3,
        0x13198A2E03707345,
        0xA4093822299F31D1,
        0x082EFA98EC4E6C89,
        0x452821E638D01377,
        0xBE5466CF34E90C6D,
        0xC0AC29B7C97C50DD,
        0x3F84D5B5B5470917,
        0x9216D5D98979FB1B,
        0xB7E151628AED2A6B,
        0x5A827999FCEF3243,
        0x6ED9EBA14F1BBCDD,
    ],
    dtype=np.uint64,
)
_FOLD = np.uint64(0x9E3779B97F4A7C15)
HASH_VERSION = "poly64-fold32-nulpad-v2"
_BATCH_CHARS = 1 << 20  # characters of keys hashed per numpy batch
_BLOCK = 8192  # shingles permuted per block: num_perm x _BLOCK uint32 values fit in the CPU cache


def permutations(num_perm: int, seed: int, cache: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's permutation parameters ``(a, b)`` for ``num_perm`` and ``seed``, as uint32.

    datasketch computes them; importing it costs about half a second (it imports scipy), as much
    as a small file's whole run. So the values are kept in a cache file (``cache_dir()``, named
    after datasketch's version, the scheme and the parameters) that later runs read instead.
    No usable cache directory: datasketch is imported every time, nothing else changes.
    """
    folder = cache_dir() if cache is None else cache
    path = None
    if folder is not None:
        from importlib.metadata import PackageNotFoundError, version  # cheap: reads metadata only

        with contextlib.suppress(PackageNotFoundError):
            path = folder / f"permutations-datasketch{version('datasketch')}-{SCHEME}-{num_perm}-{seed}.npy"
    if path is not None:
        with contextlib.suppress(OSError, ValueError):
            kept = np.load(path, allow_pickle=False)
            if kept.shape == (2, num_perm) and kept.dtype == np.uint32:
                return np.ascontiguousarray(kept[0]), np.ascontiguousarray(kept[1])
    # Imported here, not at the top: commands that never sign (restore, report, --help) do not
    # pay for it, and neither do runs that find the cache.
    from datasketch import MinHash

    perms = MinHash(num_perm=num_perm, seed=seed, scheme=SCHEME).permutations
    a = np.ascontiguousarray(perms[0], dtype=np.uint32)
    b = np.ascontiguousarray(perms[1], dtype=np.uint32)
    if path is not None:
        data = io.BytesIO()
        np.save(data, np.stack([a, b]), allow_pickle=False)
        with contextlib.suppress(OSError):  # a concurrent reader sees the old file or the new
            write_atomic(path, data.getvalue(), durable=False)
    return a, b


def cache_dir() -> Path | None:
    """Where dedup keeps computed constants: ``$DEDUP_CACHE_DIR`` (empty: no cache), else
    ``$XDG_CACHE_HOME/dedup``, else ``~/.cache/dedup``."""
    named = os.environ.get("DEDUP_CACHE_DIR")
    if named is not None:
        return Path(named) if named else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dedup" if os.path.isabs(base) else None


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, as datasketch applies it before permuting."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    mixed: np.ndarray = h ^ (h >> np.uint32(16))
    return mixed


def _code_points(text: str) -> np.ndarray:
    # surrogatepass: a lone surrogate (text from a surrogate-escaped decode) hashes as its code point
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _fold(h64: np.ndarray) -> np.ndarray:
    """64-bit polynomial hash -> well-mixed 32 bits (high half of a multiply)."""
    h64 = h64 ^ (h64 >> np.uint64(29))
    return ((h64 * _FOLD) >> np.uint64(32)).astype(np.uint32)


class MinHasher:
    """Computes shingle hashes and MinHash signatures for batches of keys.

    ``num_perm`` and ``seed`` mean what they mean in datasketch; ``ngram`` is the shingle length
    in characters. A key of ``n`` characters has ``n`` shingles: the ``ngram`` characters starting
    at each position, the last ones padded with NUL (so the end of a key is a feature, and a key
    shorter than ``ngram`` is one padded shingle). An empty key has no shingle and gets
    datasketch's empty signature (all ``0xFFFFFFFF``).
    """

    def __init__(self, num_perm: int = 128, seed: int = 1, ngram: int = 5, compiled: bool = True) -> None:
        """``compiled``: sign with the compiled loop when this install has it (``dedup.compiled``);
        False signs with numpy. Both give the same values."""
        if num_perm < 1:
            raise ValueError("num_perm must be at least 1")
        if not 1 <= ngram <= len(_MULTIPLIERS):
            raise ValueError(f"ngram must be between 1 and {len(_MULTIPLIERS)}")
        self.num_perm = num_perm
        self.seed = seed
        self.ngram = ngram
        self._a, self._b = permutations(num_perm, seed)
        self._pad = "\0" * (ngram - 1)
        self._multipliers = np.ascontiguousarray(_MULTIPLIERS[:ngram])
        self._kernel = compiled_loops.kernel() if compiled else None

    @property
    def compiled(self) -> bool:
        """Whether this hasher signs with the compiled loop."""
        return self._kernel is not None

    def _layout(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The keys' code points joined with NUL padding, each key's start in them and its
        length: key ``i``'s shingles are the windows starting at ``starts[i] .. starts[i] + len
        - 1``; the padding after each key keeps them from reaching into the next key."""
        cps = _code_points(self._pad.join(keys) + self._pad)
        lengths = np.fromiter((len(k) for k in keys), dtype=np.int64, count=len(keys))
        starts = np.zeros(len(keys), dtype=np.int64)
        np.cumsum(lengths[:-1] + (self.ngram - 1), out=starts[1:])
        return cps, starts, lengths

    def _window_hashes(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hashes of every window of the keys' ``_layout``, with each key's start and length."""
        cps, starts, lengths = self._layout(keys)
        windows = len(cps) - self.ngram + 1
        h = cps[:windows].astype(np.uint64) * _MULTIPLIERS[0]
        for j in range(1, self.ngram):
            h += cps[j : j + windows].astype(np.uint64) * _MULTIPLIERS[j]
        return _fold(h), starts, lengths

    def shingle_hashes(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """All shingle hashes of ``keys`` concatenated, and offsets (``len(keys) + 1``) into them:
        the values fed to MinHash (datasketch's ``MinHash.update`` with these hashes gives the
        same signatures as ``signatures``)."""
        if not keys:
            return np.zeros(0, dtype=np.uint32), np.zeros(1, dtype=np.int64)
        hashes, starts, lengths = self._window_hashes(keys)
        offsets = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        picked = np.concatenate([hashes[s : s + n] for s, n in zip(starts, lengths, strict=True)])
        return picked.astype(np.uint32), offsets

    def signatures(self, keys: Sequence[str]) -> np.ndarray:
        """A ``(len(keys), num_perm)`` uint32 matrix of MinHash values."""
        if self._kernel is not None:  # every key at once, read in place (an empty key: all EMPTY_VALUE)
            signed = np.empty((len(keys), self.num_perm), dtype=np.uint32)
            self._kernel(keys, self._multipliers, self._a, self._b, signed)
            return signed
        sig = np.full((len(keys), self.num_perm), EMPTY_VALUE, dtype=np.uint32)
        rows = np.fromiter((i for i, k in enumerate(keys) if k), dtype=np.int64)
        for lo, hi in _batches([keys[i] for i in rows]):
            batch = [keys[i] for i in rows[lo:hi]]
            hashes, starts, lengths = self._window_hashes(batch)
            sig[rows[lo:hi]] = self._minima(_fmix32(hashes), starts, starts + lengths)
        return sig

    def permute(self, hashes: np.ndarray) -> np.ndarray:
        """The permuted values ``(num_perm, len(hashes))`` whose row minima form signatures."""
        block: np.ndarray = np.multiply.outer(self._a, _fmix32(hashes.astype(np.uint32, copy=False)))
        block += self._b[:, None]
        return block

    def _minima(self, mixed: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Per key, the minimum over its windows of each permutation: ``(len(starts), num_perm)``.

        Works through the windows a block of about ``_BLOCK`` at a time, so that a
        ``num_perm x block`` array stays in the CPU cache; the padding windows between keys are
        reduced too and dropped (every other ``reduceat`` result).
        """
        out = np.empty((len(starts), self.num_perm), dtype=np.uint32)
        a, b = self._a, self._b[:, None]
        buf = np.empty((self.num_perm, _BLOCK), dtype=np.uint32)
        i, n = 0, len(starts)
        while i < n:
            lo = int(starts[i])
            j = max(int(np.searchsorted(ends, lo + _BLOCK, side="right")), i + 1)
            hi = int(ends[j - 1])
            width = hi - lo
            block = buf[:, :width] if width <= _BLOCK else np.empty((self.num_perm, width), dtype=np.uint32)
            np.multiply.outer(a, mixed[lo:hi], out=block)
            block += b
            bounds = np.empty(2 * (j - i) - 1, dtype=np.int64)
            bounds[0::2] = starts[i:j] - lo
            bounds[1::2] = ends[i : j - 1] - lo
            out[i:j] = np.minimum.reduceat(block, bounds, axis=1)[:, 0::2].T
            i = j
        return out


def _batches(keys: Sequence[str]) -> Iterator[tuple[int, int]]:
    """Index ranges of ``keys`` holding about ``_BATCH_CHARS`` characters each."""
    lo, size = 0, 0
    for i, k in enumerate(keys):
        size += len(k)
        if size >= _BATCH_CHARS:
            yield lo, i + 1
            lo, size = i + 1, 0
    if lo < len(keys):
        yield lo, len(keys)


def jaccard_estimate(a: np.ndarray, b: np.ndarray) -> float:
    """datasketch's estimator: the share of permutations on which two signatures agree."""
    return float(np.count_nonzero(a == b)) / float(len(a))
