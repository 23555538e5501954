"""LSH banding over a signature matrix: which paragraphs are worth comparing.

The signature matrix is cut into ``bands`` bands of ``rows`` values; two signatures that agree on
every value of at least one band become a candidate pair. The band table is a handful of numpy
arrays (one 64-bit key per paragraph and band), not a dict of Python objects per paragraph.
Candidates are only candidates: ``verify`` decides on the text itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5], dtype=np.uint64
)


SMALL_BUCKET = 16


@dataclass(frozen=True, slots=True)
class Banding:
    """How a signature is cut into bands; ``bands * rows <= num_perm``."""

    bands: int
    rows: int

    def probability(self, jaccard: float) -> float:
        """Chance that two sets with this Jaccard similarity become candidates."""
        return float(1.0 - (1.0 - jaccard**self.rows) ** self.bands)


def choose_banding(num_perm: int, recall_at: float, target: float = 0.9) -> Banding:
    """The most selective banding that still finds pairs of Jaccard ``recall_at`` with
    probability ``target``: recall first, since verification removes false candidates."""
    if not 0.0 < recall_at < 1.0:
        raise ValueError("recall_at must be between 0 and 1")
    best = Banding(num_perm, 1)
    for rows in range(1, num_perm + 1):
        banding = Banding(num_perm // rows, rows)
        if banding.bands < 1 or banding.probability(recall_at) < target:
            break
        best = banding
    return best


def band_keys(signatures: np.ndarray, banding: Banding) -> np.ndarray:
    """A ``(n, bands)`` uint64 array: one hash of each band of each signature."""
    n = signatures.shape[0]
    keys = np.zeros((n, banding.bands), dtype=np.uint64)
    sig = signatures.astype(np.uint64)
    for r in range(banding.rows):
        cols = sig[:, r : banding.bands * banding.rows : banding.rows]
        keys ^= cols + _MIX[r % len(_MIX)] + (keys << np.uint64(6)) + (keys >> np.uint64(2))
        keys *= _MIX[(r + 1) % len(_MIX)]
    keys += np.arange(banding.bands, dtype=np.uint64)[None, :] * _MIX[3]  # separate the bands
    return keys


def candidate_pairs(signatures: np.ndarray, banding: Banding, skip: np.ndarray | None = None) -> np.ndarray:
    """Candidate pairs ``(i, j)`` with ``i < j`` as an ``(m, 2)`` int64 array, sorted.

    A bucket of up to ``SMALL_BUCKET`` members yields all its pairs. In a larger bucket each
    member is paired with the bucket's first member and with the member just before it (rows
    are in input order), so it costs ``2k`` pairs rather than ``k**2`` while every member stays
    linked to the earliest copy. Rows flagged in ``skip`` (empty keys) are never paired.
    """
    n = signatures.shape[0]
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    keys = band_keys(signatures, banding)
    rows = np.arange(n, dtype=np.int64)
    if skip is not None:
        rows = rows[~skip]
        keys = keys[~skip]
    flat_keys = keys.T.reshape(-1)
    flat_rows = np.tile(rows, banding.bands)
    order = np.lexsort((flat_rows, flat_keys))
    k_sorted = flat_keys[order]
    r_sorted = flat_rows[order]
    same_as_prev = np.zeros(len(k_sorted), dtype=bool)
    same_as_prev[1:] = k_sorted[1:] == k_sorted[:-1]
    if not same_as_prev.any():
        return np.zeros((0, 2), dtype=np.int64)
    # Index of the first element of each element's bucket.
    starts = np.where(~same_as_prev, np.arange(len(k_sorted)), 0)
    np.maximum.accumulate(starts, out=starts)
    members = np.flatnonzero(same_as_prev)
    offset = members - starts[members]  # position within the bucket (>= 1)
    # Small buckets: every pair. Large ones: each member with the first and the previous one.
    sizes = np.diff(np.append(np.flatnonzero(~same_as_prev), len(k_sorted)))
    bucket_size = np.repeat(sizes, sizes)[members]
    small = bucket_size <= SMALL_BUCKET
    m_small = members[small]
    count = offset[small]
    current = np.repeat(r_sorted[m_small], count)
    first_of = np.repeat(starts[m_small], count)
    within = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    all_pairs = np.stack([r_sorted[first_of + within], current], 1)
    m_large = members[~small]
    firsts = r_sorted[starts[m_large]]
    prevs = r_sorted[m_large - 1]
    cur = r_sorted[m_large]
    pairs = np.concatenate([all_pairs, np.stack([firsts, cur], 1), np.stack([prevs, cur], 1)])
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    pairs.sort(axis=1)
    code = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.stack([code // n, code % n], 1)
