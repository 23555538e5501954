"""The index: everything a run has seen that later paragraphs may be compared with.

It grows batch by batch and holds only compact columns: each unique matching key once (with its
LSH band values and an 8-bit MinHash sketch for the candidate gate), and per paragraph its
document, position, key, span and whether it was removed. Memory therefore grows with the
number of distinct paragraphs seen, not with the size of the input, and a paragraph seen in an
earlier batch (or an earlier run, with ``dedup.store``) is a copy like any other.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from dedup.keys import figure_print
from dedup.keytexts import KeyTexts
from dedup.lsh import Banding, BandTable, band_values
from dedup.verify import KeyMatch

if TYPE_CHECKING:
    from dedup.compiled import Agreement, Gate


@dataclass
class Index:
    """Append-only state shared by the batches of a run (and, persisted, by runs)."""

    banding: Banding
    num_perm: int
    keys: Sequence[str] = field(default_factory=KeyTexts)  # interned key texts, by key id
    key_len: array = field(default_factory=lambda: array("i"))  # type: ignore[type-arg]
    # per paragraph (gid = position in these columns)
    para_doc: array = field(default_factory=lambda: array("i"))  # type: ignore[type-arg]
    para_index: array = field(default_factory=lambda: array("i"))  # type: ignore[type-arg]
    para_key: array = field(default_factory=lambda: array("i"))  # type: ignore[type-arg]
    para_start: array = field(default_factory=lambda: array("q"))  # type: ignore[type-arg]
    para_end: array = field(default_factory=lambda: array("q"))  # type: ignore[type-arg]
    removed: bytearray = field(default_factory=bytearray)
    # per document
    doc_ids: list[str] = field(default_factory=list)
    doc_start: array = field(default_factory=lambda: array("q", [0]))  # type: ignore[type-arg]
    # verified key-level matches, by the key that may go; and keys that may be part of a merged line
    matches: dict[int, list[KeyMatch]] = field(default_factory=dict)
    containers: dict[int, list[int]] = field(default_factory=dict)
    piece_keys: set[int] = field(default_factory=set)  # keys of pieces of over-long paragraphs

    def __post_init__(self) -> None:
        if not isinstance(self.keys, KeyTexts):
            self.keys = KeyTexts(self.keys)
        self._first = array("q", [-1] * len(self.keys))  # first paragraph of each key
        # the figures of each key as one number (keys.figure_print), for the merged-line windows
        self.key_prints: Sequence[int] = array("Q", map(figure_print, self.keys))
        # all paragraphs of keys seen more than once (8 bytes an occurrence: a re-scraped stream
        # repeats most keys many times)
        self._more: dict[int, array[int]] = {}
        for gid, kid in enumerate(self.para_key):
            self._note_occurrence(kid, gid)
        self.bands = BandTable(self.banding)
        self._sketch = np.zeros((0, self.num_perm), dtype=np.uint8)
        self._sketch_rows = 0

    # -- keys ----------------------------------------------------------------------------------

    def prefetch(self, keys: Iterable[str]) -> None:
        """Say which keys are about to be interned (a batch's): see ``KeyTexts.prefetch``."""
        if isinstance(self.keys, KeyTexts):
            self.keys.prefetch(keys)

    def intern(self, key: str) -> int:
        """The id of ``key``, adding it when new."""
        texts = self.keys
        assert isinstance(texts, KeyTexts), "an index with keys given as columns does not intern"
        kid, new = texts.intern(key)
        if new:
            self.key_len.append(len(key))
            prints = self.key_prints
            assert isinstance(prints, array), "keys given as columns have their prints computed as read"
            prints.append(figure_print(key))
            self._first.append(-1)
        return kid

    def add_sketches(self, first_key: int, signatures: np.ndarray, bands: np.ndarray | None = None) -> np.ndarray:
        """Record the MinHash signatures of keys ``first_key...`` (low 8 bits, for the candidate
        gate) and their band values (``bands``, when already computed from them); return the
        new candidate pairs."""
        if bands is None:
            bands = band_values(signatures, self.banding)
        return self.load_sketches(first_key, signatures.astype(np.uint8), bands)

    def load_sketches(self, first_key: int, sketches: np.ndarray, bands: np.ndarray) -> np.ndarray:
        """Record 8-bit sketches and band values of keys ``first_key...`` (as computed, or as
        read back from a persistent index); return the new candidate pairs."""
        n = len(sketches)
        end = first_key + n
        if end > len(self._sketch):
            grown = np.zeros((max(end, 2 * len(self._sketch), 1024), self.num_perm), dtype=np.uint8)
            grown[: self._sketch_rows] = self._sketch[: self._sketch_rows]
            self._sketch = grown
        self._sketch[first_key:end] = sketches
        self._sketch_rows = end
        ids = np.arange(first_key, end, dtype=np.int64)
        nonempty = np.frombuffer(self.key_len, dtype=np.int32)[first_key:end] > 0
        return self.bands.add(ids[nonempty], bands[nonempty])

    def sketches(self, first_key: int, end: int) -> np.ndarray:
        return self._sketch[first_key:end]

    def band_values(self, signatures: np.ndarray) -> np.ndarray:
        return band_values(signatures, self.banding)

    # -- batches (hooks for a persistent index) ------------------------------------------------

    def overlaps_batches(self) -> bool:
        """Whether the next batch may be registered before this one is decided (``--jobs``
        does, to keep the workers busy): a persistent index writes one batch at a time."""
        return True

    def begin_batch(self) -> None:
        """Called before a batch is read; a persistent index locks and catches up here."""

    def commit_batch(self, first_key: int, first_doc: int, first_para: int, signatures: np.ndarray,
                     matches: list[KeyMatch], containers: list[tuple[int, int]]) -> None:
        """Called when a batch is decided; a persistent index writes it in one transaction."""

    def rollback_batch(self) -> None:
        """Called when a batch fails; a persistent index leaves the stored index unchanged."""

    def settle(self, end_key: int | None = None) -> None:
        """Called when a batch is decided and written: its key texts (ids below ``end_key``, if
        given: a batch opened since keeps its own) leave the Python heap."""
        if isinstance(self.keys, KeyTexts):
            self.keys.settle(end_key)

    def agreement(self, pairs: np.ndarray, count: Agreement | None = None) -> np.ndarray:
        """Share of the 8-bit sketch values two keys agree on (a MinHash Jaccard estimate,
        biased up by at most 1/256): used only to skip hopeless candidates. ``count``: the
        compiled equivalent (``compiled.agreement``), same values."""
        if count is not None:
            out = np.empty(len(pairs))
            count(self._sketch, np.ascontiguousarray(pairs, dtype=np.int64), out)
            return out
        return (self._sketch[pairs[:, 0]] == self._sketch[pairs[:, 1]]).mean(axis=1)  # type: ignore[no-any-return]

    def gate_flags(self, pairs: np.ndarray, gate: Gate, min_chars: int, share: float, long_chars: int) -> np.ndarray:
        """The compiled candidate gate on ``pairs`` (see ``compiled.gate``): one uint8 of flags a pair."""
        flags = np.empty(len(pairs), dtype=np.uint8)
        gate(self._sketch, np.ascontiguousarray(pairs, dtype=np.int64), np.frombuffer(self.key_len, dtype=np.int32),
             min_chars, share, long_chars, flags)
        return flags

    def add_matches(self, found: list[KeyMatch]) -> None:
        for m in found:
            self.matches.setdefault(m.removed, []).append(m)

    # -- documents and paragraphs --------------------------------------------------------------

    @property
    def paragraphs(self) -> int:
        return len(self.para_key)

    def add_document(self, doc_id: str, paragraphs: Iterator[tuple[int, int, int]]) -> int:
        """Append a document and its paragraphs ``(key id, start, end)``; return its number."""
        rows = list(paragraphs)
        return self.add_columns(doc_id, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])

    def add_columns(self, doc_id: str, kids: Sequence[int], starts: Sequence[int], ends: Sequence[int]) -> int:
        """``add_document`` with the paragraphs given as columns: each column of the index is
        extended once per document, not once per paragraph."""
        d = len(self.doc_ids)
        n = len(kids)
        if not len(starts) == len(ends) == n:
            raise ValueError(f"{n} keys for {len(starts)} starts and {len(ends)} ends")
        first = len(self.para_key)
        self.doc_ids.append(doc_id)
        self.para_doc.extend([d] * n)
        self.para_index.extend(range(n))
        self.para_key.extend(kids)
        self.para_start.extend(starts)
        self.para_end.extend(ends)
        self.removed.extend(bytes(n))
        note = self._note_occurrence
        for gid, kid in enumerate(kids, first):
            note(kid, gid)
        self.doc_start.append(first + n)
        return d

    def append_paragraph(self, doc: int, index: int, kid: int, start: int, end: int, removed: int) -> None:
        gid = len(self.para_key)
        self.para_doc.append(doc)
        self.para_index.append(index)
        self.para_key.append(kid)
        self.para_start.append(start)
        self.para_end.append(end)
        self.removed.append(removed)
        self._note_occurrence(kid, gid)

    def _note_occurrence(self, kid: int, gid: int) -> None:
        first = self._first[kid]
        if first < 0:
            self._first[kid] = gid
        elif kid in self._more:
            self._more[kid].append(gid)
        else:
            self._more[kid] = array("q", (first, gid))

    def occurrences(self, kid: int) -> Sequence[int]:
        """Paragraphs with this key, in input order."""
        more = self._more.get(kid)
        if more is not None:
            return more
        first = self._first[kid]
        return (first,) if first >= 0 else ()

    def seen_once(self, kid: int) -> bool:
        return kid not in self._more

    def doc_range(self, doc: int) -> tuple[int, int]:
        return self.doc_start[doc], self.doc_start[doc + 1]

    def occurrences_before(self, kid: int, gid: int) -> Sequence[int]:
        occ = self.occurrences(kid)
        return occ[: bisect_left(occ, gid)]
