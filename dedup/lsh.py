"""LSH banding: which keys are worth comparing, batch after batch.

A signature is cut into ``bands`` bands of ``rows`` values; two keys whose signatures agree on
every value of one band fall into the same bucket of that band and become a candidate pair.
``BandTable`` keeps, per band, one sorted array of 32-bit band values and the key ids in each
bucket (in id order): about ``8 * bands`` bytes per key, no Python object per key. Each batch is
merged in by position (``searchsorted``: a copy of the table, no sort of it), and each new key is
paired with the first ``FIRST_MEMBERS`` keys of its bucket and with the key just before it. The
pairs a key gets therefore do not depend on how the input was cut into batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from dedup.compiled import extension

if TYPE_CHECKING:
    from dedup.compiled import BandAdd

FIRST_MEMBERS = 16
_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5], dtype=np.uint64
)


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


def band_values(signatures: np.ndarray, banding: Banding) -> np.ndarray:
    """A ``(n, bands)`` uint32 array: one hash of each band of each signature (compiled when the
    install has it: one pass instead of a dozen numpy passes over 64-bit copies; the same values)."""
    compiled = extension()
    if compiled is None or signatures.dtype != np.uint32 or signatures.ndim != 2:
        return numpy_band_values(signatures, banding)
    out = np.empty((signatures.shape[0], banding.bands), dtype=np.uint32)
    compiled.band_values(np.ascontiguousarray(signatures), banding.rows, _MIX, out)
    return out


def numpy_band_values(signatures: np.ndarray, banding: Banding) -> np.ndarray:
    """``band_values`` with numpy (without the extension; the tests compare the two)."""
    n = signatures.shape[0]
    acc = np.zeros((n, banding.bands), dtype=np.uint64)
    sig = signatures.astype(np.uint64)
    for r in range(banding.rows):
        cols = sig[:, r : banding.bands * banding.rows : banding.rows]
        acc ^= cols + _MIX[r % len(_MIX)] + (acc << np.uint64(6)) + (acc >> np.uint64(2))
        acc *= _MIX[(r + 1) % len(_MIX)]
    acc += np.arange(banding.bands, dtype=np.uint64)[None, :] * _MIX[3]  # separate the bands
    acc ^= acc >> np.uint64(32)
    folded: np.ndarray = acc.astype(np.uint32)
    return folded


class BandTable:
    """The LSH index: sorted band values per band, grown by ``add``.

    Each band's two arrays have room to grow (a quarter more than needed when they fill up), and
    the table is their first ``len(self)`` entries: the compiled insert merges a batch into
    every band in place, from the back, in one call without the GIL. Into new arrays, that one
    call would need a second table at once (336 MB at a million keys, and 82,000 fresh pages to
    fault in a batch on the benchmark machine); a call a band would need the GIL between bands."""

    GROWTH = 1.25

    def __init__(self, banding: Banding) -> None:
        self.banding = banding
        # the compiled insert (``compiled.band_add``), set by a caller when this install has it:
        # the same table and pairs, every band in one call that lets go of the GIL
        self.compiled: BandAdd | None = None
        self._values: list[np.ndarray] = [np.zeros(0, dtype=np.uint32) for _ in range(banding.bands)]
        self._ids: list[np.ndarray] = [np.zeros(0, dtype=np.int32) for _ in range(banding.bands)]
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        """Bytes held, the room to grow included."""
        return sum(v.nbytes + i.nbytes for v, i in zip(self._values, self._ids, strict=True))

    def band(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Band ``b``'s sorted values and their key ids (each bucket in id order)."""
        return self._values[b][: self._size], self._ids[b][: self._size]

    def _make_room(self, more: int) -> None:
        """Grow every band's arrays, when needed, to hold ``more`` keys (and a quarter more)."""
        need = self._size + more
        if need <= len(self._values[0]):
            return
        room = int(need * self.GROWTH) + 1024
        for b in range(self.banding.bands):  # one band at a time: the old arrays go as the new come
            for arrays in (self._values, self._ids):
                grown = np.empty(room, dtype=arrays[b].dtype)
                grown[: self._size] = arrays[b][: self._size]
                arrays[b] = grown

    def add(self, ids: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Insert keys ``ids`` (all larger than every id already in the table, increasing) with
        their band ``values``; return the candidate pairs ``(earlier id, new id)`` as an
        ``(m, 2)`` int64 array, sorted and unique."""
        if len(ids) == 0:
            return np.zeros((0, 2), dtype=np.int64)
        width = np.int64(int(ids[-1]) + 1)
        if self.compiled is not None:
            self._make_room(len(ids))
            raw_pairs = self.compiled(self._values, self._ids, self._size,
                                      np.ascontiguousarray(values, dtype=np.uint32),
                                      np.ascontiguousarray(ids, dtype=np.int32), FIRST_MEMBERS, int(width))
            self._size += len(ids)
            return np.frombuffer(raw_pairs, dtype=np.int64).reshape(-1, 2)
        # each band's pairs as one int64 code (earlier * width + new): half the memory of (m, 2)
        # pairs while the bands' candidates (millions in a big index) are gathered
        found: list[np.ndarray] = []
        columns = np.ascontiguousarray(values.T)  # one band's values contiguous: faster sorts
        steps = np.arange(len(ids))
        position = steps.astype(np.uint64)
        for b in range(self.banding.bands):
            # the new values in order, equal ones in id order: one sort of (value, position)
            # codes, four times faster than a stable argsort of the values
            code = (columns[b].astype(np.uint64) << np.uint64(32)) | position
            code.sort()
            new_v = (code >> np.uint64(32)).astype(np.uint32)
            new_id = ids[(code & np.uint64(0xFFFFFFFF)).astype(np.intp)].astype(np.int32)
            old_v, old_id = self.band(b)
            # Merge by position: each new value goes after the equal old ones (their ids are
            # smaller), so every bucket stays in id order; no sort of the whole table.
            at = np.searchsorted(old_v, new_v, side="right") + steps
            old_at = np.ones(len(old_v) + len(new_v), dtype=bool)
            old_at[at] = False
            mv = np.empty(len(old_at), dtype=np.uint32)
            mid = np.empty(len(old_at), dtype=np.int32)
            mv[at], mid[at] = new_v, new_id
            mv[old_at], mid[old_at] = old_v, old_id
            self._values[b], self._ids[b] = mv, mid  # exactly full: the next compiled insert makes room
            pairs = _bucket_pairs(mv, mid, at)
            found.append(pairs[:, 0] * width + pairs[:, 1])
        self._size += len(ids)
        code = np.concatenate(found)
        del found
        if len(code) == 0:
            return np.zeros((0, 2), dtype=np.int64)
        # Unique by sort and compare: numpy >= 2.3's np.unique hashes integers, which measured
        # 30 times slower than sorting on millions of pair codes.
        code.sort()
        first = np.empty(len(code), dtype=bool)
        first[0] = True
        np.not_equal(code[1:], code[:-1], out=first[1:])
        return _pairs_of(code[first], width)


def _pairs_of(codes: np.ndarray, width: np.int64) -> np.ndarray:
    """Pair codes ``earlier * width + new`` as an ``(m, 2)`` array of ``(earlier, new)``."""
    out = np.empty((len(codes), 2), dtype=np.int64)
    np.floor_divide(codes, width, out=out[:, 0])
    np.remainder(codes, width, out=out[:, 1])
    return out


def _bucket_pairs(values: np.ndarray, ids: np.ndarray, new_at: np.ndarray) -> np.ndarray:
    """For each new member of a bucket (at the increasing positions ``new_at`` of the sorted
    ``values``): the bucket's first ``FIRST_MEMBERS`` members before it, and the member just
    before it. Work in proportion to the new members, not to the table."""
    after_first = new_at > 0
    after_first[after_first] = values[new_at[after_first] - 1] == values[new_at[after_first]]
    members = new_at[after_first]
    if len(members) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    s = np.searchsorted(values, values[members], side="left")
    count = np.minimum(members - s, FIRST_MEMBERS)
    current = np.repeat(ids[members].astype(np.int64), count)
    first = np.repeat(s, count)
    within = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    early = np.stack([ids[first + within].astype(np.int64), current], 1)
    far = members - s > FIRST_MEMBERS  # the predecessor is not among the first members
    prev = np.stack([ids[members[far] - 1].astype(np.int64), ids[members[far]].astype(np.int64)], 1)
    return np.concatenate([early, prev])
